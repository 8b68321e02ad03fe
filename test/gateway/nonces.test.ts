/**
 * v3 nonces in the database (`DbNonceStore`): a captured request cannot be sent again to any
 * server process on the same database, nor after a restart, and entries whose time is over are
 * taken over and swept.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DbNonceStore, v3Authorization } from '../../src/gateway/index.ts';
import type { Platform } from '../../src/platform.ts';
import { freshPlatform } from '../support/engine.ts';
import { appId, gatewayApp, gatewayOptions, keyPair } from './support.ts';

const platformKeys = keyPair();
const merchant = keyPair();
let platform: Platform;

beforeAll(async () => {
  platform = await freshPlatform();
});

afterAll(() => platform.close());

describe('DbNonceStore', () => {
  it('answers fresh once, replayed while the entry lives, and takes over an entry whose time is over', async () => {
    const store = new DbNonceStore(platform.db);
    expect(await store.claim('app\nn-1', 1_000, 500)).toBe('fresh');
    expect(await store.claim('app\nn-1', 1_000, 600)).toBe('replayed');
    expect(await store.claim('app\nn-1', 2_000, 1_001)).toBe('fresh');
    expect(await store.claim('app\nn-1', 2_000, 1_500)).toBe('replayed');
  });

  it('is shared: a nonce spent through one store is refused by another on the same database', async () => {
    const a = new DbNonceStore(platform.db);
    const b = new DbNonceStore(platform.db);
    expect(await a.claim('app\nshared', 10_000, 1)).toBe('fresh');
    expect(await b.claim('app\nshared', 10_000, 2)).toBe('replayed');
    const both = await Promise.all([a.claim('app\nraced', 10_000, 3), b.claim('app\nraced', 10_000, 3)]);
    expect(both.sort()).toEqual(['fresh', 'replayed']);
  });

  it('sweeps entries whose time is over, and only those', async () => {
    const store = new DbNonceStore(platform.db);
    await store.claim('app\nold', 100, 50);
    await store.claim('app\nyoung', 10_000_000_000_000, 50);
    expect(await store.sweep(101)).toBeGreaterThanOrEqual(1);
    const keys = await platform.db.query<{ key: string }>(
      "select key from gateway_nonces where key in ('app\nold', 'app\nyoung')",
    );
    expect(keys.map((k) => k.key)).toEqual(['app\nyoung']);
  });
});

describe('a captured v3 request', () => {
  const servers: FastifyInstance[] = [];
  const server = () => {
    const app = gatewayApp(gatewayOptions(platformKeys, merchant, { nonces: new DbNonceStore(platform.db) }));
    servers.push(app);
    return app;
  };
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  it('is refused by a second server process on the same database, and after a restart', async () => {
    const url = '/v3/alipay/trade/query';
    const body = '{"out_trade_no":"N-1"}';
    const authorization = v3Authorization(
      { appId, httpMethod: 'POST', url, body, nonce: randomUUID(), timestampMs: Date.now() },
      merchant.privateKeyPem,
    );
    const request = {
      method: 'POST' as const,
      url,
      payload: body,
      headers: { authorization, 'content-type': 'application/json' },
    };
    const first = await server().inject(request);
    expect(first.statusCode).toBe(200);
    for (const replayed of [await server().inject(request), await server().inject(request)]) {
      expect(replayed.statusCode).toBe(401);
      expect(replayed.json()).toEqual({ code: 'invalid-nonce', message: expect.any(String), links: [] });
    }
  });
});
