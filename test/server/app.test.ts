/**
 * The HTTP app's operational endpoints, driven through `app.inject()` on the test engine: /health
 * proves the database answers, /metrics exposes process metrics and the ledger's batch histograms,
 * and every app owns its metrics registry.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { openPlatform, type Platform } from '../../src/platform.ts';
import { buildApp, createMetrics } from '../../src/server/index.ts';
import { databaseUrl, engine, freshPlatform, freshSchema } from '../support/engine.ts';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track(platform: Platform, app: FastifyInstance): FastifyInstance {
  cleanups.push(() => platform.close());
  cleanups.push(() => app.close());
  return app;
}

/** A platform whose batches feed a metrics registry of its own, and the app serving that registry. */
async function metricsApp(): Promise<{ platform: Platform; app: FastifyInstance }> {
  const metrics = createMetrics();
  const platform = await openPlatform({ databaseUrl, databaseSchema: freshSchema(), onBatch: metrics.observeBatch });
  return { platform, app: track(platform, buildApp({ platform, metrics })) };
}

function sampleValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no sample ${name}`);
  return Number(line.slice(name.length + 1));
}

describe('GET /health', () => {
  it('answers 200 with the engine and uptime when the database answers', async () => {
    const platform = await freshPlatform();
    const app = track(platform, buildApp({ platform }));
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json();
    // PostgreSQL names the server in use (a cluster's primary, src/core/db/primary.ts).
    const server = engine === 'postgres' ? { database_host: expect.any(String) } : {};
    expect(body).toEqual({ status: 'ok', engine, uptime_s: expect.any(Number), ...server });
    expect(body.uptime_s).toBeGreaterThanOrEqual(0);
  });

  it('answers 503 when the database does not', async () => {
    const platform = await freshPlatform();
    const down: Platform = {
      ...platform,
      db: { ...platform.db, query: () => Promise.reject(new Error('connection refused')) },
    };
    const app = track(platform, buildApp({ platform: down }));
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'unavailable', engine });
  });
});

describe('GET /metrics', () => {
  it('serves Prometheus text with process metrics and the ledger batch histograms', async () => {
    const { app } = await metricsApp();
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(res.body).toContain('# TYPE paybao_ledger_batch_events histogram');
    expect(res.body).toContain('# TYPE paybao_ledger_batch_duration_seconds histogram');
    expect(sampleValue(res.body, 'paybao_ledger_batch_events_count')).toBe(0);
  });

  it('counts the events of every committed ledger batch', async () => {
    const { platform, app } = await metricsApp();
    await platform.ledger.createAccounts([
      { id: 1n, ledger: 1, code: 1 },
      { id: 2n, ledger: 1, code: 1 },
    ]);
    await platform.ledger.createTransfers([
      { id: 10n, debitAccountId: 1n, creditAccountId: 2n, amount: 5n, ledger: 1, code: 1 },
    ]);
    const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const batches = sampleValue(body, 'paybao_ledger_batch_events_count');
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(batches).toBeLessThanOrEqual(2);
    expect(sampleValue(body, 'paybao_ledger_batch_events_sum')).toBe(3);
    expect(sampleValue(body, 'paybao_ledger_batch_duration_seconds_count')).toBe(batches);
  });

  it('keeps the registries of two apps in one process apart', async () => {
    const { platform, app: busyApp } = await metricsApp();
    const { app: idleApp } = await metricsApp();
    await platform.ledger.createAccounts([{ id: 1n, ledger: 1, code: 1 }]);
    const busyBody = (await busyApp.inject({ method: 'GET', url: '/metrics' })).body;
    const idleBody = (await idleApp.inject({ method: 'GET', url: '/metrics' })).body;
    expect(sampleValue(busyBody, 'paybao_ledger_batch_events_sum')).toBe(1);
    expect(sampleValue(idleBody, 'paybao_ledger_batch_events_sum')).toBe(0);
  });
});
