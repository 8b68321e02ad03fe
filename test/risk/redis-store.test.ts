/**
 * The velocity counters shared through Redis (a platform given `REDIS_URL`): two processes mirror
 * each other through it, a key can be read alone, old buckets are pruned, and a platform opened
 * with a Redis URL counts a velocity rule's payments there. Skipped when no Redis answers
 * (`REDIS_URL`, or 127.0.0.1:6379; CI runs one).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limits } from '../../src/core/limits.ts';
import { openPlatform } from '../../src/platform.ts';
import { isRiskError, RedisCounterStore, Velocity } from '../../src/risk/index.ts';
import { databaseUrl, freshSchema } from '../support/engine.ts';

const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
const redisUp = await probe
  .connect()
  .then(() => probe.ping())
  .then(() => true)
  .catch(() => false);

const t0 = Date.UTC(2026, 10, 11);
const minute = 60_000;

describe.skipIf(!redisUp)('velocity counters in Redis', () => {
  const prefix = `paybao-test:${randomBytes(4).toString('hex')}:`;
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(url);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await probe.quit();
  });

  it('lets two processes mirror each other, reads a key alone, and prunes old buckets', async () => {
    const store = new RedisCounterStore(redis, prefix);
    const [a, b] = [new Velocity(store), new Velocity(store)];
    await a.ensure(['user:1'], t0);
    await b.ensure(['user:1'], t0);
    a.add(['user:1', 'device:d'], 1_000_000_000_00n, t0);
    b.add(['user:1'], 1n, t0 + 10);
    await a.sync(t0 + 1000);
    await b.sync(t0 + 1000);
    await a.sync(t0 + 2000);
    expect(a.sum('user:1', minute, t0 + 2000)).toEqual({ count: 2, fen: 1_000_000_000_01n });
    expect(b.sum('user:1', minute, t0 + 2000)).toEqual({ count: 2, fen: 1_000_000_000_01n });
    expect(await store.read(['device:d'], 0)).toEqual([
      { key: 'device:d', bucket: Velocity.bucketOf(t0), count: 1, fen: 1_000_000_000_00n },
    ]);
    await store.prune(Velocity.bucketOf(t0 + limits.riskWindowMaxMs + 5000));
    expect(await store.read(['user:1', 'device:d'], 0)).toEqual([]);
    expect(await store.readSince(0, 10)).toEqual([]);
  });

  it('counts a platform’s velocity rule in Redis when given REDIS_URL', async () => {
    const platformPrefix = `${prefix}platform:`;
    const one = await openPlatform({
      databaseUrl,
      databaseSchema: freshSchema(),
      redisUrl: url,
      redisPrefix: platformPrefix,
    });
    try {
      const user = await one.members.createUser({ phone: '13755550001', password: 'redis counts 1' });
      await one.risk.createRule(
        {
          name: 'two',
          condition: { kind: 'velocity', dimension: 'user', window_seconds: 60, max_count: 2 },
          action: 'deny',
        },
        'test',
      );
      const pay = () =>
        one.risk.assess(
          { path: 'transfer', userId: user.userId, amountFen: 1n },
          { supports: new Set(), fingerprint: 'f' },
        );
      await pay();
      await pay();
      const refused = await pay().catch((e: unknown) => e);
      expect(isRiskError(refused, 'payment_denied')).toBe(true);
      await one.risk.sync();
      const [held] = await one.db.query<{ n: bigint }>('select count(*)::int8 n from risk_counters');
      expect(held?.n).toBe(0n);
      expect((await redis.keys(`${platformPrefix}n:user:*`)).length).toBeGreaterThan(0);
    } finally {
      await one.close();
    }
  });
});
