/**
 * Allocates `whole` minor units by `shares` (any non-negative integers: percentages, basis points,
 * a fund's units) with the largest remainder method, the platform's one way to divide money
 * (royalty splits today; red packets, instalments and fund income next).
 *
 * Every part is its exact share rounded down, and the units left over go one each to the largest
 * fractional remainders (ties to the earlier share). So, when the shares are the whole (`total`
 * omitted or equal to their sum), the parts sum to `whole` exactly and each part differs from its
 * exact share by less than one unit; a zero share gets nothing. With a larger `total` (shares
 * that cover only part of it, say 30% of 100%) each part is its exact share rounded down, and
 * what the shares do not cover stays unallocated.
 *
 * Throws a RangeError for a negative whole or share, for shares that sum to zero (there is no
 * exact share of nothing), and for a `total` below the shares' sum.
 */
export function allocate(whole: bigint, shares: readonly bigint[], total?: bigint): bigint[] {
  const shareSum = shares.reduce((a, b) => a + b, 0n);
  const sum = total ?? shareSum;
  if (whole < 0n) throw new RangeError('the whole to allocate must not be negative');
  if (shares.some((s) => s < 0n)) throw new RangeError('shares must not be negative');
  if (sum <= 0n) throw new RangeError('shares must have a positive total');
  if (sum < shareSum) throw new RangeError('the total must not be below the sum of the shares');
  const parts = shares.map((s) => (whole * s) / sum);
  if (sum !== shareSum) return parts;
  let left = whole - parts.reduce((a, b) => a + b, 0n);
  const byRemainder = shares
    .map((s, i) => ({ i, r: (whole * s) % sum }))
    .sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of byRemainder) {
    if (left === 0n) break;
    parts[i] = (parts[i] ?? 0n) + 1n;
    left--;
  }
  return parts;
}
