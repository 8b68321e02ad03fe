/**
 * `paybao bench risk`, small: a thousand users' facts warmed, twenty thousand decisions timed on
 * the Double 11 rule set, and the counters-from-the-database baseline, on the engine under test.
 */
import { expect, it } from 'vitest';
import { benchRisk } from '../../src/cli/bench/risk.ts';

it('decides in memory on ten rules, against a read of the counters per decision', async () => {
  const result = await benchRisk({
    json: true,
    users: 1000,
    decisions: 20_000,
    baselineSeconds: 1,
    databaseUrl: process.env.DATABASE_URL,
  });
  expect(result).toMatchObject({ users: 1000, decisions: 20_000, rules: 10 });
  expect(result.decisions_per_s).toBeGreaterThan(0);
  expect(result.baseline_decisions_per_s).toBeGreaterThan(0);
  // A few decisions are held back (large amounts, bursts): the rules fire.
  expect(result.held_back_share).toBeGreaterThan(0);
  expect(result.counter_keys).toBeGreaterThan(1000);
}, 120_000);
