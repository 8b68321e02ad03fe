import { loadConfig, platformStorageOf, storageOf } from '../config.ts';
import { type Db, openDb } from '../core/db/index.ts';
import { openPlatform, type Platform } from '../platform.ts';

/** Runs `fn` on the platform the configuration names (migrated first), then closes it. */
export async function withPlatform<T>(fn: (platform: Platform) => Promise<T>): Promise<T> {
  const platform = await openPlatform(platformStorageOf(loadConfig()));
  try {
    return await fn(platform);
  } finally {
    await platform.close();
  }
}

/** Runs `fn` on the bare database the configuration names (not migrated), then closes it. */
export async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDb(storageOf(loadConfig()));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
