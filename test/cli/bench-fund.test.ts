/**
 * `paybao bench fund`, small: a few thousand holders, payments through the real gateway at a low
 * rate before and during the distribution, on the engine under test. The bench checks the books
 * and that every holder was paid itself; here its answer is checked for sense.
 */
import { expect, it } from 'vitest';
import { benchFund } from '../../src/cli/bench/fund.ts';

it('distributes to every holder in the bulk lane while payments go through the gateway, and reports its figures', async () => {
  const result = await benchFund({
    json: true,
    holders: 3000,
    baselineSeconds: 1,
    payRate: 20,
    paySeconds: 1,
    lane: 'bulk',
    verify: true,
    databaseUrl: process.env.DATABASE_URL,
  });
  expect(result).toMatchObject({ holders: 3000, lane: 'bulk', pay_rate: 20 });
  expect(result.distribution_holders_per_s).toBeGreaterThan(0);
  expect(result.baseline_holders_per_s).toBeGreaterThan(0);
  expect(result.pay_alone_per_s).toBeGreaterThan(0);
  expect(result.pay_during_p99_ms).toBeGreaterThanOrEqual(0); // the distribution may end before one is due
  expect(BigInt(result.income_fen)).toBeGreaterThan(0n);
}, 180_000);
