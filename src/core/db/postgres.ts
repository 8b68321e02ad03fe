import pg from 'pg';
import { limits } from '../limits.ts';
import { Primary, splitHosts } from './primary.ts';
import type { Db, Queryable, QueryOptions } from './types.ts';

const int8 = 20;
const int8Array = 1016;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === int8) return (v: string) => BigInt(v);
    if (oid === int8Array) return (v: string) => parseInt8Array(v);
    return pg.types.getTypeParser(oid, format);
  },
};

function parseInt8Array(text: string): bigint[] {
  if (text === '{}') return [];
  return text
    .slice(1, -1)
    .split(',')
    .map((v) => BigInt(v));
}

/**
 * `named`: whether statements may be prepared under their names. Not through a PGlite owner's
 * socket (pglite-wire.ts): there every client shares the one backend, so a name one client
 * prepared would already exist for the next connection that prepares it.
 */
function wrap(client: pg.PoolClient | pg.Pool, named: boolean): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[], options?: QueryOptions) {
      const result = await client.query({
        text: sql,
        values: params as unknown[] | undefined,
        types,
        ...(options?.name === undefined || !named ? {} : { name: options.name }),
      });
      return result.rows as R[];
    },
    async exec(sql: string) {
      await client.query({ text: sql, types });
    },
  };
}

const ignore = () => {};

/** A node-postgres client whose opening of its connection gives up after `pgConnectTimeoutMs`. */
class TimedClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(
      typeof config === 'string'
        ? { connectionString: config, connectionTimeoutMillis: limits.pgConnectTimeoutMs }
        : { ...config, connectionTimeoutMillis: limits.pgConnectTimeoutMs },
    );
  }
}

export interface PostgresOptions {
  connectionString?: string;
  /** A Unix socket's directory instead (a PGlite owner's, `pglite-wire.ts`). */
  socketDir?: string;
  /** Every connection uses this schema first: how tests and CI get a fresh database. */
  schema?: string | undefined;
  poolMax?: number;
  /** Every session read-only (`default_transaction_read_only`): any write is refused by the server. */
  readOnly?: boolean;
}

/** The settings every session starts with: the schema first, read-only when asked. */
function sessionOptions(options: PostgresOptions): string | undefined {
  const settings = [
    ...(options.schema ? [`-c search_path=${options.schema}`] : []),
    ...(options.readOnly ? ['-c default_transaction_read_only=on'] : []),
  ];
  return settings.length > 0 ? settings.join(' ') : undefined;
}

/**
 * A PostgreSQL server, or a cluster's primary (primary.ts), reached through node-postgres. A
 * statement that finds its connection lost fails with the retryable `DatabaseUnavailableError`.
 */
export function openPostgres(options: PostgresOptions): Db {
  const primary = new Primary({
    hosts: options.socketDir ? { urls: [''], readWrite: false } : splitHosts(options.connectionString ?? ''),
    readOnly: options.readOnly === true,
    pool: {
      ...(options.socketDir ? { host: options.socketDir, port: 5432, user: 'postgres', database: 'postgres' } : {}),
      max: options.poolMax ?? limits.pgPoolConnectionsMax,
      // The connect timeout on each new connection, not on the pool: a pool's own timeout would
      // also end a request's wait for a busy pool's next free connection, which under load is
      // no sign of a lost server.
      Client: TimedClient,
      options: sessionOptions(options),
    },
  });
  const named = options.socketDir === undefined;
  // One Queryable per pool, made once: a statement on the hot path builds nothing.
  const queryables = new WeakMap<pg.Pool, Queryable>();
  const queryableOf = (pool: pg.Pool): Queryable => {
    let q = queryables.get(pool);
    if (!q) {
      q = wrap(pool, named);
      queryables.set(pool, q);
    }
    return q;
  };
  /** Runs `fn` on the primary's pool; a lost connection becomes the retryable error. */
  const onPrimary = async <T>(fn: (pool: pg.Pool) => Promise<T>): Promise<T> => {
    const pool = await primary.pool();
    try {
      return await fn(pool);
    } catch (error) {
      throw primary.failed(pool, error);
    }
  };
  return {
    engine: 'postgres',
    query: (sql, params, options) => onPrimary((pool) => queryableOf(pool).query(sql, params, options)),
    exec: (sql) => onPrimary((pool) => queryableOf(pool).exec(sql)),
    transaction: (fn) =>
      onPrimary(async (pool) => {
        const client = await pool.connect();
        // A checked-out client whose server goes away emits 'error' between statements, and the
        // pool listens only to idle ones: without this the process would crash (the next
        // statement fails instead, and is the retryable error).
        client.on('error', ignore);
        let broken = false;
        try {
          await client.query('BEGIN');
          const value = await fn(wrap(client, named));
          await client.query('COMMIT');
          return value;
        } catch (error) {
          try {
            await client.query('ROLLBACK');
          } catch {
            broken = true;
          }
          throw error;
        } finally {
          client.off('error', ignore);
          client.release(broken);
        }
      }),
    close: () => primary.close(),
    serverState: () => primary.state(),
    backup: () =>
      Promise.reject(
        new Error(
          'a PostgreSQL server is copied with its own tools: pg_basebackup with WAL archiving, restored to a point in time by recovery_target_time',
        ),
      ),
  };
}
