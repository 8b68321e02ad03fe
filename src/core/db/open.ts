import { limits } from '../limits.ts';
import { DataDirOwnedError } from './owner-lock.ts';
import { openPglite } from './pglite.ts';
import { backupQuery } from './pglite-wire.ts';
import { openPostgres } from './postgres.ts';
import type { Db } from './types.ts';

export interface DbConfig {
  /** Set → PostgreSQL server; unset → PGlite under `dataDir`. */
  databaseUrl?: string | undefined;
  /** Schema to use first on PostgreSQL (created when missing). */
  schema?: string | undefined;
  /** PGlite files; undefined means in memory. */
  dataDir?: string | undefined;
  poolMax?: number;
  /**
   * PGlite only. `serve`: own the data directory and serve it to other processes (a server;
   * refuses when another process owns it). `reach` (the default): open the directory, or, when a
   * live process owns and serves it, reach that process over its socket instead (a server still
   * starting is waited for, up to `dataDirOwnerWaitMs`).
   */
  pgliteSharing?: 'serve' | 'reach' | undefined;
  /**
   * Every session read-only (`default_transaction_read_only`), for a server started to
   * investigate (`paybao start --read-only`): the server refuses any write. The schema must exist.
   */
  readOnly?: boolean | undefined;
}

/** Opens the configured engine. */
export async function openDb(config: DbConfig): Promise<Db> {
  if (!config.databaseUrl) {
    const db = await openDataDir(config);
    // Its own PGlite only: a reached owner's one session is the owner's, not this process's to set.
    if (config.readOnly && config.pgliteSharing === 'serve') await db.exec('set default_transaction_read_only = on');
    return db;
  }
  if (config.schema && !config.readOnly) {
    if (!/^[a-z_][a-z0-9_]*$/.test(config.schema)) throw new Error(`bad schema name: ${config.schema}`);
    const admin = openPostgres({ connectionString: config.databaseUrl, poolMax: 1 });
    await admin.exec(`create schema if not exists ${config.schema}`);
    await admin.close();
  }
  return openPostgres({
    connectionString: config.databaseUrl,
    schema: config.schema,
    poolMax: config.poolMax,
    readOnly: config.readOnly === true,
  });
}

async function openDataDir(config: DbConfig): Promise<Db> {
  const serve = config.pgliteSharing === 'serve';
  const deadline = Date.now() + limits.dataDirOwnerWaitMs;
  for (;;) {
    try {
      return await openPglite({ dataDir: config.dataDir, serve });
    } catch (error) {
      if (!(error instanceof DataDirOwnedError)) throw error;
      const socketDir = error.owner.socketDir;
      if (!serve && socketDir) return reachOwner(socketDir);
      // A server still starting (PGlite's start, before its socket listens) is worth a short
      // wait; any other owner is named at once.
      const starting = !serve && error.owner.willServe === true && Date.now() < deadline;
      if (!starting) throw new Error(`${error.message}: ${ownedHint(serve, error.owner.willServe)}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, limits.dataDirOwnerPollMs));
    }
  }
}

function ownedHint(serve: boolean, willServe: boolean | undefined): string {
  if (serve)
    return 'a second server on it would corrupt it; stop that process first, or give this one another PAYBAO_DATA_DIR';
  if (willServe) return `it has not started serving other processes within ${limits.dataDirOwnerWaitMs / 1000} s`;
  return 'it serves no other process; wait for it to finish, or stop it';
}

/**
 * The owner's PGlite over its socket, through node-postgres. One connection, as PGlite has one
 * backend: this process's concurrent work queues here exactly as it would in the owner.
 */
function reachOwner(socketDir: string): Db {
  const db = openPostgres({ socketDir, poolMax: 1 });
  return {
    ...db,
    engine: 'pglite',
    async backup() {
      const rows = await db.query<{ backup: string }>(backupQuery);
      return new Uint8Array(Buffer.concat(rows.map((r) => Buffer.from(r.backup, 'base64'))));
    },
  };
}
