import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { Db, Queryable } from './types.ts';

const int8 = 20;
const parsers = { [int8]: (v: string) => BigInt(v) };

function wrap(q: Pick<PGlite, 'query' | 'exec'>): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]) {
      const result = await q.query<R>(sql, params as unknown[] | undefined);
      return result.rows;
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  };
}

export interface PgliteOptions {
  /** Directory of the database files; undefined keeps everything in memory (tests). */
  dataDir?: string | undefined;
}

/**
 * The embedded engine: PostgreSQL compiled to WASM, in this process. Durable: every commit is
 * flushed to the files before it is acknowledged (relaxed durability stays off).
 */
export async function openPglite(options: PgliteOptions): Promise<Db> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir: options.dataDir, parsers, relaxedDurability: false });
  const base = wrap(db);
  return {
    engine: 'pglite',
    query: base.query,
    exec: base.exec,
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    close: () => db.close(),
  };
}
