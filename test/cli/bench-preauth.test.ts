/**
 * `paybao bench preauth`, small: forty freeze + settle pairs through the gateway and as many plain
 * payments, on the engine under test. The bench fails if any call is refused, and checks that the
 * ledger and every freeze order's books hold.
 */
import { expect, it } from 'vitest';
import { benchPreauth } from '../../src/cli/bench/preauth.ts';

it('freezes and settles deposits through the gateway, against plain payments', async () => {
  const result = await benchPreauth({
    json: true,
    pairs: 40,
    buyers: 5,
    clients: 4,
    verify: true,
    databaseUrl: process.env.DATABASE_URL,
  });
  expect(result).toMatchObject({ pairs: 40, clients: 4, violations: 0 });
  expect(result.pairs_per_s).toBeGreaterThan(0);
  expect(result.baseline_payments_per_s).toBeGreaterThan(0);
}, 180_000);
