import { allocate } from '../../src/core/allocate.ts';

/**
 * The income rule as the fund states it, in plain TypeScript over the kernel's `allocate`: each
 * holder floor(shares × per10k / 10000) fen, and the remainder of the declared total allocated by
 * the fractional parts (largest remainder, ties to the earlier holder in account order).
 */
export function expectedIncome(
  holders: readonly { account: string; shares: bigint }[],
  per10kScaled: bigint,
): Map<string, bigint> {
  const divisor = 100_000_000n;
  const sorted = [...holders].filter((h) => h.shares > 0n).sort((a, b) => (a.account < b.account ? -1 : 1));
  const total = (sorted.reduce((s, h) => s + h.shares, 0n) * per10kScaled) / divisor;
  const bases = sorted.map((h) => (h.shares * per10kScaled) / divisor);
  const fracs = sorted.map((h) => (h.shares * per10kScaled) % divisor);
  const remainder = total - bases.reduce((s, b) => s + b, 0n);
  const extra = remainder > 0n ? allocate(remainder, fracs) : fracs.map(() => 0n);
  return new Map(sorted.map((h, i) => [h.account, (bases[i] ?? 0n) + (extra[i] ?? 0n)]));
}
