import { closeSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { limits } from '../limits.ts';

/**
 * Who owns a PGlite data directory. PGlite is PostgreSQL in one process with no shared memory
 * between processes: a second process that opens the same files writes over the first one's
 * pages and WAL, and the damage (a unique index with two equal keys, rows nobody can see) shows
 * only later. So a data directory has one owner at a time, named in `paybao.lock` inside it.
 */
export interface Owner {
  pid: number;
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid apart. */
  startTicks: number | null;
  /** What the owner runs, for the error a second opener reads (`paybao start`). */
  command: string;
  since: string;
  /** The owner will serve the directory to other processes (a server), once PGlite has started. */
  willServe?: boolean | undefined;
  /** Where the owner serves the PostgreSQL wire protocol for other processes, once it does. */
  socketDir?: string | undefined;
}

/** A second process asked for a data directory that a live process owns. */
export class DataDirOwnedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: Owner,
  ) {
    const serving = owner.socketDir ? `, serving it on ${join(owner.socketDir, '.s.PGSQL.5432')}` : '';
    super(
      `the data directory ${dataDir} is in use by process ${owner.pid} (${owner.command}, since ${owner.since}${serving}); ` +
        'PGlite allows one process per data directory',
    );
    this.name = 'DataDirOwnedError';
  }
}

/** The lock this process holds on one data directory. */
export interface OwnerLock {
  readonly path: string;
  /** Records where this process serves the directory to others (after the socket listens). */
  advertise(socketDir: string): void;
  /** Gives the directory up: removes the lock file if it is still ours. */
  release(): void;
}

export const ownerLockName = 'paybao.lock';
/** Directories this process holds: opening one twice in one process is the same corruption. */
const heldHere = new Set<string>();

/**
 * Takes the lock of `dataDir` or throws `DataDirOwnedError` naming the live owner. A lock whose
 * process is gone (killed, crashed, a container restarted) is taken over.
 */
export function acquireOwnerLock(dataDir: string, options: { willServe?: boolean } = {}): OwnerLock {
  const dir = resolve(dataDir);
  const path = join(dir, ownerLockName);
  const me = { ...ownerOfThisProcess(), willServe: options.willServe === true };
  for (;;) {
    if (createExclusive(path, me)) break;
    const text = readLock(path);
    if (text === undefined) continue; // removed between our attempt and the read: try again
    const owner = parseOwner(text);
    if (owner && isAlive(owner, dir)) throw new DataDirOwnedError(dir, owner);
    removeStale(path, text);
  }
  heldHere.add(dir);
  let current = me;
  return {
    path,
    advertise(socketDir) {
      current = { ...me, socketDir };
      // Written whole and renamed over the lock, so a reader never sees half a record.
      const temp = `${path}.${process.pid}.tmp`;
      writeWhole(temp, current, 'w');
      renameSync(temp, path);
    },
    release() {
      heldHere.delete(dir);
      const text = readLock(path);
      if (text !== undefined && parseOwner(text)?.pid === current.pid) unlinkSync(path);
    },
  };
}

/** The owner recorded in `dataDir`, if a live process holds it. */
export function liveOwner(dataDir: string): Owner | undefined {
  const dir = resolve(dataDir);
  const text = readLock(join(dir, ownerLockName));
  const owner = text === undefined ? undefined : parseOwner(text);
  return owner && isAlive(owner, dir) ? owner : undefined;
}

function ownerOfThisProcess(): Owner {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const script = basename(process.argv[1] ?? 'node');
  const command = script === 'paybao.js' ? `paybao ${args.slice(0, 2).join(' ')}`.trim() : script;
  return { pid: process.pid, startTicks: startTicksOf(process.pid), command, since: new Date().toISOString() };
}

function createExclusive(path: string, owner: Owner): boolean {
  try {
    writeWhole(path, owner, 'wx');
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function writeWhole(path: string, owner: Owner, flags: 'w' | 'wx'): void {
  const fd = openSync(path, flags, 0o600);
  try {
    writeSync(fd, `${JSON.stringify(owner)}\n`);
  } finally {
    closeSync(fd);
  }
}

function readLock(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function parseOwner(text: string): Owner | undefined {
  try {
    const owner = JSON.parse(text) as Owner;
    return Number.isInteger(owner.pid) && owner.pid > 0 ? owner : undefined;
  } catch {
    // Not a record we wrote whole (a crash inside the first write): no owner can be named.
    return undefined;
  }
}

function isAlive(owner: Owner, dir: string): boolean {
  if (owner.pid === process.pid) return heldHere.has(dir);
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else, so it is alive.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A live pid with another start time is a new process that reuses the dead owner's number.
  const ticks = startTicksOf(owner.pid);
  return owner.startTicks === null || ticks === null || ticks === owner.startTicks;
}

/** Field 22 of /proc/<pid>/stat (Linux); null elsewhere. */
function startTicksOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

/**
 * Removes a stale lock, unless it changed since we read it (another process took it over
 * first). The check and the removal are made atomic by a short-lived guard file that only one
 * process can create.
 */
function removeStale(path: string, staleText: string): void {
  const guard = `${path}.takeover`;
  try {
    closeSync(openSync(guard, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // A guard left by a process that died during its takeover is old; a live one lasts microseconds.
    const age = Date.now() - (statSync(guard, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > limits.dataDirTakeoverGuardStaleMs) rmSync(guard, { force: true });
    return;
  }
  try {
    if (readLock(path) === staleText) unlinkSync(path);
  } finally {
    unlinkSync(guard);
  }
}
