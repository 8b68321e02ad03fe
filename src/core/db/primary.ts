/**
 * Finding the primary of a PostgreSQL cluster (docs/cluster.md). node-postgres reaches one host;
 * a cluster's URL names several, the libpq way — `postgres://u@h1:p1,h2:p2/db?target_session_attrs=read-write`
 * (what `pg_autoctl show uri` prints) — and the primary is whichever of them answers writable now.
 * `Primary` keeps one node-postgres pool on it. A query that finds the connection gone (the server
 * killed, a standby promoted, the old primary back as a read-only standby) drops that pool and
 * starts a search of the hosts in order; until one answers writable every query is refused at
 * once with `DatabaseUnavailableError`, retryable, instead of waiting on a dead address.
 *
 * Nothing here guesses how a commit ended when its answer was lost: the caller gets the retryable
 * error, and the retry is resolved by the work's own idempotent ids (the ledger reads its
 * transfer ids; a trade its out_trade_no).
 */

import pg from 'pg';
import { limits } from '../limits.ts';

/** No primary answers (or the connection to it was lost mid-statement): nothing was confirmed, retry. */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  readonly code = 'database_unavailable';
}

/** A cluster's URL taken apart: one URL per host, in order, and whether a writable one is required. */
export interface HostList {
  /** Single-host URLs node-postgres reads, in the URL's order. */
  readonly urls: readonly string[];
  /** `target_session_attrs=read-write` (or `primary`), or several hosts: only a writable server is used. */
  readonly readWrite: boolean;
}

const urlShape = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)(.*)$/s;
const writable = new Set(['read-write', 'primary']);

/**
 * Splits a libpq connection URL with one or more hosts. Paybao writes, so with several hosts the
 * session must be writable; `target_session_attrs` may say so (`read-write`, `primary`) and may
 * not ask for anything else.
 */
export function splitHosts(connectionString: string): HostList {
  const m = urlShape.exec(connectionString);
  if (!m) return { urls: [connectionString], readWrite: false };
  const [, scheme, userinfo = '', hostPart = '', rest = ''] = m;
  const q = rest.indexOf('?');
  const path = q < 0 ? rest : rest.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
  const attrs = params.get('target_session_attrs');
  params.delete('target_session_attrs');
  if (attrs !== null && attrs !== 'any' && !writable.has(attrs))
    throw new Error(
      `DATABASE_URL asks for target_session_attrs=${attrs}: Paybao writes, so it takes read-write (or primary) only`,
    );
  const hosts = hostPart.split(',');
  if (hosts.some((h) => h === '')) throw new Error('DATABASE_URL has an empty host in its host list');
  const query = params.toString();
  const urls = hosts.map((host) => `${scheme}${userinfo}${host}${path}${query ? `?${query}` : ''}`);
  return { urls, readWrite: hosts.length > 1 || (attrs !== null && writable.has(attrs)) };
}

/** SQLSTATEs that say this connection or this server can no longer take the work. */
const lostStates = new Set([
  '57P01', // admin_shutdown: the server is stopping (a fast shutdown, a demotion)
  '57P02', // crash_shutdown: another backend crashed
  '57P03', // cannot_connect_now: starting up, or a standby not accepting connections
  '25006', // read_only_sql_transaction: this host is a standby now
]);
const lostSocketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);

/**
 * The log level of a failure: a failover's refusals are expected while it lasts (each caller
 * retries), so they are warnings; anything else is an error.
 */
export function failureLogLevel(error: unknown): 'warn' | 'error' {
  return error instanceof DatabaseUnavailableError ? 'warn' : 'error';
}

/** A statement that would write, refused by a session opened read-only (`paybao start --read-only`). */
export function isReadOnlyRefusal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '25006';
}

/**
 * Whether an error from node-postgres means the server or the connection is gone, not the
 * statement's own fault. `readOnly`: the session was opened read-only, so a refused write
 * (`25006`) is that, not a standby where the primary was.
 */
export function isConnectionLost(error: unknown, readOnly = false): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  if (typeof error !== 'object' || error === null) return false;
  if (readOnly && isReadOnlyRefusal(error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (lostStates.has(code) || code.startsWith('08') || lostSocketCodes.has(code)))
    return true;
  const message = error instanceof Error ? error.message : '';
  return /^Connection terminated|is not queryable|Client was closed/.test(message);
}

export interface PrimaryOptions {
  hosts: HostList;
  /** The sessions are read-only (`default_transaction_read_only`): a refused write loses nothing. */
  readOnly?: boolean;
  /** node-postgres pool settings other than the address. */
  pool: Omit<pg.PoolConfig, 'connectionString'>;
}

/** Where the pool stands, for `/health`. */
export interface PrimaryState {
  /** The writable host in use, as `host:port`; null while none answers. */
  readonly host: string | null;
  /** Since when no primary has answered (epoch ms), or null. */
  readonly lostSinceMs: number | null;
}

/** One pool on the cluster's current primary, found again whenever it is lost. */
export class Primary {
  readonly #options: PrimaryOptions;
  #pool: pg.Pool | null = null;
  #host: string | null = null;
  #search: Promise<pg.Pool> | null = null;
  /** Whether a primary was ever found: before that (the process starting) a query waits for the search. */
  #found = false;
  #lostSinceMs: number | null = null;
  #closed = false;

  constructor(options: PrimaryOptions) {
    this.#options = options;
  }

  state(): PrimaryState {
    return { host: this.#host, lostSinceMs: this.#lostSinceMs };
  }

  /** The pool on the primary; while none is known, refused at once (or, before the first, awaited). */
  pool(): Promise<pg.Pool> {
    if (this.#pool) return Promise.resolve(this.#pool);
    if (this.#closed) return Promise.reject(new Error('the database is closed'));
    const starting = !this.#found;
    const search = this.#startSearch();
    // A search that needs no probe (one server) has its pool already.
    if (this.#pool) return Promise.resolve(this.#pool);
    if (starting) return search;
    return Promise.reject(new DatabaseUnavailableError('no writable database server answers; retry in a moment'));
  }

  /**
   * What a failed statement on `pool` becomes: a lost connection drops the pool (a search for the
   * primary begins) and is the retryable `DatabaseUnavailableError`; any other error is itself.
   */
  failed(pool: pg.Pool, error: unknown): unknown {
    if (!isConnectionLost(error, this.#options.readOnly)) return error;
    if (pool === this.#pool) {
      this.#pool = null;
      this.#host = null;
      this.#lostSinceMs = Date.now();
      pool.end().catch(() => {});
      this.#startSearch();
    }
    if (error instanceof DatabaseUnavailableError) return error;
    return new DatabaseUnavailableError('the connection to the database was lost; nothing is confirmed, retry', {
      cause: error,
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#search?.catch(() => {});
    await this.#pool?.end();
    this.#pool = null;
  }

  #startSearch(): Promise<pg.Pool> {
    this.#search ??= this.#searchUntilFound().finally(() => {
      this.#search = null;
    });
    return this.#search;
  }

  /** Tries the hosts in order, again and again, until one answers (writable, when that is required). */
  async #searchUntilFound(): Promise<pg.Pool> {
    const { urls, readWrite } = this.#options.hosts;
    let firstError: unknown;
    for (let attempt = 0; ; attempt++) {
      for (const url of urls) {
        if (this.#closed) throw new Error('the database is closed');
        try {
          if (readWrite && !(await this.#isWritable(url))) continue;
          // An empty URL: the address is all in the pool's settings (a PGlite owner's socket).
          const pool = new pg.Pool({ ...this.#options.pool, ...(url ? { connectionString: url } : {}) });
          // An idle client's error (a server restart) must not crash the process; the next query fails.
          pool.on('error', () => {});
          this.#pool = pool;
          this.#host = hostOf(url);
          this.#found = true;
          this.#lostSinceMs = null;
          return pool;
        } catch (error) {
          firstError ??= error;
        }
      }
      // A single server that refuses on the first try is the operator's to fix: say why at once.
      if (!this.#found && !readWrite) throw firstError;
      if (!this.#found && attempt * limits.pgPrimarySearchIntervalMs >= limits.pgPrimaryFirstSearchMs)
        throw new DatabaseUnavailableError(
          `no writable server among ${urls.map(hostOf).join(', ')} within ${limits.pgPrimaryFirstSearchMs / 1000} s`,
          { cause: firstError },
        );
      await new Promise((resolve) => setTimeout(resolve, limits.pgPrimarySearchIntervalMs));
    }
  }

  async #isWritable(url: string): Promise<boolean> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: limits.pgConnectTimeoutMs });
    client.on('error', () => {});
    try {
      await client.connect();
      const { rows } = await client.query<{ standby: boolean; read_only: string }>(
        'select pg_is_in_recovery() as standby, current_setting($1) as read_only',
        ['default_transaction_read_only'],
      );
      return rows[0]?.standby === false && rows[0].read_only === 'off';
    } finally {
      await client.end().catch(() => {});
    }
  }
}

function hostOf(url: string): string {
  return urlShape.exec(url)?.[3] ?? url;
}
