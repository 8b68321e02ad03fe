import { assert } from '../../core/assert.ts';
import type { Db, Queryable } from '../../core/db/index.ts';
import type { SweepFailures } from '../../core/jobs.ts';
import { limits } from '../../core/limits.ts';
import { formatAmount } from '../../core/money.ts';
import { isRefusal, TradeError } from '../errors.ts';
import { type Actor, actorName, requireActor, tradeFor } from '../escrow/escrow.ts';
import type { DisputeRow } from '../tables.ts';
import { refundable, reserveRefund, type Trades } from '../trade/service.ts';
import { inEscrow } from '../trade/state.ts';
import type { TradeKey } from '../trade/store.ts';
import type { CompensationFund } from './compensation-fund.ts';
import { caseMayMove, disputeMayMove } from './state.ts';
import type { AfterSaleStore } from './store.ts';
import { type DisputeView, disputeView, parseRefundAmount, requireText } from './views.ts';

/**
 * Disputes: the buyer asks the platform to decide (after the seller refused a refund, or within
 * `escrowDisputeWindowMs` of release), the seller answers with evidence, an operator rules. A
 * dispute freezes its trade's refund case, so the ruling alone ends both. A ruling for the buyer
 * pays from the escrow while the money is there (the award reserved against the trade's budget
 * in the ruling's own transaction); after release the `CompensationFund` pays.
 */
export class Disputes {
  constructor(
    private readonly db: Db,
    private readonly trades: Trades,
    private readonly store: AfterSaleStore,
    private readonly fund: CompensationFund,
  ) {}

  /**
   * The buyer asks the platform to decide: on a shipped trade (usually after the seller refused a
   * refund; the refused case joins the dispute), or within the dispute window after release.
   */
  async open(
    actor: Actor,
    key: TradeKey,
    request: { claimAmount?: string | undefined; reason: string },
  ): Promise<DisputeView> {
    const reason = requireText(request.reason, 'reason');
    const row = await this.db.transaction(async (tx) => {
      const trade = await tradeFor(tx, actor, key, true);
      requireActor(actor, trade, 'buyer');
      if (!trade.escrow) throw new TradeError('TRADE_STATUS_ERROR', 'not an escrow trade');
      if (await this.store.hasOpenDispute(tx, trade.trade_no)) throw new TradeError('DISPUTE_ALREADY_OPEN');
      const now = this.store.now();
      let caseNo: string | null = null;
      let limit: bigint;
      if (trade.status === 'WAIT_BUYER_CONFIRM_GOODS') {
        const open = await this.store.unfinishedCase(tx, trade.trade_no);
        if (open && open.status !== 'SELLER_REFUSE_BUYER' && open.status !== 'WAIT_SELLER_AGREE')
          throw new TradeError('CASE_ALREADY_OPEN', 'the refund case is under way');
        caseNo = open?.case_no ?? null;
        limit = open ? open.refund_fen : refundable(trade);
      } else if (trade.status === 'TRADE_FINISHED' && trade.released_at) {
        if (trade.released_at.getTime() + limits.escrowDisputeWindowMs < now.getTime())
          throw new TradeError('DISPUTE_WINDOW_OVER');
        limit = trade.total_fen - trade.refunded_fen - (await this.#awardedAfterRelease(tx, trade.trade_no));
      } else {
        throw new TradeError('TRADE_STATUS_ERROR');
      }
      const claim = request.claimAmount === undefined ? limit : parseRefundAmount(request.claimAmount);
      if (claim <= 0n || claim > limit) throw new TradeError('REFUND_AMT_NOT_EQUAL_TOTAL');
      const created = await this.store.insertDispute(tx, trade, {
        caseNo,
        claimFen: claim,
        reason,
        actor: actorName(actor),
      });
      if (trade.status === 'WAIT_BUYER_CONFIRM_GOODS') await this.store.setCaseOpen(tx, trade, true);
      await this.store.notifyDispute(tx, trade, created);
      return created;
    });
    return disputeView(row);
  }

  /** The seller answers with its evidence. */
  async answer(actor: Actor, disputeNo: string, evidence: string): Promise<DisputeView> {
    const text = requireText(evidence, 'evidence', limits.afterSaleEvidenceCharsMax);
    const row = await this.db.transaction(async (tx) => {
      const d = await this.store.dispute(tx, disputeNo);
      const trade = await this.store.tradeOf(tx, actor, d.trade_no, true);
      requireActor(actor, trade, 'seller');
      const locked = await this.store.dispute(tx, disputeNo, true);
      if (!disputeMayMove(locked.status, 'WAIT_RULING')) throw new TradeError('DISPUTE_STATUS_ERROR');
      return this.store.moveDispute(tx, trade, locked, 'WAIT_RULING', actorName(actor), { evidence: text });
    });
    return disputeView(row);
  }

  /**
   * An operator rules. For the seller: the dispute and its case close, the auto-confirm resumes.
   * For the buyer: the award (the claim, or less) is paid from the escrow, or after release by
   * the compensation fund at once, with a recovery claim against the seller for what the seller's
   * wallet could not give back.
   */
  async rule(
    actor: Actor,
    disputeNo: string,
    ruling: { decision: 'BUYER' | 'SELLER'; awardAmount?: string | undefined; note?: string | undefined },
  ): Promise<DisputeView> {
    if (actor.kind !== 'operator') throw new TradeError('ACCESS_FORBIDDEN', 'only an operator rules');
    if (ruling.decision !== 'BUYER' && ruling.decision !== 'SELLER')
      throw new TradeError('INVALID_PARAMETER', 'decision must be BUYER or SELLER');
    const note = ruling.note === undefined ? null : requireText(ruling.note, 'note');
    const ruled = await this.db.transaction(async (tx) => {
      const d = await this.store.dispute(tx, disputeNo);
      const trade = await this.store.tradeOf(tx, actor, d.trade_no, true);
      const locked = await this.store.dispute(tx, disputeNo, true);
      if (locked.status === 'RULED_FOR_BUYER' || locked.status === 'RULED_FOR_SELLER' || locked.status === 'RULING')
        throw new TradeError('DISPUTE_CLOSED');
      const sets = { ruled_by: actorName(actor), ruling_note: note, ruled_at: this.store.now() };
      if (ruling.decision === 'SELLER') {
        const done = await this.store.moveDispute(tx, trade, locked, 'RULED_FOR_SELLER', actorName(actor), sets);
        const c = d.case_no ? await this.store.case(tx, d.case_no, true) : undefined;
        if (c && caseMayMove(c.status, 'REFUND_CLOSED'))
          await this.store.moveCase(tx, trade, c, 'REFUND_CLOSED', actorName(actor));
        else await this.store.setCaseOpen(tx, trade, false);
        return done;
      }
      const award = ruling.awardAmount === undefined ? locked.claim_fen : parseRefundAmount(ruling.awardAmount);
      if (award > locked.claim_fen) throw new TradeError('REFUND_AMT_NOT_EQUAL_TOTAL', 'the award exceeds the claim');
      if (trade.status !== 'TRADE_FINISHED' && !inEscrow.includes(trade.status))
        throw new TradeError('TRADE_STATUS_ERROR', `the trade is ${trade.status}`);
      const paidFrom = trade.status === 'TRADE_FINISHED' ? 'fund' : 'escrow';
      // From escrow, the award is reserved now, under the trade's lock: a merchant refund racing
      // the ruling cannot take the money the award needs.
      if (paidFrom === 'escrow')
        await reserveRefund(tx, trade, awardRequestNo(locked), award, `dispute ${locked.dispute_no}`, this.store.now());
      return this.store.moveDispute(tx, trade, locked, 'RULING', actorName(actor), {
        ...sets,
        award_fen: award,
        paid_from: paidFrom,
      });
    });
    if (ruled.status === 'RULING') return disputeView(await this.#payAward(ruled));
    return disputeView(ruled);
  }

  /** A dispute as its buyer, its seller or an operator sees it. */
  async get(actor: Actor, disputeNo: string): Promise<DisputeView> {
    const d = await this.store.dispute(this.db, disputeNo);
    await this.store.requireReader(this.db, actor, d.trade_no);
    return disputeView(d);
  }

  /** Disputes waiting for an operator (the console's queue), oldest first. */
  async toRule(limit = 100): Promise<DisputeView[]> {
    const rows = await this.db.query<DisputeRow>(
      `select * from disputes where status in ('WAIT_SELLER_EVIDENCE', 'WAIT_RULING')
       order by created_at limit $1`,
      [Math.min(Math.max(1, limit), 1000)],
    );
    return rows.map(disputeView);
  }

  /**
   * Pays the rulings left RULING since before `stale` (a crash, or an empty fund), a refusal (the
   * fund is short) being an outcome, not a failure. Answers how many it paid.
   */
  async finishRulings(stale: Date, failures: SweepFailures): Promise<number> {
    const rulings = await this.db.query<DisputeRow>(
      'select * from disputes where status = $1 and ruled_at <= $2 limit $3',
      ['RULING', stale, limits.tradeSweepBatchMax],
    );
    return (await failures.each(rulings, (d) => this.#payAward(d), isRefusal)).length;
  }

  /** Pays a RULING dispute's award, then records it ruled for the buyer. */
  async #payAward(d: DisputeRow): Promise<DisputeRow> {
    assert(d.award_fen !== null, 'a ruling has an award');
    if (d.paid_from === 'escrow') {
      await this.trades.refund(
        d.app_id,
        { tradeNo: d.trade_no },
        { refundAmount: formatAmount(d.award_fen), outRequestNo: awardRequestNo(d), reason: `dispute ${d.dispute_no}` },
      );
    } else {
      await this.fund.compensate(d, d.award_fen);
    }
    return this.db.transaction(async (tx) => {
      const trade = await this.store.tradeOf(tx, { kind: 'system', name: 'ruling' }, d.trade_no, true);
      const locked = await this.store.dispute(tx, d.dispute_no, true);
      if (locked.status !== 'RULING') return locked;
      const done = await this.store.moveDispute(tx, trade, locked, 'RULED_FOR_BUYER', 'ledger');
      const c = d.case_no ? await this.store.case(tx, d.case_no, true) : undefined;
      if (c && !['REFUND_SUCCESS', 'REFUND_CLOSED'].includes(c.status)) {
        const paying = c.status === 'REFUNDING' ? c : await this.store.moveCase(tx, trade, c, 'REFUNDING', 'ruling');
        await this.store.moveCase(tx, trade, paying, 'REFUND_SUCCESS', 'ruling');
      } else {
        await this.store.setCaseOpen(tx, trade, false);
      }
      return done;
    });
  }

  /** What the fund has awarded on this trade after its release (ruling or ruled): the claims' shared limit. */
  async #awardedAfterRelease(q: Queryable, tradeNo: string): Promise<bigint> {
    const [row] = await q.query<{ sum: bigint | null }>(
      `select sum(award_fen)::int8 as sum from disputes where trade_no = $1 and paid_from = 'fund'
       and status in ('RULING', 'RULED_FOR_BUYER')`,
      [tradeNo],
    );
    return row?.sum ?? 0n;
  }
}

/** The refund request number of a dispute's award from escrow: its case's, or its own. */
function awardRequestNo(d: DisputeRow): string {
  return d.case_no ? `case-${d.case_no}` : `dispute-${d.dispute_no}`;
}
