import { mkdirSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
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
 * PGlite starts PostgreSQL with `-F` (fsync off), and its WASM file system never calls fsync
 * anyway. Paybao starts it without `-F` and, after every committed transaction, fdatasyncs the
 * newest WAL segments itself before answering: an acknowledged commit is on disk, not only in the
 * page cache. Commits that finish while a sync runs share the next one (group commit), and the
 * sync runs on the thread pool, so the engine goes on with the next transaction meanwhile.
 */
function walSyncer(dataDir: string): () => Promise<void> {
  const walDir = join(dataDir, 'pg_wal');
  const syncOnce = async () => {
    const segments = (await readdir(walDir)).filter((f) => /^[0-9A-F]{24}$/.test(f)).sort();
    // The commit record may have crossed into a new segment: sync the last two.
    for (const name of segments.slice(-2)) {
      const file = await open(join(walDir, name), 'r+');
      try {
        await file.datasync();
      } finally {
        await file.close();
      }
    }
  };
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  // A commit is covered only by a sync that starts after it: while one runs, queue the next.
  const sync = (): Promise<void> => {
    if (!running) {
      running = syncOnce().finally(() => {
        running = undefined;
      });
      return running;
    }
    next ??= running
      .catch(() => {})
      .then(() => {
        next = undefined;
        return sync();
      });
    return next;
  };
  return sync;
}

const mayWrite = /^\s*(insert|update|delete|with|create|alter|drop|truncate)\b/i;

/** The embedded engine: PostgreSQL compiled to WASM, in this process. */
export async function openPglite(options: PgliteOptions): Promise<Db> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const defaults = (PGlite as unknown as { defaultStartParams: string[] }).defaultStartParams;
  const db = await PGlite.create({
    dataDir: options.dataDir,
    parsers,
    relaxedDurability: false,
    startParams: defaults.filter((p) => p !== '-F'),
  });
  const syncWal = options.dataDir ? walSyncer(options.dataDir) : async () => {};
  const base = wrap(db);
  return {
    engine: 'pglite',
    // A statement outside a transaction commits on its own: one that may write is synced too.
    async query(sql, params) {
      const rows = await base.query(sql, params);
      if (mayWrite.test(sql)) await syncWal();
      return rows as never;
    },
    async exec(sql) {
      await base.exec(sql);
      await syncWal();
    },
    async transaction(fn) {
      const value = await db.transaction((tx) => fn(wrap(tx)));
      await syncWal();
      return value;
    },
    close: () => db.close(),
  };
}
