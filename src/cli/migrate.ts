import { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { migrate, openDb } from '../core/db/index.ts';
import { allMigrations } from '../platform.ts';

/** `paybao migrate`: applies the migrations the database lacks and names them. */
export function migrateCommand(): Command {
  return new Command('migrate').description('apply pending database migrations').action(async () => {
    const config = loadConfig();
    const db = await openDb({
      databaseUrl: config.databaseUrl,
      schema: config.databaseSchema,
      dataDir: config.databaseUrl ? undefined : config.dataDir,
    });
    try {
      const applied = await migrate(db, allMigrations);
      for (const id of applied) console.log(`applied ${id}`);
      console.log(applied.length === 0 ? 'database is up to date' : `${applied.length} migration(s) applied`);
    } finally {
      await db.close();
    }
  });
}
