/**
 * `paybao bench redpacket`, small: a campaign packet of a thousand shares grabbed by twice as many
 * users at once, and the row-lock-per-grab baseline, on the engine under test. The bench checks
 * that exactly the shares were grabbed and that the ledger and the packets' books hold.
 */
import { expect, it } from 'vitest';
import { benchRedPacket } from '../../src/cli/bench/redpacket.ts';

it('grabs every share of a campaign packet in batches, against one transaction per grab', async () => {
  const result = await benchRedPacket({
    json: true,
    shares: 1000,
    users: 2000,
    clients: 100,
    baselineSeconds: 1,
    verify: true,
    databaseUrl: process.env.DATABASE_URL,
  });
  expect(result).toMatchObject({ shares: 1000, users: 2000, clients: 100 });
  expect(result.grabs_per_s).toBeGreaterThan(0);
  expect(result.grabs_per_batch).toBeGreaterThan(1);
  expect(result.baseline_grabs_per_s).toBeGreaterThan(0);
}, 120_000);
