import { assert } from '../../core/assert.ts';
import type { Clock } from '../../core/clock.ts';
import type { Db, Queryable } from '../../core/db/index.ts';
import { derivedId } from '../../core/ids.ts';
import { cnyLedger, EscrowTransferCode } from '../../core/ledger-codes.ts';
import { limits } from '../../core/limits.ts';
import { beijingTime, dateFromNs } from '../../core/time.ts';
import type { Ledger, TransferInput } from '../../ledger/index.ts';
import { chainCommitted, linkChain } from '../../ledger/index.ts';
import { TradeError } from '../errors.ts';
import {
  findTrade,
  notificationPayload,
  type TradeKey,
  type TradeRow,
  TradeStore,
  type TradeView,
  view,
} from '../trade/store.ts';
import { ensureUnsettledAccount, escrowAccounts, unsettledAccountOf } from './escrow-books.ts';

/** Who asks: the buyer (native API), the seller (its app, through the gateway), or an operator (console). */
export type Actor =
  | { kind: 'buyer'; userId: string }
  | { kind: 'seller'; appId: string }
  | { kind: 'operator'; operatorId: string }
  | { kind: 'system'; name: string };

export function actorName(actor: Actor): string {
  switch (actor.kind) {
    case 'buyer':
      return `buyer:${actor.userId}`;
    case 'seller':
      return `app:${actor.appId}`;
    case 'operator':
      return `operator:${actor.operatorId}`;
    case 'system':
      return actor.name;
  }
}

/**
 * Finds a trade as this actor may see it: a seller by its app's keys, a buyer by trade_no among
 * the trades it paid. Anyone else's trade is indistinguishable from a missing one.
 */
export async function tradeFor(q: Queryable, actor: Actor, key: TradeKey, forUpdate = false): Promise<TradeRow> {
  const lock = forUpdate ? ' for update' : '';
  if (actor.kind === 'seller') return findTrade(q, actor.appId, key, forUpdate);
  if (!key.tradeNo) throw new TradeError('INVALID_PARAMETER', 'trade_no is required');
  const [row] = await q.query<TradeRow>(`select * from trades where trade_no = $1${lock}`, [key.tradeNo]);
  if (!row) throw new TradeError('TRADE_NOT_EXIST');
  if (actor.kind === 'buyer' && row.buyer_id !== actor.userId) throw new TradeError('TRADE_NOT_EXIST');
  return row;
}

/** Only the party named may do this (a seller confirming receipt, a buyer shipping …). */
export function requireActor(actor: Actor, trade: TradeRow, kind: 'buyer' | 'seller' | 'operator'): void {
  const ok =
    (kind === 'buyer' && actor.kind === 'buyer' && trade.buyer_id === actor.userId) ||
    (kind === 'seller' && actor.kind === 'seller' && trade.app_id === actor.appId) ||
    (kind === 'operator' && (actor.kind === 'operator' || actor.kind === 'system'));
  if (!ok) throw new TradeError('ACCESS_FORBIDDEN', `only the ${kind} may do this`);
}

/**
 * Escrow (guaranteed) trades after payment: shipment, confirmation of receipt, release to the
 * seller less the platform fee, the reminder before the auto-confirm and the auto-confirm itself.
 * Releases run in batches: one statement claims many trades (→ RELEASING), one ledger submission
 * moves all their money (escrow → seller's unsettled proceeds, escrow → fee income, linked per
 * trade, ids derived from the trade), one statement records them (→ TRADE_FINISHED, notified).
 * A crash between the three leaves RELEASING rows that the sweep finishes with the same ids.
 */
export class Escrow {
  readonly #store: TradeStore;
  readonly #sellersWithAccounts = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly clock: Clock,
  ) {
    this.#store = new TradeStore(clock);
  }

  /** The seller ships: WAIT_SELLER_SEND_GOODS → WAIT_BUYER_CONFIRM_GOODS, the confirm period starts. */
  async ship(actor: Actor, key: TradeKey, logistics: { company: string; trackingNo: string }): Promise<TradeView> {
    const company = logistics.company?.trim();
    const trackingNo = logistics.trackingNo?.trim();
    if (!company || company.length > 64) throw new TradeError('INVALID_PARAMETER', 'logistics_company');
    if (!trackingNo || !/^[A-Za-z0-9-]{1,64}$/.test(trackingNo))
      throw new TradeError('INVALID_PARAMETER', 'logistics_no');
    const shipped = await this.db.transaction(async (tx) => {
      const trade = await tradeFor(tx, actor, key, true);
      requireActor(actor, trade, 'seller');
      if (!trade.escrow) throw new TradeError('TRADE_STATUS_ERROR', 'not an escrow trade');
      if (trade.status === 'WAIT_BUYER_CONFIRM_GOODS' && trade.logistics_no === trackingNo) return trade;
      if (trade.status !== 'WAIT_SELLER_SEND_GOODS') throw new TradeError('TRADE_STATUS_ERROR');
      const now = this.#now();
      return this.#store.move(
        tx,
        trade,
        'WAIT_BUYER_CONFIRM_GOODS',
        actorName(actor),
        {
          shipped_at: now,
          logistics_company: company,
          logistics_no: trackingNo,
          confirm_due_at: new Date(now.getTime() + Number(trade.confirm_period_ms)),
        },
        { logistics_company: company, logistics_no: trackingNo },
      );
    });
    return view(shipped);
  }

  /** The buyer confirms receipt: the money goes to the seller (less the fee) at once. */
  async confirmReceipt(actor: Actor, key: TradeKey): Promise<TradeView> {
    const trade = await tradeFor(this.db, actor, key);
    requireActor(actor, trade, 'buyer');
    if (!trade.escrow) throw new TradeError('TRADE_STATUS_ERROR', 'not an escrow trade');
    if (trade.status === 'TRADE_FINISHED' || trade.status === 'RELEASING') {
      if (trade.status === 'RELEASING') await this.#finishReleases([trade]);
      return view(await this.#reread(trade));
    }
    if (trade.status !== 'WAIT_BUYER_CONFIRM_GOODS') throw new TradeError('TRADE_STATUS_ERROR');
    if (trade.case_open) throw new TradeError('CASE_ALREADY_OPEN', 'withdraw the refund request first');
    if (trade.refund_reserved_fen > 0n) throw new TradeError('SYSTEM_ERROR', 'a refund is in flight; retry');
    const released = await this.release([trade.trade_no], actorName(actor));
    if (released === 0) return this.confirmReceipt(actor, key);
    return view(await this.#reread(trade));
  }

  /**
   * Releases these trades (those still waiting for confirmation, with no case open and no
   * refund in flight) to their sellers; returns how many it released.
   */
  async release(tradeNos: readonly string[], actor: string): Promise<number> {
    if (tradeNos.length === 0) return 0;
    const now = this.#now();
    const claimed = await this.db.query<TradeRow>(
      `with claimed as (
         update trades set status = 'RELEASING', released_at = $2, closed_at = $2,
           fee_fen = ((total_fen - refunded_fen) * fee_bps + 5000) / 10000
         where trade_no = any($1::text[]) and status = 'WAIT_BUYER_CONFIRM_GOODS' and escrow
           and not case_open and refund_reserved_fen = 0
         returning *
       ), logged as (
         insert into trade_transitions (trade_no, from_status, to_status, actor, at)
         select trade_no, 'WAIT_BUYER_CONFIRM_GOODS', 'RELEASING', $3, $2 from claimed
       )
       select * from claimed`,
      [tradeNos, now, actor],
    );
    await this.#finishReleases(claimed);
    return claimed.length;
  }

  /** Moves the money of RELEASING trades and records them TRADE_FINISHED, notified. */
  async #finishReleases(trades: readonly TradeRow[]): Promise<void> {
    if (trades.length === 0) return;
    for (const t of trades) {
      if (!this.#sellersWithAccounts.has(t.seller_id)) {
        await ensureUnsettledAccount(this.ledger, t.seller_id);
        this.#sellersWithAccounts.add(t.seller_id);
      }
    }
    // One chain per trade (one or two legs); a submission never splits a chain.
    const chains: TransferInput[][] = [];
    for (const t of trades) {
      const net = t.total_fen - t.refunded_fen - t.fee_fen;
      const legs: TransferInput[] = [];
      const ref = derivedId('trade', t.trade_no);
      if (net > 0n)
        legs.push({
          id: derivedId('escrow.release', t.trade_no),
          debitAccountId: escrowAccounts.escrow,
          creditAccountId: unsettledAccountOf(t.seller_id),
          amount: net,
          userData128: ref,
          ledger: cnyLedger,
          code: EscrowTransferCode.release,
        });
      if (t.fee_fen > 0n)
        legs.push({
          id: derivedId('escrow.fee', t.trade_no),
          debitAccountId: escrowAccounts.escrow,
          creditAccountId: escrowAccounts.feeIncome,
          amount: t.fee_fen,
          userData128: ref,
          ledger: cnyLedger,
          code: EscrowTransferCode.fee,
        });
      chains.push(linkChain(legs));
    }
    for (let i = 0; i < chains.length; ) {
      const submission: TransferInput[][] = [];
      let events = 0;
      while (i < chains.length && events + (chains[i]?.length ?? 0) <= limits.submissionEventsMax) {
        const chain = chains[i++] as TransferInput[];
        submission.push(chain);
        events += chain.length;
      }
      const results = await this.ledger.createTransfers(submission.flat());
      let at = 0;
      for (const chain of submission) {
        const outcome = results.slice(at, at + chain.length);
        at += chain.length;
        // Retried after a crash or raced by a second releaser: the chain exists, which is the point.
        assert(chainCommitted(outcome), `release ${chain[0]?.id}: ${outcome.join(', ')}`);
      }
    }
    const now = this.#now();
    const finished = trades.map((t) =>
      notificationPayload({ ...t, status: 'TRADE_FINISHED' }, { gmt_close: beijingTime(t.released_at ?? now) }),
    );
    await this.db.query(
      `with moved as (
         update trades set status = 'TRADE_FINISHED'
         where trade_no = any($1::text[]) and status = 'RELEASING'
         returning trade_no, app_id
       ), logged as (
         insert into trade_transitions (trade_no, from_status, to_status, actor, at)
         select trade_no, 'RELEASING', 'TRADE_FINISHED', 'ledger', $2 from moved
       ), payloads as (
         select * from unnest($1::text[], $3::jsonb[]) as p(trade_no, payload)
       )
       insert into trade_notifications (app_id, trade_no, event, payload, created_at, next_attempt_at)
       select moved.app_id, moved.trade_no, 'TRADE_FINISHED', payloads.payload, $2, $2
       from moved join payloads using (trade_no)`,
      [trades.map((t) => t.trade_no), now, finished.map((p) => JSON.stringify(p))],
    );
  }

  /**
   * One round of the escrow sweep: reminders before the auto-confirm, auto-confirms of trades
   * whose confirm period is over (at most `limits.escrowReleaseBatchMax`), releases a crash left
   * in flight. Returns how many trades it released.
   */
  async sweep(): Promise<{ reminded: number; released: number }> {
    const now = this.#now();
    const reminded = await this.#remind(now);
    const stale = await this.db.query<TradeRow>(
      `select * from trades where status = 'RELEASING' and released_at <= $1 limit $2`,
      [new Date(now.getTime() - limits.tradePayingStaleMs), limits.escrowReleaseBatchMax],
    );
    await this.#finishReleases(stale);
    const due = await this.db.query<{ trade_no: string }>(
      `select trade_no from trades
       where status = 'WAIT_BUYER_CONFIRM_GOODS' and confirm_due_at <= $1 and not case_open and refund_reserved_fen = 0
       order by confirm_due_at limit $2`,
      [now, limits.escrowReleaseBatchMax],
    );
    const released = await this.release(
      due.map((d) => d.trade_no),
      'auto-confirm',
    );
    return { reminded, released: released + stale.length };
  }

  /**
   * Sweeps until no trade is due, pausing after each round for `pauseRatio` times as long as the
   * round took, so that payments running meanwhile keep most of the machine: a release may wait
   * seconds, a payment should not. Returns how many trades it released.
   */
  async sweepAll(options: { pauseRatio?: number; onRound?: (released: number) => void } = {}): Promise<number> {
    const pauseRatio = options.pauseRatio ?? limits.escrowSweepPauseRatio;
    let total = 0;
    for (;;) {
      const started = performance.now();
      const { released } = await this.sweep();
      total += released;
      options.onRound?.(total);
      if (released < limits.escrowReleaseBatchMax) return total;
      const pauseMs = (performance.now() - started) * pauseRatio;
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  /**
   * Reminds buyers (through the merchant's notify URL) that their trades will confirm themselves.
   * The mark and the notification commit together; `skip locked` gives concurrent sweepers (two
   * server processes) disjoint trades, where two updates of one set in different orders deadlocked.
   */
  async #remind(now: Date): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<TradeRow>(
        `update trades set reminded_at = $1
         where trade_no in (
           select trade_no from trades
           where status = 'WAIT_BUYER_CONFIRM_GOODS' and reminded_at is null and not case_open
             and confirm_due_at <= $2
           order by confirm_due_at limit $3
           for update skip locked)
         returning *`,
        [now, new Date(now.getTime() + limits.escrowReminderBeforeMs), limits.escrowReleaseBatchMax],
      );
      await this.#store.notifyMany(
        tx,
        rows.map((t) => ({
          trade: t,
          extra: { notify_type: 'trade_confirm_reminder', confirm_deadline: beijingTime(t.confirm_due_at ?? now) },
        })),
      );
      return rows.length;
    });
  }

  async #reread(trade: TradeRow): Promise<TradeRow> {
    const [row] = await this.db.query<TradeRow>('select * from trades where trade_no = $1', [trade.trade_no]);
    assert(row, 'a trade never disappears');
    return row;
  }

  #now(): Date {
    return dateFromNs(this.clock.nowNs());
  }
}
