import type { Clock } from './core/clock.ts';
import { type Db, type Migration, migrate, openDb } from './core/db/index.ts';
import { type BatchStats, Ledger, ledgerMigrations } from './ledger/index.ts';

/** Every module's migrations; ids sort in the order they apply. */
export const allMigrations: readonly Migration[] = [...ledgerMigrations];

export interface PlatformOptions {
  databaseUrl?: string | undefined;
  databaseSchema?: string | undefined;
  /** PGlite files; undefined keeps PGlite in memory. */
  dataDir?: string | undefined;
  clock?: Clock;
  onBatch?: (stats: BatchStats) => void;
}

/** The composition root: storage, migrations and every module, wired once. */
export interface Platform {
  db: Db;
  ledger: Ledger;
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
  const ledger = new Ledger(db, { clock: options.clock, onBatch: options.onBatch });
  return {
    db,
    ledger,
    async close() {
      await ledger.close();
      await db.close();
    },
  };
}
