/**
 * A distribution killed in the middle (SIGKILL of a real process) resumes to the same result: a
 * child process distributes a day's income to 20,000 holders page by page and is killed once part
 * of them are paid; a new process distributes the day again to its end. Then every holder was paid
 * exactly once (one income transfer of the day each), each exactly what the income rule gives
 * (the reference over the kernel's `allocate`), the holders together exactly the declared total,
 * and the ledger's and the fund's books balance.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seededHolder, seededShares, seedFund, seedHolders } from '../../src/cli/bench/fund.ts';
import { uuidFromU128 } from '../../src/core/ids.ts';
import { FundTransferCode } from '../../src/core/ledger-codes.ts';
import { addDays, beijingDayAndMinute, verifyFundBooks } from '../../src/fund/index.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { exited, useCrashStorage } from '../support/crash-storage.ts';
import { expectedIncome } from './reference.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const loader = fileURLToPath(new URL('../support/fund-crash-loader.ts', import.meta.url));
const holders = 20_000;
const pageLines = 100;
const per10k = 6543n;

const { open, childEnv: storageEnv } = useCrashStorage('paybao-fundcrash-');

/** Runs the distributor; SIGKILLs it, at a random moment, once `killAt` lines are paid (never when undefined). */
async function distribute(day: string, killAt?: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', loader], {
    cwd: root,
    env: { ...process.env, ...storageEnv, PAYBAO_CRASH_DAY: day, PAYBAO_CRASH_PAGE_LINES: String(pageLines) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = { paid: 0, done: false, stderr: '' };
  const watchdog = setTimeout(() => child.kill('SIGKILL'), 150_000);
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    run.stderr += chunk;
  });
  let killing = false;
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('done ')) run.done = true;
    if (!line.startsWith('paid ')) return;
    run.paid = Number(line.slice(5));
    if (killAt !== undefined && run.paid >= killAt && !killing) {
      killing = true;
      setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 30));
    }
  });
  const end = await exited(child);
  clearTimeout(watchdog);
  return { ...run, ...end };
}

describe('a distribution killed in the middle', () => {
  it('resumes in a new process to the same result: every holder paid exactly once, books balanced', async () => {
    const platform = await open();
    const product = await seedFund(platform, 'CRASH');
    await seedHolders(platform.db, platform.ledger, product, holders, () => {});
    const day = addDays(beijingDayAndMinute(platform.clock.nowNs()).day, -1);
    await platform.fund.income.declare('CRASH', day, '0.6543');
    await platform.close(); // one process owns the data at a time

    const killed = await distribute(day, holders / 4);
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(killed.done).toBe(false);
    const between = await open();
    const [state] = await between.db.query<{ status: string; paid: bigint; pages: bigint }>(
      `select d.status, (select count(*) from fund_income_pages p where p.product_code = d.product_code and p.day = d.day and p.paid) paid,
              (select count(*) from fund_income_pages p where p.product_code = d.product_code and p.day = d.day) pages
         from fund_income_days d where product_code = 'CRASH' and day = $1`,
      [day],
    );
    await between.close();
    // Killed in the middle: the lines written, some pages paid, not all.
    expect(state?.status).toBe('SNAPSHOT');
    expect(state?.pages).toBe(BigInt(holders / pageLines));
    expect(state?.paid).toBeGreaterThan(0n);
    expect(state?.paid).toBeLessThan(state?.pages ?? 0n);

    const resumed = await distribute(day);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.done).toBe(true);

    const after = await open();
    try {
      const expected = expectedIncome(
        Array.from({ length: holders }, (_, i) => ({
          account: uuidFromU128(seededHolder(product, i).account),
          shares: seededShares(i),
        })),
        per10k,
      );
      const paid = await after.db.query<{ account: string; n: bigint; fen: bigint }>(
        `select credit_account_id::text account, count(*) n, sum(amount)::bigint fen from ledger_transfers
          where code = $1 and ledger = $2 and user_data_32 = $3 group by credit_account_id`,
        [FundTransferCode.incomeDistributed, product.books.shareLedger, Number(day.replaceAll('-', ''))],
      );
      const earning = [...expected].filter(([, fen]) => fen > 0n);
      expect(paid.length).toBe(earning.length);
      expect(paid.filter((p) => p.n !== 1n)).toEqual([]);
      expect(new Map(paid.map((p) => [p.account, p.fen]))).toEqual(new Map(earning));
      const total = Array.from({ length: holders }, (_, i) => seededShares(i)).reduce((s, x) => s + x, 0n);
      expect(paid.reduce((s, p) => s + p.fen, 0n)).toBe((total * per10k) / 100_000_000n);
      const [days] = await after.db.query<{ status: string }>(
        "select status from fund_income_days where product_code = 'CRASH' and day = $1",
        [day],
      );
      expect(days?.status).toBe('DONE');
      expect(await verifyLedger(after.db)).toEqual([]);
      expect(await verifyFundBooks(after.db)).toEqual([]);
    } finally {
      await after.close();
    }
  }, 300_000);
});
