/**
 * The Bloom filter never forgets what was added, and takes for added about its false-positive
 * rate of what was not.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BloomFilter } from '../../src/core/bloom.ts';

describe('BloomFilter', () => {
  it('has everything added', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 200 }), (values) => {
        const filter = new BloomFilter(values.length, 0.01);
        for (const v of values) filter.add(v);
        for (const v of values) expect(filter.has(v)).toBe(true);
      }),
    );
  });

  it('takes about its false-positive rate of the rest for added', () => {
    const filter = new BloomFilter(100_000, 0.01);
    for (let i = 0; i < 100_000; i++) filter.add(`2088${i}\u00002088${i + 1}`);
    let positives = 0;
    for (let i = 0; i < 100_000; i++) if (filter.has(`2088${i}\u00002099${i}`)) positives++;
    expect(positives / 100_000).toBeLessThan(0.02);
  });
});
