import type { Db } from './types.ts';

/** One schema change, owned by a module; ids sort in the order they must apply. */
export interface Migration {
  id: string;
  sql: string;
}

/** Any constant: the key of the advisory lock that serialises concurrent migrators. */
const migrationLockKey = 7_212_411;

/**
 * Applies every migration not yet applied, each in its own transaction, in id order. Two
 * processes starting at once on one server take turns on an advisory lock.
 */
export async function migrate(db: Db, migrations: readonly Migration[]): Promise<string[]> {
  const ordered = [...migrations].sort((a, b) => (a.id < b.id ? -1 : 1));
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [migrationLockKey]);
    await tx.exec(
      'create table if not exists schema_migrations (id text primary key, applied_at timestamptz not null default now())',
    );
    const rows = await tx.query<{ id: string }>('select id from schema_migrations');
    const done = new Set(rows.map((r) => r.id));
    const applied: string[] = [];
    for (const m of ordered) {
      if (done.has(m.id)) continue;
      await tx.exec(m.sql);
      await tx.query('insert into schema_migrations (id) values ($1)', [m.id]);
      applied.push(m.id);
    }
    return applied;
  });
}

/** The migrations not yet applied, read without writing anything (a read-only start checks them). */
export async function pendingMigrations(db: Db, migrations: readonly Migration[]): Promise<string[]> {
  const [table] = await db.query<{ present: boolean }>(
    "select to_regclass('schema_migrations') is not null as present",
  );
  const done = new Set(
    table?.present ? (await db.query<{ id: string }>('select id from schema_migrations')).map((r) => r.id) : [],
  );
  return migrations.map((m) => m.id).filter((id) => !done.has(id));
}
