/**
 * What a logged-in user reads and asks for: the balance as a decimal string, the bill a page at a
 * time (newest first, each movement once, with its type, direction, counterparty, trade and
 * memo), a fresh payment code, and the detail of a trade they paid — never another user's trade
 * nor another user's bill.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limits } from '../../src/core/limits.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import {
  type ApiUser,
  type ApiWorld,
  apiUser,
  apiWorld,
  balanceOf,
  expectError,
  merchantApp,
  paidTrade,
} from './support.ts';

let world: ApiWorld;
let appId = '';

beforeAll(async () => {
  world = await apiWorld();
  appId = await merchantApp(world);
});

afterAll(async () => {
  expect(await verifyLedger(world.platform.db)).toEqual([]);
  await world.close();
});

let keys = 0;
async function transfer(from: ApiUser, to: ApiUser, amount: string, memo?: string): Promise<void> {
  const res = await from.call({
    method: 'POST',
    url: '/api/v1/transfers',
    headers: { 'idempotency-key': `wallet-${++keys}` },
    payload: { to_user_id: to.userId, amount, ...(memo === undefined ? {} : { memo }) },
  });
  expect(res.statusCode).toBe(200);
}

interface Bill {
  id: string;
  type: string;
  direction: string;
  amount: string;
  counterparty_user_id: string | null;
  trade_no: string | null;
  memo: string | null;
  time: string;
}

/** Every page of the user's bill, following next_cursor. */
async function allBills(user: ApiUser, limit: number): Promise<{ bills: Bill[]; pages: number }> {
  const bills: Bill[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = `limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await user.call({ method: 'GET', url: `/api/v1/bills?${query}` });
    expect(res.statusCode).toBe(200);
    const page = res.json();
    expect(page.data.length).toBeLessThanOrEqual(limit);
    expect(page.has_more).toBe(page.next_cursor !== null);
    bills.push(...page.data);
    cursor = page.next_cursor;
    pages++;
  } while (cursor !== null && pages < 100);
  return { bills, pages };
}

describe('GET /api/v1/balance', () => {
  it('answers the spendable balance as a decimal string of yuan', async () => {
    const user = await apiUser(world, 123_456_78n);
    const res = await user.call({ method: 'GET', url: '/api/v1/balance' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ currency: 'CNY', available: '123456.78' });
    expect(typeof res.json().available).toBe('string');
  });
});

describe('GET /api/v1/bills', () => {
  it('pages through every movement once, newest first, each described', async () => {
    const alice = await apiUser(world, 100_00n);
    const bob = await apiUser(world, 50_00n);
    await transfer(alice, bob, '1.00', 'one');
    await transfer(bob, alice, '2.00', 'two');
    await transfer(alice, bob, '3.00');
    const tradeNo = await paidTrade(world, appId, alice.userId, '4.00');
    await world.platform.trades.refund(appId, { tradeNo }, { refundAmount: '1.50', outRequestNo: 'r1' });
    await transfer(alice, bob, '5.00', '房租');

    const { bills, pages } = await allBills(alice, 2);
    expect(pages).toBe(4);
    const seller = (await world.platform.trades.byTradeNo(tradeNo)).sellerId;
    expect(bills.map(({ id: _id, time: _time, ...rest }) => rest)).toEqual([
      {
        type: 'transfer',
        direction: 'out',
        amount: '5.00',
        counterparty_user_id: bob.userId,
        trade_no: null,
        memo: '房租',
      },
      {
        type: 'trade_refund',
        direction: 'in',
        amount: '1.50',
        counterparty_user_id: seller,
        trade_no: tradeNo,
        memo: null,
      },
      {
        type: 'trade_payment',
        direction: 'out',
        amount: '4.00',
        counterparty_user_id: seller,
        trade_no: tradeNo,
        memo: null,
      },
      {
        type: 'transfer',
        direction: 'out',
        amount: '3.00',
        counterparty_user_id: bob.userId,
        trade_no: null,
        memo: '',
      },
      {
        type: 'transfer',
        direction: 'in',
        amount: '2.00',
        counterparty_user_id: bob.userId,
        trade_no: null,
        memo: 'two',
      },
      {
        type: 'transfer',
        direction: 'out',
        amount: '1.00',
        counterparty_user_id: bob.userId,
        trade_no: null,
        memo: 'one',
      },
      {
        type: 'opening_balance',
        direction: 'in',
        amount: '100.00',
        counterparty_user_id: null,
        trade_no: null,
        memo: null,
      },
    ]);
    expect(new Set(bills.map((b) => b.id)).size).toBe(bills.length);
    const times = bills.map((b) => Date.parse(b.time));
    expect(times.every((t) => Number.isFinite(t))).toBe(true);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    // The bill adds up to the balance.
    const fen = bills.reduce((sum, b) => sum + (b.direction === 'in' ? 1 : -1) * Math.round(Number(b.amount) * 100), 0);
    expect((fen / 100).toFixed(2)).toBe(await balanceOf(alice));

    // One page holding everything says there is no more.
    const whole = await allBills(alice, limits.billsPageMax);
    expect(whole.pages).toBe(1);
    expect(whole.bills).toEqual(bills);
  });

  it('shows only the caller’s own wallet', async () => {
    const alice = await apiUser(world, 10_00n);
    const bob = await apiUser(world, 10_00n);
    const carol = await apiUser(world, 0n);
    await transfer(bob, carol, '1.00', 'secret');
    const { bills } = await allBills(alice, 10);
    expect(bills.map((b) => b.type)).toEqual(['opening_balance']);
    // Another wallet's cursor shows nothing of that wallet either.
    const bobsFirst = (await allBills(bob, 1)).bills[0];
    expect(bobsFirst?.memo).toBe('secret');
    const res = await alice.call({ method: 'GET', url: `/api/v1/bills?limit=5&cursor=${Date.now()}999999` });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.map((b: Bill) => b.id)).not.toContain(bobsFirst?.id);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=1.5', 'limit'],
    ['limit=abc', 'limit'],
    ['cursor=abc', 'cursor'],
    ['cursor=-1', 'cursor'],
    ['cursor=99999999999999999999', 'cursor'],
    ['cursor=9999999999999999999', 'cursor'],
    ['other=1', 'other'],
  ])('refuses %s with a 400 in the error shape', async (query, param) => {
    const user = await apiUser(world, 0n);
    expectError(await user.call({ method: 'GET', url: `/api/v1/bills?${query}` }), 400, 'parameter_invalid', param);
  });

  it('filters money in or out, and answers one entry by its id to its owner alone', async () => {
    const alice = await apiUser(world, 10_00n);
    const bob = await apiUser(world, 0n);
    await transfer(alice, bob, '2.50', 'tea');
    const list = async (user: ApiUser, direction: string) =>
      (await user.call({ method: 'GET', url: `/api/v1/bills?direction=${direction}` })).json().data as Bill[];
    expect((await list(alice, 'in')).map((b) => b.type)).toEqual(['opening_balance']);
    const [sent] = await list(alice, 'out');
    expect(sent).toMatchObject({ type: 'transfer', direction: 'out', amount: '2.50', memo: 'tea' });
    expect(await list(bob, 'out')).toEqual([]);

    const one = await alice.call({ method: 'GET', url: `/api/v1/bills/${sent?.id}` });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(sent);
    const received = (await bob.call({ method: 'GET', url: `/api/v1/bills/${sent?.id}` })).json();
    expect(received).toMatchObject({ id: sent?.id, direction: 'in', counterparty_user_id: alice.userId });
    const carol = await apiUser(world, 0n);
    expectError(await carol.call({ method: 'GET', url: `/api/v1/bills/${sent?.id}` }), 404, 'bill_not_found', 'id');
    expectError(
      await alice.call({ method: 'GET', url: '/api/v1/bills?direction=up' }),
      400,
      'parameter_invalid',
      'direction',
    );
  });

  it('answers an empty page past the oldest entry', async () => {
    const user = await apiUser(world, 1_00n);
    const res = await user.call({ method: 'GET', url: '/api/v1/bills?cursor=1' });
    expect(res.json()).toEqual({ data: [], has_more: false, next_cursor: null });
  });
});

describe('POST /api/v1/payment-codes', () => {
  it('answers a fresh single-use code that a till can redeem for the user', async () => {
    const user = await apiUser(world, 0n);
    const first = await user.call({ method: 'POST', url: '/api/v1/payment-codes' });
    const second = await user.call({ method: 'POST', url: '/api/v1/payment-codes' });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toEqual({ payment_code: expect.stringMatching(/^28\d{16}$/), expires_in_s: 120 });
    expect(second.json().payment_code).not.toBe(first.json().payment_code);
    expect(await world.platform.members.redeemPaymentCode(first.json().payment_code)).toBe(user.userId);
  });
});

describe('GET /api/v1/trades', () => {
  it('lists the trades the user paid, newest first, each once across pages, and no one else’s', async () => {
    const alice = await apiUser(world, 100_00n);
    const bob = await apiUser(world, 100_00n);
    const paid: string[] = [];
    for (const amount of ['1.00', '2.00', '3.00', '4.00', '5.00'])
      paid.push(await paidTrade(world, appId, alice.userId, amount));
    await paidTrade(world, appId, bob.userId, '9.00');
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const query: string = after === null ? '?limit=2' : `?limit=2&after=${after}`;
      const res = await alice.call({ method: 'GET', url: `/api/v1/trades${query}` });
      expect(res.statusCode).toBe(200);
      const page = res.json() as {
        data: { trade_no: string; buyer_id: string }[];
        has_more: boolean;
        next_after: string | null;
      };
      for (const trade of page.data) expect(trade.buyer_id).toBe(alice.userId);
      seen.push(...page.data.map((t) => t.trade_no));
      expect(page.has_more).toBe(page.next_after !== null);
      after = page.next_after;
      pages++;
    } while (after !== null);
    expect(seen).toEqual([...paid].reverse());
    expect(pages).toBe(3);
    const firstPage = await bob.call({ method: 'GET', url: '/api/v1/trades' });
    expect(firstPage.json()).toMatchObject({ has_more: false, next_after: null });
    expect(firstPage.json().data).toHaveLength(1);
  });

  it('refuses a malformed page with a 400, and an unknown cursor answers an empty page', async () => {
    const alice = await apiUser(world, 0n);
    for (const query of ['limit=0', `limit=${limits.billsPageMax + 1}`, 'limit=1.5', 'after=abc', 'colour=red'])
      expectError(await alice.call({ method: 'GET', url: `/api/v1/trades?${query}` }), 400, 'parameter_invalid');
    const res = await alice.call({ method: 'GET', url: '/api/v1/trades?after=2026010122999999999999999999' });
    expect(res.json()).toEqual({ data: [], has_more: false, next_after: null });
  });
});

describe('GET /api/v1/trades/:tradeNo', () => {
  it('shows a trade to its buyer, and to nobody else', async () => {
    const alice = await apiUser(world, 10_00n);
    const bob = await apiUser(world, 10_00n);
    const tradeNo = await paidTrade(world, appId, alice.userId, '2.50');
    const own = await alice.call({ method: 'GET', url: `/api/v1/trades/${tradeNo}` });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({
      trade_no: tradeNo,
      status: 'TRADE_SUCCESS',
      total_amount: '2.50',
      refunded_amount: '0.00',
      subject: 'Tea',
      buyer_id: alice.userId,
      paid_at: expect.any(String),
      closed_at: null,
    });
    const foreign = await bob.call({ method: 'GET', url: `/api/v1/trades/${tradeNo}` });
    const missing = await bob.call({ method: 'GET', url: '/api/v1/trades/2026010122999999999999999999' });
    expectError(foreign, 404, 'trade_not_found', 'trade_no');
    expect(foreign.json()).toEqual(missing.json());
  });

  it('does not show an unpaid trade, which has no buyer yet', async () => {
    const alice = await apiUser(world, 10_00n);
    const trade = await world.platform.trades.create({
      appId,
      outTradeNo: `unpaid-${Date.now()}`,
      totalAmount: '1.00',
      subject: 'Tea',
    });
    expectError(await alice.call({ method: 'GET', url: `/api/v1/trades/${trade.tradeNo}` }), 404, 'trade_not_found');
  });

  it('refuses a malformed trade number with a 400', async () => {
    const alice = await apiUser(world, 0n);
    for (const tradeNo of ['abc', '%F0%9F%92%B0', '1'.repeat(65), "1'%20or%201=1"]) {
      expectError(await alice.call({ method: 'GET', url: `/api/v1/trades/${tradeNo}` }), 400, 'parameter_invalid');
    }
  });
});

describe('unknown routes under /api/v1', () => {
  it('answer 404 in the error shape', async () => {
    const alice = await apiUser(world, 0n);
    expectError(await alice.call({ method: 'GET', url: '/api/v1/nothing-here' }), 404, 'route_not_found', null);
    expectError(await world.app.inject({ method: 'PUT', url: '/api/v1/balance' }), 404, 'route_not_found', null);
  });
});
