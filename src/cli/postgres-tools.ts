/**
 * Running PostgreSQL's own programs from the CLI, as the failover drill's cluster and the base
 * backups do: Debian's binaries, the `postgres` user when we are root (PostgreSQL refuses to run
 * as root), loopback ports, and process trees killed at once.
 */

import { execFile } from 'node:child_process';
import { chownSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { limits } from '../core/limits.ts';

const run = promisify(execFile);

/** The newest PostgreSQL whose binaries Debian installed (`/usr/lib/postgresql/<version>/bin`). */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  const version = versions[0];
  if (!version) throw new Error('no PostgreSQL under /usr/lib/postgresql: apt-get install postgresql');
  return join(root, version, 'bin');
}

/** The environment PostgreSQL's programs run in: ours, with their directory first on the PATH. */
export function postgresEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${postgresBinDir()}:${process.env.PATH ?? ''}` };
}

const asRoot = () => process.getuid?.() === 0;

/**
 * The command line that runs `program args` as the user PostgreSQL runs as: the `postgres` user
 * when we are root (through `runuser`, keeping `env`'s PATH), else ourselves.
 */
export function asPostgresUser(env: NodeJS.ProcessEnv, program: string, args: readonly string[]): [string, string[]] {
  if (asRoot()) return ['runuser', ['-u', 'postgres', '--', 'env', `PATH=${env.PATH}`, program, ...args]];
  return [program, [...args]];
}

/** Runs `program args` as the PostgreSQL user (see `asPostgresUser`) and answers its output. */
export function runAsPostgres(
  env: NodeJS.ProcessEnv,
  program: string,
  args: readonly string[],
  cwd: string,
): Promise<{ stdout: string; stderr: string }> {
  const [file, argv] = asPostgresUser(env, program, args);
  return run(file, argv, { env, cwd, maxBuffer: limits.drillCommandOutputBytesMax });
}

/**
 * Gives `path` to the `postgres` user (the owner of /var/lib/postgresql) when we are root, so that
 * the programs `asPostgresUser` runs may use it; as anyone else the files are ours already.
 * `recursive`: everything below it too.
 */
export async function giveToPostgres(path: string, options: { recursive?: boolean } = {}): Promise<void> {
  if (!asRoot()) return;
  const { uid, gid } = statSync('/var/lib/postgresql');
  if (options.recursive) await run('chown', ['-R', `${uid}:${gid}`, path]);
  else chownSync(path, uid, gid);
}

/** Every live process below `roots` (children, grandchildren...), from /proc, with the roots. */
export function withDescendants(roots: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended meanwhile.
    }
  }
  const all = new Set<number>();
  const visit = (pid: number) => {
    if (all.has(pid)) return;
    all.add(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  for (const root of roots) visit(root);
  return [...all];
}

/** Whether nothing listens on loopback `port`. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A loopback port nothing listens on now (the system's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

/** The postmaster's pid of the cluster in `dataDir`, from its `postmaster.pid`, while it has one. */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
