import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Db, openDb } from '../../core/db/index.ts';

/** The durability settings a run measured under: part of every benchmark's answer. */
export async function readDurability(db: Db): Promise<{ synchronous_commit: string; fsync: string }> {
  const [sc] = await db.query<{ synchronous_commit: string }>('show synchronous_commit');
  const [fs] = await db.query<{ fsync: string }>('show fsync');
  return { synchronous_commit: sc?.synchronous_commit ?? '?', fsync: fs?.fsync ?? '?' };
}

/** Drops a benchmark's schema from the PostgreSQL server. */
export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const db = await openDb({ databaseUrl, poolMax: 1 });
  await db.exec(`drop schema if exists ${schema} cascade`);
  await db.close();
}

/**
 * A benchmark's own storage: a fresh schema on the PostgreSQL server, or a fresh PGlite data
 * directory, the platform options that open it, and `remove()`, which drops it afterwards.
 */
export function benchStorage(name: string, databaseUrl: string | undefined) {
  const schema = databaseUrl ? `bench_${name}_${Date.now()}` : undefined;
  const dataDir = databaseUrl ? undefined : mkdtempSync(join(tmpdir(), `paybao-bench-${name}-`));
  return {
    schema,
    dataDir,
    platformOptions: { databaseUrl, databaseSchema: schema, dataDir },
    async remove(): Promise<void> {
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      if (databaseUrl && schema) await dropSchema(databaseUrl, schema);
    },
  };
}

/** The q-quantile of ascending samples (0 for none). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export const round1 = (n: number) => Math.round(n * 10) / 10;
export const round2 = (n: number) => Math.round(n * 100) / 100;

/** Latencies (ms) gathered since `sinceMs`: how many, the rate, and their quantiles. */
export function latencyWindow(
  latencies: number[],
  sinceMs: number,
): { count: number; perS: number; p50: number; p99: number; max: number } {
  const sorted = latencies.sort((a, b) => a - b);
  return {
    count: sorted.length,
    perS: sorted.length / ((performance.now() - sinceMs) / 1000),
    p50: round1(quantile(sorted, 0.5)),
    p99: round1(quantile(sorted, 0.99)),
    max: round1(sorted[sorted.length - 1] ?? 0),
  };
}
