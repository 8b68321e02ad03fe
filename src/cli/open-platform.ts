import { loadConfig, platformStorageOf, storageOf } from '../config.ts';
import { type Db, openDb } from '../core/db/index.ts';
import { openPlatform, type Platform } from '../platform.ts';

/** Runs `fn` on what `open` opens, then closes it, whether `fn` succeeded or threw. */
async function withOpened<R extends { close(): Promise<void> }, T>(open: Promise<R>, fn: (r: R) => Promise<T>) {
  const resource = await open;
  try {
    return await fn(resource);
  } finally {
    await resource.close();
  }
}

/** Runs `fn` on the platform the configuration names (migrated first), then closes it. */
export async function withPlatform<T>(fn: (platform: Platform) => Promise<T>): Promise<T> {
  return withOpened(openPlatform(platformStorageOf(loadConfig())), fn);
}

/** Runs `fn` on the bare database the configuration names (not migrated), then closes it. */
export async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  return withOpened(openDb(storageOf(loadConfig())), fn);
}
