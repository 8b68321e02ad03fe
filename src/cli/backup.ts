import { existsSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { openDb, restorePglite } from '../core/db/index.ts';
import { verifyBooks } from './ledger.ts';
import { withDb } from './open-platform.ts';

/**
 * `paybao backup` and `paybao restore`: a consistent copy of the embedded database, taken through
 * its owner when a server runs on it (docs/pglite-owner.md), and its restore into a new directory,
 * checked as `ledger verify` checks the books.
 */
export function backupCommands(): Command[] {
  const backup = new Command('backup')
    .description('copy the embedded database (PGlite) into one file, through the server when one runs on it')
    .requiredOption('--out <file>', 'the file to write (a gzipped tar); an existing file is not overwritten')
    .action(async (options: { out: string }) => {
      if (existsSync(options.out)) throw new Error(`${options.out} exists: a backup never overwrites a file`);
      const started = performance.now();
      const archive = await withDb((db) => db.backup());
      writeFileSync(options.out, archive, { flag: 'wx' });
      console.log(
        JSON.stringify({
          out: resolve(options.out),
          bytes: archive.length,
          seconds: Math.round(performance.now() - started) / 1000,
        }),
      );
    });
  const restore = new Command('restore')
    .description('restore a `paybao backup` file into a new or empty data directory, then check its books')
    .argument('<file>', 'what `paybao backup` wrote')
    .option('--data-dir <dir>', 'where to restore (default: PAYBAO_DATA_DIR)')
    .action(async (file: string, options: { dataDir?: string }) => {
      const dataDir = options.dataDir ?? loadConfig().dataDir;
      const point = await restorePglite(dataDir, new Uint8Array(await readFile(file)));
      const db = await openDb({ dataDir });
      try {
        const violations = await verifyBooks(db);
        console.log(
          JSON.stringify({
            restored: resolve(dataDir),
            taken_at: point?.taken_at ?? null,
            ok: violations.length === 0,
            violations,
          }),
        );
        if (violations.length > 0) process.exitCode = 1;
      } finally {
        await db.close();
      }
    });
  return [backup, restore];
}
