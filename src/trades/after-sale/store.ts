import { assert } from '../../core/assert.ts';
import type { Clock } from '../../core/clock.ts';
import { type Queryable, typed } from '../../core/db/index.ts';
import { dailyNumber } from '../../core/external-ids.ts';
import { limits } from '../../core/limits.ts';
import { formatAmount } from '../../core/money.ts';
import { beijingTime, dateFromNs } from '../../core/time.ts';
import { TradeError } from '../errors.ts';
import { type Actor, requireActor } from '../escrow/escrow.ts';
import type { CaseRow, DisputeRow, TradeRow, TradesTables } from '../tables.ts';
import { inEscrow } from '../trade/state.ts';
import { TradeStore } from '../trade/store.ts';
import {
  assertCaseTransition,
  assertDisputeTransition,
  type CaseStatus,
  caseDeadline,
  type DisputeStatus,
} from './state.ts';

/** The columns a case's move may set beside its status (what the party sends with it). */
export type CaseSets = Partial<Pick<CaseRow, 'refuse_reason' | 'return_company' | 'return_no'>>;

/** The columns a dispute's move may set beside its status (the answer's evidence, the ruling). */
export type DisputeSets = Partial<
  Pick<DisputeRow, 'evidence' | 'award_fen' | 'paid_from' | 'ruled_by' | 'ruling_note' | 'ruled_at'>
>;

/** A dispute not yet ruled (SQL list): while one is open on a trade, its case is frozen. */
export const openDisputeStatuses = `('WAIT_SELLER_EVIDENCE', 'WAIT_RULING', 'RULING')`;

/**
 * The after-sale tables' reads and writes: refund cases, disputes and their transitions. Every
 * move of a case or a dispute goes through `moveCase` or `moveDispute` (the diagram's check in
 * `state.ts`, the row updated, the move recorded in `after_sale_transitions` with its actor, the
 * merchant notified), called under the trade's row lock.
 */
export class AfterSaleStore {
  readonly #trades: TradeStore;

  constructor(private readonly clock: Clock) {
    this.#trades = new TradeStore(clock);
  }

  /** Opens a case on `trade` in `status`, its first move recorded (the caller notifies). */
  async insertCase(
    tx: Queryable,
    trade: TradeRow,
    c: { refundFen: bigint; reason: string; needReturn: boolean; status: CaseStatus; actor: string },
  ): Promise<CaseRow> {
    const now = this.now();
    const [row] = await tx.query<CaseRow>(
      `insert into refund_cases (case_no, trade_no, app_id, buyer_id, refund_fen, reason, need_return, status,
         due_at, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $10, $9, $9) returning *`,
      [
        newNumber('RC', now),
        trade.trade_no,
        trade.app_id,
        trade.buyer_id,
        c.refundFen.toString(),
        c.reason,
        c.needReturn,
        c.status,
        now,
        dueAt(c.status, c.needReturn, now),
      ],
    );
    assert(row, 'insert returns its row');
    await this.logMove(tx, row.case_no, null, c.status, c.actor);
    return row;
  }

  /** Opens a dispute on `trade` (WAIT_SELLER_EVIDENCE), its first move recorded (the caller notifies). */
  async insertDispute(
    tx: Queryable,
    trade: TradeRow,
    d: { caseNo: string | null; claimFen: bigint; reason: string; actor: string },
  ): Promise<DisputeRow> {
    const now = this.now();
    const [created] = await tx.query<DisputeRow>(
      `insert into disputes (dispute_no, trade_no, app_id, buyer_id, seller_id, case_no, claim_fen, reason, status,
         created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, 'WAIT_SELLER_EVIDENCE', $9) returning *`,
      [
        newNumber('DP', now),
        trade.trade_no,
        trade.app_id,
        trade.buyer_id,
        trade.seller_id,
        d.caseNo,
        d.claimFen.toString(),
        d.reason,
        now,
      ],
    );
    assert(created, 'insert returns its row');
    await this.logMove(tx, created.dispute_no, null, 'WAIT_SELLER_EVIDENCE', d.actor);
    return created;
  }

  /** The case moves; the trade's case flag follows (open while the case waits on someone). */
  async moveCase(
    tx: Queryable,
    trade: TradeRow,
    c: CaseRow,
    to: CaseStatus,
    actor: string,
    sets: CaseSets = {},
  ): Promise<CaseRow> {
    assertCaseTransition(c.status, to);
    const now = this.now();
    const moved = await typed<TradesTables>(tx)
      .updateTable('refund_cases')
      .set({ ...sets, status: to, updated_at: now, due_at: dueAt(to, c.need_return, now) })
      .where('case_no', '=', c.case_no)
      .returningAll()
      .executeTakeFirst();
    assert(moved, 'a locked case moves');
    await this.logMove(tx, c.case_no, c.status, to, actor);
    const stillOpen = to === 'WAIT_BUYER_RETURN_GOODS' || to === 'WAIT_SELLER_CONFIRM_GOODS' || to === 'REFUNDING';
    if (inEscrow.includes(trade.status) && !(await this.hasOpenDispute(tx, trade.trade_no)))
      await this.setCaseOpen(tx, trade, stillOpen || to === 'WAIT_SELLER_AGREE');
    await this.notifyCase(tx, trade, moved);
    return moved;
  }

  /** The dispute moves, recorded and notified. */
  async moveDispute(
    tx: Queryable,
    trade: TradeRow,
    d: DisputeRow,
    to: DisputeStatus,
    actor: string,
    sets: DisputeSets = {},
  ): Promise<DisputeRow> {
    assertDisputeTransition(d.status, to);
    const moved = await typed<TradesTables>(tx)
      .updateTable('disputes')
      .set({ ...sets, status: to })
      .where('dispute_no', '=', d.dispute_no)
      .returningAll()
      .executeTakeFirst();
    assert(moved, 'a locked dispute moves');
    await this.logMove(tx, d.dispute_no, d.status, to, actor);
    await this.notifyDispute(tx, trade, moved);
    return moved;
  }

  /** Opens or closes the trade's case flag; closing it gives the buyer at least the grace period. */
  async setCaseOpen(tx: Queryable, trade: TradeRow, open: boolean): Promise<void> {
    if (!inEscrow.includes(trade.status)) return;
    const graceUntil = new Date(this.now().getTime() + limits.escrowResumeGraceMs);
    await tx.query(
      `update trades set case_open = $2,
         confirm_due_at = case when $2 or confirm_due_at is null then confirm_due_at else greatest(confirm_due_at, $3) end
       where trade_no = $1`,
      [trade.trade_no, open, graceUntil],
    );
  }

  async logMove(q: Queryable, subject: string, from: string | null, to: string, actor: string): Promise<void> {
    await q.query(
      'insert into after_sale_transitions (subject, from_status, to_status, actor, at) values ($1, $2, $3, $4, $5)',
      [subject, from, to, actor, this.now()],
    );
  }

  async notifyCase(tx: Queryable, trade: TradeRow, c: CaseRow): Promise<void> {
    await this.#trades.notify(tx, trade, {
      notify_type: 'refund_case_sync',
      case_no: c.case_no,
      case_status: c.status,
      refund_amount: formatAmount(c.refund_fen),
      need_return: c.need_return ? 'Y' : 'N',
      gmt_modified: beijingTime(c.updated_at),
    });
  }

  async notifyDispute(tx: Queryable, trade: TradeRow, d: DisputeRow): Promise<void> {
    await this.#trades.notify(tx, trade, {
      notify_type: 'dispute_sync',
      dispute_no: d.dispute_no,
      dispute_status: d.status,
      claim_amount: formatAmount(d.claim_fen),
      ...(d.award_fen !== null ? { award_amount: formatAmount(d.award_fen) } : {}),
    });
  }

  async case(q: Queryable, caseNo: string, forUpdate = false): Promise<CaseRow> {
    if (typeof caseNo !== 'string' || !caseNo) throw new TradeError('INVALID_PARAMETER', 'case_no');
    const [row] = await q.query<CaseRow>(
      `select * from refund_cases where case_no = $1${forUpdate ? ' for update' : ''}`,
      [caseNo],
    );
    if (!row) throw new TradeError('CASE_NOT_EXIST');
    return row;
  }

  async dispute(q: Queryable, disputeNo: string, forUpdate = false): Promise<DisputeRow> {
    if (typeof disputeNo !== 'string' || !disputeNo) throw new TradeError('INVALID_PARAMETER', 'dispute_no');
    const [row] = await q.query<DisputeRow>(
      `select * from disputes where dispute_no = $1${forUpdate ? ' for update' : ''}`,
      [disputeNo],
    );
    if (!row) throw new TradeError('DISPUTE_NOT_EXIST');
    return row;
  }

  /** The trade of a case or dispute; another app's or buyer's reads as a missing case. */
  async tradeOf(q: Queryable, actor: Actor, tradeNo: string, forUpdate = false): Promise<TradeRow> {
    const [trade] = await q.query<TradeRow>(
      `select * from trades where trade_no = $1${forUpdate ? ' for update' : ''}`,
      [tradeNo],
    );
    assert(trade, 'a case has its trade');
    if (actor.kind === 'seller' && trade.app_id !== actor.appId) throw new TradeError('CASE_NOT_EXIST');
    if (actor.kind === 'buyer' && trade.buyer_id !== actor.userId) throw new TradeError('CASE_NOT_EXIST');
    return trade;
  }

  /** Lets only a party of the trade (or an operator) read one of its cases or disputes. */
  async requireReader(q: Queryable, actor: Actor, tradeNo: string): Promise<void> {
    const trade = await this.tradeOf(q, actor, tradeNo);
    if (actor.kind === 'buyer') requireActor(actor, trade, 'buyer');
    if (actor.kind === 'seller') requireActor(actor, trade, 'seller');
  }

  /** The trade's case that is not over (a refused one, one being paid count), if any. */
  async unfinishedCase(q: Queryable, tradeNo: string): Promise<CaseRow | undefined> {
    const [row] = await q.query<CaseRow>(
      `select * from refund_cases where trade_no = $1 and status not in ('REFUND_SUCCESS', 'REFUND_CLOSED')`,
      [tradeNo],
    );
    return row;
  }

  async hasOpenDispute(q: Queryable, tradeNo: string): Promise<boolean> {
    const rows = await q.query(`select 1 from disputes where trade_no = $1 and status in ${openDisputeStatuses}`, [
      tradeNo,
    ]);
    return rows.length > 0;
  }

  now(): Date {
    return dateFromNs(this.clock.nowNs());
  }
}

/** A case or dispute number: a prefix, the Beijing date, 12 random digits. */
function newNumber(prefix: string, now: Date): string {
  return dailyNumber(prefix, now, 12);
}

/** When a case entering `status` moves without its awaited party; null when it awaits nobody. */
function dueAt(status: CaseStatus, needReturn: boolean, now: Date): Date | null {
  const deadline = caseDeadline(status, needReturn);
  return deadline ? new Date(now.getTime() + deadline.afterMs) : null;
}
