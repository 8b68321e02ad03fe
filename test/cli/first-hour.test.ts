/**
 * What a newcomer meets in the first hour of the CLI, run in-process on a fresh data directory
 * (or a fresh schema when DATABASE_URL is set):
 * - demo users made with `users create --balance` leave books that `report reserves` calls
 *   covered (their money came from the demo reserve, shown apart) and `ledger verify` passes;
 *   a demo deposit moves money once however often it is repeated;
 * - every report and listing command prints one JSON document with `--json`;
 * - `sms list` says on stderr that the outbox is empty, leaving stdout the (empty) list;
 * - `reconcile` refuses a day that is not on the calendar (2026-02-30) and writes nothing, and
 *   with the bank down says that nothing was reconciled, not that nothing was charged.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reconcileCommand, reportCommand } from '../../src/cli/channels.ts';
import { settleCommand } from '../../src/cli/escrow.ts';
import { keysCommand } from '../../src/cli/keys.ts';
import { ledgerCommand } from '../../src/cli/ledger.ts';
import { withPlatform } from '../../src/cli/open-platform.ts';
import { smsCommand } from '../../src/cli/sms.ts';
import { usersCommand } from '../../src/cli/users.ts';
import { useCliEnvironment } from '../support/cli-env.ts';
import { engine } from '../support/engine.ts';
import { freePort } from '../support/ports.ts';
import { runCli } from './in-process.ts';

const dir = useCliEnvironment('paybao-first-hour-');

const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

// The timeout only guards against a hang: each command opens the database, which takes what it
// takes on a busy machine.
describe('the first hour with the paybao CLI', { timeout: 600_000 }, () => {
  it('demo users with --balance leave a covered platform whose ledger verifies', async () => {
    const users = [
      ['13800138000', '100.00'],
      ['13900139000', '88.88'],
    ];
    const ids: string[] = [];
    for (const [phone, balance] of users) {
      const run = await runCli(usersCommand(), [
        'create',
        '--phone',
        phone as string,
        '--password',
        'buyer pass',
        '--balance',
        balance as string,
      ]);
      expect(run).toMatchObject({ exitCode: 0, stderr: '' });
      ids.push(json(run.stdout).user_id as string);
    }

    const reserves = await runCli(reportCommand(), ['reserves', '--json']);
    expect(reserves.exitCode).toBe(0);
    expect(reserves.stdout.trim().split('\n')).toHaveLength(1);
    expect(json(reserves.stdout)).toMatchObject({
      customerBalances: '188.88',
      demoReserve: '188.88',
      reserves: '188.88',
      surplus: '0.00',
      covered: true,
      coveragePercent: '100.00',
    });
    // No real bank's reserve claims money that bank does not hold.
    expect((json(reserves.stdout).banks as { reserve: string }[]).map((b) => b.reserve)).toEqual([
      '0.00',
      '0.00',
      '0.00',
    ]);

    // The demo deposit is idempotent by (user, reference): a repeat moves nothing; another amount
    // under the same reference, an unknown user or a zero amount is refused.
    const [first] = ids as [string];
    const outcomes = await withPlatform(async (p) => {
      const again = await p.channels.demo.deposit(first, 10_000n, 'users create');
      const refusals = await Promise.all([
        p.channels.demo.deposit(first, 1n, 'users create').catch((e: { code: string }) => e.code),
        p.channels.demo.deposit('2088000000000000', 1n, 'x').catch((e: { code: string }) => e.code),
        p.channels.demo.deposit(first, 0n, 'x').catch((e: { code: string }) => e.code),
      ]);
      return { again, refusals, balance: await p.members.walletBalance(first) };
    });
    expect(outcomes).toEqual({
      again: 'exists',
      refusals: ['parameter_invalid', 'user_not_found', 'amount_invalid'],
      balance: 10_000n,
    });

    const verify = await runCli(ledgerCommand(), ['verify', '--json']);
    expect(verify.exitCode).toBe(0);
    expect(json(verify.stdout)).toEqual({ ok: true, engine, violations: [] });
  });

  it('prints one JSON document from every report and listing command given --json', async () => {
    const lossRate = await runCli(reportCommand(), ['loss-rate', '--json']);
    expect(lossRate.exitCode).toBe(0);
    const part = { losses: '0.00', volume: '0.00', lossCount: 0, perHundredThousand: '0.0000' };
    expect(json(lossRate.stdout)).toEqual({ currency: 'CNY', channels: part, escrow: part, fraud: part, total: part });
    // Without --json it stays a text report for people.
    const text = await runCli(reportCommand(), ['loss-rate']);
    expect(text.stdout).toMatch(/^channels +losses 0\.00 CNY in 0 cases/m);

    const keys = await runCli(keysCommand(), ['list', '--json']);
    expect(keys.exitCode).toBe(0);
    expect(JSON.parse(keys.stdout)).toEqual([
      expect.objectContaining({ status: 'active', alipay_public_key: expect.stringContaining('PUBLIC KEY') }),
    ]);

    const settle = await runCli(settleCommand(), ['--json']);
    expect(settle).toMatchObject({ exitCode: 0, stdout: '[]\n' });

    const sms = await runCli(smsCommand(), ['list', '--json']);
    expect(sms).toMatchObject({ exitCode: 0, stdout: '[]\n' });

    const reserves = await runCli(reportCommand(), ['reserves', '--json']);
    expect(json(reserves.stdout)).toHaveProperty('covered', true);
  });

  it('says on stderr that the SMS outbox is empty, and lists messages once there are some', async () => {
    const empty = await runCli(smsCommand(), ['list']);
    expect(empty).toEqual({ exitCode: 0, stdout: '', stderr: 'paybao: the SMS outbox is empty\n' });
    const forPhone = await runCli(smsCommand(), ['list', '--phone', '13800138000']);
    expect(forPhone.stderr).toBe('paybao: the SMS outbox is empty for 13800138000\n');

    await withPlatform((p) => p.members.sendLoginCode('13800138000'));
    const listed = await runCli(smsCommand(), ['list', '--json']);
    expect(listed.stderr).toBe('');
    expect(JSON.parse(listed.stdout)).toEqual([
      { at: expect.any(String), phone: '13800138000', text: expect.stringMatching(/\d{6}/) },
    ]);
  });

  it('refuses to reconcile a day that is not on the calendar, and writes nothing', async () => {
    for (const date of ['2026-02-30', '2026-13-01', '2025-02-29']) {
      const run = await runCli(reconcileCommand(), ['--bank', 'ICBC', '--date', date, '--out', join(dir, 'r.csv')]);
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toMatch(/calendar day as YYYY-MM-DD/);
    }
    // The reconciler itself refuses it too (the operators' API goes there directly).
    const refused = await withPlatform((p) =>
      p.reconciler.run('ICBC', '2026-02-30').catch((e: { code: string; param: string }) => [e.code, e.param]),
    );
    expect(refused).toEqual(['parameter_invalid', 'date']);
    const runs = await withPlatform((p) => p.db.query<{ n: bigint }>('select count(*)::int8 as n from recon_runs'));
    expect(runs).toEqual([{ n: 0n }]);
  });

  it('with the bank down, says that nothing was reconciled, not that nothing was charged', async () => {
    process.env.PAYBAO_BANK_URL = `http://127.0.0.1:${await freePort()}`;
    try {
      const run = await runCli(reconcileCommand(), [
        '--bank',
        'ICBC',
        '--date',
        '2026-02-28',
        '--json',
        '--out',
        join(dir, 'r.csv'),
      ]);
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toMatch(/did not deliver the day's statement, so nothing was reconciled/);
      expect(run.stderr).not.toMatch(/charged/);
    } finally {
      delete process.env.PAYBAO_BANK_URL;
    }
  });
});
