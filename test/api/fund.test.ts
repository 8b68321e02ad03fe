/**
 * Yu'e Bao over the native API: a quote names the trade and confirmation days before the user
 * confirms; a purchase answers the same days and is "to be confirmed" until then; the clock moves
 * (the injected one), the income is declared and distributed, and the holdings show yesterday's
 * and the total income and the 7-day yield, whose last 30 days the yield route lists; standard and
 * fast redemptions answer their days; orders are listed; refusals are the fund's catalog in the
 * native error shape and write nothing. Both books balance at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { formatAmount } from '../../src/core/money.ts';
import { beijingDayAndMinute, verifyFundBooks } from '../../src/fund/index.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { beijing, moveTo } from '../fund/support.ts';
import { type ApiUser, type ApiWorld, apiUser, apiWorld, expectError } from './support.ts';

const clock = new ManualClock(beijing('2026-11-02 10:00'));
let world: ApiWorld;
let user: ApiUser;
let keys = 0;

beforeAll(async () => {
  world = await apiWorld({ clock });
  const { catalog } = world.platform.fund;
  await catalog.createCompany({ code: 'TIANHONG', name: 'Tianhong Asset Management' });
  await catalog.createProduct({ code: 'YEB', companyCode: 'TIANHONG', name: "Tianhong Yu'e Bao" });
  await catalog.refillPool('TIANHONG', '10000.00', 'initial');
  user = await apiUser(world, 1_000_000n);
});

afterAll(async () => {
  expect(await verifyLedger(world.platform.db)).toEqual([]);
  expect(await verifyFundBooks(world.platform.db)).toEqual([]);
  await world.close();
});

const order = (url: string, payload: object, key = `k-${++keys}`) =>
  user.call({ method: 'POST', url, headers: { 'idempotency-key': key }, payload });

/** Logs the user in again once the clock has moved past the session's day. */
async function relogin(): Promise<void> {
  const res = await world.app.inject({
    method: 'POST',
    url: '/api/v1/sessions',
    payload: { phone: user.phone, password: user.password },
  });
  const token = res.json().token as string;
  user = {
    ...user,
    token,
    call: (o) => world.app.inject({ ...o, headers: { authorization: `Bearer ${token}`, ...o.headers } }),
  };
}

describe("Yu'e Bao over the native API", () => {
  it('quotes, buys, earns, shows the yield, redeems and lists the orders', async () => {
    const quote = await user.call({ method: 'GET', url: '/api/v1/fund/quote?kind=purchase' });
    expect(quote.statusCode).toBe(200);
    expect(quote.json()).toMatchObject({ kind: 'purchase', trade_day: '2026-11-02', confirm_day: '2026-11-03' });
    expect(quote.json().note).toContain('2026-11-03');

    const bought = await order('/api/v1/fund/purchases', { product_code: 'YEB', amount: '1000.00' });
    expect(bought.statusCode).toBe(201);
    expect(bought.json()).toMatchObject({
      kind: 'purchase',
      status: 'to_be_confirmed',
      trade_day: quote.json().trade_day,
      confirm_day: quote.json().confirm_day,
    });

    // Ten days of income at 0.6000 per 10,000 shares; the job confirms and distributes as days pass.
    const { fund } = world.platform;
    for (let d = 3; d <= 12; d++) {
      moveTo(clock, `2026-11-${String(d).padStart(2, '0')} 09:00`);
      await fund.runDue();
      await fund.income.declare('YEB', `2026-11-${String(d).padStart(2, '0')}`, '0.6000');
    }
    moveTo(clock, '2026-11-13 09:00');
    await fund.runDue();
    await relogin();
    const holdings = await user.call({ method: 'GET', url: '/api/v1/fund/holdings' });
    expect(holdings.statusCode).toBe(200);
    const [h] = holdings.json().data;
    expect(h).toMatchObject({
      product_code: 'YEB',
      yesterday: '2026-11-12',
      yesterday_income: '0.06',
      total_income: '0.60',
      shares: '1000.60',
      to_be_confirmed: '0.00',
    });
    expect(Number(h.seven_day_yield)).toBeCloseTo(2.2141, 3);

    const series = await user.call({ method: 'GET', url: '/api/v1/fund/products/YEB/yield' });
    expect(series.statusCode).toBe(200);
    const points = series.json().data as { day: string; seven_day_yield: string | null }[];
    expect(points).toHaveLength(30);
    expect(points.at(-1)).toEqual({ day: '2026-11-12', seven_day_yield: h.seven_day_yield });
    expect(points.filter((p) => p.seven_day_yield !== null).map((p) => p.day)).toEqual([
      '2026-11-09',
      '2026-11-10',
      '2026-11-11',
      '2026-11-12',
    ]);

    const standard = await order('/api/v1/fund/redemptions', {
      product_code: 'YEB',
      amount: '100.00',
      kind: 'standard',
    });
    expect(standard.statusCode).toBe(201);
    expect(standard.json()).toMatchObject({ kind: 'standard', status: 'to_be_confirmed', confirm_day: '2026-11-16' });
    clock.advanceMs(60_000);
    const fast = await order('/api/v1/fund/redemptions', { product_code: 'YEB', amount: '50.00', kind: 'fast' });
    expect(fast.json()).toMatchObject({ kind: 'fast', status: 'paid' });
    const listed = await user.call({ method: 'GET', url: '/api/v1/fund/orders' });
    expect(listed.json().data.map((o: { kind: string }) => o.kind)).toEqual(['fast', 'standard', 'purchase']);
    // The wallet's bill names the fund's movements.
    const bills = await user.call({ method: 'GET', url: '/api/v1/bills' });
    const types = (bills.json().data as { type: string; direction: string; amount: string }[]).map(
      (b) => `${b.type} ${b.direction} ${b.amount}`,
    );
    expect(types).toContain('fund_redemption in 50.00');
    expect(types).toContain('fund_purchase out 1000.00');
  });

  it('refuses in the native shape, writing nothing', async () => {
    const before = await world.platform.fund.orders.orders(user.userId);
    expectError(
      await order('/api/v1/fund/redemptions', { product_code: 'YEB', amount: '99999.00', kind: 'fast' }),
      402,
      'shares_not_enough',
    );
    expectError(
      await order('/api/v1/fund/purchases', { product_code: 'NOPE', amount: '1.00' }),
      404,
      'unknown_product',
    );
    expectError(
      await order('/api/v1/fund/purchases', { product_code: 'YEB', amount: '0.50' }),
      400,
      'amount_below_minimum',
    );
    const noKey = await user.call({
      method: 'POST',
      url: '/api/v1/fund/purchases',
      payload: { product_code: 'YEB', amount: '1.00' },
    });
    expect(noKey.statusCode).toBe(400);
    const badKind = await user.call({ method: 'GET', url: '/api/v1/fund/quote?kind=slow' });
    expect(badKind.statusCode).toBe(400);
    expect(await world.platform.fund.orders.orders(user.userId)).toEqual(before);
  });

  it('lets the user choose, read and stop the evening auto-transfer of idle balance', async () => {
    const put = (payload: object) => user.call({ method: 'PUT', url: '/api/v1/fund/auto-transfer', payload });
    const off = { enabled: false, product_code: null, keep_amount: null };
    expect((await user.call({ method: 'GET', url: '/api/v1/fund/auto-transfer' })).json()).toEqual(off);
    expectError(await put({ product_code: 'NOPE', keep_amount: '500.00' }), 404, 'unknown_product');
    expect((await put({ product_code: 'YEB', keep_amount: '1.5.0' })).statusCode).toBe(400);
    const chosen = await put({ product_code: 'YEB', keep_amount: '500.00' });
    expect(chosen.statusCode).toBe(200);
    expect(chosen.json()).toEqual({ enabled: true, product_code: 'YEB', keep_amount: '500.00' });

    // At 21:00 Beijing the fund job buys what the wallet holds above 500.00, once that day.
    const { fund, members } = world.platform;
    const day = beijingDayAndMinute(clock.nowNs()).day;
    const before = await members.walletBalance(user.userId);
    moveTo(clock, `${day} 21:05`);
    await fund.runDue();
    await fund.runDue();
    await relogin();
    expect(await members.walletBalance(user.userId)).toBe(50_000n);
    const orders = (await user.call({ method: 'GET', url: '/api/v1/fund/orders' })).json().data;
    expect(orders.filter((o: { amount: string }) => o.amount === formatAmount(before - 50_000n))).toHaveLength(1);

    const stopped = await user.call({ method: 'DELETE', url: '/api/v1/fund/auto-transfer' });
    expect(stopped.json()).toEqual(off);
  });
});
