import type { Clock } from './clock.ts';

/**
 * Counts over the last `windowMs`, in buckets of `bucketMs` (a ring, as Sentinel's `LeapArray`):
 * the bucket of the current time is found, or made anew when its slot still holds an older
 * period's counts, and the buckets older than the window are left out of every read. The counts
 * are whatever `empty()` makes; the caller adds to `current()` and reads `recent()`.
 */
export class SlidingWindow<Bucket> {
  readonly #clock: Clock;
  readonly #bucketNs: bigint;
  readonly #slots: Array<{ startNs: bigint; counts: Bucket } | undefined>;
  readonly #empty: () => Bucket;

  constructor(options: { clock: Clock; windowMs: number; bucketMs: number; empty: () => Bucket }) {
    if (!(options.bucketMs > 0) || options.windowMs < options.bucketMs || options.windowMs % options.bucketMs !== 0)
      throw new Error('a sliding window is a whole number (at least one) of buckets');
    this.#clock = options.clock;
    this.#bucketNs = BigInt(options.bucketMs) * 1_000_000n;
    this.#slots = new Array(options.windowMs / options.bucketMs).fill(undefined);
    this.#empty = options.empty;
  }

  /** How long one bucket lasts, in milliseconds. */
  get bucketMs(): number {
    return Number(this.#bucketNs / 1_000_000n);
  }

  /** The counts of the bucket the current time falls in. */
  current(): Bucket {
    const startNs = this.#startOf(this.#clock.nowNs());
    const index = Number((startNs / this.#bucketNs) % BigInt(this.#slots.length));
    const slot = this.#slots[index];
    if (slot && slot.startNs === startNs) return slot.counts;
    const fresh = { startNs, counts: this.#empty() };
    this.#slots[index] = fresh;
    return fresh.counts;
  }

  /**
   * The buckets inside the window, oldest first; `complete` leaves out the current one, whose
   * period is not over (Kratos' BBR reads only finished buckets for its maxima); `lastMs` keeps
   * only the buckets that began within that long before the current one.
   */
  recent(options: { complete?: boolean; lastMs?: number } = {}): Bucket[] {
    const nowStart = this.#startOf(this.#clock.nowNs());
    const buckets = options.lastMs === undefined ? this.#slots.length - 1 : Math.ceil(options.lastMs / this.bucketMs);
    const oldest = nowStart - this.#bucketNs * BigInt(Math.min(buckets, this.#slots.length - 1));
    return this.#slots
      .filter((slot) => slot !== undefined && slot.startNs >= oldest && slot.startNs <= nowStart)
      .filter((slot) => !(options.complete && slot?.startNs === nowStart))
      .sort((a, b) => (a && b ? Number(a.startNs - b.startNs) : 0))
      .map((slot) => slot?.counts as Bucket);
  }

  /** Forgets every count (a circuit breaker that closes starts afresh). */
  reset(): void {
    this.#slots.fill(undefined);
  }

  #startOf(ns: bigint): bigint {
    return ns - (ns % this.#bucketNs);
  }
}
