import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { openDb } from '../../core/db/index.ts';
import { uuidFromU128 } from '../../core/ids.ts';
import { AccountCode, cnyLedger, WalletTransferCode } from '../../core/ledger-codes.ts';
import { TransferFlags, type TransferInput, verifyLedger } from '../../ledger/index.ts';
import { openPlatform, type Platform } from '../../platform.ts';
import { dropSchema, quantile, readDurability, round1 } from './common.ts';

/** Options of `paybao bench ledger`. */
export interface LedgerBenchOptions {
  json: boolean;
  accounts: number;
  transfers: number;
  databaseUrl?: string | undefined;
  /** Concurrent submitters, each with one request in flight. */
  clients?: number;
  /** Transfers per request of one submitter. */
  requestEvents?: number;
  /** Seconds of the one-transfer-per-transaction baseline. */
  baselineSeconds?: number;
}

export interface LedgerBenchResult {
  engine: string;
  accounts: number;
  transfers_per_workload: number;
  uniform_tps: number;
  hot_tps: number;
  baseline_tps: number;
  ratio: number;
  p50_batch_ms: number;
  p99_batch_ms: number;
  rss_mb: number;
  rss_after_100k_mb: number;
  rss_after_1m_mb: number;
  synchronous_commit: string;
  fsync: string;
}

const merchantIndex = 0;

/**
 * `paybao bench ledger`: 100k accounts, then N transfers uniform and N "Double 11 hot" (90% credit
 * one merchant), submitted by concurrent clients through the group-commit engine with durable
 * commits. In the same run, the usual way as a baseline: one transfer per database transaction
 * (SELECT … FOR UPDATE, UPDATE, INSERT) from concurrent connections.
 */
export async function benchLedger(options: LedgerBenchOptions): Promise<LedgerBenchResult> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const schema = options.databaseUrl ? `bench_${Date.now()}` : undefined;
  const dataDir = options.databaseUrl ? undefined : mkdtempSync(join(tmpdir(), 'paybao-bench-'));
  const batchMs: number[] = [];
  const phases: Record<string, number> = {};
  const platform = await openPlatform({
    databaseUrl: options.databaseUrl,
    databaseSchema: schema,
    dataDir,
    onBatch: (s) => {
      batchMs.push(s.durationMs);
      for (const [k, v] of Object.entries(s.phasesMs)) phases[k] = (phases[k] ?? 0) + v;
      phases.events = (phases.events ?? 0) + s.events;
      phases.batches = (phases.batches ?? 0) + 1;
    },
  });
  try {
    const durability = await readDurability(platform.db);
    log(`engine ${platform.db.engine}; synchronous_commit=${durability.synchronous_commit} fsync=${durability.fsync}`);
    const accountIds = await createAccounts(platform, options.accounts, log);
    const clients = options.clients ?? 1024;
    const requestEvents = options.requestEvents ?? 32;
    const rss: number[] = [];
    const sampleRss = (done: number) => {
      if (done >= 100_000 && rss.length === 0) rss.push(process.memoryUsage().rss);
    };
    batchMs.length = 0;
    const random = () => pick(accountIds, -1);
    const uniform = await load(
      platform,
      'uniform',
      options.transfers,
      clients,
      requestEvents,
      log,
      (done) => {
        sampleRss(done);
        return random();
      },
      random,
    );
    rss.push(process.memoryUsage().rss);
    const merchant = accountIds[merchantIndex] as bigint;
    const hot = await load(
      platform,
      'hot',
      options.transfers,
      clients,
      requestEvents,
      log,
      () => (Math.random() < 0.9 ? merchant : random()),
      random,
    );
    log(`batch phases (ms total): ${JSON.stringify(phases, (_k, v) => (typeof v === 'number' ? Math.round(v) : v))}`);
    const baseline = await runBaseline(platform, schema, options, log);
    const sorted = [...batchMs].sort((a, b) => a - b);
    const mb = (n: number | undefined) => Math.round((n ?? 0) / 1048576);
    const result: LedgerBenchResult = {
      engine: platform.db.engine,
      accounts: options.accounts,
      transfers_per_workload: options.transfers,
      uniform_tps: Math.round(uniform),
      hot_tps: Math.round(hot),
      baseline_tps: Math.round(baseline),
      ratio: Math.round((Math.min(uniform, hot) / baseline) * 10) / 10,
      p50_batch_ms: round1(quantile(sorted, 0.5)),
      p99_batch_ms: round1(quantile(sorted, 0.99)),
      rss_mb: mb(process.memoryUsage().rss),
      rss_after_100k_mb: mb(rss[0]),
      rss_after_1m_mb: mb(rss[1]),
      ...durability,
    };
    const violations = await verifyLedger(platform.db);
    if (violations.length > 0) throw new Error(`the books do not balance after the run: ${JSON.stringify(violations)}`);
    return result;
  } finally {
    await platform.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (options.databaseUrl && schema) await dropSchema(options.databaseUrl, schema);
  }
}

async function createAccounts(platform: Platform, n: number, log: (s: string) => void): Promise<bigint[]> {
  const ids = Array.from({ length: n }, (_, i) => BigInt(i + 1));
  const chunk = 8190;
  const started = performance.now();
  for (let i = 0; i < n; i += chunk) {
    const results = await platform.ledger.createAccounts(
      ids.slice(i, i + chunk).map((id) => ({ id, ledger: cnyLedger, code: AccountCode.userWallet })),
    );
    if (results.some((r) => r !== 'ok')) throw new Error(`account creation failed: ${results.find((r) => r !== 'ok')}`);
  }
  log(`created ${n} accounts in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return ids;
}

let nextTransferId = 1n << 64n;

/** Runs `total` transfers from `clients` concurrent submitters; returns transfers per second. */
async function load(
  platform: Platform,
  name: string,
  total: number,
  clients: number,
  requestEvents: number,
  log: (s: string) => void,
  creditAccount: (done: number) => bigint,
  debitAccount: () => bigint,
): Promise<number> {
  const bar = new SingleBar({
    format: `${name.padEnd(8)} [{bar}] {percentage}% {value}/{total} {tps}/s`,
    stream: process.stderr,
  });
  bar.start(total, 0, { tps: 0 });
  let issued = 0;
  let done = 0;
  const started = performance.now();
  const client = async () => {
    while (issued < total) {
      const n = Math.min(requestEvents, total - issued);
      issued += n;
      const events: TransferInput[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const credit = creditAccount(done);
        let debit = debitAccount();
        while (debit === credit) debit = debitAccount();
        events[i] = {
          id: nextTransferId++,
          debitAccountId: debit,
          creditAccountId: credit,
          amount: 1n + BigInt(i),
          ledger: cnyLedger,
          code: WalletTransferCode.userToUser,
          flags: TransferFlags.none,
        };
      }
      const results = await platform.ledger.createTransfers(events);
      for (const r of results) if (r !== 'ok') throw new Error(`transfer failed: ${r}`);
      done += n;
      bar.update(done, { tps: Math.round(done / ((performance.now() - started) / 1000)) });
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  const seconds = (performance.now() - started) / 1000;
  bar.stop();
  log(`${name}: ${total} transfers in ${seconds.toFixed(1)} s = ${Math.round(total / seconds)}/s`);
  return total / seconds;
}

function pick(ids: readonly bigint[], fixed: number): bigint {
  const i = fixed >= 0 ? fixed : Math.floor(Math.random() * ids.length);
  return ids[i] as bigint;
}

/**
 * The usual way: each transfer is its own database transaction that locks both accounts with
 * SELECT … FOR UPDATE (in id order, so no deadlocks), updates them and inserts the transfer, on
 * the same tables and indexes as the engine, from concurrent connections. Returns transfers/s.
 */
async function runBaseline(
  platform: Platform,
  schema: string | undefined,
  options: LedgerBenchOptions,
  log: (s: string) => void,
): Promise<number> {
  const connections = options.databaseUrl ? 16 : 1;
  const db = options.databaseUrl
    ? await openDb({ databaseUrl: options.databaseUrl, schema, poolMax: connections })
    : platform.db;
  const seconds = options.baselineSeconds ?? 10;
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  let nextId = 1n << 96n;
  const worker = async () => {
    while (performance.now() < deadline) {
      const a = 1n + BigInt(Math.floor(Math.random() * options.accounts));
      let b = a;
      while (b === a) b = 1n + BigInt(Math.floor(Math.random() * options.accounts));
      const [lo, hi] = a < b ? [a, b] : [b, a];
      const id = nextId++;
      await db.transaction(async (tx) => {
        await tx.query(
          'select id, debits_posted, credits_posted from ledger_accounts where id = any($1::uuid[]) order by id for update',
          [`{${uuidFromU128(lo)},${uuidFromU128(hi)}}`],
        );
        await tx.query('update ledger_accounts set debits_posted = debits_posted + 1 where id = $1', [uuidFromU128(a)]);
        await tx.query('update ledger_accounts set credits_posted = credits_posted + 1 where id = $1', [
          uuidFromU128(b),
        ]);
        await tx.query(
          `insert into ledger_transfers (id, debit_account_id, credit_account_id, amount, pending_id, user_data_128,
             user_data_64, user_data_32, timeout, ledger, code, flags, timestamp)
           values ($1, $2, $3, 1, $4, $4, 0, 0, 0, 1, 1, 0, $5)`,
          [
            uuidFromU128(id),
            uuidFromU128(a),
            uuidFromU128(b),
            uuidFromU128(0n),
            (BigInt(Date.now()) * 1_000_000n).toString(),
          ],
        );
      });
      done++;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  if (db !== platform.db) await db.close();
  const tps = done / seconds;
  log(
    `baseline (one transfer per transaction, ${connections} connections): ${done} in ${seconds} s = ${Math.round(tps)}/s`,
  );
  return tps;
}
