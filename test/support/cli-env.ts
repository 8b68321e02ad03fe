import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { openDb } from '../../src/core/db/index.ts';
import { databaseUrl, freshSchema } from './engine.ts';

/**
 * Points the configuration of in-process CLI runs (`runCli`) at a database of the file's own: a
 * PGlite directory under a fresh temporary folder, or a fresh schema of DATABASE_URL; restores
 * the environment and drops both after the file. Returns the temporary folder.
 */
export function useCliEnvironment(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const schema = freshSchema();
  const saved = { ...process.env };
  beforeAll(() => {
    process.env.PAYBAO_DATA_DIR = join(dir, 'data');
    process.env.PAYBAO_DB_SCHEMA = schema ?? '';
    process.env.DATABASE_URL = databaseUrl ?? '';
  });
  afterAll(async () => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
    if (databaseUrl && schema) {
      const db = await openDb({ databaseUrl });
      await db.exec(`drop schema if exists ${schema} cascade`);
      await db.close();
    }
  });
  return dir;
}
