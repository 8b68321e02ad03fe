import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Mutex, PGlite } from '@electric-sql/pglite';
import { acquireOwnerLock, ownerLockName } from './owner-lock.ts';
import { serveWire, type WireServer } from './pglite-wire.ts';
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
  /**
   * Serve the directory to other processes over a Unix socket (`pglite-wire.ts`), as a server
   * does so that the CLI can reach it; the socket is recorded in the directory's lock.
   */
  serve?: boolean | undefined;
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

/**
 * The embedded engine: PostgreSQL compiled to WASM, in this process. A data directory is taken
 * under its owner lock first (`owner-lock.ts`): a second opener gets `DataDirOwnedError` at once.
 */
export async function openPglite(options: PgliteOptions): Promise<Db> {
  const dataDir = options.dataDir;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const lock = dataDir ? acquireOwnerLock(dataDir, { willServe: options.serve === true }) : undefined;
  let db: PGlite | undefined;
  let wire: WireServer | undefined;
  try {
    db = await createPglite(dataDir);
    const gate = new Mutex();
    const syncWal = dataDir ? walSyncer(dataDir) : async () => {};
    if (dataDir && lock && options.serve) {
      const pg = db;
      wire = await serveWire({ pg, gate, afterCommit: syncWal, dataDir, dump: () => dumpDataDir(pg, dataDir) });
      lock.advertise(wire.socketDir);
    }
    return gatedDb(db, gate, syncWal, dataDir, async () => {
      await wire?.close();
      await db?.close();
      lock?.release();
    });
  } catch (error) {
    await wire?.close();
    await db?.close();
    lock?.release();
    throw error;
  }
}

function createPglite(dataDir: string | undefined): Promise<PGlite> {
  const defaults = (PGlite as unknown as { defaultStartParams: string[] }).defaultStartParams;
  return PGlite.create({
    dataDir,
    parsers,
    relaxedDurability: false,
    startParams: defaults.filter((p) => p !== '-F'),
  });
}

/**
 * Every statement and transaction of this process takes `gate`, the mutex that clients served
 * over the socket hold for their transactions, so the two never interleave on PGlite's one
 * backend. The WAL sync runs after the gate is released: the next transaction goes on meanwhile.
 */
function gatedDb(
  db: PGlite,
  gate: Mutex,
  syncWal: () => Promise<void>,
  dataDir: string | undefined,
  close: () => Promise<void>,
): Db {
  const base = wrap(db);
  return {
    engine: 'pglite',
    // A statement outside a transaction commits on its own: one that may write is synced too.
    async query(sql, params) {
      const rows = await gate.runExclusive(() => base.query(sql, params));
      if (mayWrite.test(sql)) await syncWal();
      return rows as never;
    },
    async exec(sql) {
      await gate.runExclusive(() => base.exec(sql));
      await syncWal();
    },
    async transaction(fn) {
      const value = await gate.runExclusive(() => db.transaction((tx) => fn(wrap(tx))));
      await syncWal();
      return value;
    },
    close,
    backup: () => gate.runExclusive(() => dumpDataDir(db, dataDir)),
  };
}

/** The file a copy carries to say when it was taken (`BackupPoint`); a restore keeps it as `restoredFromName`. */
const backupPointName = 'paybao-backup.json';
const restoredFromName = 'paybao-restored-from.json';

/** The moment a copy holds: every transaction committed before it, none after. */
export interface BackupPoint {
  taken_at: string;
}

/**
 * The data directory as a gzipped tar, its pages written out first, with the moment it was taken
 * inside (on disk only while the copy is made); the caller holds the gate, so nothing commits
 * between that moment and the copy.
 */
async function dumpDataDir(db: PGlite, dataDir: string | undefined): Promise<Uint8Array> {
  await db.exec('CHECKPOINT');
  const point = dataDir === undefined ? undefined : join(dataDir, backupPointName);
  if (point) writeFileSync(point, JSON.stringify({ taken_at: new Date().toISOString() } satisfies BackupPoint));
  try {
    const archive = await db.dumpDataDir('gzip');
    return new Uint8Array(await archive.arrayBuffer());
  } finally {
    if (point) rmSync(point, { force: true });
  }
}

/**
 * Makes `dataDir` the database a `backup()` copied: refused unless the directory is missing or
 * empty (a restore never mixes with other files). The copy holds the original's owner lock,
 * naming the process that owned the original (perhaps still running, on another directory): it
 * is removed, so that the restored directory is nobody's until it is opened. Answers the moment
 * the copy holds, kept beside the files as `paybao-restored-from.json`.
 */
export async function restorePglite(dataDir: string, archive: Uint8Array): Promise<BackupPoint | undefined> {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new Error(`${dataDir} is not empty: a backup is restored into a new or empty directory only`);
  }
  mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir, loadDataDir: new Blob([archive]) });
  await db.close();
  rmSync(join(dataDir, ownerLockName), { force: true });
  // The restored database keeps the moment it holds, under a name no later copy overwrites.
  const point = join(dataDir, backupPointName);
  if (!existsSync(point)) return undefined;
  renameSync(point, join(dataDir, restoredFromName));
  return JSON.parse(readFileSync(join(dataDir, restoredFromName), 'utf8')) as BackupPoint;
}
