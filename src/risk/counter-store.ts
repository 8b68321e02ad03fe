import type { Queryable } from '../core/db/index.ts';
import type { CounterRow, CounterStore } from './velocity.ts';

/** The velocity counters in `risk_counters`: adds by one statement over arrays, reads by key. */
export class DbCounterStore implements CounterStore {
  constructor(private readonly db: Queryable) {}

  async add(rows: readonly CounterRow[], nowMs: number): Promise<void> {
    // Sorted, so that two processes flushing the same keys take their row locks in one order.
    const sorted = [...rows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.bucket - b.bucket));
    await this.db.query(
      `insert into risk_counters (key, bucket, count, amount_fen, written_at_ms)
       select k, b, c, f, $5 from unnest($1::text[], $2::int8[], $3::int8[], $4::int8[]) as t(k, b, c, f)
       on conflict (key, bucket) do update
         set count = risk_counters.count + excluded.count, amount_fen = risk_counters.amount_fen + excluded.amount_fen,
             written_at_ms = excluded.written_at_ms`,
      [
        sorted.map((r) => r.key),
        sorted.map((r) => r.bucket),
        sorted.map((r) => r.count),
        sorted.map((r) => r.fen.toString()),
        nowMs,
      ],
    );
  }

  read(keys: readonly string[], sinceBucket: number): Promise<CounterRow[]> {
    return this.#rows('key = any($1::text[]) and bucket >= $2', [keys, sinceBucket]);
  }

  async readSince(sinceBucket: number, rowsMax: number): Promise<CounterRow[] | null> {
    const rows = await this.#rows('bucket >= $1 limit $2', [sinceBucket, rowsMax + 1]);
    return rows.length > rowsMax ? null : rows;
  }

  async readWritten(sinceMs: number, rowsMax: number): Promise<CounterRow[] | null> {
    const rows = await this.#rows('written_at_ms >= $1 limit $2', [sinceMs, rowsMax + 1]);
    return rows.length > rowsMax ? null : rows;
  }

  async #rows(where: string, params: readonly unknown[]): Promise<CounterRow[]> {
    const rows = await this.db.query<{ key: string; bucket: bigint; count: bigint; amount_fen: bigint }>(
      `select key, bucket, count, amount_fen from risk_counters where ${where}`,
      params,
    );
    return rows.map((r) => ({ key: r.key, bucket: Number(r.bucket), count: Number(r.count), fen: r.amount_fen }));
  }

  async prune(beforeBucket: number): Promise<void> {
    await this.db.query('delete from risk_counters where bucket < $1', [beforeBucket]);
  }
}
