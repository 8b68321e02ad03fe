import { Command } from 'commander';
import { migrate } from '../core/db/index.ts';
import { allMigrations } from '../platform.ts';
import { withDb } from './open-platform.ts';

/** `paybao migrate`: applies the migrations the database lacks and names them. */
export function migrateCommand(): Command {
  return new Command('migrate').description('apply pending database migrations').action(async () => {
    const applied = await withDb((db) => migrate(db, allMigrations));
    for (const id of applied) console.log(`applied ${id}`);
    console.log(applied.length === 0 ? 'database is up to date' : `${applied.length} migration(s) applied`);
  });
}
