import { loadConfig } from '../config.ts';
import { openPlatform, type Platform } from '../platform.ts';

/** Runs `fn` on the platform the configuration names (migrated first), then closes it. */
export async function withPlatform<T>(fn: (platform: Platform) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const platform = await openPlatform({
    databaseUrl: config.databaseUrl,
    databaseSchema: config.databaseSchema,
    dataDir: config.databaseUrl ? undefined : config.dataDir,
  });
  try {
    return await fn(platform);
  } finally {
    await platform.close();
  }
}
