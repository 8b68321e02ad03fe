/**
 * The lucky draw ("double the mean"): over random packets every share is within its bounds and
 * the shares sum exactly to the packet; over many packets each share's mean is the packet's mean.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { limits } from '../../src/core/limits.ts';
import { drawEqual, drawLucky } from '../../src/social/index.ts';

const bounds = { shareMinFen: BigInt(limits.redPacketShareFenMin), shareMaxFen: BigInt(limits.redPacketShareFenMax) };

/** Draws every share of a packet; returns each share with the mean and bounds at its draw. */
function drawAll(amountFen: bigint, shares: number) {
  const out: Array<{ amount: bigint; twiceMean: bigint; low: bigint; high: bigint }> = [];
  let left = amountFen;
  for (let n = shares; n > 0; n--) {
    const d = drawLucky(left, n, bounds);
    out.push({ amount: d.amountFen, twiceMean: (left * 2n) / BigInt(n), low: d.lowFen, high: d.highFen });
    left -= d.amountFen;
  }
  return out;
}

/** A packet that can be drawn: shares × 0.01 ≤ amount ≤ shares × 200.00. */
const packet = fc.integer({ min: 1, max: limits.redPacketSharesMax }).chain((shares) =>
  fc.record({
    shares: fc.constant(shares),
    amount: fc.bigInt({ min: BigInt(shares) * bounds.shareMinFen, max: BigInt(shares) * bounds.shareMaxFen }),
  }),
);

describe('the lucky draw', () => {
  it('sums exactly; every share at least 0.01, at most 200.00, never above twice the mean at its draw', () => {
    fc.assert(
      fc.property(packet, ({ shares, amount }) => {
        const drawn = drawAll(amount, shares);
        expect(drawn.reduce((s, d) => s + d.amount, 0n)).toBe(amount);
        for (const [i, d] of drawn.entries()) {
          expect(d.amount >= bounds.shareMinFen && d.amount <= bounds.shareMaxFen).toBe(true);
          expect(d.amount >= d.low && d.amount <= d.high).toBe(true);
          if (i < drawn.length - 1) expect(d.amount <= d.twiceMean).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('gives every position the packet’s mean: 20,000 packets of 100.00 yuan in 10 shares', () => {
    const packets = 20_000;
    const sums = Array.from({ length: 10 }, () => 0n);
    for (let p = 0; p < packets; p++)
      for (const [i, d] of drawAll(100_00n, 10).entries()) sums[i] = (sums[i] ?? 0n) + d.amount;
    // Each share is 10.00 yuan on average. Its standard deviation is at most ~10 yuan (a uniform
    // draw up to twice the mean), so the mean of 20,000 is within 0.3 yuan with room to spare.
    for (const sum of sums) expect(Math.abs(Number(sum) / packets - 10_00)).toBeLessThan(30);
  });

  it('equal shares divide evenly; a packet outside its bounds cannot be drawn', () => {
    expect(drawEqual(300n, 3).amountFen).toBe(100n);
    expect(() => drawLucky(2n, 3, bounds)).toThrow(RangeError);
    expect(() => drawLucky(bounds.shareMaxFen * 2n + 1n, 2, bounds)).toThrow(RangeError);
    expect(drawLucky(bounds.shareMaxFen * 2n, 2, bounds).amountFen).toBe(bounds.shareMaxFen);
  });
});
