/**
 * One process owns a PGlite data directory (src/core/db/owner-lock.ts) and may serve it to
 * others (src/core/db/pglite-wire.ts). Proves: a second opener is refused at once with the
 * owner's pid; a lock whose process is gone is taken over; a served directory is reached over
 * the socket, where a client's transaction is invisible to the owner and never interleaved with
 * the owner's work, and a client that disconnects mid-transaction is rolled back. The lock is
 * about PGlite's files, so the file runs its cases on PGlite whatever the engine of the run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirOwnedError, type Db, liveOwner, openDb } from '../../src/core/db/index.ts';
import { processTestTimeoutMs } from '../support/timeouts.ts';

const root = mkdtempSync(join(tmpdir(), 'paybao-owner-'));
let n = 0;
const freshDir = () => join(root, `d${n++}`);

afterAll(() => rmSync(root, { recursive: true, force: true }));

async function withOwner<T>(fn: (owner: Db, dataDir: string) => Promise<T>): Promise<T> {
  const dataDir = freshDir();
  const owner = await openDb({ dataDir, pgliteSharing: 'serve' });
  try {
    await owner.exec('create table t (id int primary key)');
    return await fn(owner, dataDir);
  } finally {
    await owner.close();
  }
}

/** A raw node-postgres client on the owner's socket (named in its lock), to hold a transaction open by hand. */
function rawClient(dataDir: string): pg.Client {
  const host = liveOwner(dataDir)?.socketDir;
  if (!host) throw new Error(`nobody serves ${dataDir}`);
  return new pg.Client({ host, port: 5432, user: 'postgres', database: 'postgres' });
}

describe('the owner lock', { timeout: processTestTimeoutMs }, () => {
  it('refuses a second opener at once, naming the owner; frees the directory on close', async () => {
    const dataDir = freshDir();
    const first = await openDb({ dataDir });
    const error = await openDb({ dataDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(new RegExp(`in use by process ${process.pid} \\(`));
    expect((error as Error).cause).toBeInstanceOf(DataDirOwnedError);
    await first.close();
    const again = await openDb({ dataDir });
    await again.close();
  });

  it('takes over a lock whose process is gone', async () => {
    const dataDir = freshDir();
    await (await openDb({ dataDir })).close();
    // A pid that existed and has exited: a child that ran to completion.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const lock = join(dataDir, 'paybao.lock');
    writeFileSync(lock, JSON.stringify({ pid: dead, startTicks: null, command: 'paybao start', since: 'then' }));
    const db = await openDb({ dataDir });
    expect(JSON.parse(readFileSync(lock, 'utf8')).pid).toBe(process.pid);
    await db.close();
  });

  it('refuses a second server on a served directory, and says so', async () => {
    await withOwner(async (_owner, dataDir) => {
      const error = (await openDb({ dataDir, pgliteSharing: 'serve' }).catch((e: unknown) => e)) as Error;
      expect(error.message).toMatch(/in use by process \d+ .*serving it on .*a second server on it would corrupt it/);
    });
  });
});

describe('a served directory', { timeout: processTestTimeoutMs }, () => {
  it('is reached over the socket by a second opener, with the same data', async () => {
    await withOwner(async (owner, dataDir) => {
      await owner.query('insert into t values (1)');
      const client = await openDb({ dataDir });
      expect(client.engine).toBe('pglite');
      await client.query('insert into t values (2)');
      expect(await owner.query('select id from t order by id')).toEqual([{ id: 1 }, { id: 2 }]);
      await client.close();
    });
  });

  it('runs named statements from several openers over the socket (the name is not prepared in the shared backend)', async () => {
    await withOwner(async (owner, dataDir) => {
      await owner.query('insert into t values (1)');
      const clients = [await openDb({ dataDir, poolMax: 3 }), await openDb({ dataDir, poolMax: 3 })];
      const read = (db: Db) => db.query('select id from t where id = $1', [1], { name: 't_by_id' });
      const answers = await Promise.all(clients.flatMap((c) => Array.from({ length: 6 }, () => read(c))));
      for (const rows of answers) expect(rows).toEqual([{ id: 1 }]);
      expect(await read(owner)).toEqual([{ id: 1 }]);
      for (const c of clients) await c.close();
    });
  });

  it('makes a command that comes while the server is still starting wait for its socket, not fail', async () => {
    const dataDir = freshDir();
    // The lock is taken before PGlite starts; the socket listens only once it has.
    const starting = openDb({ dataDir, pgliteSharing: 'serve' });
    const client = await openDb({ dataDir });
    const owner = await starting;
    try {
      await client.exec('create table early (id int)');
      expect(await owner.query('select count(*)::int as n from early')).toEqual([{ n: 0 }]);
    } finally {
      await client.close();
      await owner.close();
    }
  });

  it("keeps a client's open transaction apart from the owner's work, which waits for its commit", async () => {
    await withOwner(async (owner, dataDir) => {
      const client = rawClient(dataDir);
      await client.connect();
      await client.query('begin');
      await client.query('insert into t values (10)');
      let ownerSaw: unknown;
      const ownerRead = owner.query('select count(*)::int as n from t').then((rows) => {
        ownerSaw = rows;
      });
      const ownerWrite = owner.transaction((tx) => tx.query('insert into t values (11)'));
      // The owner's statements queue behind the client's transaction instead of running inside it.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(ownerSaw).toBeUndefined();
      await client.query('commit');
      await Promise.all([ownerRead, ownerWrite]);
      expect(ownerSaw).toEqual([{ n: 1 }]);
      expect(await owner.query('select id from t order by id')).toEqual([{ id: 10 }, { id: 11 }]);
      await client.end();
    });
  });

  it('rolls back the transaction of a client that disconnects in it, and the owner goes on', async () => {
    await withOwner(async (owner, dataDir) => {
      const client = rawClient(dataDir);
      await client.connect();
      client.on('error', () => {});
      await client.query('begin');
      await client.query('insert into t values (20)');
      (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      expect(await owner.query('select count(*)::int as n from t')).toEqual([{ n: 0 }]);
      await owner.query('insert into t values (21)');
      expect(await owner.query('select id from t')).toEqual([{ id: 21 }]);
    });
  });

  it('serves many clients and the owner at once without mixing their transactions', async () => {
    await withOwner(async (owner, dataDir) => {
      await owner.exec('create table c (k int primary key, v int not null)');
      await owner.query('insert into c values (1, 0)');
      const clients = await Promise.all([1, 2, 3, 4, 5, 6].map(() => openDb({ dataDir })));
      // Read-modify-write increments: any interleaving of two transactions loses an update. The
      // clients connect while the owner works, so their startup answers race its statements.
      const bump = (db: Db) =>
        db.transaction(async (tx) => {
          const [row] = await tx.query<{ v: number }>('select v from c where k = 1');
          await tx.query('update c set v = $1 where k = 1', [(row?.v ?? 0) + 1]);
        });
      const all = [owner, ...clients];
      await Promise.all(all.flatMap((db) => Array.from({ length: 10 }, () => bump(db))));
      expect(await owner.query('select v from c')).toEqual([{ v: 70 }]);
      await Promise.all(clients.map((c) => c.close()));
    });
  });
});
