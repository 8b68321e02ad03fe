/**
 * The fund's commands: a company, a product and its pool set up from the CLI, a user's purchase
 * held, the day's figure declared and distributed (again: nothing more), a declaration of a
 * distributed day refused, `report fund` and `ledger verify` (which checks the fund's books too)
 * passing; the refill rate set and the liquidity stress run. The real clock runs here: the purchase is still to be confirmed, so nobody earns yet.
 * Every change made from the command line is in the operators' audit log, under the machine's user;
 * the refused declaration is not.
 */
import { describe, expect, it } from 'vitest';
import { reportCommand } from '../../src/cli/channels.ts';
import { addFundReport, fundCommand } from '../../src/cli/fund.ts';
import { ledgerCommand } from '../../src/cli/ledger.ts';
import { cliOperator, withPlatform } from '../../src/cli/open-platform.ts';
import { addDays, beijingDayAndMinute } from '../../src/fund/index.ts';
import { runCli } from '../cli/in-process.ts';
import { useCliEnvironment } from '../support/cli-env.ts';

useCliEnvironment('paybao-fund-cli-');

describe('paybao fund', { timeout: 600_000 }, () => {
  it('declares, distributes, reports and verifies', async () => {
    const ok = { exitCode: 0, stderr: '' };
    expect(await runCli(fundCommand(), ['company', '--code', 'TIANHONG', '--name', 'Tianhong'])).toMatchObject(ok);
    expect(
      await runCli(fundCommand(), ['product', '--code', 'YEB', '--company', 'TIANHONG', '--name', 'Yu e Bao']),
    ).toMatchObject(ok);
    expect(
      await runCli(fundCommand(), ['refill', '--company', 'TIANHONG', '--amount', '1000.00', '--key', 'k1']),
    ).toMatchObject(ok);
    const yesterday = await withPlatform(async (p) => {
      const user = await p.members.createUser({
        phone: '13700137000',
        password: 'correct horse 1',
        openingBalance: 50_000n,
      });
      await p.fund.orders.purchase(user.userId, { productCode: 'YEB', amount: '100.00', idempotencyKey: 'cli' });
      return addDays(beijingDayAndMinute(p.clock.nowNs()).day, -1);
    });
    expect(
      await runCli(fundCommand(), ['declare', '--product', 'YEB', '--date', yesterday, '--per10k', '0.6543']),
    ).toMatchObject(ok);
    const run = await runCli(fundCommand(), ['distribute', '--date', yesterday, '--json']);
    expect(run).toMatchObject(ok);
    expect(JSON.parse(run.stdout)).toEqual([{ product: 'YEB', date: yesterday, holders: 0, total: '0.00' }]);
    const again = await runCli(fundCommand(), [
      'declare',
      '--product',
      'YEB',
      '--date',
      yesterday,
      '--per10k',
      '0.7000',
    ]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/distributed already/);
    const report = await runCli(addFundReport(reportCommand()), ['fund', '--json']);
    expect(report).toMatchObject(ok);
    expect(JSON.parse(report.stdout)).toMatchObject({
      covered: true,
      products: [{ productCode: 'YEB', toBeConfirmed: '100.00', sharesOutstanding: '0.00' }],
      pools: [{ companyCode: 'TIANHONG', pool: '1000.00' }],
    });
    expect(await runCli(fundCommand(), ['refill-rate', '--company', 'TIANHONG', '--per-hour', '500.00'])).toMatchObject(
      ok,
    );
    const stress = await runCli(fundCommand(), ['stress', '--share', '0.3', '--json']);
    expect(stress).toMatchObject(ok);
    // Nobody holds confirmed shares yet: nobody asks, the pool is whole.
    expect(JSON.parse(stress.stdout)).toMatchObject({
      share: '0.3',
      pools: [{ companyCode: 'TIANHONG', pool: '1000.00', asking: 0, refused: 0, refillPerHour: '500.00' }],
    });
    expect((await runCli(fundCommand(), ['stress', '--share', '2'])).exitCode).toBe(1);
    const verify = await runCli(ledgerCommand(), ['verify', '--json']);
    expect(verify).toMatchObject(ok);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, violations: [] });
    const log = await withPlatform((p) => p.operators.audit({ operatorId: 'cli' }));
    expect(log.map((e) => [e.action, e.target]).reverse()).toEqual([
      ['fund.company.create', 'TIANHONG'],
      ['fund.product.create', 'YEB'],
      ['fund.pool.refill', 'TIANHONG'],
      ['fund.declare', `YEB/${yesterday}`],
      ['fund.distribute', yesterday],
      ['fund.pool.refill_rate', 'TIANHONG'],
    ]);
    expect(log.every((e) => e.operatorName === cliOperator().name)).toBe(true);
    expect(JSON.parse(log.find((e) => e.action === 'fund.declare')?.detail ?? '{}')).toMatchObject({
      per10k: '0.6543',
    });
  });
});
