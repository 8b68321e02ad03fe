import type { Redis } from 'ioredis';
import { limits } from '../core/limits.ts';
import type { CounterRow, CounterStore } from './velocity.ts';

/**
 * The velocity counters in Redis, for a platform given `REDIS_URL`: per key two hashes of buckets
 * (`n:` counts, `f:` fen, added to with HINCRBY), and one sorted set of every `bucket|key` scored
 * by when it was last written (the mirror's reads and the pruning). Each flush is one MULTI.
 */
export class RedisCounterStore implements CounterStore {
  constructor(
    private readonly redis: Redis,
    /** Keeps several platforms (tests, schemas) on one Redis apart. */
    private readonly prefix = 'paybao:risk:',
  ) {}

  async add(rows: readonly CounterRow[], nowMs: number): Promise<void> {
    const multi = this.redis.multi();
    for (const r of rows) {
      multi.hincrby(this.#counts(r.key), String(r.bucket), r.count);
      multi.hincrby(this.#fen(r.key), String(r.bucket), r.fen.toString());
      multi.zadd(this.#written(), nowMs, `${r.bucket}|${r.key}`);
    }
    const answers = await multi.exec();
    const failed = answers?.find(([error]) => error);
    if (!answers || failed) throw failed?.[0] ?? new Error('the counters flush was discarded');
  }

  async read(keys: readonly string[], sinceBucket: number): Promise<CounterRow[]> {
    const pipeline = this.redis.pipeline();
    for (const key of keys) {
      pipeline.hgetall(this.#counts(key));
      pipeline.hgetall(this.#fen(key));
    }
    const answers = (await pipeline.exec()) ?? [];
    const rows: CounterRow[] = [];
    keys.forEach((key, i) => {
      const counts = (answers[2 * i]?.[1] ?? {}) as Record<string, string>;
      const fen = (answers[2 * i + 1]?.[1] ?? {}) as Record<string, string>;
      for (const [bucket, count] of Object.entries(counts)) {
        if (Number(bucket) < sinceBucket) continue;
        rows.push({ key, bucket: Number(bucket), count: Number(count), fen: BigInt(fen[bucket] ?? '0') });
      }
    });
    return rows;
  }

  async readSince(sinceBucket: number, rowsMax: number): Promise<CounterRow[] | null> {
    // A bucket is written at or after its start: what was written since then holds all of it.
    const rows = await this.readWritten(sinceBucket * limits.riskBucketMs, rowsMax);
    return rows === null ? null : rows.filter((r) => r.bucket >= sinceBucket);
  }

  async readWritten(sinceMs: number, rowsMax: number): Promise<CounterRow[] | null> {
    const members = await this.redis.zrangebyscore(this.#written(), sinceMs, '+inf', 'LIMIT', 0, rowsMax + 1);
    if (members.length > rowsMax) return null;
    const cells = members.map((m) => {
      const bar = m.indexOf('|');
      return { bucket: m.slice(0, bar), key: m.slice(bar + 1) };
    });
    const pipeline = this.redis.pipeline();
    for (const c of cells) {
      pipeline.hget(this.#counts(c.key), c.bucket);
      pipeline.hget(this.#fen(c.key), c.bucket);
    }
    const answers = (await pipeline.exec()) ?? [];
    return cells.map((c, i) => ({
      key: c.key,
      bucket: Number(c.bucket),
      count: Number(answers[2 * i]?.[1] ?? 0),
      fen: BigInt((answers[2 * i + 1]?.[1] as string | null) ?? '0'),
    }));
  }

  async prune(beforeBucket: number): Promise<void> {
    // A bucket older than the window was last written before the window began.
    const old = await this.redis.zrangebyscore(this.#written(), '-inf', beforeBucket * limits.riskBucketMs);
    for (let i = 0; i < old.length; i += limits.riskRefreshKeysMax) {
      const multi = this.redis.multi();
      for (const m of old.slice(i, i + limits.riskRefreshKeysMax)) {
        const bar = m.indexOf('|');
        const [bucket, key] = [m.slice(0, bar), m.slice(bar + 1)];
        if (Number(bucket) >= beforeBucket) continue;
        multi.hdel(this.#counts(key), bucket);
        multi.hdel(this.#fen(key), bucket);
        multi.zrem(this.#written(), m);
      }
      await multi.exec();
    }
  }

  #counts(key: string): string {
    return `${this.prefix}n:${key}`;
  }

  #fen(key: string): string {
    return `${this.prefix}f:${key}`;
  }

  #written(): string {
    return `${this.prefix}written`;
  }
}
