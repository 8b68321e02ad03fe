/**
 * The fund company's daily figure through the operators' console, as `paybao fund declare` and
 * `paybao fund distribute` do it: an operator declares income per 10,000 shares for a day and
 * distributes it; the holder's shares grow by exactly the declared income. Refusals answer the
 * fund's codes in the console's `{code, message}` and write nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { verifyFundBooks } from '../../src/fund/index.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { beijing, moveTo } from '../fund/support.ts';
import { type ApiUser, type ApiWorld, apiUser, apiWorld } from './support.ts';

const clock = new ManualClock(beijing('2026-11-02 10:00'));
let world: ApiWorld;
let user: ApiUser;
let token = '';

beforeAll(async () => {
  world = await apiWorld({ clock });
  const { catalog } = world.platform.fund;
  await catalog.createCompany({ code: 'TIANHONG', name: 'Tianhong Asset Management' });
  await catalog.createProduct({ code: 'YEB', companyCode: 'TIANHONG', name: "Tianhong Yu'e Bao" });
  user = await apiUser(world, 2_000_000n);
  token = (await world.platform.operators.create('fund-ops')).token;
});

afterAll(async () => {
  expect(await verifyLedger(world.platform.db)).toEqual([]);
  expect(await verifyFundBooks(world.platform.db)).toEqual([]);
  await world.close();
});

const console_ = (method: 'PUT' | 'POST', url: string, payload?: object, bearer = token) =>
  world.app.inject({ method, url: `/console/v1${url}`, headers: { authorization: `Bearer ${bearer}` }, payload });

async function declaredDays(): Promise<unknown[]> {
  return world.platform.db.query('select product_code, day, per10k_scaled, status from fund_income_days order by day');
}

describe("Yu'e Bao's daily figure in the console", () => {
  it('declares and distributes a day: the holder earns exactly the declared income', async () => {
    await world.platform.fund.orders.purchase(user.userId, {
      productCode: 'YEB',
      amount: '10000.00',
      idempotencyKey: 'c-1',
    });
    moveTo(clock, '2026-11-03 09:00');
    await world.platform.fund.runDue();
    const declared = await console_('PUT', '/fund/products/YEB/income/2026-11-03', { per10k: '0.6543' });
    expect(declared.statusCode).toBe(200);
    expect(declared.json()).toEqual({ product_code: 'YEB', date: '2026-11-03', per10k: '0.6543', status: 'DECLARED' });
    moveTo(clock, '2026-11-04 09:00');
    const distributed = await console_('POST', '/fund/distributions/2026-11-03');
    expect(distributed.statusCode).toBe(200);
    // 10,000.00 yuan of shares at 0.6543 yuan per 10,000: 0.65 yuan, the rest of the day's total none.
    expect(distributed.json()).toEqual({
      data: [{ product_code: 'YEB', date: '2026-11-03', holders: 1, total_amount: '0.65' }],
    });
    const [holding] = await world.platform.fund.orders.holdings(user.userId);
    expect(holding?.shares).toBe('10000.65');
  });

  it('refuses with the fund codes and writes nothing', async () => {
    const before = await declaredDays();
    const cases: [Awaited<ReturnType<typeof console_>>, number, string][] = [
      [await console_('PUT', '/fund/products/YEB/income/2026-11-03', { per10k: '0.7000' }), 409, 'already_distributed'],
      [await console_('PUT', '/fund/products/NOPE/income/2026-11-04', { per10k: '0.7000' }), 404, 'unknown_product'],
      [await console_('PUT', '/fund/products/YEB/income/2026-11-30', { per10k: '0.7000' }), 400, 'day_in_future'],
      [await console_('PUT', '/fund/products/YEB/income/2026-02-30', { per10k: '0.7000' }), 400, 'invalid_day'],
      [await console_('PUT', '/fund/products/YEB/income/2026-11-04', { per10k: '0.65432' }), 400, 'INVALID_PARAMETER'],
      [await console_('POST', '/fund/distributions/2026-11-04'), 400, 'day_not_over'],
      [await console_('PUT', '/fund/products/YEB/income/2026-11-04', { per10k: '1' }, 'nobody'), 401, 'UNAUTHORIZED'],
    ];
    for (const [res, status, code] of cases) {
      expect({ status: res.statusCode, code: res.json().code }).toEqual({ status, code });
    }
    expect(await declaredDays()).toEqual(before);
  });
});
