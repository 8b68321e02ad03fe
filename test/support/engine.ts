import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Clock } from '../../src/core/clock.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { openPlatform, type Platform } from '../../src/platform.ts';

/**
 * The engine every test runs on: PostgreSQL when DATABASE_URL is set, PGlite otherwise. CI runs
 * the whole suite once on each. On PostgreSQL each call gets a schema of its own.
 */
export const engine: 'postgres' | 'pglite' = process.env.DATABASE_URL ? 'postgres' : 'pglite';
export const databaseUrl = process.env.DATABASE_URL || undefined;

export function freshSchema(): string | undefined {
  return databaseUrl ? `t_${randomBytes(6).toString('hex')}` : undefined;
}

/** A migrated platform on a fresh, empty database (in-memory PGlite or a new schema). */
export function freshPlatform(options: { clock?: Clock; schema?: string; dataDir?: string } = {}): Promise<Platform> {
  return openPlatform({
    databaseUrl,
    databaseSchema: options.schema ?? freshSchema(),
    dataDir: options.dataDir,
    clock: options.clock,
  });
}

/**
 * One platform for a whole test file, on a fresh database: opened before the first test, the
 * books verified after every test (debits = credits, limits kept, balances = transfers), closed
 * after the last. Returns a getter, since the platform exists only once the file starts.
 */
export function usePlatform(options: { clock?: Clock } = {}): () => Platform {
  let platform: Platform | undefined;
  beforeAll(async () => {
    platform = await freshPlatform(options);
  });
  afterEach(async () => {
    if (platform) expect(await verifyLedger(platform.db)).toEqual([]);
  });
  afterAll(async () => {
    await platform?.close();
  });
  return () => {
    if (!platform) throw new Error('usePlatform: the platform is opened in beforeAll');
    return platform;
  };
}
