import { openPglite } from './pglite.ts';
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
}

/** Opens the configured engine. */
export async function openDb(config: DbConfig): Promise<Db> {
  if (!config.databaseUrl) return openPglite({ dataDir: config.dataDir });
  if (config.schema) {
    if (!/^[a-z_][a-z0-9_]*$/.test(config.schema)) throw new Error(`bad schema name: ${config.schema}`);
    const admin = openPostgres({ connectionString: config.databaseUrl, poolMax: 1 });
    await admin.exec(`create schema if not exists ${config.schema}`);
    await admin.close();
  }
  return openPostgres({
    connectionString: config.databaseUrl,
    schema: config.schema,
    poolMax: config.poolMax,
  });
}
