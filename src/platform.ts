import { type Clock, systemClock } from './core/clock.ts';
import { type Db, type Migration, migrate, openDb } from './core/db/index.ts';
import { type BatchStats, Ledger, ledgerMigrations } from './ledger/index.ts';
import { Members, membersMigrations, type SmsSender } from './members/index.ts';

/** Every module's migrations; ids sort in the order they apply. */
export const allMigrations: readonly Migration[] = [...ledgerMigrations, ...membersMigrations];

export interface PlatformOptions {
  databaseUrl?: string | undefined;
  databaseSchema?: string | undefined;
  /** PGlite files; undefined keeps PGlite in memory. */
  dataDir?: string | undefined;
  clock?: Clock;
  onBatch?: (stats: BatchStats) => void;
  /** Where SMS codes go; the development outbox (`paybao sms list`) when absent. */
  smsSender?: SmsSender;
}

/** The composition root: storage, migrations and every module, wired once. */
export interface Platform {
  db: Db;
  ledger: Ledger;
  members: Members;
  /** Drains every in-flight batch, then closes storage. */
  close(): Promise<void>;
}

export async function openPlatform(options: PlatformOptions): Promise<Platform> {
  const db = await openDb({
    databaseUrl: options.databaseUrl,
    schema: options.databaseSchema,
    dataDir: options.dataDir,
  });
  await migrate(db, allMigrations);
  const clock = options.clock ?? systemClock;
  const ledger = new Ledger(db, { clock, onBatch: options.onBatch });
  const members = new Members(db, ledger, { clock, smsSender: options.smsSender });
  return {
    db,
    ledger,
    members,
    async close() {
      await ledger.close();
      await db.close();
    },
  };
}
