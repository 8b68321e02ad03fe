/**
 * What a crash test with a real child process needs: one database both processes reach (a PGlite
 * data directory, or a PostgreSQL schema), the environment that points the child at it, an
 * `open()` for the test's own look, and its removal after the file; and a child's exit awaited.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openPlatform } from '../../src/platform.ts';
import { databaseUrl, engine, freshSchema } from './engine.ts';

export function useCrashStorage(prefix: string) {
  const dataDir = engine === 'pglite' ? mkdtempSync(join(tmpdir(), prefix)) : undefined;
  const schema = freshSchema();
  const open = () => openPlatform({ databaseUrl, databaseSchema: schema, dataDir });
  const childEnv: Record<string, string> = dataDir
    ? { PAYBAO_CRASH_DATA_DIR: dataDir, DATABASE_URL: '' }
    : { DATABASE_URL: databaseUrl ?? '', PAYBAO_CRASH_SCHEMA: schema ?? '' };
  afterAll(async () => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (schema) {
      const p = await open();
      await p.db.exec(`drop schema ${schema} cascade`);
      await p.close();
    }
  });
  return { dataDir, schema, open, childEnv };
}

/** The child's exit: its code, or the signal that ended it. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}
