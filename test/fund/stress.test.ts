/**
 * The liquidity stress: `Fund.stress(share)` takes the `share` of holders with the most shares,
 * each asking fast redemption of all of it up to the daily fast limit, and tells what the pool
 * covers (in arrival order, a request it cannot pay whole refused, as a real redemption is), how
 * many are refused and how long the company's refill rate takes to restore the pool and to cover
 * the refused — computed from the books, writing nothing and moving no money. Bad input is refused.
 */
import { describe, expect, it } from 'vitest';
import { isFundError, stressPool } from '../../src/fund/index.ts';
import { moveTo, useFundWorld } from './support.ts';

const world = useFundWorld({ users: 10, pool: '35000.00' });

async function books() {
  const { platform } = world();
  return platform.db.query(
    'select id, debits_pending, debits_posted, credits_pending, credits_posted from ledger_accounts order by id',
  );
}

describe('fund stress', () => {
  it('covers what the pool can, refuses the rest, and tells how long the refill takes, moving nothing', async () => {
    const { platform, clock, users } = world();
    for (const [i, user] of users.entries())
      await platform.fund.orders.purchase(user, {
        productCode: 'YEB',
        amount: `${(i + 1) * 3000}.00`,
        idempotencyKey: 'buy',
      });
    moveTo(clock, '2026-11-12 10:00');
    await platform.fund.orders.confirmDue();
    await platform.fund.setRefillRate('TIANHONG', '1000.00');
    const before = await books();
    const report = await platform.fund.stress('0.5');
    // The five largest (30,000 … 18,000) each ask their daily limit, 10,000.00: three fit in the pool.
    expect(report.pools).toEqual([
      {
        companyCode: 'TIANHONG',
        pool: '35000.00',
        holders: 10,
        asking: 5,
        asked: '50000.00',
        covered: 3,
        coveredAmount: '30000.00',
        refused: 2,
        refusedAmount: '20000.00',
        refillPerHour: '1000.00',
        hoursToRestore: '30.00',
        hoursToCoverRefused: '15.00',
      },
    ]);
    expect(await books()).toEqual(before);
    // Everyone asking: seven at the 10,000.00 limit and 9,000, 6,000, 3,000 below it, 88,000.00 in all; smaller requests fitting where larger ones did not.
    const all = (await platform.fund.stress('1')).pools[0];
    expect(all).toMatchObject({ asking: 10, asked: '88000.00' });
    expect((all?.covered ?? 0) + (all?.refused ?? 0)).toBe(10);
  });

  it('pays in arrival order while it can, refusing each request it cannot pay whole', () => {
    expect(stressPool('X', 100n, 30n, { holders: 4, asked: [60n, 50n, 40n] })).toMatchObject({
      covered: 2,
      coveredAmount: '1.00',
      refused: 1,
      refusedAmount: '0.50',
      hoursToRestore: '3.34',
      hoursToCoverRefused: '1.67',
    });
  });

  it('refuses a share that is not above 0 and at most 1, with at most four places', async () => {
    const { platform } = world();
    for (const share of ['0', '1.5', '-0.3', 'abc', '0.12345', ''])
      await expect(platform.fund.stress(share)).rejects.toSatisfy((e: unknown) => isFundError(e, 'invalid_share'));
    await expect(platform.fund.setRefillRate('NOPE', '1.00')).rejects.toSatisfy((e: unknown) =>
      isFundError(e, 'unknown_company'),
    );
    await expect(platform.fund.setRefillRate('TIANHONG', '0.00')).rejects.toSatisfy((e: unknown) =>
      isFundError(e, 'invalid_amount'),
    );
  });
});
