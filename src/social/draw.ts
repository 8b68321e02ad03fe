import { randomInt } from 'node:crypto';

/** One share drawn: the amount, and the bounds it was drawn between (both included), kept with the grab. */
export interface Draw {
  amountFen: bigint;
  lowFen: bigint;
  highFen: bigint;
}

/** A uniform integer from `low` to `high`, both included. */
export type Random = (low: bigint, high: bigint) => bigint;

/** A cryptographically secure uniform draw (node:crypto `randomInt`; amounts stay far below 2^48). */
export const secureRandom: Random = (low, high) => BigInt(randomInt(Number(low), Number(high) + 1));

/**
 * The next share of a lucky packet with `remainingFen` left for `remainingShares` shares, by the
 * "double the mean" rule: uniform between a low and a high bound, where
 *
 *   high = min(2 × remaining / shares (rounded down), shareMax, remaining − (shares − 1) × shareMin)
 *   low  = max(shareMin, remaining − (shares − 1) × shareMax)
 *
 * so no share is above twice the remaining mean at its draw, every share still to come keeps at
 * least `shareMin`, and none will need more than `shareMax`; the last share takes exactly what
 * remains. Each share's expected value is the packet's mean. `low ≤ high` whenever the packet is
 * drawable (`shares × shareMin ≤ remaining ≤ shares × shareMax`), which a draw keeps true for the
 * rest; a packet outside it is a programming error.
 */
export function drawLucky(
  remainingFen: bigint,
  remainingShares: number,
  bounds: { shareMinFen: bigint; shareMaxFen: bigint },
  random: Random = secureRandom,
): Draw {
  const n = BigInt(remainingShares);
  const { shareMinFen: min, shareMaxFen: max } = bounds;
  if (n < 1n || remainingFen < n * min || remainingFen > n * max)
    throw new RangeError(`no share can be drawn from ${remainingFen} fen for ${remainingShares} shares`);
  if (n === 1n) return { amountFen: remainingFen, lowFen: remainingFen, highFen: remainingFen };
  const high = minOf((remainingFen * 2n) / n, max, remainingFen - (n - 1n) * min);
  const low = maxOf(min, remainingFen - (n - 1n) * max);
  return { amountFen: random(low, high), lowFen: low, highFen: high };
}

/** The next share of a packet of equal shares: the remaining money divided evenly (it always divides). */
export function drawEqual(remainingFen: bigint, remainingShares: number): Draw {
  const amount = remainingFen / BigInt(remainingShares);
  return { amountFen: amount, lowFen: amount, highFen: amount };
}

function minOf(first: bigint, ...rest: bigint[]): bigint {
  let m = first;
  for (const x of rest) if (x < m) m = x;
  return m;
}

function maxOf(first: bigint, ...rest: bigint[]): bigint {
  let m = first;
  for (const x of rest) if (x > m) m = x;
  return m;
}
