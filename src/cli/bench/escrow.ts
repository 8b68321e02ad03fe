import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { derivedId, uuidFromU128 } from '../../core/ids.ts';
import { AccountCode, cnyLedger, EscrowTransferCode, TransferCode } from '../../core/ledger-codes.ts';
import { limits } from '../../core/limits.ts';
import { AccountFlags, type TransferInput, verifyLedger } from '../../ledger/index.ts';
import { openPlatform, type Platform } from '../../platform.ts';
import { ensureEscrowAccounts, escrowAccounts } from '../../trades/index.ts';
import { dropSchema, latencyWindow, readDurability, round1 } from './common.ts';

export interface EscrowBenchOptions {
  json: boolean;
  /** Escrow trades due for auto-confirm when the sweep starts. */
  trades: number;
  /** Sellers (apps) the trades belong to. */
  sellers: number;
  /** Concurrent payers (alipay.trade.pay's path: createAndPay) running before and during the sweep. */
  payers: number;
  /** Seconds of payments alone, before the sweep: the baseline of the same run. */
  baselineSeconds: number;
  /** Recompute the books at the end (a few seconds per million transfers). */
  verify: boolean;
  /** The sweep's rest after each round, as a multiple of the round's time (the server's limit when absent). */
  pauseRatio?: number | undefined;
  databaseUrl?: string | undefined;
}

export interface EscrowBenchResult {
  engine: string;
  trades: number;
  sellers: number;
  setup_s: number;
  sweep_s: number;
  sweep_trades_per_s: number;
  payers: number;
  pay_baseline_per_s: number;
  pay_baseline_p50_ms: number;
  pay_baseline_p99_ms: number;
  pay_during_sweep_per_s: number;
  pay_during_sweep_p50_ms: number;
  pay_during_sweep_p99_ms: number;
  pay_during_sweep_max_ms: number;
  sweep_pause_ratio: number;
  synchronous_commit: string;
  fsync: string;
}

const tradeFen = 1_000n;
const chunkTrades = 8_000;
const day = 86_400_000;

/**
 * `paybao bench escrow`: N escrow trades paid, shipped and past their confirm period, then the
 * auto-confirm sweep releases them all (escrow → seller less the fee, in rounds of
 * `limits.escrowReleaseBatchMax`), while payers keep paying plain trades. In the same run, the
 * payments alone first: the baseline their latency during the sweep is compared with.
 *
 * The trades are bulk-loaded in the state pay + ship leave behind (the trade row, and the
 * buyer → escrow transfer under the payment's own derived id), since a million trips through the
 * payment path would measure the payment path, not the sweep.
 */
export async function benchEscrow(options: EscrowBenchOptions): Promise<EscrowBenchResult> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const schema = options.databaseUrl ? `bench_escrow_${Date.now()}` : undefined;
  const dataDir = options.databaseUrl ? undefined : mkdtempSync(join(tmpdir(), 'paybao-bench-escrow-'));
  const platform = await openPlatform({ databaseUrl: options.databaseUrl, databaseSchema: schema, dataDir });
  try {
    const durability = await readDurability(platform.db);
    log(`engine ${platform.db.engine}; synchronous_commit=${durability.synchronous_commit} fsync=${durability.fsync}`);
    const setupStarted = performance.now();
    const sellers = await createSellers(platform, options.sellers);
    await loadDueTrades(platform, options.trades, sellers, log);
    const setupS = (performance.now() - setupStarted) / 1000;

    const payers = await createPayers(platform, options.payers);
    const payments = new Payments(platform, payers);
    payments.start();
    await sleep(1000); // warm-up, not measured
    payments.mark();
    await sleep(options.baselineSeconds * 1000);
    const baseline = payments.mark();
    log(`baseline: ${baseline.count} payments, p50 ${baseline.p50} ms, p99 ${baseline.p99} ms`);

    const bar = new SingleBar({
      format: 'sweep    [{bar}] {percentage}% {value}/{total} {tps}/s',
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 10_000,
    });
    bar.start(options.trades, 0, { tps: 0 });
    const sweepStarted = performance.now();
    // The server's own loop: rounds with rests between them (limits.escrowSweepPauseRatio).
    const released = await platform.escrow.sweepAll({
      pauseRatio: options.pauseRatio,
      onRound: (done) => bar.update(done, { tps: Math.round(done / ((performance.now() - sweepStarted) / 1000)) }),
    });
    const sweepS = (performance.now() - sweepStarted) / 1000;
    bar.stop();
    const during = payments.mark();
    await payments.stop();
    log(
      `sweep: ${released} trades in ${sweepS.toFixed(1)} s; payments meanwhile p50 ${during.p50} ms, p99 ${during.p99} ms`,
    );

    if (released !== options.trades) throw new Error(`released ${released} of ${options.trades} trades`);
    const [escrow] = await platform.ledger.lookupAccounts([escrowAccounts.escrow]);
    if (!escrow || escrow.creditsPosted !== escrow.debitsPosted) throw new Error('money is left in escrow');
    if (options.verify) {
      const started = performance.now();
      const violations = await verifyLedger(platform.db);
      if (violations.length > 0) throw new Error(`the books do not balance: ${JSON.stringify(violations)}`);
      log(`books verified in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    return {
      engine: platform.db.engine,
      trades: options.trades,
      sellers: options.sellers,
      setup_s: round1(setupS),
      sweep_s: round1(sweepS),
      sweep_trades_per_s: Math.round(released / sweepS),
      payers: options.payers,
      pay_baseline_per_s: Math.round(baseline.perS),
      pay_baseline_p50_ms: baseline.p50,
      pay_baseline_p99_ms: baseline.p99,
      pay_during_sweep_per_s: Math.round(during.perS),
      pay_during_sweep_p50_ms: during.p50,
      pay_during_sweep_p99_ms: during.p99,
      pay_during_sweep_max_ms: during.max,
      sweep_pause_ratio: options.pauseRatio ?? limits.escrowSweepPauseRatio,
      ...durability,
    };
  } finally {
    await platform.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (options.databaseUrl && schema) await dropSchema(options.databaseUrl, schema);
  }
}

interface Seller {
  appId: string;
  sellerId: string;
  accountId: bigint;
}

async function createSellers(platform: Platform, n: number): Promise<Seller[]> {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const merchantPublicKeyPem = key.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const sellers: Seller[] = [];
  for (let i = 0; i < n; i++) {
    const app = await platform.members.createApp({ name: `Escrow Shop ${i}`, merchantPublicKeyPem });
    await platform.trades.saveContract(app.appId, { escrowDefault: true, feeBps: 60, confirmPeriodMs: 10 * day });
    const member = await platform.members.getMember(app.sellerId);
    sellers.push({ appId: app.appId, sellerId: app.sellerId, accountId: member.walletAccountId });
  }
  return sellers;
}

/**
 * Writes `n` escrow trades shipped 11 days ago with a 10-day confirm period (and reminded), and
 * moves each one's money from a buyer into escrow under `derivedId('trade.pay', trade_no)`.
 */
async function loadDueTrades(platform: Platform, n: number, sellers: readonly Seller[], log: (s: string) => void) {
  await ensureEscrowAccounts(platform.ledger);
  const funding = await platform.members.fundingAccountId();
  // Buyers: bare wallet accounts, funded for their share of the trades.
  const buyers = Array.from({ length: 1000 }, (_, i) => ({
    userId: `2088${String(900_000_000_000 + i)}`,
    accountId: derivedId('bench.buyer', String(i)),
  }));
  const perBuyer = tradeFen * BigInt(Math.ceil(n / buyers.length));
  await submit(platform, [
    ...buyers.map((b) => ({
      id: b.accountId,
      ledger: cnyLedger,
      code: AccountCode.userWallet,
      flags: AccountFlags.debitsMustNotExceedCredits,
    })),
  ]);
  await transfers(
    platform,
    buyers.map((b) => ({
      id: derivedId('bench.funding', b.userId),
      debitAccountId: funding,
      creditAccountId: b.accountId,
      amount: perBuyer,
      ledger: cnyLedger,
      code: TransferCode.openingBalance,
    })),
  );
  const now = new Date(Number(platform.clock.nowNs() / 1_000_000n));
  const shippedAt = new Date(now.getTime() - 11 * day);
  const bar = new SingleBar({ format: 'setup    [{bar}] {percentage}% {value}/{total}', stream: process.stderr });
  bar.start(n, 0);
  const started = performance.now();
  let inFlight: Promise<void> = Promise.resolve();
  for (let first = 0; first < n; first += chunkTrades) {
    const count = Math.min(chunkTrades, n - first);
    const rows = Array.from({ length: count }, (_, k) => {
      const i = first + k;
      const seller = sellers[i % sellers.length] as Seller;
      const buyer = buyers[i % buyers.length] as (typeof buyers)[number];
      const tradeNo = `2026111122${String(i).padStart(18, '0')}`;
      return { tradeNo, seller, buyer, outTradeNo: `bench-${i}` };
    });
    // Ledger first (the money in escrow), then the rows; the next chunk's ledger work overlaps.
    const moved = transfers(
      platform,
      rows.map((r) => ({
        id: derivedId('trade.pay', r.tradeNo),
        debitAccountId: r.buyer.accountId,
        creditAccountId: escrowAccounts.escrow,
        amount: tradeFen,
        userData128: derivedId('trade', r.tradeNo),
        ledger: cnyLedger,
        code: EscrowTransferCode.payment,
      })),
    );
    await inFlight;
    await moved;
    inFlight = insertTrades(platform, rows, shippedAt);
    bar.update(first + count);
  }
  await inFlight;
  bar.stop();
  // What autovacuum would do after such a load, before the sweep's queries are planned.
  await platform.db.exec('analyze trades; analyze ledger_transfers; analyze ledger_accounts');
  log(`loaded ${n} due escrow trades in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function insertTrades(
  platform: Platform,
  rows: readonly {
    tradeNo: string;
    seller: Seller;
    buyer: { userId: string; accountId: bigint };
    outTradeNo: string;
  }[],
  shippedAt: Date,
): Promise<void> {
  const paidAt = new Date(shippedAt.getTime() - day);
  await platform.db.query(
    `insert into trades (trade_no, app_id, out_trade_no, subject, total_fen, status, seller_id, seller_account,
       buyer_id, buyer_account, expires_at, created_at, paying_at, paid_at, escrow, fee_bps, confirm_period_ms,
       shipped_at, logistics_company, logistics_no, confirm_due_at, reminded_at)
     select t.trade_no, t.app_id, t.out_trade_no, 'bench goods', $6, 'WAIT_BUYER_CONFIRM_GOODS', t.seller_id,
       t.seller_account::uuid, t.buyer_id, t.buyer_account::uuid, $7, $7, $7, $7, true, 60, $8, $9, 'SF', t.trade_no,
       $10, $11
     from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $12::text[], $13::text[])
       as t(trade_no, app_id, out_trade_no, seller_id, seller_account, buyer_id, buyer_account)`,
    [
      rows.map((r) => r.tradeNo),
      rows.map((r) => r.seller.appId),
      rows.map((r) => r.outTradeNo),
      rows.map((r) => r.seller.sellerId),
      rows.map((r) => uuidFromU128(r.seller.accountId)),
      tradeFen.toString(),
      paidAt,
      10 * day,
      shippedAt,
      new Date(shippedAt.getTime() + 10 * day),
      new Date(shippedAt.getTime() + 7 * day),
      rows.map((r) => r.buyer.userId),
      rows.map((r) => uuidFromU128(r.buyer.accountId)),
    ],
  );
}

async function submit(platform: Platform, accounts: Parameters<Platform['ledger']['createAccounts']>[0]) {
  for (let i = 0; i < accounts.length; i += 8190) {
    const results = await platform.ledger.createAccounts(accounts.slice(i, i + 8190));
    const bad = results.find((r) => r !== 'ok' && r !== 'exists');
    if (bad) throw new Error(`bench account: ${bad}`);
  }
}

async function transfers(platform: Platform, events: readonly TransferInput[]): Promise<void> {
  const parts: Promise<void>[] = [];
  for (let i = 0; i < events.length; i += 2048) {
    parts.push(
      platform.ledger.createTransfers(events.slice(i, i + 2048)).then((results) => {
        const bad = results.find((r) => r !== 'ok' && r !== 'exists');
        if (bad) throw new Error(`bench transfer: ${bad}`);
      }),
    );
  }
  await Promise.all(parts);
}

/** A merchant app (its private key kept, to sign requests) and `n` buyers with money to pay. */
export async function createPayers(
  platform: Platform,
  n: number,
): Promise<{ appId: string; buyerIds: string[]; merchantKey: KeyObject }> {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const app = await platform.members.createApp({
    name: 'Plain Shop',
    merchantPublicKeyPem: key.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  });
  const buyerIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const user = await platform.members.createUser({
      phone: `137${String(i).padStart(8, '0')}`,
      password: 'bench password',
      openingBalance: 100_000_000n,
    });
    buyerIds.push(user.userId);
  }
  return { appId: app.appId, buyerIds, merchantKey: key.privateKey };
}

/** Payers paying plain trades (one in flight each) through the trade.pay path, with latencies. */
export class Payments {
  #latencies: number[] = [];
  #since = performance.now();
  #running = false;
  #loops: Promise<void>[] = [];
  #next = 0;

  constructor(
    private readonly platform: Platform,
    private readonly payers: { appId: string; buyerIds: string[] },
  ) {}

  start(): void {
    this.#running = true;
    this.#loops = this.payers.buyerIds.map((buyerId) => this.#loop(buyerId));
  }

  async #loop(buyerId: string): Promise<void> {
    while (this.#running) {
      const t0 = performance.now();
      const trade = await this.platform.trades.createAndPay(
        {
          appId: this.payers.appId,
          outTradeNo: `pay-${++this.#next}`,
          totalAmount: '1.00',
          subject: 'coffee',
        },
        buyerId,
      );
      if (trade.status !== 'TRADE_SUCCESS') throw new Error(`payment ended ${trade.status}`);
      this.#latencies.push(performance.now() - t0);
    }
  }

  /** The payments since the last mark: rate and latency quantiles; starts a new window. */
  mark(): { count: number; perS: number; p50: number; p99: number; max: number } {
    const result = latencyWindow(this.#latencies, this.#since);
    this.#latencies = [];
    this.#since = performance.now();
    return result;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
