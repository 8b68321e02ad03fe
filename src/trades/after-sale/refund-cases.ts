import type { Db } from '../../core/db/index.ts';
import type { SweepFailures } from '../../core/jobs.ts';
import { limits } from '../../core/limits.ts';
import { formatAmount } from '../../core/money.ts';
import { isRefusal, TradeError } from '../errors.ts';
import { type Actor, actorName, requireActor, tradeFor } from '../escrow/escrow.ts';
import type { CaseRow } from '../tables.ts';
import { refundable, type Trades } from '../trade/service.ts';
import { inEscrow } from '../trade/state.ts';
import type { TradeKey } from '../trade/store.ts';
import { type CaseStatus, caseDeadline, caseMayMove } from './state.ts';
import { type AfterSaleStore, type CaseSets, openDisputeStatuses } from './store.ts';
import { caseView, parseRefundAmount, type RefundCaseView, requireText } from './views.ts';

/**
 * Refund cases on escrow trades: before shipment a buyer's refund is paid at once; after it the
 * case waits for the seller (agree, refuse, or agree with a return of the goods) and holds the
 * auto-confirm while open. A case that waits on one party moves by itself at its deadline
 * (`caseDeadline`). While a dispute is open on the trade, the case is frozen: only the ruling
 * (`Disputes`) moves it. Refunds go through `Trades.refund` with `out_request_no`
 * `case-<case_no>`, so a retry pays once.
 */
export class RefundCases {
  constructor(
    private readonly db: Db,
    private readonly trades: Trades,
    private readonly store: AfterSaleStore,
  ) {}

  /**
   * The buyer asks for a refund. Before shipment it is paid at once; after shipment it opens a
   * case that waits for the seller (and pauses the auto-confirm).
   */
  async request(
    actor: Actor,
    key: TradeKey,
    request: { amount: string; reason: string; needReturn?: boolean | undefined },
  ): Promise<RefundCaseView> {
    const amount = parseRefundAmount(request.amount);
    const reason = requireText(request.reason, 'reason');
    const opened = await this.db.transaction(async (tx) => {
      const trade = await tradeFor(tx, actor, key, true);
      requireActor(actor, trade, 'buyer');
      if (!trade.escrow || !inEscrow.includes(trade.status)) throw new TradeError('TRADE_STATUS_ERROR');
      // Any case not over counts (a refused one, one being paid), as the one-open-case index does.
      if (trade.case_open || (await this.store.unfinishedCase(tx, trade.trade_no)))
        throw new TradeError('CASE_ALREADY_OPEN');
      if (refundable(trade) < amount) throw new TradeError('REFUND_AMT_NOT_EQUAL_TOTAL');
      const beforeShipment = trade.status === 'WAIT_SELLER_SEND_GOODS';
      const status: CaseStatus = beforeShipment ? 'REFUNDING' : 'WAIT_SELLER_AGREE';
      const needReturn = !beforeShipment && request.needReturn === true;
      const row = await this.store.insertCase(tx, trade, {
        refundFen: amount,
        reason,
        needReturn,
        status,
        actor: actorName(actor),
      });
      if (!beforeShipment) await this.store.setCaseOpen(tx, trade, true);
      await this.store.notifyCase(tx, trade, row);
      return row;
    });
    if (opened.status === 'REFUNDING') return caseView(await this.pay(opened));
    return caseView(opened);
  }

  /** The seller agrees: the refund is paid, or (when the buyer asked to return the goods) waits for them. */
  async agree(actor: Actor, caseNo: string): Promise<RefundCaseView> {
    const moved = await this.#move(actor, caseNo, 'seller', (c) =>
      c.status === 'WAIT_SELLER_AGREE' ? (c.need_return ? 'WAIT_BUYER_RETURN_GOODS' : 'REFUNDING') : undefined,
    );
    return caseView(moved.status === 'REFUNDING' ? await this.pay(moved) : moved);
  }

  /** The seller refuses; the buyer may withdraw or open a dispute. The auto-confirm resumes. */
  async refuse(actor: Actor, caseNo: string, reason: string): Promise<RefundCaseView> {
    const text = requireText(reason, 'refuse_reason');
    return caseView(
      await this.#move(
        actor,
        caseNo,
        'seller',
        (c) => (c.status === 'WAIT_SELLER_AGREE' ? 'SELLER_REFUSE_BUYER' : undefined),
        { refuse_reason: text },
      ),
    );
  }

  /** The buyer sends the goods back. */
  async returnGoods(
    actor: Actor,
    caseNo: string,
    logistics: { company: string; trackingNo: string },
  ): Promise<RefundCaseView> {
    const company = requireText(logistics.company, 'logistics_company');
    if (!/^[A-Za-z0-9-]{1,64}$/.test(logistics.trackingNo ?? ''))
      throw new TradeError('INVALID_PARAMETER', 'logistics_no');
    return caseView(
      await this.#move(
        actor,
        caseNo,
        'buyer',
        (c) => (c.status === 'WAIT_BUYER_RETURN_GOODS' ? 'WAIT_SELLER_CONFIRM_GOODS' : undefined),
        { return_company: company, return_no: logistics.trackingNo },
      ),
    );
  }

  /** The seller confirms the returned goods arrived: the refund is paid. */
  async receiveReturn(actor: Actor, caseNo: string): Promise<RefundCaseView> {
    const moved = await this.#move(actor, caseNo, 'seller', (c) =>
      c.status === 'WAIT_SELLER_CONFIRM_GOODS' ? 'REFUNDING' : undefined,
    );
    return caseView(await this.pay(moved));
  }

  /**
   * The buyer withdraws the request while it waits on someone; the auto-confirm resumes. A case
   * being paid (REFUNDING) cannot be withdrawn: its refund is under way and decides how it ends.
   */
  async withdraw(actor: Actor, caseNo: string): Promise<RefundCaseView> {
    return caseView(
      await this.#move(actor, caseNo, 'buyer', (c) =>
        c.status !== 'REFUNDING' && caseMayMove(c.status, 'REFUND_CLOSED') ? 'REFUND_CLOSED' : undefined,
      ),
    );
  }

  /** A case as a party of its trade sees it. */
  async get(actor: Actor, caseNo: string): Promise<RefundCaseView> {
    const c = await this.store.case(this.db, caseNo);
    await this.store.requireReader(this.db, actor, c.trade_no);
    return caseView(c);
  }

  /**
   * Moves each case past its deadline as `caseDeadline` says (a frozen case, under a dispute,
   * waits for the ruling instead), under its trade's row lock, then pays it when it is now
   * REFUNDING; a refund that fails for want of money is left REFUNDING for the sweep's next round.
   * Answers how many cases moved.
   */
  async expireDue(failures: SweepFailures): Promise<number> {
    const now = this.store.now();
    const due = await this.db.query<CaseRow>(
      `select c.* from refund_cases c where c.due_at <= $1
         and not exists (select 1 from disputes d where d.trade_no = c.trade_no and d.status in ${openDisputeStatuses})
       order by c.due_at limit $2`,
      [now, limits.tradeSweepBatchMax],
    );
    const expired = await failures.each(
      due,
      async (c) => {
        const moved = await this.#expire(c, now);
        // A refund that fails for want of money stays REFUNDING for the next round.
        if (moved?.status === 'REFUNDING') await failures.each([moved], (m) => this.pay(m), isRefusal);
        return moved;
      },
      isRefusal,
    );
    return expired.filter((c) => c !== null).length;
  }

  /**
   * Pays the cases left REFUNDING since before `stale` (a crash, or a refund short of money),
   * but those whose dispute is being ruled: the ruling pays them. Answers how many it paid.
   */
  async finishRefunds(stale: Date, failures: SweepFailures): Promise<number> {
    const refunding = await this.db.query<CaseRow>(
      'select * from refund_cases where status = $1 and updated_at <= $2 limit $3',
      ['REFUNDING', stale, limits.tradeSweepBatchMax],
    );
    const paid = await failures.each(refunding, (c) => this.#payUnlessRuling(c), isRefusal);
    return paid.filter(Boolean).length;
  }

  /** Pays a REFUNDING case through `Trades.refund` (idempotent by the case), then closes it. */
  async pay(c: CaseRow): Promise<CaseRow> {
    let failure: TradeError | undefined;
    try {
      await this.trades.refund(
        c.app_id,
        { tradeNo: c.trade_no },
        { refundAmount: formatAmount(c.refund_fen), outRequestNo: `case-${c.case_no}`, reason: c.reason },
      );
    } catch (error) {
      // A business refusal (the merchant refunded meanwhile, the trade was released) ends the case;
      // anything else leaves it REFUNDING for the sweep.
      if (!(error instanceof TradeError) || error.code === 'SYSTEM_ERROR') throw error;
      failure = error;
    }
    const done = await this.db.transaction(async (tx) => {
      const trade = await this.store.tradeOf(tx, { kind: 'system', name: 'refund' }, c.trade_no, true);
      const locked = await this.store.case(tx, c.case_no, true);
      if (locked.status !== 'REFUNDING') return locked;
      return this.store.moveCase(tx, trade, locked, failure ? 'REFUND_CLOSED' : 'REFUND_SUCCESS', 'refund');
    });
    if (failure) throw failure;
    return done;
  }

  /**
   * Moves a case under its trade's row lock when `next` names a move for the case as it is, by
   * the right party; the trade's case flag and confirm deadline follow.
   */
  #move(
    actor: Actor,
    caseNo: string,
    party: 'buyer' | 'seller',
    next: (c: CaseRow) => CaseStatus | undefined,
    sets: CaseSets = {},
  ): Promise<CaseRow> {
    return this.db.transaction(async (tx) => {
      const c = await this.store.case(tx, caseNo);
      const trade = await this.store.tradeOf(tx, actor, c.trade_no, true);
      requireActor(actor, trade, party);
      const locked = await this.store.case(tx, caseNo, true);
      // A dispute freezes its case: the ruling decides how it ends.
      if (await this.store.hasOpenDispute(tx, trade.trade_no))
        throw new TradeError('CASE_STATUS_ERROR', 'a dispute is open; the platform rules on the case');
      const to = next(locked);
      if (!to) throw new TradeError('CASE_STATUS_ERROR', `the case is ${locked.status}`);
      return this.store.moveCase(tx, trade, locked, to, actorName(actor), sets);
    });
  }

  /** Pays a REFUNDING case, unless its dispute is being ruled: the ruling pays it then. */
  async #payUnlessRuling(c: CaseRow): Promise<boolean> {
    const [ruling] = await this.db.query('select 1 from disputes where case_no = $1 and status = $2', [
      c.case_no,
      'RULING',
    ]);
    if (ruling) return false;
    await this.pay(c);
    return true;
  }

  /** One case past its deadline, under its trade's row lock; null when it moved on meanwhile. */
  #expire(c: CaseRow, now: Date): Promise<CaseRow | null> {
    return this.db.transaction(async (tx) => {
      const trade = await this.store.tradeOf(tx, { kind: 'system', name: 'deadline' }, c.trade_no, true);
      const locked = await this.store.case(tx, c.case_no, true);
      const deadline = caseDeadline(locked.status, locked.need_return);
      // Answered meanwhile, or frozen by a dispute opened since the select.
      if (!deadline || !locked.due_at || locked.due_at > now || (await this.store.hasOpenDispute(tx, trade.trade_no)))
        return null;
      return this.store.moveCase(tx, trade, locked, deadline.to, 'deadline');
    });
  }
}
