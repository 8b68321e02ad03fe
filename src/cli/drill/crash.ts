import { generateKeyPairSync, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { limits } from '../../core/limits.ts';
import { openPlatform } from '../../platform.ts';
import { dropSchema, round1 } from '../bench/common.ts';
import { sleep } from '../bench/escrow.ts';
import { childServer, pool, seconds } from '../bench/gateway.ts';
import { type Answer, LeanClient } from '../bench/lean-client.ts';
import { checkBooks, connectionErrorKind, countError } from './books.ts';

/** Options of `paybao drill crash`. */
export interface CrashDrillOptions {
  json: boolean;
  /** How many times the server is killed. */
  rounds: number;
  /** Merchants' clients paying at once, each one trade in flight. */
  clients: number;
  buyers: number;
  /** The kill comes at a random moment within this many seconds after the round's first acknowledged payment. */
  loadSeconds: number;
  databaseUrl?: string | undefined;
}

/** One kill: what was acknowledged before it, and how long the platform took to come back. */
export interface CrashRound {
  round: number;
  /** Seconds of load before the SIGKILL. */
  killed_after_s: number;
  /** Payments answered `10000` (TRADE_SUCCESS) in this round. */
  acknowledged: number;
  /** Requests out when the server died: their outcome is unknown to the merchant. */
  in_doubt: number;
  /** From the spawn of `paybao start` to its listening. */
  start_s: number;
  /**
   * From the spawn of `paybao start` (what a supervisor does at once after a crash) to its first
   * acknowledged payment: the RTO, startup recovery included; null when none was acknowledged.
   */
  recovery_s: number | null;
}

export interface CrashDrillResult {
  engine: string;
  rounds: CrashRound[];
  acknowledged: number;
  /** Acknowledged payments whose trade is not TRADE_SUCCESS at the end: must be 0. */
  lost: number;
  /** Money moved more than once for one trade (buyers' debits beyond the paid trades): must be 0. */
  applied_twice: number;
  /** Trades whose money moved but that are not paid at the end: must be 0. */
  moved_unpaid: number;
  /** Trades paid without their money moving: must be 0. */
  paid_unmoved: number;
  /** Requests in doubt whose payment did go through (the merchant learns it by trade.query). */
  in_doubt_paid: number;
  /** The merchants' errors by kind: refused connections, closed connections, answers other than 10000. */
  client_errors: Record<string, number>;
  ledger_violations: number;
  ok: boolean;
}

const amount = '1.00';
const amountFen = 100n;
const subject = 'drill';
/** Payment codes made before each round (each trade spends one; they live two minutes). */
const codesPerClientSecond = 400;

/**
 * `paybao drill crash`: the platform's own process killed with SIGKILL under load, again and
 * again, on one database. Each round makes fresh payment codes (with the engine to itself: the
 * server is down), starts `paybao start`, has `clients` merchants do `alipay.trade.create` +
 * `alipay.trade.pay` over HTTP with RSA2 signatures, and kills the server at a random moment. At
 * the end the server starts once more and finishes what the crashes interrupted; then the drill
 * stops it and checks the books: every acknowledged payment is paid, no trade's money moved twice
 * or without its trade, the ledger verifies.
 */
export async function crashDrill(options: CrashDrillOptions): Promise<CrashDrillResult> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const schema = options.databaseUrl ? `drill_crash_${Date.now()}` : undefined;
  const dataDir = options.databaseUrl ? undefined : mkdtempSync(join(tmpdir(), 'paybao-drill-crash-'));
  const open = () => openPlatform({ databaseUrl: options.databaseUrl, databaseSchema: schema, dataDir });
  const serverOptions = { databaseUrl: options.databaseUrl };
  const runId = Date.now().toString(36);
  const outTradeNo = (n: number) => `crash-${runId}-${n}`;
  try {
    let platform = await open();
    const engine = platform.db.engine;
    const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const app = await platform.members.createApp({
      name: 'Drill Shop',
      merchantPublicKeyPem: merchant.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
    const platformKey = (await platform.members.platformKeys()).active.publicKeyPem;
    const codesPerRound = Math.ceil(codesPerClientSecond * options.clients * options.loadSeconds);
    const perBuyer = BigInt(Math.ceil((codesPerRound * options.rounds) / options.buyers)) * amountFen;
    const buyerIds = await pool(options.buyers, 16, async (i) => {
      const user = await platform.members.createUser({
        phone: `136${String(i).padStart(8, '0')}`,
        password: 'drill password',
        openingBalance: perBuyer,
      });
      return user.userId;
    });
    await platform.close();

    const acknowledged = new Set<string>();
    const inDoubt = new Set<string>();
    const errors: Record<string, number> = {};
    const rounds: CrashRound[] = [];
    let next = 0;
    for (let round = 1; round <= options.rounds; round++) {
      // The server is down: the drill may open the engine (PGlite has one owner at a time).
      platform = await open();
      const codes = await platform.members.newPaymentCodes(
        Array.from({ length: codesPerRound }, (_, i) => buyerIds[i % buyerIds.length] as string),
      );
      await platform.close();
      const spawnedAt = performance.now();
      const server = await childServer(serverOptions, schema, dataDir, log);
      const startS = seconds(spawnedAt);
      const client = new LeanClient(server.url, app.appId, merchant.privateKey, platformKey);
      const loadStartedAt = performance.now();
      let firstPaidAt: number | undefined;
      let firstPaid = () => {};
      const paying = new Promise<void>((resolve) => {
        firstPaid = resolve;
      });
      let roundAcknowledged = 0;
      let roundInDoubt = 0;
      let dead = false;
      let used = 0;
      const worker = async () => {
        while (!dead && used < codes.length) {
          const n = next++;
          const code = codes[used++] as string;
          const out = outTradeNo(n);
          try {
            const created = await client.call('alipay.trade.create', {
              out_trade_no: out,
              total_amount: amount,
              subject,
            });
            if (created.code !== '10000') {
              countError(errors, `create ${created.sub_code ?? created.code}`);
              continue;
            }
            const paid: Answer = await client.call('alipay.trade.pay', {
              out_trade_no: out,
              total_amount: amount,
              subject,
              scene: 'bar_code',
              auth_code: code,
            });
            if (paid.code === '10000') {
              acknowledged.add(out);
              roundAcknowledged++;
              firstPaidAt ??= performance.now();
              firstPaid();
            } else countError(errors, `pay ${paid.sub_code ?? paid.code}`);
          } catch (error) {
            // The server died with this exchange out: the merchant does not know how it ended.
            inDoubt.add(out);
            roundInDoubt++;
            countError(errors, connectionErrorKind(error));
            return;
          }
        }
      };
      const workers = Array.from({ length: options.clients }, worker);
      // Under load: after the first payment went through (or a minute without one), at a random moment.
      await Promise.race([paying, sleep(limits.drillFirstPaymentWaitMs)]);
      await sleep(randomInt(options.loadSeconds * 1000 + 1));
      await server.kill();
      const killedAt = performance.now();
      dead = true;
      await Promise.all(workers);
      client.close();
      rounds.push({
        round,
        killed_after_s: round1((killedAt - loadStartedAt) / 1000),
        acknowledged: roundAcknowledged,
        in_doubt: roundInDoubt,
        start_s: round1(startS),
        recovery_s: firstPaidAt === undefined ? null : round1((firstPaidAt - spawnedAt) / 1000),
      });
      log(
        `round ${round}: killed after ${rounds.at(-1)?.killed_after_s} s, ${roundAcknowledged} acknowledged, ` +
          `${roundInDoubt} in doubt`,
      );
    }

    // Once more, to finish what the kills interrupted (the startup recovery), then a clean stop.
    const last = await childServer(serverOptions, schema, dataDir, log);
    await last.close();
    platform = await open();
    try {
      const books = await checkBooks(platform, app.appId, next, buyerIds, perBuyer, amountFen);
      const lost = [...acknowledged].filter((out) => books.status.get(out) !== 'TRADE_SUCCESS').length;
      const inDoubtPaid = [...inDoubt].filter((out) => books.status.get(out) === 'TRADE_SUCCESS').length;
      const result: CrashDrillResult = {
        engine,
        rounds,
        acknowledged: acknowledged.size,
        lost,
        applied_twice: books.appliedTwice,
        moved_unpaid: books.movedUnpaid,
        paid_unmoved: books.paidUnmoved,
        in_doubt_paid: inDoubtPaid,
        client_errors: errors,
        ledger_violations: books.violations,
        ok: false,
      };
      result.ok =
        lost === 0 &&
        books.appliedTwice === 0 &&
        books.movedUnpaid === 0 &&
        books.paidUnmoved === 0 &&
        books.violations === 0;
      return result;
    } finally {
      await platform.close();
    }
  } finally {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (options.databaseUrl && schema) await dropSchema(options.databaseUrl, schema);
  }
}
