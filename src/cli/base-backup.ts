/**
 * `paybao backup base`: a PostgreSQL server's base backup, taken by `pg_basebackup` (tar format,
 * gzipped, its WAL streamed alongside: `base.tar.gz`, `pg_wal.tar.gz`, PostgreSQL's own
 * `backup_manifest`) with Paybao's manifest beside it (`paybao-base-backup.json`): when, of which
 * server, database and schema, and where in the WAL it starts. The server's WAL archive, set up by
 * its operator (README, "Backups and point-in-time restore"), carries it on to any later moment.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { openDb } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { postgresEnv } from './postgres-tools.ts';

const run = promisify(execFile);

/** Paybao's manifest of a base backup: the file that makes a directory one. */
export const manifestName = 'paybao-base-backup.json';
const manifestFormat = 'paybao-base-backup/1';

export interface BaseBackupManifest {
  format: typeof manifestFormat;
  /** The server's clock once the backup ended: a restore holds at least every commit before it. */
  taken_at: string;
  started_at: string;
  /** The server's hosts, without credentials. */
  server: string;
  database: string;
  user: string;
  /** Paybao's schema (PAYBAO_DB_SCHEMA), null for the user's default. */
  schema: string | null;
  server_version: string;
  system_identifier: string;
  /** The WAL the backup needs: from `start_lsn` to `end_lsn` on `timeline`. */
  timeline: number;
  start_lsn: string;
  end_lsn: string;
  wal_segment_bytes: number;
  /** Whether the server archived its WAL when the backup was taken (`archive_mode`). */
  archive_mode: string;
}

/** A connection URL's hosts, without its user and password. */
function serverOf(databaseUrl: string): string {
  return databaseUrl.replace(/^[a-z]+:\/\/(?:[^@/]*@)?/i, '').replace(/[/?].*$/, '');
}

/** Facts of the server that only it can tell, read through our own connection. */
async function serverFacts(databaseUrl: string) {
  const db = await openDb({ databaseUrl, poolMax: 1 });
  try {
    const [row] = await db.query<{
      now: string;
      database: string;
      user: string;
      server_version: string;
      system_identifier: string;
      wal_segment_bytes: string;
      archive_mode: string;
    }>(
      `select to_json(now()) #>> '{}' now, current_database() database, current_user "user",
              current_setting('server_version') server_version,
              (select system_identifier::text from pg_control_system()) system_identifier,
              (select setting from pg_settings where name = 'wal_segment_size') wal_segment_bytes,
              current_setting('archive_mode') archive_mode`,
    );
    if (!row) throw new Error('the server answered no row');
    return row;
  } finally {
    await db.close();
  }
}

/** PostgreSQL's own manifest of the backup: the WAL it needs. */
function walRange(dir: string): { timeline: number; start_lsn: string; end_lsn: string } {
  const manifest = JSON.parse(readFileSync(join(dir, 'backup_manifest'), 'utf8')) as {
    'WAL-Ranges'?: { Timeline: number; 'Start-LSN': string; 'End-LSN': string }[];
  };
  const [range] = manifest['WAL-Ranges'] ?? [];
  if (!range) throw new Error(`${dir}/backup_manifest names no WAL range`);
  return { timeline: range.Timeline, start_lsn: range['Start-LSN'], end_lsn: range['End-LSN'] };
}

/**
 * Takes a base backup of the server at `databaseUrl` into `out` (a new or empty directory),
 * with a fast checkpoint (the backup starts at once, at the cost of a burst of writes), and
 * writes the manifest last: a directory without it is no backup.
 */
export async function takeBaseBackup(options: {
  databaseUrl: string;
  schema: string | undefined;
  out: string;
}): Promise<BaseBackupManifest> {
  const out = resolve(options.out);
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0))
    throw new Error(`${out} exists and is not an empty directory: a base backup goes into a new or empty one`);
  const before = await serverFacts(options.databaseUrl);
  await run(
    'pg_basebackup',
    [
      `--dbname=${options.databaseUrl}`,
      `--pgdata=${out}`,
      '--format=tar',
      '--gzip',
      '--wal-method=stream',
      '--checkpoint=fast',
      '--label=paybao',
      '--no-password',
    ],
    { env: postgresEnv(), maxBuffer: limits.drillCommandOutputBytesMax },
  ).catch((error: unknown) => {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`pg_basebackup failed: ${stderr || (error as Error).message}`, { cause: error });
  });
  const after = await serverFacts(options.databaseUrl);
  const manifest: BaseBackupManifest = {
    format: manifestFormat,
    taken_at: after.now,
    started_at: before.now,
    server: serverOf(options.databaseUrl),
    database: after.database,
    user: after.user,
    schema: options.schema ?? null,
    server_version: after.server_version,
    system_identifier: after.system_identifier,
    ...walRange(out),
    wal_segment_bytes: Number(after.wal_segment_bytes),
    archive_mode: after.archive_mode,
  };
  writeFileSync(join(out, manifestName), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
  return manifest;
}

/** The manifest of the base backup in `dir`, or an error that says why `dir` is not one. */
export function readBaseBackup(dir: string): BaseBackupManifest {
  const path = join(dir, manifestName);
  if (!existsSync(path))
    throw new Error(`${dir} is not a base backup: it has no ${manifestName} (what \`paybao backup base\` writes)`);
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as BaseBackupManifest;
  if (manifest.format !== manifestFormat) throw new Error(`${path} is not a ${manifestFormat} manifest`);
  for (const file of ['base.tar.gz', 'pg_wal.tar.gz'])
    if (!existsSync(join(dir, file))) throw new Error(`${dir} is not a whole base backup: ${file} is missing`);
  return manifest;
}

/**
 * The name of the history file PostgreSQL archives for a backup (`…<segment>.<offset>.backup`):
 * its presence in a WAL archive shows that the archive is this server's and holds the backup's
 * start.
 */
export function backupHistoryFile(manifest: BaseBackupManifest): string {
  const [hi, lo] = manifest.start_lsn.split('/').map((part) => BigInt(`0x${part}`));
  const lsn = ((hi ?? 0n) << 32n) + (lo ?? 0n);
  const segmentBytes = BigInt(manifest.wal_segment_bytes);
  const segmentsPerId = 0x1_0000_0000n / segmentBytes;
  const segment = lsn / segmentBytes;
  const hex = (n: bigint | number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `${hex(manifest.timeline)}${hex(segment / segmentsPerId)}${hex(segment % segmentsPerId)}.${hex(lsn % segmentBytes)}.backup`;
}
