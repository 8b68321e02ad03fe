/**
 * Kysely as the typed query builder of the modules' CRUD, over Paybao's own `Queryable`: a
 * statement Kysely builds runs through `q.query`, on whatever `q` is — the database, or the
 * transaction a caller opened with `Db.transaction`. Kysely never opens connections or
 * transactions of its own, so group commit, the PGlite owner and the pool stay where they are,
 * and a typed statement and a hand-written one can share one transaction.
 *
 * Each module declares the tables it owns as a Kysely database interface next to its
 * migrations, and calls `typed<ItsTables>(q)`. Set-based statements (the ledger, the grouped
 * payment statements) stay hand-written SQL.
 *
 * Our `query` answers rows only: to learn which rows an update or delete touched, use
 * `returning(...)`, never `numUpdatedRows`.
 */
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
} from 'kysely';
import type { Queryable } from './types.ts';

class QueryableConnection implements DatabaseConnection {
  readonly #q: Queryable;

  constructor(q: Queryable) {
    this.#q = q;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    return { rows: await this.#q.query<R>(compiled.sql, compiled.parameters) };
  }

  // biome-ignore lint/correctness/useYield: streaming is not offered; the method must exist.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('typed(): streaming is not supported; page with limit/offset or a cursor column');
  }
}

class QueryableDriver implements Driver {
  readonly #connection: QueryableConnection;

  constructor(q: Queryable) {
    this.#connection = new QueryableConnection(q);
  }

  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return this.#connection;
  }
  async beginTransaction(): Promise<void> {
    throw new Error('typed(): open transactions with Db.transaction, then call typed(tx)');
  }
  async commitTransaction(): Promise<void> {
    throw new Error('typed(): transactions belong to Db.transaction');
  }
  async rollbackTransaction(): Promise<void> {
    throw new Error('typed(): transactions belong to Db.transaction');
  }
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {}
}

const builders = new WeakMap<Queryable, Kysely<unknown>>();

/** The typed query builder over `q` (a database or a transaction), made once per `q`. */
export function typed<Tables>(q: Queryable): Kysely<Tables> {
  let builder = builders.get(q);
  if (!builder) {
    builder = new Kysely<unknown>({
      dialect: {
        createAdapter: () => new PostgresAdapter(),
        createDriver: () => new QueryableDriver(q),
        createIntrospector: (db) => new PostgresIntrospector(db),
        createQueryCompiler: () => new PostgresQueryCompiler(),
      },
    });
    builders.set(q, builder);
  }
  return builder as Kysely<Tables>;
}
