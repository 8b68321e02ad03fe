import { existsSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { openDb, recordRestore, recordRestoreVerified, restorePglite } from '../core/db/index.ts';
import { takeBaseBackup } from './base-backup.ts';
import { verifyBooksAndTrades } from './ledger.ts';
import { withDb } from './open-platform.ts';
import { type RestoreOptions, restoreBaseBackup } from './restore-backup.ts';

/**
 * `paybao backup` and `paybao restore`: a consistent copy of the embedded database, taken through
 * its owner when a server runs on it (docs/pglite-owner.md), and its restore into a new directory,
 * checked as `ledger verify` checks the books.
 */
export function backupCommands(): Command[] {
  const backup = new Command('backup')
    .description('copy the embedded database (PGlite) into one file, through the server when one runs on it')
    // Positional: `backup base --out DIR` is the subcommand's --out, not this one's.
    .enablePositionalOptions()
    .option('--out <file>', 'the file to write (a gzipped tar); an existing file is not overwritten')
    .action(async (options: { out?: string }) => {
      // Not a required option: commander would demand it of the subcommands too.
      if (options.out === undefined)
        throw new Error('backup: give --out FILE (on PostgreSQL: `paybao backup base --out DIR`)');
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
        // The restored database knows its moment; `paybao start` refuses it while its books fail.
        await recordRestore(db, {
          point_in_time: point?.taken_at ?? null,
          source: resolve(file),
          taken_at: point?.taken_at ?? null,
          target_time: null,
        });
        const { violations } = await verifyBooksAndTrades(db);
        await recordRestoreVerified(db, violations.length);
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
  backup.addCommand(baseBackupCommand()).addCommand(restoreCommand('verify')).addCommand(restoreCommand('restore'));
  return [backup, restore];
}

/** `paybao backup base`: a PostgreSQL server's base backup (src/cli/base-backup.ts). */
function baseBackupCommand(): Command {
  return new Command('base')
    .description(
      "PostgreSQL: a base backup of DATABASE_URL's server by pg_basebackup (tar, gzipped, WAL streamed) with Paybao's manifest",
    )
    .requiredOption('--out <dir>', 'a new or empty directory')
    .action(async (options: { out: string }) => {
      const config = loadConfig();
      if (!config.databaseUrl)
        throw new Error(
          'backup base copies a PostgreSQL server (DATABASE_URL); on PGlite use `paybao backup --out FILE`',
        );
      const started = performance.now();
      const manifest = await takeBaseBackup({
        databaseUrl: config.databaseUrl,
        schema: config.databaseSchema,
        out: options.out,
      });
      console.log(
        JSON.stringify({
          out: resolve(options.out),
          ...manifest,
          seconds: Math.round(performance.now() - started) / 1000,
        }),
      );
    });
}

/**
 * `paybao backup verify` (into a scratch directory, removed) and `paybao backup restore` (into
 * `--data-dir`, kept): a base backup restored to a point in time, its books checked
 * (src/cli/restore-backup.ts).
 */
function restoreCommand(name: 'verify' | 'restore'): Command {
  const command = new Command(name)
    .description(
      name === 'verify'
        ? 'PostgreSQL: restore a base backup into a scratch server (to --target-time, through --wal-archive), check its books and the trades against the ledger, remove it; exits 1 on a violation'
        : 'PostgreSQL: restore a base backup into --data-dir (to --target-time, through --wal-archive), record the moment it holds, check its books, and leave it stopped; exits 1 on a violation',
    )
    .argument('<dir>', 'what `paybao backup base` wrote')
    .option(
      '--wal-archive <dir>',
      "the server's WAL archive (where its archive_command copies): replay past the backup",
    )
    .option('--target-time <iso>', 'stop replay before the first commit after this moment (ISO 8601 with its zone)');
  if (name === 'restore') command.requiredOption('--data-dir <dir>', 'a new or empty directory, kept');
  return command.action(async (dir: string, options: RestoreOptions) => {
    const result = await restoreBaseBackup(dir, options);
    console.log(JSON.stringify(result));
    if (!result.ok) process.exitCode = 1;
  });
}
