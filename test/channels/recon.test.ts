/**
 * Reconciliation: the bank's statement against the channel orders. Lines that agree match; an
 * order Paybao never heard the end of is completed through the bank's query (the safe class);
 * a dropped line, a changed amount, a flipped status and an order Paybao does not know are
 * queued for an operator, once each however often the day is reconciled. The operator's CSV,
 * write-off (a recorded loss, counted by the loss rate) and `paybao reconcile` work.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DailyChannelWork, defaultChannelBanks, HttpBankAdapter } from '../../src/channels/index.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { beijingTime } from '../../src/core/time.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { openPlatform } from '../../src/platform.ts';
import { databaseUrl, freshSchema } from '../support/engine.ts';
import { bindCard, key, li, newUser, operatorToken, setFaults, useWorld, wang } from './support.ts';

const world = useWorld({ requestTimeoutMs: 800 });
const today = () => beijingTime(new Date()).slice(0, 10);

/** Five orders on CMB today: two withholdings, two withdrawals, one left UNKNOWN (its callback lost). */
async function dayOfOrders(): Promise<{ unknown: string; all: string[] }> {
  const { platform } = world();
  const user = await newUser(world(), 100_000n);
  const cmbLi = { cardNo: '6225880000000002', name: li.name, phone: li.phone };
  const cardId = await bindCard(world(), user.userId, cmbLi, 'CMB');
  const all: string[] = [];
  for (const amount of ['10.00', '20.00']) {
    all.push((await platform.channels.topUpByCard(user.userId, { cardId, amount, idempotencyKey: key() })).orderNo);
    all.push((await platform.channels.withdraw(user.userId, { cardId, amount, idempotencyKey: key() })).orderNo);
  }
  await setFaults(world(), { timeoutMode: 'drop', timeoutAfterRate: 1 });
  const lost = await world().losingCallbacks(() =>
    platform.channels.withdraw(user.userId, { cardId, amount: '5.00', idempotencyKey: key() }),
  );
  await setFaults(world(), {});
  expect(lost.status).toBe('UNKNOWN');
  all.push(lost.orderNo);
  return { unknown: lost.orderNo, all };
}

describe('reconciliation', () => {
  it('matches a clean statement and completes the unknown order through the bank query', async () => {
    const { platform } = world();
    const { unknown, all } = await dayOfOrders();
    const summary = await platform.reconciler.run('CMB', today());
    expect(summary).toMatchObject({ lines: 5, matched: 5, settled: 1, queued: 0 });
    expect((await platform.channels.orderByNo(unknown))?.status).toBe('SUCCESS');
    for (const orderNo of all) expect((await platform.channels.orderByNo(orderNo))?.status).toBe('SUCCESS');
    // Nothing queued, and a second run finds the same.
    expect(await platform.reconciler.run('CMB', today())).toMatchObject({ matched: 5, settled: 0, queued: 0 });
  });

  it('queues dropped lines, changed amounts, flipped statuses and orders Paybao does not know, once each', async () => {
    const { platform } = world();
    const date = today();
    await setFaults(world(), { statementDropRate: 1 });
    const dropped = await platform.reconciler.run('CMB', date);
    expect(dropped.byClass.missing_at_bank).toBe(5);
    await setFaults(world(), { statementAmountRate: 1 });
    expect((await platform.reconciler.run('CMB', date)).byClass.amount_mismatch).toBe(5);
    await setFaults(world(), { statementStatusRate: 1 });
    expect((await platform.reconciler.run('CMB', date)).byClass.status_mismatch).toBe(5);
    await setFaults(world(), {});
    // An order at the bank that Paybao never made (sent by someone holding the merchant secret).
    const [bank] = defaultChannelBanks(world().sim.url).filter((b) => b.code === 'CMB');
    const stray = await new HttpBankAdapter(bank as NonNullable<typeof bank>).payout({
      orderNo: `STRAY${Date.now()}`,
      cardNo: '6225880000000003',
      name: wang.name,
      amountFen: 100n,
      notifyUrl: 'http://127.0.0.1:9/none',
    });
    expect(stray.kind).toBe('ok');
    const clean = await platform.reconciler.run('CMB', date);
    expect(clean.byClass).toEqual({ missing_at_bank: 0, missing_at_paybao: 1, amount_mismatch: 0, status_mismatch: 0 });
    // Reruns do not duplicate the queue: one item per order and class.
    await setFaults(world(), { statementStatusRate: 1 });
    await platform.reconciler.run('CMB', date);
    await setFaults(world(), {});
    const items = await platform.reconciler.items({ bank: 'CMB', date, state: 'OPEN' });
    expect(items.length).toBe(16);
    const csv = platform.reconciler.csv(items);
    expect(csv.split('\n')[0]).toBe(
      'id,bank,date,order_no,class,paybao_status,paybao_amount,bank_status,bank_amount,state,detail',
    );
    expect(csv.trim().split('\n').length).toBe(17);
  });

  it('lets an operator dismiss or write off an item through the API; a write-off is a loss', async () => {
    const { platform, base } = world();
    const items = await platform.reconciler.items({ bank: 'CMB', state: 'OPEN' });
    const status = items.find((i) => i.class === 'status_mismatch');
    const amount = items.find((i) => i.class === 'amount_mismatch');
    if (!status || !amount) throw new Error('the previous test queued these');
    const call = (path: string, body?: unknown, token = operatorToken) =>
      fetch(`${base}/ops/v1${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await call('/reconciliation-items', undefined, 'wrong')).status).toBe(401);
    // A console operator's own token opens the operators' API too.
    const consoleOperator = await platform.operators.create('reconciler');
    expect((await call('/reconciliation-items', undefined, consoleOperator.token)).status).toBe(200);
    const csv = await call('/reconciliation-items?format=csv&state=OPEN');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect((await csv.text()).split('\n').length).toBeGreaterThan(2);
    const dismissed = await call(`/reconciliation-items/${status.id}/resolve`, {
      action: 'dismiss',
      note: 'the bank query agrees with Paybao: a statement error',
    });
    expect(await dismissed.json()).toMatchObject({ state: 'RESOLVED' });
    const written = await call(`/reconciliation-items/${amount.id}/resolve`, {
      action: 'write_off',
      note: 'test loss',
    });
    expect(await written.json()).toMatchObject({ state: 'RESOLVED' });
    // Twice is once.
    await call(`/reconciliation-items/${amount.id}/resolve`, { action: 'write_off', note: 'test loss' });
    const rate = (await (await call('/loss-rate')).json()) as { losses: string; lossCount: number };
    expect(rate.lossCount).toBe(1);
    expect(rate.losses).toBe(amount.paybaoAmount);
    expect(await verifyLedger(platform.db)).toEqual([]);
  });

  it('runs the daily reconciliation and reserve report once, when due', async () => {
    const { platform } = world();
    const midnight = Date.parse(`${today()}T00:00:00Z`) - 8 * 3_600_000;
    const clock = new ManualClock(midnight + 30 * 60_000);
    const daily = new DailyChannelWork(platform.db, clock, platform.channels, platform.reconciler, platform.reserves);
    expect(await daily.tick()).toEqual([]);
    clock.advanceMs(2 * 3_600_000);
    const runs = await daily.tick();
    const yesterday = beijingTime(new Date(midnight - 1)).slice(0, 10);
    expect(runs.map((r) => `${r.bank} ${r.date}`)).toEqual(['ICBC', 'CMB', 'ABC'].map((b) => `${b} ${yesterday}`));
    expect(await daily.tick()).toEqual([]);
    const reports = await platform.db.query<{ report: string }>('select report from reserve_reports');
    expect(reports.length).toBe(1);
    expect(JSON.parse(reports[0]?.report ?? '{}')).toMatchObject({ currency: 'CNY' });
  });

  it('two processes ticking at once do a day once; a claim left by a process that died is taken over', async () => {
    const { platform } = world();
    // Two days ahead, so the day is one no other test reconciled.
    const midnight = Date.parse(`${today()}T00:00:00Z`) - 8 * 3_600_000 + 2 * 86_400_000;
    const day = beijingTime(new Date(midnight - 1)).slice(0, 10);
    const clock = new ManualClock(midnight + 3 * 3_600_000);
    const processes = [1, 2].map(
      () => new DailyChannelWork(platform.db, clock, platform.channels, platform.reconciler, platform.reserves),
    );
    // A process that claimed CMB's day 2 hours ago and died; another that claimed ABC's a minute ago.
    await platform.db.query(
      `insert into daily_work (job, day, claimed_at) values ('recon:CMB', $1, $2), ('recon:ABC', $1, $3)`,
      [day, new Date(midnight + 3_600_000), new Date(midnight + 3 * 3_600_000 - 60_000)],
    );
    const reportCount = async () =>
      (await platform.db.query<{ n: bigint }>('select count(*)::int8 as n from reserve_reports'))[0]?.n ?? 0n;
    const reportsBefore = await reportCount();
    const [first, second] = await Promise.all(processes.map((p) => p.tick()));
    const banks = [...(first ?? []), ...(second ?? [])].map((r) => r.bank).sort();
    expect(banks).toEqual(['CMB', 'ICBC']);
    const runs = await platform.db.query<{ bank: string; n: bigint }>(
      'select bank, count(*)::int8 as n from recon_runs where business_date = $1 group by bank order by bank',
      [day],
    );
    expect(runs).toEqual([
      { bank: 'CMB', n: 1n },
      { bank: 'ICBC', n: 1n },
    ]);
    // One reserve report between them (the reserves stamp it with the platform's own clock).
    expect(await reportCount()).toBe(reportsBefore + 1n);
    // An hour later ABC's claim is stale too: the next tick does it, and then nothing is left.
    clock.advanceMs(3_600_000);
    expect((await processes[0]?.tick())?.map((r) => r.bank)).toEqual(['ABC']);
    expect(await Promise.all(processes.map((p) => p.tick()))).toEqual([[], []]);
  });

  it('runs as `paybao reconcile` and `paybao report loss-rate` from the command line', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'paybao-recon-'));
    const schema = freshSchema();
    const env = {
      ...process.env,
      PAYBAO_DATA_DIR: dataDir,
      PAYBAO_DB_SCHEMA: schema ?? '',
      DATABASE_URL: databaseUrl ?? '',
      PAYBAO_BANK_URL: world().sim.url,
      LOG_LEVEL: 'error',
    };
    // A platform of its own with one order on ABC, closed before the command opens it.
    const platform = await openPlatform({
      databaseUrl,
      databaseSchema: schema,
      dataDir: databaseUrl ? undefined : dataDir,
      channelBanks: defaultChannelBanks(world().sim.url),
    });
    const { userId } = await platform.members.createUser({ phone: '13600000001', password: 'password-1' });
    const pending = await platform.channels.cards.bind(userId, {
      bank: 'ABC',
      cardNo: '6228480000000001',
      name: 'Zhang San',
      phone: '13800000001',
    });
    const { messages } = (await (await fetch(`${world().sim.url}/admin/sms?phone=13800000001`)).json()) as {
      messages: { code: string }[];
    };
    await platform.channels.cards.confirm(userId, pending.cardId, messages[0]?.code ?? '');
    await platform.channels.topUpByCard(userId, { cardId: pending.cardId, amount: '3.00', idempotencyKey: 'cli-1' });
    await platform.close();
    const bin = new URL('../../bin/paybao.js', import.meta.url).pathname;
    const out = join(dataDir, 'report.csv');
    const run = promisify(execFile);
    const { stdout } = await run(
      process.execPath,
      [bin, 'reconcile', '--bank', 'ABC', '--date', today(), '--out', out],
      {
        env,
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ bank: 'ABC', lines: 1, matched: 1, queued: 0 });
    expect(readFileSync(out, 'utf8').split('\n')[0]).toContain('order_no,class');
    const rate = await run(process.execPath, [bin, 'report', 'loss-rate'], { env });
    expect(rate.stdout).toMatch(/^channels +losses 0\.00 CNY in 0 cases .* = 0\.0000 per 100,000$/m);
    expect(rate.stdout).toMatch(/^total +losses 0\.00 CNY/m);
    rmSync(dataDir, { recursive: true, force: true });
  });
});
