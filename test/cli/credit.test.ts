/**
 * `paybao credit score`: `--all` runs today's nightly scoring (a second time it says the run
 * finished, `--restart` scores everyone again), `<user_id>` prints one user's score now (N/A for
 * a new user, with why), and neither or both is refused; `paybao bench credit`, small, times the
 * nightly run against one query per user and reads at a steady rate, on the engine under test.
 */
import { describe, expect, it } from 'vitest';
import { benchCredit } from '../../src/cli/bench/credit.ts';
import { creditCommand } from '../../src/cli/credit.ts';
import { usersCommand } from '../../src/cli/users.ts';
import { useCliEnvironment } from '../support/cli-env.ts';
import { runCli } from './in-process.ts';

useCliEnvironment('paybao-cli-credit-');

describe('paybao credit score', () => {
  it('scores everyone today once, prints one user, and refuses an unclear ask', async () => {
    const created = await runCli(usersCommand(), ['create', '--phone', '13900007777', '--password', 'pass word 1']);
    expect(created.exitCode).toBe(0);
    const userId = JSON.parse(created.stdout).user_id as string;
    const all = await runCli(creditCommand(), ['score', '--all']);
    expect(all.exitCode).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ users: 1 });
    const again = await runCli(creditCommand(), ['score', '--all']);
    expect(JSON.parse(again.stdout)).toMatchObject({ users: 0 });
    expect(again.stderr).toContain('finished already');
    const restart = await runCli(creditCommand(), ['score', '--all', '--restart']);
    expect(JSON.parse(restart.stdout)).toMatchObject({ users: 1 });
    const one = await runCli(creditCommand(), ['score', userId]);
    expect(JSON.parse(one.stdout)).toMatchObject({
      user_id: userId,
      score: 'N/A',
      reasons: ['PAYMENTS_FEW', 'ACCOUNT_NEW'],
    });
    for (const args of [['score'], ['score', '--all', userId]]) {
      const refused = await runCli(creditCommand(), args);
      expect(refused).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('either --all or one user_id') });
    }
  }, 120_000);
});

it('bench credit: the nightly run against one query per user, and steady reads', async () => {
  const result = await benchCredit({
    json: true,
    users: 2000,
    baselineSeconds: 1,
    readRate: 50,
    readSeconds: 1,
    databaseUrl: process.env.DATABASE_URL,
  });
  expect(result).toMatchObject({ users: 2000, online_reads: 50 });
  expect(result.scored + result.not_applicable).toBe(2000);
  expect(result.scored).toBeGreaterThan(0);
  expect(result.not_applicable).toBeGreaterThan(0);
  expect(result.nightly_users_per_s).toBeGreaterThan(0);
  expect(result.baseline_users_per_s).toBeGreaterThan(0);
}, 300_000);
