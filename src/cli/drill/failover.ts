import { generateKeyPairSync, randomInt } from 'node:crypto';
import { DatabaseUnavailableError } from '../../core/db/index.ts';
import { id } from '../../core/ids.ts';
import { AccountCode, cnyLedger, WalletTransferCode } from '../../core/ledger-codes.ts';
import { limits } from '../../core/limits.ts';
import type { Ledger } from '../../ledger/index.ts';
import { openPlatform, type Platform } from '../../platform.ts';
import { round1 } from '../bench/common.ts';
import { sleep } from '../bench/escrow.ts';
import { childServer, pool } from '../bench/gateway.ts';
import { LeanClient } from '../bench/lean-client.ts';
import { checkBooks, connectionErrorKind, countError } from './books.ts';
import { LocalCluster } from './cluster.ts';

/** Options of `paybao drill failover`. */
export interface FailoverDrillOptions {
  /** How many times the primary is killed (the old one rejoins as the secondary between rounds). */
  rounds: number;
  /** Merchants paying at once, one trade in flight each. */
  clients: number;
  buyers: number;
  /** Ledger transfers in flight at once, from the drill's own process. */
  ledgerClients: number;
  /** The kill comes at a random moment within this many seconds of load. */
  loadSeconds: number;
  /** Seconds of load once payments succeed again, before the round ends. */
  afterSeconds: number;
  /** The cluster's monitor listens here; its two nodes on the next two ports. */
  portBase: number;
}

/** One kill of the primary. */
export interface FailoverRound {
  round: number;
  /** The node killed, and the one promoted. */
  killed: string;
  promoted: string | null;
  killed_after_s: number;
  /** From the kill until the platform's `/health` said ok again: no writable server meanwhile. */
  no_primary_s: number | null;
  /**
   * From the kill until the first payment acknowledged after the platform saw the outage (its
   * `/health` said unavailable): the RTO merchants see. Answers in flight at the kill don't count.
   */
  rto_s: number | null;
  /** Payments acknowledged (10000, or TRADE_HAS_SUCCESS for a retry of one) in this round. */
  acknowledged: number;
  /** Ledger transfers acknowledged (ok, or exists for a retry of one) in this round. */
  transfers_acknowledged: number;
  /** Until the killed node was back as the secondary (pg_rewind and catch-up). */
  rejoin_s: number;
}

export interface FailoverDrillResult {
  engine: 'postgres';
  cluster: string;
  /** pg_auto_failover's timeouts (the monitor's `pgautofailover.*` settings, in ms where timed). */
  pg_auto_failover: Record<string, string>;
  rounds: FailoverRound[];
  acknowledged: number;
  /** Acknowledged payments whose trade is not paid on the new primary: must be 0. */
  lost: number;
  /** Money moved more than once for one trade: must be 0. */
  applied_twice: number;
  moved_unpaid: number;
  paid_unmoved: number;
  /** Payments answered with a refusal that are paid all the same: must be 0 (a wrong answer). */
  wrong_answers: number;
  /** Payments left without an answer (the drill's round ended first): learned by trade.query later. */
  in_doubt: number;
  in_doubt_paid: number;
  transfers_acknowledged: number;
  /** Acknowledged ledger transfers missing on the new primary, or amounts off: must be 0. */
  transfers_lost: number;
  transfers_applied_twice: number;
  client_errors: Record<string, number>;
  ledger_violations: number;
  ok: boolean;
}

const amount = '1.00';
const amountFen = 100n;
const subject = 'failover drill';
/** Payment codes made per client and second of a round (each trade spends one; they live two minutes). */
const codesPerClientSecond = 60;
/** Seconds of a round with payments flowing beyond the load and after phases (the first payment, the retries). */
const codeSlackSeconds = 10;

/**
 * `paybao drill failover`: the loss of the database server under load. Sets up pg_auto_failover on
 * this machine (monitor, primary, synchronous secondary), starts `paybao start` on the cluster's
 * host list, and has merchants pay over the gateway while the drill's own process writes ledger
 * transfers; then kills the primary (keeper, postmaster and backends, SIGKILL) at a random moment
 * and keeps driving through the promotion. A merchant retries the system-busy answer with the same
 * request, as Alipay's SDK users do; a transfer is retried with its id. Between rounds the old
 * primary rejoins as the secondary. At the end: every acknowledged payment and transfer is on the
 * new primary, applied once; no refused payment was paid; the ledger verifies.
 */
export async function failoverDrill(
  options: FailoverDrillOptions,
  log: (line: string) => void,
): Promise<FailoverDrillResult> {
  log('setting up the cluster: monitor, primary, secondary (pg_auto_failover)');
  const cluster = await LocalCluster.create({ portBase: options.portBase, log });
  try {
    const databaseUrl = cluster.uri();
    log(`cluster ready: ${databaseUrl}`);
    const platform = await openPlatform({ databaseUrl });
    try {
      return await drive(options, cluster, platform, log);
    } finally {
      await platform.close();
    }
  } finally {
    await cluster.destroy();
  }
}

async function drive(
  options: FailoverDrillOptions,
  cluster: LocalCluster,
  platform: Platform,
  log: (line: string) => void,
): Promise<FailoverDrillResult> {
  const databaseUrl = cluster.uri();
  const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const app = await platform.members.createApp({
    name: 'Failover Shop',
    merchantPublicKeyPem: merchant.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  });
  const platformKey = (await platform.members.platformKeys()).active.publicKeyPem;
  // No code is spent while no primary answers (a busy answer is retried with its code).
  const roundSeconds = options.loadSeconds + options.afterSeconds + codeSlackSeconds;
  const codesPerRound = Math.ceil(codesPerClientSecond * options.clients * roundSeconds);
  const perBuyer = BigInt(Math.ceil((codesPerRound * options.rounds) / options.buyers)) * amountFen;
  const buyerIds = await pool(options.buyers, 16, async (i) => {
    const user = await platform.members.createUser({
      phone: `135${String(i).padStart(8, '0')}`,
      password: 'drill password',
      openingBalance: perBuyer,
    });
    return user.userId;
  });
  const transfers = new TransferDriver(platform.ledger);
  await transfers.open(options.ledgerClients);

  const server = await childServer({ databaseUrl, env: { LOG_LEVEL: 'error' } }, undefined, undefined, quiet(log));
  const acknowledged = new Set<string>();
  const refused = new Set<string>();
  const inDoubt = new Set<string>();
  const errors: Record<string, number> = {};
  const rounds: FailoverRound[] = [];
  let next = 0;
  try {
    for (let round = 1; round <= options.rounds; round++) {
      const codes = await platform.members.newPaymentCodes(
        Array.from({ length: codesPerRound }, (_, i) => buyerIds[i % buyerIds.length] as string),
      );
      const client = new LeanClient(server.url, app.appId, merchant.privateKey, platformKey);
      let stop = false;
      let outageSeen = false;
      let firstAfterKill: number | undefined;
      let roundAcknowledged = 0;
      let firstPaid = () => {};
      const paying = new Promise<void>((resolve) => {
        firstPaid = resolve;
      });
      let used = 0;
      /** One merchant: pays trade after trade; a busy answer or a lost connection is retried as it was. */
      const merchantLoop = async () => {
        while (!stop && used < codes.length) {
          const out = `failover-${next++}`;
          const code = codes[used++] as string;
          const biz = { out_trade_no: out, total_amount: amount, subject, scene: 'bar_code', auth_code: code };
          for (;;) {
            let answer: Record<string, unknown>;
            try {
              answer = await client.call('alipay.trade.pay', biz);
            } catch (error) {
              countError(errors, connectionErrorKind(error));
              if (stop) {
                inDoubt.add(out);
                break;
              }
              await sleep(limits.drillRetryPauseMs);
              continue;
            }
            const subCode = typeof answer.sub_code === 'string' ? answer.sub_code : undefined;
            if (answer.code === '10000' || subCode === 'ACQ.TRADE_HAS_SUCCESS') {
              acknowledged.add(out);
              roundAcknowledged++;
              if (outageSeen) firstAfterKill ??= performance.now();
              firstPaid();
              break;
            }
            countError(errors, `pay ${subCode ?? answer.code}`);
            // The system error (20000): nothing is confirmed; the same request again, as the SDK's users do.
            if (answer.code === '20000' && !stop) {
              await sleep(limits.drillRetryPauseMs);
              continue;
            }
            if (answer.code === '20000' || subCode === 'ACQ.TRADE_STATUS_ERROR') inDoubt.add(out);
            else refused.add(out);
            break;
          }
        }
      };
      const transfersBefore = transfers.acknowledged.size;
      const loadStartedAt = performance.now();
      const merchants = Array.from({ length: options.clients }, merchantLoop);
      const writers = transfers.drive(() => stop);
      await Promise.race([paying, sleep(limits.drillFirstPaymentWaitMs)]);
      await sleep(randomInt(options.loadSeconds * 1000 + 1));
      const primary = await cluster.primary();
      if (!primary) throw new Error('the cluster has no primary to kill');
      cluster.kill(primary.nodename);
      const killedAt = performance.now();
      log(`round ${round}: killed ${primary.nodename} (the primary)`);
      const health = watchHealth(server.url, killedAt, () => {
        // The outage is seen: from here on, a payment acknowledged is one made on the new primary.
        outageSeen = true;
      });
      const promotedNodes = await cluster.promotedOver(primary.nodename, limits.drillFailoverRecoveryMs);
      const promoted = promotedNodes.find((n) => n.nodename !== primary.nodename)?.nodename ?? null;
      log(`round ${round}: ${promoted} promoted after ${round1((performance.now() - killedAt) / 1000)} s`);
      const recoveryDeadline = killedAt + limits.drillFailoverRecoveryMs;
      while (firstAfterKill === undefined && performance.now() < recoveryDeadline)
        await sleep(limits.drillRetryPauseMs);
      await sleep(options.afterSeconds * 1000);
      stop = true;
      await Promise.all([...merchants, writers]);
      client.close();
      const noPrimaryS = await health.stop();
      log(`round ${round}: the old primary rejoins as the secondary`);
      const rejoinStarted = performance.now();
      cluster.rejoin(primary.nodename);
      await cluster.waitFor(['primary', 'secondary'], limits.drillClusterReadyMs);
      rounds.push({
        round,
        killed: primary.nodename,
        promoted,
        killed_after_s: round1((killedAt - loadStartedAt) / 1000),
        no_primary_s: noPrimaryS,
        rto_s: firstAfterKill === undefined ? null : round1((firstAfterKill - killedAt) / 1000),
        acknowledged: roundAcknowledged,
        transfers_acknowledged: transfers.acknowledged.size - transfersBefore,
        rejoin_s: round1((performance.now() - rejoinStarted) / 1000),
      });
      log(`round ${round}: ${JSON.stringify(rounds.at(-1))}`);
    }
  } finally {
    await server.close();
  }
  // Once more, so that startup recovery finishes any payment a failover left in flight; then stop.
  const last = await childServer({ databaseUrl, env: { LOG_LEVEL: 'error' } }, undefined, undefined, quiet(log));
  await last.close();

  const books = await checkBooks(platform, app.appId, next, buyerIds, perBuyer, amountFen);
  const paid = (out: string) => books.status.get(out) === 'TRADE_SUCCESS';
  const ledgerBooks = await transfers.check();
  const result: FailoverDrillResult = {
    engine: 'postgres',
    cluster: databaseUrl,
    pg_auto_failover: await cluster.failoverSettings(),
    rounds,
    acknowledged: acknowledged.size,
    lost: [...acknowledged].filter((out) => !paid(out)).length,
    applied_twice: books.appliedTwice,
    moved_unpaid: books.movedUnpaid,
    paid_unmoved: books.paidUnmoved,
    wrong_answers: [...refused].filter(paid).length,
    in_doubt: inDoubt.size,
    in_doubt_paid: [...inDoubt].filter(paid).length,
    transfers_acknowledged: transfers.acknowledged.size,
    transfers_lost: ledgerBooks.lost,
    transfers_applied_twice: ledgerBooks.appliedTwice,
    client_errors: { ...errors, ...prefixed('transfer ', transfers.errors) },
    ledger_violations: books.violations,
    ok: false,
  };
  result.ok =
    result.lost === 0 &&
    result.applied_twice === 0 &&
    result.moved_unpaid === 0 &&
    result.paid_unmoved === 0 &&
    result.wrong_answers === 0 &&
    result.transfers_lost === 0 &&
    result.transfers_applied_twice === 0 &&
    result.ledger_violations === 0 &&
    rounds.every((r) => r.rto_s !== null);
  return result;
}

/**
 * Ledger transfers from the drill's own process, through the same host-list connector: a pair of
 * accounts per writer, one unit per transfer, each retried with its own id until it is answered
 * (`ok`, or `exists` for a retry whose first try committed), so that the sink's balance must equal
 * the acknowledged count exactly.
 */
class TransferDriver {
  readonly acknowledged = new Set<bigint>();
  readonly errors: Record<string, number> = {};
  readonly #ledger: Ledger;
  #pairs: Array<{ source: bigint; sink: bigint; sent: bigint }> = [];

  constructor(ledger: Ledger) {
    this.#ledger = ledger;
  }

  async open(writers: number): Promise<void> {
    this.#pairs = Array.from({ length: writers }, () => ({ source: id(), sink: id(), sent: 0n }));
    const accounts = this.#pairs.flatMap((p) => [
      { id: p.source, ledger: cnyLedger, code: AccountCode.userWallet },
      { id: p.sink, ledger: cnyLedger, code: AccountCode.userWallet },
    ]);
    const results = await this.#ledger.createAccounts(accounts);
    if (results.some((r) => r !== 'ok')) throw new Error(`drill accounts: ${results.join(', ')}`);
  }

  drive(stopped: () => boolean): Promise<void> {
    return Promise.all(
      this.#pairs.map(async (pair) => {
        while (!stopped()) {
          const transfer = {
            id: id(),
            debitAccountId: pair.source,
            creditAccountId: pair.sink,
            amount: 1n,
            ledger: cnyLedger,
            code: WalletTransferCode.userToUser,
          };
          // Until answered: a transfer never answered is not acknowledged, and not counted.
          for (;;) {
            try {
              const [result] = await this.#ledger.createTransfers([transfer]);
              if (result !== 'ok' && result !== 'exists') throw new Error(`transfer answered ${result}`);
              this.acknowledged.add(transfer.id);
              pair.sent++;
              break;
            } catch (error) {
              // Retried whatever it was (an unexpected kind shows in the counts, by its message).
              countError(
                this.errors,
                error instanceof DatabaseUnavailableError ? error.code : String(error).slice(0, 80),
              );
              if (stopped()) return;
              await sleep(limits.drillRetryPauseMs);
            }
          }
        }
      }),
    ).then(() => undefined);
  }

  /** Acknowledged transfers missing on the primary, and sinks credited beyond what was acknowledged. */
  async check(): Promise<{ lost: number; appliedTwice: number }> {
    const ids = [...this.acknowledged];
    let found = 0;
    for (let i = 0; i < ids.length; i += limits.lookupIdsMax)
      found += (await this.#ledger.lookupTransfers(ids.slice(i, i + limits.lookupIdsMax))).length;
    const sinks = await this.#ledger.lookupAccounts(this.#pairs.map((p) => p.sink));
    const credited = sinks.reduce((sum, a) => sum + a.creditsPosted, 0n);
    const sent = this.#pairs.reduce((sum, p) => sum + p.sent, 0n);
    return { lost: ids.length - found, appliedTwice: Number(credited - sent) };
  }
}

/**
 * Polls the server's `/health` from the kill on: `stop()` gives the seconds from the kill until it
 * said ok again after it had said unavailable (null when it never said unavailable).
 */
function watchHealth(base: string, killedAt: number, onLost: () => void) {
  let lostSeen = false;
  let okAt: number | undefined;
  let stopped = false;
  const polling = (async () => {
    while (!stopped && okAt === undefined) {
      const response = await fetch(`${base}/health`).catch(() => undefined);
      await response?.arrayBuffer();
      if (response?.status === 200 && lostSeen) okAt = performance.now();
      else {
        if (!lostSeen && response?.status !== 200) {
          lostSeen = true;
          onLost();
        }
        await sleep(limits.drillRetryPauseMs);
      }
    }
  })();
  return {
    async stop(): Promise<number | null> {
      stopped = true;
      await polling;
      return okAt === undefined ? null : round1((okAt - killedAt) / 1000);
    },
  };
}

/** The server's log lines, the first few only: a failover's refusals would drown the drill's own. */
function quiet(log: (line: string) => void): (line: string) => void {
  let shown = 0;
  return (line) => {
    if (shown++ < limits.drillServerLogLinesMax) log(line);
    else if (shown === limits.drillServerLogLinesMax + 1) log('server: (further log lines not shown)');
  };
}

function prefixed(prefix: string, counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [`${prefix}${k}`, v]));
}
