import type { Queryable } from './types.ts';

/**
 * Where a restored database came from: written by the restore into the database itself (the
 * table `restore_points`, one row per restore, the latest the one that counts), so that every
 * process that opens it can say which moment it holds, and the server can refuse books that were
 * never found sound. A database that was never restored has no such table.
 */
export interface RestorePoint {
  /** When the restore ran. */
  restored_at: string;
  /** The moment it holds: the last transaction replayed (PostgreSQL) or the copy's moment (PGlite). */
  point_in_time: string | null;
  /** The copy it was restored from: a directory, a file. */
  source: string;
  /** When the copy was taken (null: the copy did not say). */
  taken_at: string | null;
  /** The recovery target asked for, if any. */
  target_time: string | null;
  /** When its books were last found sound (`ledger verify` and the trades against the ledger); null: never. */
  verified_at: string | null;
  /** Violations the last verification found. */
  violations: number;
}

const createTable = `create table if not exists restore_points (
  restored_at timestamptz not null,
  point_in_time timestamptz,
  source text not null,
  taken_at timestamptz,
  target_time timestamptz,
  verified_at timestamptz,
  violations int not null default 0
)`;

/** Records a restore; its books not yet verified. */
export async function recordRestore(
  q: Queryable,
  point: Pick<RestorePoint, 'point_in_time' | 'source' | 'taken_at' | 'target_time'>,
): Promise<void> {
  await q.exec(createTable);
  await q.query(
    'insert into restore_points (restored_at, point_in_time, source, taken_at, target_time) values (now(), $1, $2, $3, $4)',
    [point.point_in_time, point.source, point.taken_at, point.target_time],
  );
}

/** Records what the latest restore's books verification found. */
export async function recordRestoreVerified(q: Queryable, violations: number): Promise<void> {
  await q.query(
    `update restore_points set verified_at = case when $1::int = 0 then now() end, violations = $1
      where restored_at = (select max(restored_at) from restore_points)`,
    [violations],
  );
}

/** The latest restore of this database (in its schema), or null when it was never restored. */
export async function restoredFrom(q: Queryable): Promise<RestorePoint | null> {
  const exists = await q.query(
    "select 1 from pg_tables where tablename = 'restore_points' and schemaname = current_schema()",
  );
  if (exists.length === 0) return null;
  const [row] = await q.query<RestorePoint>(
    `select to_json(restored_at) #>> '{}' restored_at, to_json(point_in_time) #>> '{}' point_in_time, source,
            to_json(taken_at) #>> '{}' taken_at, to_json(target_time) #>> '{}' target_time,
            to_json(verified_at) #>> '{}' verified_at, violations
       from restore_points order by restored_at desc limit 1`,
  );
  return row ?? null;
}
