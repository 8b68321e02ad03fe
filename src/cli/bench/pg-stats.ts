import { type Db, openDb } from '../../core/db/index.ts';

/** The server's write-ahead log and statement counters at one moment. */
interface PgStatsSnapshot {
  walRecords: bigint;
  walBytes: bigint;
  /** WAL flushes to disk (fsync / fdatasync), by the backends and the WAL writer. */
  walSyncs: bigint;
  /** Null without `pg_stat_statements` (it needs `shared_preload_libraries`). */
  statements: { calls: bigint; planMs: number; execMs: number } | null;
}

/** Per paid trade between two snapshots (what `paybao bench gateway` prints on PostgreSQL). */
export interface PgStatsPerTrade {
  /** WAL records and bytes: cluster-wide, so other work on the server counts too. */
  wal_records_per_trade: number;
  wal_bytes_per_trade: number;
  /** WAL flushes to disk: what a commit waits for, shared by the commits that wait together. */
  wal_syncs_per_trade: number;
  /** Statements, and their planning and execution time (ms), in this database; with pg_stat_statements only. */
  statements_per_trade?: number;
  pg_plan_ms_per_trade?: number;
  pg_exec_ms_per_trade?: number;
}

/**
 * Reads PostgreSQL's counters around a timed run on a connection of its own: `pg_stat_wal`
 * (always there since PostgreSQL 14), and `pg_stat_statements` when the server loads it and the
 * database has the extension. Both count everything on the server: the figures mean something
 * on a server that runs nothing else.
 */
export class PgStats {
  private constructor(
    private readonly db: Db,
    private readonly hasStatements: boolean,
  ) {}

  static async open(databaseUrl: string): Promise<PgStats> {
    const db = await openDb({ databaseUrl, poolMax: 1 });
    const [row] = await db.query<{ n: bigint }>(
      `select count(*) as n from pg_extension where extname = 'pg_stat_statements'`,
    );
    let hasStatements = row?.n === 1n;
    if (hasStatements) {
      // Installed but not loaded: reading the view fails.
      hasStatements = await db.query('select 1 from pg_stat_statements limit 1').then(
        () => true,
        () => false,
      );
    }
    return new PgStats(db, hasStatements);
  }

  async snapshot(): Promise<PgStatsSnapshot> {
    const [wal] = await this.db.query<{ wal_records: bigint; wal_bytes: string; wal_sync: bigint }>(
      'select wal_records, wal_bytes::text, wal_sync from pg_stat_wal',
    );
    const statements = this.hasStatements
      ? ((
          await this.db.query<{ calls: bigint; plan_ms: number; exec_ms: number }>(
            `select coalesce(sum(calls), 0)::int8 as calls, coalesce(sum(total_plan_time), 0)::float8 as plan_ms,
                    coalesce(sum(total_exec_time), 0)::float8 as exec_ms
               from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())`,
          )
        ).map((r) => ({ calls: r.calls, planMs: r.plan_ms, execMs: r.exec_ms }))[0] ?? null)
      : null;
    return {
      walRecords: wal?.wal_records ?? 0n,
      walBytes: BigInt(wal?.wal_bytes ?? '0'),
      walSyncs: wal?.wal_sync ?? 0n,
      statements,
    };
  }

  static perTrade(before: PgStatsSnapshot, after: PgStatsSnapshot, trades: number): PgStatsPerTrade {
    const per = (n: number) => Math.round((n / trades) * 100) / 100;
    const out: PgStatsPerTrade = {
      wal_records_per_trade: per(Number(after.walRecords - before.walRecords)),
      wal_bytes_per_trade: Math.round(Number(after.walBytes - before.walBytes) / trades),
      wal_syncs_per_trade: per(Number(after.walSyncs - before.walSyncs)),
    };
    if (before.statements && after.statements) {
      out.statements_per_trade = per(Number(after.statements.calls - before.statements.calls));
      out.pg_plan_ms_per_trade =
        Math.round(((after.statements.planMs - before.statements.planMs) / trades) * 1000) / 1000;
      out.pg_exec_ms_per_trade =
        Math.round(((after.statements.execMs - before.statements.execMs) / trades) * 1000) / 1000;
    }
    return out;
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
