/**
 * Money allocation (`allocate`), the one way the platform divides an amount by shares: the
 * parts sum to the whole exactly, each part is within one minor unit of its exact share, the same
 * input always gives the same parts, a zero share gets nothing, and shares that cannot divide
 * anything are refused with a clear error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocate } from '../../src/core/allocate.ts';

const sum = (xs: readonly bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);
const whole = fc.bigInt({ min: 0n, max: 10n ** 15n });
const shares = fc.array(fc.bigInt({ min: 0n, max: 10n ** 9n }), { minLength: 1, maxLength: 20 });
/** Shares with at least one positive, so that they have an exact share to allocate by. */
const someShares = shares.filter((s) => s.some((x) => x > 0n));

describe('allocate', () => {
  it('gives parts that sum to the whole exactly', () => {
    fc.assert(fc.property(whole, someShares, (w, s) => sum(allocate(w, s)) === w));
  });

  it('keeps each part within one minor unit of its exact share', () => {
    fc.assert(
      fc.property(whole, someShares, (w, s) => {
        const total = sum(s);
        // |part − w·share/total| < 1, in integers: |part·total − w·share| < total.
        return allocate(w, s).every((part, i) => {
          const gap = part * total - w * (s[i] ?? 0n);
          return gap > -total && gap < total && part >= 0n;
        });
      }),
    );
  });

  it('is deterministic, gives a zero share nothing and one share everything', () => {
    fc.assert(
      fc.property(whole, someShares, (w, s) => {
        const parts = allocate(w, s);
        expect(allocate(w, [...s])).toEqual(parts);
        s.forEach((share, i) => {
          if (share === 0n) expect(parts[i]).toBe(0n);
        });
        expect(allocate(w, [s.find((x) => x > 0n) ?? 1n])).toEqual([w]);
      }),
    );
  });

  it('allocates nothing of a zero whole', () => {
    fc.assert(fc.property(someShares, (s) => allocate(0n, s).every((part) => part === 0n)));
  });

  it('rounds each part down and leaves the rest when the shares cover only part of a total', () => {
    fc.assert(
      fc.property(whole, someShares, fc.bigInt({ min: 1n, max: 10n ** 9n }), (w, s, extra) => {
        const total = sum(s) + extra;
        const parts = allocate(w, s, total);
        expect(parts).toEqual(s.map((share) => (w * share) / total));
        expect(sum(parts)).toBeLessThanOrEqual(w);
      }),
    );
  });

  it('gives the leftover units to the largest remainders, ties to the earlier share', () => {
    expect(allocate(100n, [1n, 1n, 1n])).toEqual([34n, 33n, 33n]);
    expect(allocate(1n, [1n, 1n])).toEqual([1n, 0n]);
    expect(allocate(9999n, [3n, 3n, 3n, 1n])).toEqual([3000n, 3000n, 2999n, 1000n]);
    expect(allocate(10n, [30n, 70n], 100n)).toEqual([3n, 7n]);
    expect(allocate(5n, [2n, 0n, 3n])).toEqual([2n, 0n, 3n]);
  });

  it('refuses what cannot be allocated, with a clear error', () => {
    expect(() => allocate(10n, [])).toThrow(new RangeError('shares must have a positive total'));
    expect(() => allocate(10n, [0n, 0n])).toThrow(new RangeError('shares must have a positive total'));
    expect(() => allocate(10n, [1n, -1n, 2n])).toThrow(new RangeError('shares must not be negative'));
    expect(() => allocate(-1n, [1n])).toThrow(new RangeError('the whole to allocate must not be negative'));
    expect(() => allocate(10n, [3n, 3n], 5n)).toThrow(
      new RangeError('the total must not be below the sum of the shares'),
    );
  });
});
