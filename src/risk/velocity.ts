import { limits } from '../core/limits.ts';

/** One bucket's count and money. */
export interface BucketCount {
  count: number;
  fen: bigint;
}

/** A bucket of one key, as the shared store keeps it. */
export interface CounterRow extends BucketCount {
  key: string;
  bucket: number;
}

/**
 * The shared truth of the velocity counters, for every process: the database's `risk_counters`
 * (`DbCounterStore`), or Redis when the platform is given one.
 */
export interface CounterStore {
  /** Adds the rows' counts and money to what the store holds. */
  add(rows: readonly CounterRow[]): Promise<void>;
  /** Every bucket of these keys from `sinceBucket` on. */
  read(keys: readonly string[], sinceBucket: number): Promise<CounterRow[]>;
  /** Forgets buckets older than `beforeBucket`. */
  prune(beforeBucket: number): Promise<void>;
}

interface KeyState {
  /** What the store held at the last read, plus what this process added since. */
  buckets: Map<number, BucketCount>;
  usedAtMs: number;
}

/**
 * Sliding-window counters (count and money per key: `user:2088…`, `card:…`), kept in memory so
 * that a decision reads them without a round trip, with the store as the truth all processes
 * share. Windows are summed over buckets of `riskBucketMs`, the oldest counted whole (a window
 * counts up to one bucket more: it errs on the strict side). A key is read from the store the
 * first time a decision needs it; what this process adds is flushed, and the keys it used lately
 * read back, every `sync` (the job runs it each `riskSyncMs`): another process's payments count
 * here within that time, this process's own at once. A read and an add within one decision are
 * one synchronous step, so concurrent decisions in one process never both pass a bound.
 */
export class Velocity {
  readonly #keys = new Map<string, KeyState>();
  #pending = new Map<string, Map<number, BucketCount>>();
  readonly #loading = new Map<string, Promise<void>>();

  constructor(private readonly store: CounterStore) {}

  static bucketOf(ms: number): number {
    return Math.floor(ms / limits.riskBucketMs);
  }

  /** Reads the keys this process does not hold yet from the store. */
  async ensure(keys: readonly string[], nowMs: number): Promise<void> {
    const waits: Promise<void>[] = [];
    const missing: string[] = [];
    for (const key of keys) {
      const state = this.#keys.get(key);
      if (state) {
        state.usedAtMs = nowMs;
        continue;
      }
      const loading = this.#loading.get(key);
      if (loading) waits.push(loading);
      else missing.push(key);
    }
    if (missing.length > 0) {
      const load = this.#load(missing, nowMs);
      for (const key of missing) this.#loading.set(key, load);
      waits.push(load);
    }
    if (waits.length > 0) await Promise.all(waits);
  }

  async #load(keys: readonly string[], nowMs: number): Promise<void> {
    try {
      const rows = await this.store.read(keys, Velocity.bucketOf(nowMs - limits.riskWindowMaxMs));
      const fresh = new Map(keys.map((k) => [k, new Map<number, BucketCount>()]));
      for (const r of rows) fresh.get(r.key)?.set(r.bucket, { count: r.count, fen: r.fen });
      for (const [key, buckets] of fresh) {
        // Whatever this process added while the read was out is not in the store yet.
        for (const [bucket, c] of this.#pending.get(key) ?? []) addTo(buckets, bucket, c.count, c.fen);
        this.#keys.set(key, { buckets, usedAtMs: nowMs });
      }
      this.#trim();
    } finally {
      for (const key of keys) this.#loading.delete(key);
    }
  }

  /** The key's count and money within the window ending now; zero for a key never loaded. */
  sum(key: string, windowMs: number, nowMs: number): BucketCount {
    const state = this.#keys.get(key);
    const total = { count: 0, fen: 0n };
    if (!state) return total;
    const first = Velocity.bucketOf(nowMs - windowMs);
    for (const [bucket, c] of state.buckets) {
      if (bucket < first) continue;
      total.count += c.count;
      total.fen += c.fen;
    }
    return total;
  }

  /** Counts one payment of `fen` for each key, now. */
  add(keys: readonly string[], fen: bigint, nowMs: number): void {
    const bucket = Velocity.bucketOf(nowMs);
    for (const key of keys) {
      let state = this.#keys.get(key);
      if (!state) {
        state = { buckets: new Map(), usedAtMs: nowMs };
        this.#keys.set(key, state);
      }
      addTo(state.buckets, bucket, 1, fen);
      let pending = this.#pending.get(key);
      if (!pending) {
        pending = new Map();
        this.#pending.set(key, pending);
      }
      addTo(pending, bucket, 1, fen);
    }
  }

  /**
   * Flushes what this process counted to the store, then reads back the keys used within
   * `riskRefreshMs`, so that other processes' payments count here. A failed flush is kept for
   * the next one: nothing counted is lost.
   */
  async sync(nowMs: number): Promise<void> {
    const flushing = this.#pending;
    this.#pending = new Map();
    const rows: CounterRow[] = [];
    for (const [key, buckets] of flushing) {
      for (const [bucket, c] of buckets) rows.push({ key, bucket, count: c.count, fen: c.fen });
    }
    try {
      if (rows.length > 0) await this.store.add(rows);
    } catch (error) {
      for (const [key, buckets] of flushing) {
        const pending = this.#pending.get(key) ?? new Map<number, BucketCount>();
        for (const [bucket, c] of buckets) addTo(pending, bucket, c.count, c.fen);
        this.#pending.set(key, pending);
      }
      throw error;
    }
    const oldest = Velocity.bucketOf(nowMs - limits.riskWindowMaxMs);
    const recent: string[] = [];
    for (const [key, state] of this.#keys) {
      for (const bucket of state.buckets.keys()) if (bucket < oldest) state.buckets.delete(bucket);
      if (nowMs - state.usedAtMs <= limits.riskRefreshMs) recent.push(key);
    }
    for (let i = 0; i < recent.length; i += limits.riskRefreshKeysMax) {
      const keys = recent.slice(i, i + limits.riskRefreshKeysMax);
      const rowsRead = await this.store.read(keys, oldest);
      const fresh = new Map(keys.map((k) => [k, new Map<number, BucketCount>()]));
      for (const r of rowsRead) fresh.get(r.key)?.set(r.bucket, { count: r.count, fen: r.fen });
      for (const [key, buckets] of fresh) {
        for (const [bucket, c] of this.#pending.get(key) ?? []) addTo(buckets, bucket, c.count, c.fen);
        const state = this.#keys.get(key);
        if (state) state.buckets = buckets;
      }
    }
  }

  /** Forgets, in the store, buckets older than the longest window. */
  prune(nowMs: number): Promise<void> {
    return this.store.prune(Velocity.bucketOf(nowMs - limits.riskWindowMaxMs));
  }

  /** Keys held in memory (for the metrics and the tests). */
  get size(): number {
    return this.#keys.size;
  }

  /** Forgets the least recently used keys past `riskCounterKeysMax`; none with unflushed counts. */
  #trim(): void {
    if (this.#keys.size <= limits.riskCounterKeysMax) return;
    const byUse = [...this.#keys].sort((a, b) => a[1].usedAtMs - b[1].usedAtMs);
    for (const [key] of byUse) {
      if (this.#keys.size <= limits.riskCounterKeysMax * limits.riskCounterKeysKeptRatio) break;
      if (!this.#pending.has(key)) this.#keys.delete(key);
    }
  }
}

function addTo(buckets: Map<number, BucketCount>, bucket: number, count: number, fen: bigint): void {
  const c = buckets.get(bucket);
  if (c) {
    c.count += count;
    c.fen += fen;
  } else {
    buckets.set(bucket, { count, fen });
  }
}
