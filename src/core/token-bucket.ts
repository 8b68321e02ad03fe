import type { Clock } from './clock.ts';

export interface TokenBucketsOptions {
  clock: Clock;
  /** Tokens each key earns per second: the rate it may keep up. */
  perSecond: number;
  /** The most tokens one key holds: the burst it may send at once after a quiet spell. */
  burst: number;
  /** Keys remembered at most; past it, the one used longest ago is forgotten (it starts full again). */
  keysMax: number;
}

/**
 * One token bucket per key (an app, a user): Sentinel's hot-parameter flow rule, where each value
 * of a parameter has a rate of its own, so that one key's storm empties its own bucket and no
 * other. A bucket starts full, refills continuously at `perSecond` up to `burst`, and each
 * request takes one token. Memory is bounded by `keysMax`; a forgotten key is a full bucket,
 * which errs towards admitting.
 */
export class TokenBuckets {
  readonly #clock: Clock;
  readonly #perNs: number;
  readonly #burst: number;
  readonly #keysMax: number;
  readonly #buckets = new Map<string, { tokens: number; atNs: bigint }>();

  constructor(options: TokenBucketsOptions) {
    if (!(options.perSecond > 0) || !(options.burst >= 1) || !(options.keysMax >= 1))
      throw new Error('a token bucket needs a positive rate, a burst of at least one and room for a key');
    this.#clock = options.clock;
    this.#perNs = options.perSecond / 1e9;
    this.#burst = options.burst;
    this.#keysMax = options.keysMax;
  }

  /**
   * Takes a token from `key`'s bucket: 0 when one was there (admit), otherwise how many
   * milliseconds until the next one (refuse, and tell the client when to retry).
   */
  take(key: string): number {
    const nowNs = this.#clock.nowNs();
    const bucket = this.#buckets.get(key);
    let tokens = this.#burst;
    if (bucket) {
      tokens = Math.min(this.#burst, bucket.tokens + Number(nowNs - bucket.atNs) * this.#perNs);
      // Moved to the end of the map's order: the map's first key is the one used longest ago.
      this.#buckets.delete(key);
    } else if (this.#buckets.size >= this.#keysMax) {
      const oldest = this.#buckets.keys().next();
      if (!oldest.done) this.#buckets.delete(oldest.value);
    }
    const admitted = tokens >= 1;
    this.#buckets.set(key, { tokens: admitted ? tokens - 1 : tokens, atNs: nowNs });
    return admitted ? 0 : Math.ceil((1 - tokens) / this.#perNs / 1e6);
  }

  /** Keys remembered now (for tests and metrics). */
  get size(): number {
    return this.#buckets.size;
  }
}
