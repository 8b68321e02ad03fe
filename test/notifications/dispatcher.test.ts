/**
 * The notification outbox: each state change is posted as a signed form to the app's notify URL
 * over real HTTP, retried on Alipay's schedule until the merchant answers exactly `success`.
 */
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { id } from '../../src/core/ids.ts';
import { cnyLedger } from '../../src/core/ledger-codes.ts';
import { limits } from '../../src/core/limits.ts';
import { AccountFlags } from '../../src/ledger/index.ts';
import { NotificationDispatcher } from '../../src/notifications/index.ts';
import type { Platform } from '../../src/platform.ts';
import { Trades } from '../../src/trades/index.ts';
import { freshPlatform } from '../support/engine.ts';

const clock = new ManualClock();
let platform: Platform;
let server: Server;
let url = '';
const received: Array<Record<string, string>> = [];
const answers = ['fail', 'not quite success', 'success'];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push(Object.fromEntries(new URLSearchParams(body)));
      res.end(answers[received.length - 1] ?? 'success');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
  platform = await freshPlatform({ clock });
});

afterAll(async () => {
  await platform.close();
  await new Promise((resolve) => server.close(resolve));
});

it('posts a signed TRADE_SUCCESS form and retries at 4 and 10 minutes until `success`', async () => {
  const seller = id();
  const buyer = id();
  const funding = id();
  await platform.ledger.createAccounts([
    { id: seller, ledger: cnyLedger, code: 2, flags: AccountFlags.debitsMustNotExceedCredits },
    { id: buyer, ledger: cnyLedger, code: 1, flags: AccountFlags.debitsMustNotExceedCredits },
    { id: funding, ledger: cnyLedger, code: 100 },
  ]);
  await platform.ledger.createTransfers([
    { id: id(), debitAccountId: funding, creditAccountId: buyer, amount: 5000n, ledger: cnyLedger, code: 1 },
  ]);
  const trades = new Trades(
    platform.db,
    platform.ledger,
    {
      sellerOf: async () => ({ sellerId: '2088000000000001', accountId: seller }),
      buyer: async (userId) => ({ userId, accountId: buyer }),
    },
    clock,
  );
  const dispatcher = new NotificationDispatcher(platform.db, clock, {
    notifyUrlOf: async () => url,
    sign: (form) => ({ ...form, sign_type: 'RSA2', sign: `signed:${form.trade_no}` }),
  });
  const t = await trades.create({ appId: '2021000000000009', outTradeNo: 'n-1', totalAmount: '20.00', subject: 's' });
  await trades.pay('2021000000000009', { tradeNo: t.tradeNo }, '2088000000000002');

  expect(await dispatcher.dispatchDue()).toBe(0); // answered "fail"
  expect(await dispatcher.dispatchDue()).toBe(0); // not due again yet
  clock.advanceMs(4 * 60_000);
  expect(await dispatcher.dispatchDue()).toBe(0); // answered "not quite success"
  clock.advanceMs(10 * 60_000);
  expect(await dispatcher.dispatchDue()).toBe(1);
  clock.advanceMs(24 * 3_600_000);
  expect(await dispatcher.dispatchDue()).toBe(0); // delivered: never posted again

  expect(received).toHaveLength(3);
  expect(received[2]).toMatchObject({
    notify_type: 'trade_status_sync',
    trade_no: t.tradeNo,
    out_trade_no: 'n-1',
    trade_status: 'TRADE_SUCCESS',
    total_amount: '20.00',
    sign: `signed:${t.tradeNo}`,
  });
  const [row] = await platform.db.query<{ attempts: number; delivered_at: Date | null }>(
    'select attempts, delivered_at from trade_notifications where trade_no = $1',
    [t.tradeNo],
  );
  expect(row?.attempts).toBe(3);
  expect(row?.delivered_at).not.toBeNull();
});

it('keeps up with a backlog: full rounds follow each other at once, posts run side by side', async () => {
  // 1,200 notifications due at once (more than two rounds' worth), and a poll interval far longer
  // than the test: only rounds that follow full rounds at once can deliver them all in time.
  const backlog = 1_200;
  await platform.db.query(
    `insert into trade_notifications (app_id, trade_no, event, payload, created_at, next_attempt_at)
     select '2021000000000009', 'backlog-' || n, 'TRADE_SUCCESS', jsonb_build_object('trade_no', 'backlog-' || n), $1, $1
     from generate_series(1, $2::int) as n`,
    [new Date(Number(clock.nowNs() / 1_000_000n)), backlog],
  );
  let inFlight = 0;
  let mostInFlight = 0;
  const posted = new Set<string>();
  let lookups = 0;
  const dispatcher = new NotificationDispatcher(platform.db, clock, {
    notifyUrlOf: async () => {
      lookups++;
      return 'http://merchant.invalid/notify';
    },
    sign: async (form) => ({ ...form, sign: 'signed' }),
    post: async (_url, form) => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight--;
      posted.add(form.trade_no as string);
      return 'success';
    },
  });
  const undelivered = async () => {
    const [row] = await platform.db.query<{ n: string }>(
      "select count(*)::text as n from trade_notifications where trade_no like 'backlog-%' and delivered_at is null",
    );
    return Number(row?.n);
  };
  dispatcher.start(60_000);
  try {
    const deadline = Date.now() + 20_000;
    while ((posted.size < backlog || (await undelivered()) > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await dispatcher.stop();
  }
  expect(posted.size).toBe(backlog);
  expect(await undelivered()).toBe(0);
  expect(mostInFlight).toBeGreaterThan(1);
  expect(lookups).toBeLessThanOrEqual(Math.ceil(backlog / 500) + 1); // one lookup per app and round
});

it('gives up on a notify URL that never answers after notifyTimeoutMs, and retries it later', async () => {
  const silent = createServer(() => {}); // takes the request, never answers
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/notify`;
  try {
    const [row] = await platform.db.query<{ id: bigint }>(
      `insert into trade_notifications (app_id, trade_no, event, payload, created_at, next_attempt_at)
       values ('2021000000000010', 'silent-1', 'TRADE_SUCCESS', '{"trade_no":"silent-1"}', $1, $1) returning id`,
      [new Date(Number(clock.nowNs() / 1_000_000n))],
    );
    const dispatcher = new NotificationDispatcher(platform.db, clock, {
      notifyUrlOf: async (appId) => (appId === '2021000000000010' ? silentUrl : null),
      sign: (form) => ({ ...form, sign: 'signed' }),
    });
    const started = performance.now();
    expect(await dispatcher.dispatchDue()).toBe(0);
    const tookMs = performance.now() - started;
    expect(tookMs).toBeGreaterThanOrEqual(limits.notifyTimeoutMs - 100);
    expect(tookMs).toBeLessThan(limits.notifyTimeoutMs + 3_000);
    const [after] = await platform.db.query<{ attempts: number; delivered_at: Date | null; next_attempt_at: Date }>(
      'select attempts, delivered_at, next_attempt_at from trade_notifications where id = $1',
      [row?.id.toString()],
    );
    expect(after).toMatchObject({ attempts: 1, delivered_at: null });
    const nowMs = Number(clock.nowNs() / 1_000_000n);
    expect(after?.next_attempt_at.getTime()).toBe(nowMs + (limits.notifyRetryDelaysMs[0] as number));
  } finally {
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  }
}, 15_000);

it('takes an answer longer than notifyAnswerBytesMax for a failure, without waiting for its end', async () => {
  // `success` and then more than the limit, on a body that never ends: only the first bytes are
  // read, and they do not make the answer a `success`.
  const talkative = createServer((_req, res) => {
    res.write('success');
    res.write(' '.repeat(limits.notifyAnswerBytesMax * 2));
  });
  await new Promise<void>((resolve) => talkative.listen(0, '127.0.0.1', resolve));
  const talkativeUrl = `http://127.0.0.1:${(talkative.address() as AddressInfo).port}/notify`;
  try {
    await platform.db.query(
      `insert into trade_notifications (app_id, trade_no, event, payload, created_at, next_attempt_at)
       values ('2021000000000013', 'talkative-1', 'TRADE_SUCCESS', '{"trade_no":"talkative-1"}', $1, $1)`,
      [new Date(Number(clock.nowNs() / 1_000_000n))],
    );
    const dispatcher = new NotificationDispatcher(platform.db, clock, {
      notifyUrlOf: async (appId) => (appId === '2021000000000013' ? talkativeUrl : null),
      sign: (form) => ({ ...form, sign: 'signed' }),
    });
    expect(await dispatcher.dispatchDue()).toBe(0);
    const [row] = await platform.db.query<{ attempts: number; delivered_at: Date | null }>(
      `select attempts, delivered_at from trade_notifications where trade_no = 'talkative-1'`,
    );
    expect(row).toMatchObject({ attempts: 1, delivered_at: null });
  } finally {
    talkative.closeAllConnections();
    await new Promise((resolve) => talkative.close(resolve));
  }
}, 15_000);

it.each([
  ['resets', 'keepalive', '2021000000000011'],
  ['closes', 'keepclose', '2021000000000012'],
] as const)(
  'sends again at once on a fresh connection when the merchant %s the kept-alive one',
  async (how, prefix, appId) => {
    // A merchant's server that answers one request per connection, then drops the connection when
    // the next request arrives on it (a reset, or a plain close): the idle-close race, every time.
    const sockets: Socket[] = [];
    const forms: string[] = [];
    const dropping = createTcpServer((socket) => {
      sockets.push(socket);
      let served = 0;
      let buffered = '';
      socket.on('data', (chunk) => {
        buffered += chunk.toString('utf8');
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        if (served++ > 0) return how === 'resets' ? socket.resetAndDestroy() : socket.destroy();
        forms.push(buffered.slice(end + 4, end + 4 + length));
        buffered = '';
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: keep-alive\r\n\r\nsuccess');
      });
    });
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
    const droppingUrl = `http://127.0.0.1:${(dropping.address() as AddressInfo).port}/notify`;
    try {
      const dispatcher = new NotificationDispatcher(platform.db, clock, {
        notifyUrlOf: async (app) => (app === appId ? droppingUrl : null),
        sign: (form) => ({ ...form, sign: 'signed' }),
      });
      const now = new Date(Number(clock.nowNs() / 1_000_000n));
      const tradeNos = [1, 2, 3].map((n) => `${prefix}-${n}`);
      for (const tradeNo of tradeNos) {
        await platform.db.query(
          `insert into trade_notifications (app_id, trade_no, event, payload, created_at, next_attempt_at)
         values ($1, $2, 'TRADE_SUCCESS', $3, $4, $4)`,
          [appId, tradeNo, JSON.stringify({ trade_no: tradeNo }), now],
        );
        // One at a time, so that each round finds the connection the last one left in the pool.
        expect(await dispatcher.dispatchDue()).toBe(1);
      }
      expect(forms.map((f) => new URLSearchParams(f).get('trade_no'))).toEqual(tradeNos);
      expect(sockets.length).toBeGreaterThanOrEqual(3);
      const rows = await platform.db.query<{ attempts: number; delivered: boolean }>(
        `select attempts, delivered_at is not null as delivered from trade_notifications where trade_no like $1`,
        [`${prefix}-%`],
      );
      expect(rows).toEqual(Array(3).fill({ attempts: 1, delivered: true }));
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => dropping.close(resolve));
    }
  },
  20_000,
);

it('tells its owner of a round that failed, and goes on with the next round', async () => {
  const own = await freshPlatform({ clock: new ManualClock() });
  const failures: unknown[] = [];
  const dispatcher = new NotificationDispatcher(
    own.db,
    own.clock,
    { notifyUrlOf: async () => url, sign: (form) => form },
    (error) => failures.push(error),
  );
  // A real database error: the outbox's table is gone for a while.
  await own.db.exec('alter table trade_notifications rename to trade_notifications_away');
  try {
    dispatcher.start(5);
    await expect.poll(() => failures.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
  } finally {
    await dispatcher.stop();
    await own.db.exec('alter table trade_notifications_away rename to trade_notifications');
  }
  expect(String(failures[0])).toMatch(/trade_notifications/);
  expect(await dispatcher.dispatchDue()).toBe(0);
  await own.close();
});
