import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { type Db, openDb } from '../../core/db/index.ts';
import { derivedId, id, u128FromUuid, uuidFromU128 } from '../../core/ids.ts';
import { cnyLedger, FundAccountCode, FundTransferCode } from '../../core/ledger-codes.ts';
import { limits } from '../../core/limits.ts';
import { addDays, beijingDayAndMinute, Fund, type Product, parsePer10k, verifyFundBooks } from '../../fund/index.ts';
import { AccountFlags, type Ledger, type TransferInput, verifyLedger } from '../../ledger/index.ts';
import { openPlatform, type Platform } from '../../platform.ts';
import { dropSchema, readDurability, round1 } from './common.ts';
import { sleep } from './escrow.ts';
import { GatewayPayments, type PaymentWindow } from './gateway-payments.ts';

export interface FundBenchOptions {
  json: boolean;
  /** Holders of the one product. */
  holders: number;
  /** Seconds of the one-transaction-per-holder baseline. */
  baselineSeconds: number;
  /** Payments per second through the gateway before and during the distribution (0: none). */
  payRate: number;
  /** Seconds of payments alone, before the distribution. */
  paySeconds: number;
  /** Holders per ledger submission of the distribution (the server's limit when absent). */
  pageLines?: number | undefined;
  /** Pages of the distribution in flight (the server's limit when absent). */
  pagesInFlight?: number | undefined;
  /**
   * The ledger lane of the distribution's pages: `bulk` (the server's), or `interactive` — each
   * page one submission among the payments, as before the bulk lane — to compare in one session.
   */
  lane: 'bulk' | 'interactive';
  /** Events per batch of the ledger's bulk lane (the server's limit when absent). */
  bulkEvents?: number | undefined;
  /** Connections of the PostgreSQL pool (the server's limit when absent). */
  pool?: number | undefined;
  /** Recompute the books at the end. */
  verify: boolean;
  databaseUrl?: string | undefined;
}

export interface FundBenchResult {
  engine: string;
  holders: number;
  setup_s: number;
  distribution_s: number;
  /** Of the distribution: the snapshot (every line written) and the income chain, before paying. */
  snapshot_s: number;
  distribution_holders_per_s: number;
  income_fen: string;
  baseline_holders_per_s: number;
  baseline_connections: number;
  ratio: number;
  page_lines: number;
  pages_in_flight: number;
  lane: string;
  bulk_batch_events: number;
  pool_connections: number;
  /** Payments per second offered (open load), each one signed `alipay.trade.pay` over HTTP. */
  pay_rate: number;
  pay_alone_per_s: number;
  pay_alone_p99_ms: number;
  pay_during_per_s: number;
  pay_during_p99_ms: number;
  pay_p99_ratio: number;
  synchronous_commit: string;
  fsync: string;
}

/** The declared income of the bench's day: 0.6543 yuan per 10,000 shares (Yu'e Bao in 2020). */
const per10k = '0.6543';
const accountChunk = 8190;
/** Buyers paying at the till meanwhile, round robin. */
const payBuyers = 16;
const transferChunk = 4096;

/**
 * `paybao bench fund`: one product with N holders (set up in bulk, not timed), then the daily
 * income distribution of one declared day, timed, while payers pay plain trades (their p99 alone
 * first, then during the distribution). In the same run, the usual way as a baseline: one
 * database transaction per holder that reads its shares and posts its income.
 */
export async function benchFund(options: FundBenchOptions): Promise<FundBenchResult> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const schema = options.databaseUrl ? `bench_fund_${Date.now()}` : undefined;
  const dataDir = options.databaseUrl ? undefined : mkdtempSync(join(tmpdir(), 'paybao-bench-fund-'));
  const phases: Record<string, number> = {};
  const platform = await openPlatform({
    databaseUrl: options.databaseUrl,
    databaseSchema: schema,
    dataDir,
    // Interactive pages go to the ledger whole, as they did before the bulk lane.
    bulkBatchEventsMax:
      options.lane === 'interactive' ? (options.pageLines ?? limits.fundDistributionBatchMax) : options.bulkEvents,
    poolMax: options.pool,
    onBatch: (b) => {
      for (const [k, v] of Object.entries(b.phasesMs)) phases[k] = (phases[k] ?? 0) + v;
      phases.events = (phases.events ?? 0) + b.events;
      phases.batches = (phases.batches ?? 0) + 1;
    },
  });
  let payments: GatewayPayments | undefined;
  try {
    const durability = await readDurability(platform.db);
    log(`engine ${platform.db.engine}; synchronous_commit=${durability.synchronous_commit} fsync=${durability.fsync}`);
    const setupStarted = performance.now();
    const product = await seedFund(platform, 'BENCH');
    await seedHolders(platform.db, platform.ledger, product, options.holders, log);
    const day = addDays(beijingDayAndMinute(platform.clock.nowNs()).day, -1);
    await platform.fund.income.declare('BENCH', day, per10k);
    const setupS = (performance.now() - setupStarted) / 1000;
    await settle(platform.db, log);

    if (options.payRate > 0) payments = await GatewayPayments.open(platform, options.payRate, payBuyers);
    const pay = await payPhase(payments, options, log);
    const bar = new SingleBar({
      format: 'distribute [{bar}] {percentage}% {value}/{total} {hps}/s',
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 10_000,
    });
    bar.start(options.holders, 0, { hps: 0 });
    for (const k of Object.keys(phases)) delete phases[k];
    const started = performance.now();
    let snapshotS = 0; // until the first progress: the snapshot and the day's income chain
    const fund = new Fund(platform.db, platform.ledger, { walletOf: async () => null }, platform.clock, {
      distributionPageLines: options.pageLines,
      distributionPagesInFlight: options.pagesInFlight,
      distributionLane: options.lane,
    });
    const [summary] = await fund.income.distribute(day, (done) => {
      snapshotS ||= (performance.now() - started) / 1000;
      bar.update(done, { hps: Math.round(done / ((performance.now() - started) / 1000)) });
    });
    const distributionS = (performance.now() - started) / 1000;
    bar.stop();
    const during = await pay.during();
    log(
      `ledger batches during the distribution (ms total): ${JSON.stringify(phases, (_k, v) => (typeof v === 'number' ? Math.round(v) : v))}`,
    );
    if (summary?.holders !== options.holders) throw new Error(`paid ${summary?.holders} of ${options.holders} holders`);
    log(`distribution: ${summary.holders} holders, ${summary.totalFen} fen in ${distributionS.toFixed(1)} s`);

    const baseline = await runBaseline(platform, product, schema, options, log);
    if (options.verify) await verifyBooks(platform.db, log);
    const perS = summary.holders / distributionS;
    return {
      engine: platform.db.engine,
      holders: options.holders,
      setup_s: round1(setupS),
      distribution_s: round1(distributionS),
      snapshot_s: round1(snapshotS),
      distribution_holders_per_s: Math.round(perS),
      income_fen: summary.totalFen.toString(),
      baseline_holders_per_s: Math.round(baseline.perS),
      baseline_connections: baseline.connections,
      ratio: round1(perS / baseline.perS),
      page_lines: options.pageLines ?? limits.fundDistributionBatchMax,
      pages_in_flight: options.pagesInFlight ?? limits.fundDistributionPagesInFlightMax,
      lane: options.lane,
      bulk_batch_events: platform.ledger.bulkBatchEventsMax,
      pool_connections: options.pool ?? limits.pgPoolConnectionsMax,
      pay_rate: options.payRate,
      pay_alone_per_s: Math.round(pay.alone.perS),
      pay_alone_p99_ms: pay.alone.p99,
      pay_during_per_s: Math.round(during.perS),
      pay_during_p99_ms: during.p99,
      pay_p99_ratio: pay.alone.p99 > 0 ? round1(during.p99 / pay.alone.p99) : 0,
      ...durability,
    };
  } finally {
    await payments?.stop(); // idle when the run went through; on a failure, before the database closes
    await platform.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (options.databaseUrl && schema) await dropSchema(options.databaseUrl, schema);
  }
}

/**
 * Lets the database finish what the bulk setup left it (autovacuum of a million fresh rows, a
 * checkpoint of their WAL) before anything is timed: otherwise that work lands in the payments'
 * "alone" window, and their p99 there measures the setup, not the platform.
 */
async function settle(db: Db, log: (s: string) => void): Promise<void> {
  const started = performance.now();
  await db.exec('vacuum (analyze) ledger_accounts, ledger_transfers, fund_holders');
  await db.exec('checkpoint');
  log(`settled (vacuum, checkpoint) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** A fund company with a pool and one product; returns the product with its books. */
export async function seedFund(platform: Platform, code: string): Promise<Product> {
  await platform.fund.catalog.createCompany({ code: `${code}CO`, name: `${code} Asset Management` });
  await platform.fund.catalog.createProduct({ code, companyCode: `${code}CO`, name: `${code} money fund` });
  return platform.fund.catalog.product(code);
}

/** A holder's user id and share account as the bench and the crash test make them. */
export function seededHolder(product: Product, i: number): { userId: string; account: bigint } {
  const userId = String(2088_9000_0000_0000n + BigInt(i));
  return { userId, account: derivedId('fund.holder', `${product.row.product_code}/${userId}`) };
}

/** Holder i's confirmed shares: 1.00 to about 50,000.00 yuan, spread so that fractions differ. */
export const seededShares = (i: number) => 100n + BigInt((i * 7_919) % 5_000_000);

/**
 * N holders of a product in bulk, in the state their confirmed purchases leave (not timed): share
 * accounts and `fund_holders` rows in chunks, the money of all their shares brought into the
 * custodian in one transfer from the fund company, and each holder's shares issued to it — a
 * million trips through the purchase path would measure purchases, not the distribution.
 */
export async function seedHolders(db: Db, ledger: Ledger, product: Product, n: number, log: (s: string) => void) {
  const started = performance.now();
  const books = product.books;
  let total = 0n;
  for (let i = 0; i < n; i++) total += seededShares(i);
  check(
    await ledger.createTransfers([
      {
        id: derivedId('bench.fund.money', product.row.product_code),
        debitAccountId: books.company,
        creditAccountId: books.custodian,
        amount: total,
        ledger: cnyLedger,
        code: FundTransferCode.purchase,
      },
    ]),
  );
  const chunks: Promise<void>[] = [];
  for (let first = 0; first < n; first += accountChunk) {
    const holders = Array.from({ length: Math.min(accountChunk, n - first) }, (_, k) => first + k);
    chunks.push(seedChunk(db, ledger, product, holders));
    if (chunks.length >= 4) await chunks.shift();
  }
  await Promise.all(chunks);
  log(`seeded ${n} holders in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function seedChunk(db: Db, ledger: Ledger, product: Product, holders: readonly number[]): Promise<void> {
  const books = product.books;
  const seeded = holders.map((i) => ({ i, ...seededHolder(product, i) }));
  check(
    await ledger.createAccounts(
      seeded.map((h) => ({
        id: h.account,
        ledger: books.shareLedger,
        code: FundAccountCode.holderShares,
        flags: AccountFlags.debitsMustNotExceedCredits,
        userData64: BigInt(h.userId),
      })),
    ),
  );
  await db.query(
    `insert into fund_holders (product_code, user_id, account_id, wallet_account)
     select $1, u, a::uuid, a::uuid from unnest($2::text[], $3::text[]) as t(u, a)`,
    [product.row.product_code, seeded.map((h) => h.userId), seeded.map((h) => uuidFromU128(h.account))],
  );
  const issues: TransferInput[] = seeded.map((h) => ({
    id: derivedId('bench.fund.issue', `${product.row.product_code}/${h.i}`),
    debitAccountId: books.issuance,
    creditAccountId: h.account,
    amount: seededShares(h.i),
    ledger: books.shareLedger,
    code: FundTransferCode.sharesIssued,
  }));
  const parts: Promise<void>[] = [];
  for (let k = 0; k < issues.length; k += transferChunk)
    parts.push(ledger.createTransfers(issues.slice(k, k + transferChunk)).then(check));
  await Promise.all(parts);
}

function check(results: readonly string[]): void {
  const bad = results.find((r) => r !== 'ok' && r !== 'exists');
  if (bad) throw new Error(`bench fund setup: ${bad}`);
}

/** Payments alone for a while (the p99 to compare with), then kept running until `during()`. */
async function payPhase(payments: GatewayPayments | undefined, options: FundBenchOptions, log: (s: string) => void) {
  const none: PaymentWindow = { count: 0, perS: 0, p50: 0, p99: 0, max: 0, loopDelayP99: 0 };
  if (!payments) return { alone: none, during: async () => none };
  await payments.start();
  await sleep(1000); // warm-up, not measured
  payments.mark();
  await sleep(options.paySeconds * 1000);
  const alone = payments.mark();
  log(`payments alone: ${JSON.stringify(alone)}`);
  return {
    alone,
    during: async () => {
      const during = payments.mark();
      await payments.stop();
      log(`payments during the distribution: ${JSON.stringify(during)}`);
      return during;
    },
  };
}

/**
 * The usual way: for each holder, one database transaction that locks and reads its share
 * account, computes its income, issues it (updates the holder's account and the issuance
 * account, inserts the transfer) and commits — from concurrent connections (1 on PGlite). It runs
 * last, behind the engine's back; one closing transaction then brings the money of the income it
 * issued into the custodian, so that the books still balance.
 */
async function runBaseline(
  platform: Platform,
  product: Product,
  schema: string | undefined,
  options: FundBenchOptions,
  log: (s: string) => void,
): Promise<{ perS: number; connections: number }> {
  const connections = options.databaseUrl ? 16 : 1;
  const db = options.databaseUrl
    ? await openDb({ databaseUrl: options.databaseUrl, schema, poolMax: connections })
    : platform.db;
  const scaled = parsePer10k(per10k) ?? 0n;
  const books = product.books;
  const issuance = uuidFromU128(books.issuance);
  const deadline = performance.now() + options.baselineSeconds * 1000;
  let next = 0;
  let total = 0n;
  const worker = async () => {
    while (performance.now() < deadline && next < options.holders) {
      const holder = uuidFromU128(seededHolder(product, next++).account);
      await db.transaction(async (tx) => {
        const [row] = await tx.query<{ shares: bigint }>(
          'select credits_posted - debits_posted - debits_pending shares from ledger_accounts where id = $1 for update',
          [holder],
        );
        const fen = ((row?.shares ?? 0n) * scaled) / 100_000_000n;
        await tx.query('update ledger_accounts set credits_posted = credits_posted + $2 where id = $1', [holder, fen]);
        await tx.query('update ledger_accounts set debits_posted = debits_posted + $2 where id = $1', [issuance, fen]);
        await insertTransfer(
          tx,
          books.issuance,
          u128FromUuid(holder),
          fen,
          books.shareLedger,
          FundTransferCode.incomeDistributed,
        );
        total += fen;
      });
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  const seconds = (performance.now() - started) / 1000;
  const done = next;
  await db.transaction(async (tx) => {
    await insertTransfer(tx, books.company, books.custodian, total, cnyLedger, FundTransferCode.incomeMoney);
    await tx.query('update ledger_accounts set debits_posted = debits_posted + $2 where id = $1', [
      uuidFromU128(books.company),
      total,
    ]);
    await tx.query('update ledger_accounts set credits_posted = credits_posted + $2 where id = $1', [
      uuidFromU128(books.custodian),
      total,
    ]);
  });
  if (db !== platform.db) await db.close();
  log(`baseline (one transaction per holder, ${connections} connections): ${done} in ${seconds.toFixed(1)} s`);
  return { perS: done / seconds, connections };
}

async function insertTransfer(
  tx: Pick<Db, 'query'>,
  debit: bigint,
  credit: bigint,
  amount: bigint,
  ledger: number,
  code: number,
): Promise<void> {
  await tx.query(
    `insert into ledger_transfers (id, debit_account_id, credit_account_id, amount, pending_id, user_data_128,
       user_data_64, user_data_32, timeout, ledger, code, flags, timestamp)
     values ($1, $2, $3, $4, $5, $5, 0, 0, 0, $6, $7, 0, $8)`,
    [
      uuidFromU128(id()),
      uuidFromU128(debit),
      uuidFromU128(credit),
      amount,
      uuidFromU128(0n),
      ledger,
      code,
      (BigInt(Date.now()) * 1_000_000n).toString(),
    ],
  );
}

async function verifyBooks(db: Db, log: (s: string) => void): Promise<void> {
  const started = performance.now();
  const violations = [...(await verifyLedger(db)), ...(await verifyFundBooks(db))];
  if (violations.length > 0) throw new Error(`the books do not balance: ${JSON.stringify(violations.slice(0, 5))}`);
  log(`books verified in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
