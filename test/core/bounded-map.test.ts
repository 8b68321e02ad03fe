/**
 * The bounded map keeps what was set last, never holds more than its bound, and forgets the
 * oldest half at a time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/core/bounded-map.ts';

describe('BoundedMap', () => {
  it('answers the last value set for each key it holds, and holds at most its bound', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 20 }), fc.array(fc.tuple(fc.nat(30), fc.nat())), (max, sets) => {
        const map = new BoundedMap<number, number>(max);
        const last = new Map<number, number>();
        for (const [k, v] of sets) {
          map.set(k, v);
          last.set(k, v);
          expect(map.size).toBeLessThanOrEqual(max);
          expect(map.get(k)).toBe(v);
        }
        for (const [k, v] of last) if (map.has(k)) expect(map.get(k)).toBe(v);
      }),
    );
  });

  it('keeps the newest half of its bound at least', () => {
    const map = new BoundedMap<number, number>(10);
    for (let i = 0; i < 100; i++) map.set(i, i);
    for (let i = 95; i < 100; i++) expect(map.has(i)).toBe(true);
    map.delete(99);
    expect(map.has(99)).toBe(false);
  });
});
