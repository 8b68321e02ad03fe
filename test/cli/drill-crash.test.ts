/**
 * `paybao drill crash`, small: the server (`paybao start`, a child process) killed with SIGKILL
 * twice under payment load on the engine under test, then restarted; the drill checks the books
 * itself, and here its answer is checked: nothing acknowledged lost, nothing moved twice or
 * without its trade, the ledger verifies.
 */
import { expect, it } from 'vitest';
import { crashDrill } from '../../src/cli/drill/crash.ts';

it('kills the server under load twice and loses no acknowledged payment', async () => {
  const result = await crashDrill({
    json: true,
    rounds: 2,
    clients: 4,
    buyers: 4,
    loadSeconds: 1,
    databaseUrl: process.env.DATABASE_URL,
  });
  expect(result.rounds).toHaveLength(2);
  for (const round of result.rounds) {
    expect(round.acknowledged).toBeGreaterThan(0);
    expect(round.recovery_s).toBeGreaterThan(0);
  }
  expect(result).toMatchObject({
    lost: 0,
    applied_twice: 0,
    moved_unpaid: 0,
    paid_unmoved: 0,
    ledger_violations: 0,
    ok: true,
  });
  expect(result.acknowledged).toBe(result.rounds.reduce((sum, round) => sum + round.acknowledged, 0));
}, 180_000);
