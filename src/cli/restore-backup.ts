/**
 * A base backup restored to a point in time (`paybao backup verify` and `paybao backup restore`):
 * its files into a data directory of their own, recovery configured (the WAL archive's
 * `restore_command`, the target time, promotion at the end), a PostgreSQL of its own on a free
 * loopback port until recovery ends; then the restore is recorded in the database
 * (`restore_points`: the moment it holds) and its books are checked. The restored server never
 * archives, streams from or waits for the production servers: those settings are overridden on
 * its command line, which no configuration file in the backup can override.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { openDb, recordRestore, recordRestoreVerified } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { type BaseBackupManifest, backupHistoryFile, readBaseBackup } from './base-backup.ts';
import { verifyBooksAndTrades } from './ledger.ts';
import {
  asPostgresUser,
  freePort,
  giveToPostgres,
  killQuietly,
  postgresEnv,
  postmasterPid,
  withDescendants,
} from './postgres-tools.ts';

const run = promisify(execFile);

export interface RestoreOptions {
  /** The WAL archive (the server's `archive_command` target); without it, the backup's own end. */
  walArchive?: string | undefined;
  /** Replay stops before the first commit after this moment (ISO 8601 with its zone). */
  targetTime?: string | undefined;
  /** Restore into this new or empty directory and keep it; without it, a scratch one, removed. */
  dataDir?: string | undefined;
}

export interface RestoreResult {
  backup: string;
  taken_at: string;
  target_time: string | null;
  /** The moment the restored database holds: its last replayed transaction's commit time. */
  point_in_time: string | null;
  /** The restored cluster's timeline: one past the backup's, since recovery ended in a promotion. */
  timeline: number;
  data_dir: string | null;
  trades: { trades: number; paid: number; paying_moved: number };
  ok: boolean;
  violations: { kind: string; detail: string }[];
  seconds: number;
}

/** The options checked against the backup before anything is written; an error says what is wrong. */
function checkOptions(dir: string, manifest: BaseBackupManifest, options: RestoreOptions): string | null {
  if (options.walArchive) {
    const archive = resolve(options.walArchive);
    if (!existsSync(archive) || !statSync(archive).isDirectory())
      throw new Error(`the WAL archive ${archive} is not a directory`);
    const history = backupHistoryFile(manifest);
    if (!existsSync(join(archive, history)))
      throw new Error(
        `the WAL archive ${archive} has no ${history}: it is not the archive of the server ${dir} was taken of, or that server does not archive (archive_mode was ${manifest.archive_mode})`,
      );
  }
  if (options.dataDir && existsSync(options.dataDir) && readdirSync(options.dataDir).length > 0)
    throw new Error(`${options.dataDir} is not empty: a backup is restored into a new or empty directory only`);
  if (options.targetTime === undefined) return null;
  if (!/(?:Z|[+-]\d\d:?\d\d)$/i.test(options.targetTime) || Number.isNaN(Date.parse(options.targetTime)))
    throw new Error(
      `--target-time ${options.targetTime} is not an ISO 8601 time with its zone (2026-12-07T14:30:00+08:00)`,
    );
  const target = new Date(options.targetTime);
  if (target.getTime() < Date.parse(manifest.taken_at))
    throw new Error(
      `--target-time ${options.targetTime} is before the backup was taken (${manifest.taken_at}): use an older backup`,
    );
  if (target.getTime() > Date.now()) throw new Error(`--target-time ${options.targetTime} is in the future`);
  if (!options.walArchive)
    throw new Error('a point in time after the backup needs the WAL archive that holds it: give --wal-archive');
  // PostgreSQL's own form (a space, not ISO's T, before the time), to the microsecond as given.
  return options.targetTime.replace(/T/i, ' ');
}

/** A path in a shell command PostgreSQL runs, `%` doubled for its own placeholders. */
function shellPath(path: string): string {
  return `'${path.replaceAll("'", `'\\''`).replaceAll('%', '%%')}'`;
}

/** The backup's files into `dataDir` (base, then its WAL into pg_wal), given to the postgres user. */
async function unpack(dir: string, dataDir: string): Promise<void> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  await run('tar', ['-xzf', join(dir, 'base.tar.gz'), '-C', dataDir, '--no-same-owner']);
  await run('tar', ['-xzf', join(dir, 'pg_wal.tar.gz'), '-C', join(dataDir, 'pg_wal'), '--no-same-owner']);
  // A Debian cluster keeps its postgresql.conf under /etc, outside the backup; PostgreSQL needs one.
  if (!existsSync(join(dataDir, 'postgresql.conf'))) writeFileSync(join(dataDir, 'postgresql.conf'), '');
  // Kept after the restore: the server it becomes archives nowhere and follows no primary until its
  // operator says otherwise (its WAL mixed into the production archive would be another history's).
  appendFileSync(
    join(dataDir, 'postgresql.auto.conf'),
    "\n# paybao backup restore: a restored server archives nowhere and follows no primary\narchive_mode = 'off'\nprimary_conninfo = ''\nsynchronous_standby_names = ''\n",
  );
  writeFileSync(join(dataDir, 'recovery.signal'), '');
  await giveToPostgres(dataDir, { recursive: true });
}

/** A PostgreSQL of the restore's own: loopback only, trusted there, started as the postgres user. */
class ScratchServer {
  readonly port: number;
  readonly #home: string;
  readonly #dataDir: string;
  readonly #child: ChildProcess;
  #exited: string | undefined;

  private constructor(home: string, dataDir: string, port: number, settings: Record<string, string>) {
    this.#home = home;
    this.#dataDir = dataDir;
    this.port = port;
    writeFileSync(join(home, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
    writeFileSync(join(home, 'pg_ident.conf'), '');
    const all: Record<string, string> = {
      port: String(port),
      listen_addresses: '127.0.0.1',
      unix_socket_directories: home,
      hba_file: join(home, 'pg_hba.conf'),
      ident_file: join(home, 'pg_ident.conf'),
      // Never archive into, stream from or wait for the servers the backup came from.
      archive_mode: 'off',
      primary_conninfo: '',
      synchronous_standby_names: '',
      ssl: 'off',
      logging_collector: 'off',
      hot_standby: 'off',
      shared_buffers: `${limits.baseBackupSharedBuffersBytes / 1024}kB`,
      ...settings,
    };
    const args = ['-D', dataDir, ...Object.entries(all).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const [file, argv] = asPostgresUser(postgresEnv(), 'postgres', args);
    const log = openSync(join(home, 'postgres.log'), 'a');
    this.#child = spawn(file, argv, { env: postgresEnv(), cwd: home, detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    this.#child.on('exit', (code, signal) => {
      this.#exited = `${signal ?? code}`;
    });
  }

  static async start(home: string, dataDir: string, settings: Record<string, string>): Promise<ScratchServer> {
    return new ScratchServer(home, dataDir, await freePort(), settings);
  }

  url(database: string, user: string): string {
    return `postgres://${encodeURIComponent(user)}@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  /** The end of its log: what it said before it stopped. */
  logTail(): string {
    const lines = readFileSync(join(this.#home, 'postgres.log'), 'utf8').trim().split('\n');
    return lines.slice(-limits.drillServerLogLinesMax).join('\n');
  }

  /** Waits until recovery has ended (promoted, writable), or fails with the server's own words. */
  async recovered(database: string, user: string): Promise<void> {
    const deadline = Date.now() + limits.baseBackupRecoveryWaitMs;
    for (;;) {
      if (this.#exited !== undefined)
        throw new Error(`the restored server stopped during recovery (${this.#exited}):\n${this.logTail()}`);
      const client = new pg.Client({ connectionString: this.url(database, user) });
      client.on('error', () => {});
      const writable = await client
        .connect()
        .then(() => client.query<{ r: boolean }>('select pg_is_in_recovery() r'))
        .then((result) => result.rows[0]?.r === false)
        // Refused while it starts up and replays (hot_standby is off): asked again.
        .catch(() => false)
        .finally(() => client.end().catch(() => {}));
      if (writable) return;
      if (Date.now() > deadline)
        throw new Error(`recovery did not end within ${limits.baseBackupRecoveryWaitMs / 1000} s:\n${this.logTail()}`);
      await new Promise((r) => setTimeout(r, limits.baseBackupRecoveryPollMs));
    }
  }

  /** A fast shutdown (SIGINT to the postmaster); SIGKILL to every process of it when that takes too long. */
  async stop(): Promise<void> {
    if (this.#exited !== undefined) return;
    const exited = new Promise<void>((r) => this.#child.once('exit', () => r()));
    const postmaster = postmasterPid(this.#dataDir);
    if (postmaster !== undefined) process.kill(postmaster, 'SIGINT');
    const timer = setTimeout(() => {
      for (const pid of withDescendants([this.#child.pid ?? 0, postmaster ?? 0].filter((p) => p > 0))) killQuietly(pid);
    }, limits.baseBackupStopWaitMs);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Restores the base backup in `dir` to `options.targetTime` (or to the end of what the backup
 * and the archive hold), records the restore in it, checks its books, and stops its server;
 * removes it unless `options.dataDir` asked to keep it.
 */
export async function restoreBaseBackup(dir: string, options: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const backup = resolve(dir);
  const manifest = readBaseBackup(backup);
  const targetTime = checkOptions(backup, manifest, options);
  const home = mkdtempSync(join(tmpdir(), 'paybao-restore-'));
  const dataDir = options.dataDir ? resolve(options.dataDir) : join(home, 'data');
  const keptExisted = options.dataDir !== undefined && existsSync(dataDir);
  let server: ScratchServer | undefined;
  let done = false;
  try {
    await giveToPostgres(home);
    await unpack(backup, dataDir);
    server = await ScratchServer.start(home, dataDir, {
      // Without an archive every file is looked for in pg_wal only: the backup's own WAL.
      restore_command: options.walArchive ? `cp ${shellPath(resolve(options.walArchive))}/%f "%p"` : 'false',
      recovery_target_action: 'promote',
      ...(targetTime ? { recovery_target_time: targetTime } : {}),
    });
    await server.recovered(manifest.database, manifest.user);
    const db = await openDb({
      databaseUrl: server.url(manifest.database, manifest.user),
      schema: manifest.schema ?? undefined,
      poolMax: 1,
    });
    try {
      const [state] = await db.query<{ point: string | null; wal: string }>(
        `select to_json(pg_last_xact_replay_timestamp()) #>> '{}' point, pg_walfile_name(pg_current_wal_lsn()) wal`,
      );
      const point = state?.point ?? null;
      await recordRestore(db, {
        point_in_time: point,
        source: backup,
        taken_at: manifest.taken_at,
        target_time: targetTime,
      });
      const books = await verifyBooksAndTrades(db).catch((error: unknown) => {
        // 42P01, undefined_table: no Paybao in that database and schema.
        if ((error as { code?: unknown }).code !== '42P01') throw error;
        throw new Error(
          `the restored database ${manifest.database} has no Paybao ledger in schema ${manifest.schema ?? '(the default)'}`,
          { cause: error },
        );
      });
      await recordRestoreVerified(db, books.violations.length);
      done = true;
      return {
        backup,
        taken_at: manifest.taken_at,
        target_time: targetTime,
        point_in_time: point,
        timeline: Number.parseInt(state?.wal.slice(0, 8) ?? '0', 16),
        data_dir: options.dataDir ? dataDir : null,
        ...books,
        ok: books.violations.length === 0,
        seconds: Math.round(performance.now() - started) / 1000,
      };
    } finally {
      await db.close();
    }
  } finally {
    await server?.stop();
    rmSync(home, { recursive: true, force: true });
    // A restore that failed leaves no half-restored directory behind.
    if (options.dataDir && !done) {
      if (keptExisted)
        for (const entry of readdirSync(dataDir)) rmSync(join(dataDir, entry), { recursive: true, force: true });
      else rmSync(dataDir, { recursive: true, force: true });
    }
  }
}
