/**
 * Reaching a cluster's primary (src/core/db/primary.ts): the libpq host list taken apart, and a
 * whole platform whose database goes away and comes back behind a TCP proxy — refused fast with
 * the wire's retryable answers while it is away, `/health` saying so, and the same payment retried
 * afterwards answered truly and paid once.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { AlipaySdk } from 'alipay-sdk';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema } from '../../src/cli/bench/common.ts';
import { DatabaseUnavailableError, openDb, splitHosts } from '../../src/core/db/index.ts';
import { limits } from '../../src/core/limits.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { openPlatform, type Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { keyPair, listen } from '../gateway/support.ts';
import { databaseUrl, freshSchema } from '../support/engine.ts';

describe('a DATABASE_URL with a host list', () => {
  it('gives one URL per host, in order, and asks for a writable server', () => {
    expect(
      splitHosts('postgres://u:p@10.0.0.1:5432,10.0.0.2:5433/paybao?target_session_attrs=read-write&sslmode=prefer'),
    ).toEqual({
      urls: [
        'postgres://u:p@10.0.0.1:5432/paybao?sslmode=prefer',
        'postgres://u:p@10.0.0.2:5433/paybao?sslmode=prefer',
      ],
      readWrite: true,
    });
  });

  it('takes one host as it is, writable only when asked', () => {
    expect(splitHosts('postgres://u@db:5432/paybao')).toEqual({
      urls: ['postgres://u@db:5432/paybao'],
      readWrite: false,
    });
    expect(splitHosts('postgresql://db/paybao?target_session_attrs=primary').readWrite).toBe(true);
  });

  it('refuses what Paybao cannot use, in words', () => {
    expect(() => splitHosts('postgres://a,b/paybao?target_session_attrs=read-only')).toThrow(/read-write/);
    expect(() => splitHosts('postgres://a,,b/paybao')).toThrow(/empty host/);
  });
});

/** A TCP proxy in front of the real server, which the test stops (every connection cut) and starts again. */
function proxyTo(host: string, port: number) {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  return {
    async start(listenPort = 0): Promise<number> {
      server = createServer((client) => {
        const upstream = tcpConnect(port, host);
        track(client);
        track(upstream);
        client.pipe(upstream).pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
      });
      await new Promise<void>((resolve) => server?.listen(listenPort, '127.0.0.1', resolve));
      const address = server.address();
      if (typeof address !== 'object' || address === null) throw new Error('no port');
      return address.port;
    },
    async stop(): Promise<void> {
      const closed = new Promise<void>((resolve) => server?.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

describe.skipIf(!databaseUrl)('a host list whose first host is down', () => {
  it('uses the next host that answers writable, and names it', async () => {
    const real = new URL(databaseUrl ?? 'postgres://localhost');
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const url = `postgres://${real.username}@127.0.0.1:1,${real.host}${real.pathname}?target_session_attrs=read-write`;
    const db = await openDb({ databaseUrl: url, poolMax: 1 });
    try {
      expect(await db.query<{ one: number }>('select 1 as one')).toEqual([{ one: 1 }]);
      expect(db.serverState?.()).toEqual({ host: real.host, lostSinceMs: null });
    } finally {
      await db.close();
    }
  });
});

describe.skipIf(!databaseUrl)('a platform whose database goes away and comes back', () => {
  const real = new URL(databaseUrl ?? 'postgres://localhost');
  const proxy = proxyTo(real.hostname, Number(real.port || 5432));
  const schema = freshSchema();
  let port = 0;
  let platform: Platform;
  let app: FastifyInstance;
  let base = '';
  let sdk: AlipaySdk;
  let buyerId = '';

  beforeAll(async () => {
    port = await proxy.start();
    const url = new URL(real);
    url.host = `127.0.0.1:${port}`;
    // The host-list connector's path: a writable server required, searched for again when lost.
    url.searchParams.set('target_session_attrs', 'read-write');
    platform = await openPlatform({ databaseUrl: url.toString(), databaseSchema: schema });
    app = await buildPlatformApp({ platform, publicUrl: () => base });
    base = await listen(app);
    const keys = keyPair();
    const created = await platform.members.createApp({ name: 'Proxy Shop', merchantPublicKeyPem: keys.publicKeyPem });
    sdk = new AlipaySdk({
      appId: created.appId,
      privateKey: keys.privateKeyPem,
      alipayPublicKey: created.alipayPublicKey,
      gateway: `${base}/gateway.do`,
      camelcase: false,
    });
    buyerId = (
      await platform.members.createUser({ phone: '13900000777', password: 'a password', openingBalance: 10_000n })
    ).userId;
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    if (platform) {
      expect(await verifyLedger(platform.db)).toEqual([]);
      await platform.close();
      if (databaseUrl && schema) await dropSchema(databaseUrl, schema);
    }
    await proxy.stop();
  });

  const pay = async (outTradeNo: string) =>
    sdk.exec('alipay.trade.pay', {
      bizContent: {
        out_trade_no: outTradeNo,
        scene: 'bar_code',
        auth_code: await platform.members.newPaymentCode(buyerId),
        total_amount: '1.00',
        subject: 'through the proxy',
      },
    });

  it('refuses fast while no server answers, says so on /health, and pays the retried payment once', async () => {
    expect((await pay('proxy-1')).code).toBe('10000');
    const code = await platform.members.newPaymentCode(buyerId);

    await proxy.stop();
    const started = performance.now();
    const refused = await sdk.exec('alipay.trade.pay', {
      bizContent: { out_trade_no: 'proxy-2', scene: 'bar_code', auth_code: code, total_amount: '1.00', subject: 'x' },
    });
    // Alipay's system error, which its SDK users retry with the same parameters.
    expect(refused.code).toBe('20000');
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'unavailable', engine: 'postgres', database_host: null });
    expect(body.reason).toMatch(/no writable database server answers|lost/);
    const login = await fetch(`${base}/api/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone: '13900000777', password: 'a password' }),
    });
    expect(login.status).toBe(503);
    expect(login.headers.get('retry-after')).toBe(String(limits.overloadRetryAfterS));
    expect(((await login.json()) as { code: string }).code).toBe('server_busy');
    // Refused at once, not after a connect timeout per request.
    expect(performance.now() - started).toBeLessThan(limits.pgConnectTimeoutMs);
    await expect(platform.db.query('select 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);

    await proxy.start(port);
    for (let i = 0; ; i++) {
      const back = await fetch(`${base}/health`);
      if (back.status === 200) {
        expect(await back.json()).toMatchObject({ status: 'ok', database_host: `127.0.0.1:${port}` });
        break;
      }
      expect(i).toBeLessThan(100);
      await new Promise((resolve) => setTimeout(resolve, limits.pgPrimarySearchIntervalMs));
    }
    // The merchant retries with the same out_trade_no: paid once.
    const retried = await sdk.exec('alipay.trade.pay', {
      bizContent: { out_trade_no: 'proxy-2', scene: 'bar_code', auth_code: code, total_amount: '1.00', subject: 'x' },
    });
    expect(retried.code).toBe('10000');
    expect(await platform.members.walletBalance(buyerId)).toBe(10_000n - 200n);
  });
});
