/**
 * The daily fast-redemption limit holds under concurrent requests: many fast redemptions of one
 * user at once, across two products, pay out at most the limit, the others are refused with
 * `fast_limit_exceeded` and write nothing; and when the pool cannot cover a fast redemption, the
 * refusal offers standard redemption, which still works.
 */
import { describe, expect, it } from 'vitest';
import { limits } from '../../src/core/limits.ts';
import { isFundError } from '../../src/fund/index.ts';
import { moveTo, useFundWorld } from './support.ts';

const world = useFundWorld({ users: 2, pool: '30000.00' });

describe('fast redemption', () => {
  it('never pays one user more than the daily limit, however many ask at once', async () => {
    const { platform, clock, users } = world();
    const user = users[0] ?? '';
    for (const p of ['YEB', 'YEB2'])
      await platform.fund.orders.purchase(user, { productCode: p, amount: '20000.00', idempotencyKey: `buy-${p}` });
    moveTo(clock, '2026-11-12 10:00');
    await platform.fund.orders.confirmDue();
    const before = await platform.members.walletBalance(user);
    const asks = Array.from({ length: 24 }, (_, i) =>
      platform.fund.orders
        .redeem(user, {
          productCode: i % 2 ? 'YEB' : 'YEB2',
          amount: '1000.00',
          idempotencyKey: `fast-${i}`,
          kind: 'fast',
        })
        .then(
          () => 'ok',
          (e: unknown) => (isFundError(e) ? e.code : Promise.reject(e)),
        ),
    );
    const answers = await Promise.all(asks);
    const paid = BigInt(limits.fundFastRedemptionDailyFenMax) / 100_000n;
    expect(answers.filter((a) => a === 'ok').length).toBe(Number(paid));
    expect(answers.filter((a) => a !== 'ok').every((a) => a === 'fast_limit_exceeded')).toBe(true);
    expect(await platform.members.walletBalance(user)).toBe(before + BigInt(limits.fundFastRedemptionDailyFenMax));
    const [orders] = await platform.db.query<{ n: bigint }>(
      "select count(*)::bigint n from fund_orders where kind = 'FAST'",
    );
    expect(orders?.n).toBe(paid);
    // The next natural day the limit starts again.
    moveTo(clock, '2026-11-13 00:00');
    await platform.fund.orders.redeem(user, {
      productCode: 'YEB',
      amount: '1000.00',
      idempotencyKey: 'fast-next-day',
      kind: 'fast',
    });
  });

  it('refuses a fast redemption the pool cannot cover, writing nothing, and standard redemption still works', async () => {
    const { platform, clock, users } = world();
    const user = users[1] ?? '';
    await platform.fund.catalog.createCompany({ code: 'SMALL', name: 'A small fund company' });
    await platform.fund.catalog.createProduct({ code: 'TINY', companyCode: 'SMALL', name: 'Tiny' });
    await platform.fund.catalog.refillPool('SMALL', '100.00', 'first');
    await platform.fund.orders.purchase(user, { productCode: 'TINY', amount: '500.00', idempotencyKey: 'buy' });
    moveTo(clock, '2026-11-16 10:00');
    await platform.fund.orders.confirmDue();
    const before = await platform.members.walletBalance(user);
    const error = await platform.fund.orders
      .redeem(user, { productCode: 'TINY', amount: '200.00', idempotencyKey: 'fast', kind: 'fast' })
      .catch((e: unknown) => e);
    expect(isFundError(error) && error.code).toBe('pool_insufficient');
    expect(isFundError(error) && error.message).toMatch(/standard redemption/);
    const [quota] = await platform.db.query<{ n: bigint }>(
      "select coalesce(sum(used_fen), 0)::bigint n from fund_fast_quota where user_id = $1 and day = '2026-11-16'",
      [user],
    );
    expect(quota?.n).toBe(0n);
    const standard = await platform.fund.orders.redeem(user, {
      productCode: 'TINY',
      amount: '200.00',
      idempotencyKey: 'fast',
      kind: 'standard',
    });
    expect(standard.dueDay).toBe('2026-11-17');
    await platform.fund.orders.confirmDue('2026-11-17');
    expect(await platform.members.walletBalance(user)).toBe(before + 20_000n);
    // The report: the pool (repaid by the custodian on each fast redemption's next trading day) against the largest day's demand.
    const report = await platform.fund.report();
    expect(report.pools.find((p) => p.companyCode === 'SMALL')).toMatchObject({ pool: '100.00', covered: true });
    expect(report.pools.find((p) => p.companyCode === 'TIANHONG')).toMatchObject({
      pool: '30000.00',
      dayDemand: '10000.00',
      covered: true,
    });
  });
});
