import type { PrimaryState } from './primary.ts';

/** Which engine runs the SQL: the embedded WASM PostgreSQL or a PostgreSQL server. */
export type Engine = 'pglite' | 'postgres';

/** How one statement runs. */
export interface QueryOptions {
  /**
   * A named prepared statement: on PostgreSQL each connection parses and plans `sql` once under
   * this name and then only binds and executes it, which saves the planning on a hot path. One
   * name, one SQL text, for the life of the process; a migration that changes a prepared
   * statement's result type must not run under a live server (PostgreSQL refuses such a cached
   * plan). Name only a statement whose plan is the same at any table size (a row by its key, an
   * insert): PostgreSQL soon keeps one generic plan per connection, and one made while a table
   * was small (a fresh database, no ANALYZE since) stays a sequential scan as the table grows
   * (measured on the trades' record: BENCHMARKS.md, the gateway bench). PGlite ignores the name: its one backend plans each statement anyway (and a process
   * reaching a PGlite owner through its socket sends none: all its clients share that backend).
   */
  name?: string;
}

/** A connection, or a transaction on one. */
export interface Queryable {
  /**
   * Runs one statement with `$n` parameters and returns its rows. `int8` columns come back as
   * `bigint`, `uuid` as canonical text, `numeric` as text.
   */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<R[]>;
  /** Runs one or more statements without parameters (DDL, `BEGIN; ...`). */
  exec(sql: string): Promise<void>;
}

/** The storage of one Paybao process: the same SQL on both engines. */
export interface Db extends Queryable {
  readonly engine: Engine;
  /**
   * Runs `fn` in one transaction on one connection: committed when it resolves, rolled back when
   * it throws. On PostgreSQL concurrent transactions run on separate pooled connections; on
   * PGlite they queue, since it has one.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * PostgreSQL: the server in use (a cluster's primary) and since when none has answered; `/health`
   * reports it. PGlite has no server to lose.
   */
  serverState?(): PrimaryState;
  /** Closes every connection; pending work is the caller's to drain first. */
  close(): Promise<void>;
  /**
   * A consistent copy of the whole database: PGlite's data directory as a gzipped tar, taken
   * after a checkpoint while every other statement waits (through the owner, when another
   * process owns the directory). PostgreSQL refuses: its copies are `pg_basebackup`'s.
   */
  backup(): Promise<Uint8Array>;
}
