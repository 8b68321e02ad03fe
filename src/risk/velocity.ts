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
 * (`DbCounterStore`).
 */
export interface CounterStore {
  /** Adds the rows' counts and money to what the store holds, marked written at `nowMs`. */
  add(rows: readonly CounterRow[], nowMs: number): Promise<void>;
  /** Every bucket of these keys from `sinceBucket` on. */
  read(keys: readonly string[], sinceBucket: number): Promise<CounterRow[]>;
  /** Every bucket of every key from `sinceBucket` on; null when there are more than `rowsMax`. */
  readSince(sinceBucket: number, rowsMax: number): Promise<CounterRow[] | null>;
  /** Every bucket any process added to since `sinceMs` (its wall clock); null past `rowsMax`. */
  readWritten(sinceMs: number, rowsMax: number): Promise<CounterRow[] | null>;
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
 * counts up to one bucket more: it errs on the strict side). A read and an add within one decision
 * are one synchronous step, so concurrent decisions in one process never both pass a bound.
 *
 * Each process mirrors the store: on its first decision it reads every bucket of the longest
 * window, and every `sync` (the job runs it each `riskSyncMs`) it flushes what it counted and
 * reads back every bucket any process wrote since its last sync (each flush marks its rows with
 * the flusher's clock, so a flush that came late, of old buckets, is read back too). While the mirror is
 * whole, a key it does not hold has no payments, and a decision never waits for the store. When
 * the store holds more than the mirror may (`riskMirrorRowsMax` rows, `riskCounterKeysMax` keys),
 * the mirror gives up being whole: a key not held is then read from the store before its first
 * decision, and the keys used lately are read back on each sync.
 */
export class Velocity {
  readonly #keys = new Map<string, KeyState>();
  #pending = new Map<string, Map<number, BucketCount>>();
  readonly #loading = new Map<string, Promise<void>>();
  #started: Promise<void> | undefined;
  /** Whether every key with a bucket in the longest window is held. */
  #whole = false;
  /** When the store was last read whole or read back: the next sync reads what was written since. */
  #readAtMs = 0;

  constructor(private readonly store: CounterStore) {}

  static bucketOf(ms: number): number {
    return Math.floor(ms / limits.riskBucketMs);
  }

  /** Whether the mirror holds every key of the store (for the metrics and the tests). */
  get whole(): boolean {
    return this.#whole;
  }

  /** Keys held in memory (for the metrics and the tests). */
  get size(): number {
    return this.#keys.size;
  }

  /** Makes sure the keys' buckets are here: from the mirror, or (not whole) read from the store. */
  async ensure(keys: readonly string[], nowMs: number): Promise<void> {
    this.#started ??= this.#start(nowMs).catch((error: unknown) => {
      this.#started = undefined;
      throw error;
    });
    await this.#started;
    const waits: Promise<void>[] = [];
    const missing: string[] = [];
    for (const key of keys) {
      const state = this.#keys.get(key);
      if (state) {
        state.usedAtMs = nowMs;
        continue;
      }
      if (this.#whole) {
        this.#keys.set(key, { buckets: new Map(), usedAtMs: nowMs });
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

  /** The first read: every bucket of the longest window, or the news that they do not fit. */
  async #start(nowMs: number): Promise<void> {
    const rows = await this.store.readSince(
      Velocity.bucketOf(nowMs - limits.riskWindowMaxMs),
      limits.riskMirrorRowsMax,
    );
    if (rows === null) return;
    this.#merge(rows, nowMs);
    this.#readAtMs = nowMs;
    this.#whole = this.#keys.size <= limits.riskCounterKeysMax;
  }

  async #load(keys: readonly string[], nowMs: number): Promise<void> {
    try {
      const rows = await this.store.read(keys, Velocity.bucketOf(nowMs - limits.riskWindowMaxMs));
      this.#replace(keys, rows, nowMs);
      this.#trim();
    } finally {
      for (const key of keys) this.#loading.delete(key);
    }
  }

  /** The key's count and money within the window ending now; zero for a key not held. */
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
   * Flushes what this process counted to the store, then reads back what every process wrote
   * since the last sync (whole), or the keys used within `riskRefreshMs` (not whole). A failed
   * flush is kept for the next one: nothing counted is lost.
   */
  async sync(nowMs: number): Promise<void> {
    await this.flush(nowMs);
    await this.#readBack(nowMs);
  }

  /** Writes what this process counted to the store (nothing when it counted nothing). */
  async flush(nowMs: number): Promise<void> {
    const flushing = this.#pending;
    this.#pending = new Map();
    const rows: CounterRow[] = [];
    for (const [key, buckets] of flushing) {
      for (const [bucket, c] of buckets) rows.push({ key, bucket, count: c.count, fen: c.fen });
    }
    try {
      if (rows.length > 0) await this.store.add(rows, nowMs);
    } catch (error) {
      for (const [key, buckets] of flushing) {
        const pending = this.#pending.get(key) ?? new Map<number, BucketCount>();
        for (const [bucket, c] of buckets) addTo(pending, bucket, c.count, c.fen);
        this.#pending.set(key, pending);
      }
      throw error;
    }
  }

  async #readBack(nowMs: number): Promise<void> {
    const oldest = Velocity.bucketOf(nowMs - limits.riskWindowMaxMs);
    if (this.#whole) {
      // Whatever was written since the last read, a little before it too: a flush in flight then.
      const written = await this.store.readWritten(this.#readAtMs - limits.riskMirrorLagMs, limits.riskMirrorRowsMax);
      if (written !== null) {
        this.#merge(written, nowMs);
        this.#readAtMs = nowMs;
        if (this.#keys.size <= limits.riskCounterKeysMax) return;
      }
      this.#whole = false;
      this.#trim();
      return;
    }
    const recent: string[] = [];
    for (const [key, state] of this.#keys) if (nowMs - state.usedAtMs <= limits.riskRefreshMs) recent.push(key);
    for (let i = 0; i < recent.length; i += limits.riskRefreshKeysMax) {
      const keys = recent.slice(i, i + limits.riskRefreshKeysMax);
      this.#replace(keys, await this.store.read(keys, oldest), nowMs);
    }
  }

  /** Forgets, in the store, buckets older than the longest window. */
  /**
   * Forgets buckets older than the longest window, here and in the store (sums skip them anyway:
   * this is for memory and disk, every `riskPruneEveryMs`).
   */
  prune(nowMs: number): Promise<void> {
    const oldest = Velocity.bucketOf(nowMs - limits.riskWindowMaxMs);
    for (const [key, state] of this.#keys) {
      for (const bucket of state.buckets.keys()) if (bucket < oldest) state.buckets.delete(bucket);
      // A key whose buckets all left the window holds nothing: forgetting it loses nothing.
      if (state.buckets.size === 0 && !this.#pending.has(key)) this.#keys.delete(key);
    }
    return this.store.prune(oldest);
  }

  /** Takes the store's buckets for the rows' keys (plus what is not flushed yet), key by key. */
  #merge(rows: readonly CounterRow[], nowMs: number): void {
    for (const r of rows) {
      let state = this.#keys.get(r.key);
      if (!state) {
        state = { buckets: new Map(), usedAtMs: nowMs };
        this.#keys.set(r.key, state);
      }
      const pending = this.#pending.get(r.key)?.get(r.bucket);
      state.buckets.set(r.bucket, {
        count: r.count + (pending?.count ?? 0),
        fen: r.fen + (pending?.fen ?? 0n),
      });
    }
  }

  /** The keys' buckets as the store has them (plus what is not flushed yet), whole. */
  #replace(keys: readonly string[], rows: readonly CounterRow[], nowMs: number): void {
    const fresh = new Map(keys.map((k) => [k, new Map<number, BucketCount>()]));
    for (const r of rows) fresh.get(r.key)?.set(r.bucket, { count: r.count, fen: r.fen });
    for (const [key, buckets] of fresh) {
      for (const [bucket, c] of this.#pending.get(key) ?? []) addTo(buckets, bucket, c.count, c.fen);
      const state = this.#keys.get(key);
      if (state) state.buckets = buckets;
      else this.#keys.set(key, { buckets, usedAtMs: nowMs });
    }
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
