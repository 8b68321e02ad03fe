import { assert } from '../../core/assert.ts';
import type { Clock } from '../../core/clock.ts';
import type { Db, Queryable } from '../../core/db/index.ts';
import { dailyNumber } from '../../core/external-ids.ts';
import { derivedId, u128FromUuid } from '../../core/ids.ts';
import { SweepFailures } from '../../core/jobs.ts';
import { cnyLedger, EscrowTransferCode } from '../../core/ledger-codes.ts';
import { limits } from '../../core/limits.ts';
import { formatAmount, parseAmount } from '../../core/money.ts';
import { beijingTime, dateFromNs } from '../../core/time.ts';
import { assertLedgerResult, type Ledger, TransferFlags } from '../../ledger/index.ts';
import { isRefusal, TradeError } from '../errors.ts';
import { type Actor, actorName, requireActor, tradeFor } from '../escrow/escrow.ts';
import { escrowAccounts } from '../escrow/escrow-books.ts';
import { refundable, reserveRefund, type Trades } from '../trade/service.ts';
import {
  assertCaseTransition,
  assertDisputeTransition,
  type CaseStatus,
  caseDeadline,
  caseMayMove,
  type DisputeStatus,
  disputeMayMove,
  inEscrow,
} from '../trade/state.ts';
import { type TradeKey, type TradeRow, TradeStore } from '../trade/store.ts';

interface CaseRow {
  case_no: string;
  trade_no: string;
  app_id: string;
  buyer_id: string;
  refund_fen: bigint;
  reason: string;
  need_return: boolean;
  status: CaseStatus;
  refuse_reason: string | null;
  return_company: string | null;
  return_no: string | null;
  /** When the case moves without the party it waits on (`caseDeadline`); null when it waits on nobody. */
  due_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

interface DisputeRow {
  dispute_no: string;
  trade_no: string;
  app_id: string;
  buyer_id: string;
  seller_id: string;
  case_no: string | null;
  claim_fen: bigint;
  reason: string;
  evidence: string | null;
  status: DisputeStatus;
  award_fen: bigint | null;
  paid_from: 'escrow' | 'fund' | null;
  ruled_by: string | null;
  ruling_note: string | null;
  created_at: Date;
  ruled_at: Date | null;
}

export interface RefundCaseView {
  caseNo: string;
  tradeNo: string;
  refundAmount: string;
  reason: string;
  needReturn: boolean;
  status: CaseStatus;
  refuseReason: string | null;
  returnLogisticsCompany: string | null;
  returnLogisticsNo: string | null;
  /** When the case moves without the party it waits on: the seller agrees, the buyer gives up, … */
  dueAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DisputeView {
  disputeNo: string;
  tradeNo: string;
  caseNo: string | null;
  buyerId: string;
  sellerId: string;
  claimAmount: string;
  reason: string;
  evidence: string | null;
  status: DisputeStatus;
  awardAmount: string | null;
  /** Who paid the award: the escrow (money not yet released) or the compensation fund. */
  paidFrom: 'escrow' | 'fund' | null;
  ruledBy: string | null;
  rulingNote: string | null;
  createdAt: Date;
  ruledAt: Date | null;
}

/** What after-sale needs from outside the trades module. */
export interface AfterSaleParties {
  /** The platform funding account, which capitalises the compensation fund. */
  fundingAccountId(): Promise<bigint>;
}

/** A dispute not yet ruled (SQL list): while one is open on a trade, its case is frozen. */
const openDisputeStatuses = `('WAIT_SELLER_EVIDENCE', 'WAIT_RULING', 'RULING')`;

/**
 * After-sale on escrow trades: refund cases (before shipment a refund is immediate; after it the
 * seller agrees or refuses, with an optional return of the goods) and disputes ruled by an
 * operator. A ruling for the buyer pays from the escrow while the money is there; after release
 * the compensation fund pays the buyer at once, takes back from the seller's wallet what is
 * there, and records a recovery claim for the rest, collected from the seller's next settlements.
 *
 * Every move is a compare-and-set under the trade's row lock, recorded in
 * `after_sale_transitions`; money moves only through `Trades.refund` (idempotent by the case's or
 * dispute's request number) or by transfers whose ids derive from the dispute, so a retry after
 * a crash (the sweep) never pays twice.
 */
export class AfterSale {
  readonly #store: TradeStore;
  #fundCapital: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly trades: Trades,
    private readonly parties: AfterSaleParties,
    private readonly clock: Clock,
  ) {
    this.#store = new TradeStore(clock);
  }

  // ---- refund cases ----

  /**
   * The buyer asks for a refund. Before shipment it is paid at once; after shipment it opens a
   * case that waits for the seller (and pauses the auto-confirm).
   */
  async requestRefund(
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
      if (trade.case_open || (await this.#unfinishedCase(tx, trade.trade_no)))
        throw new TradeError('CASE_ALREADY_OPEN');
      if (refundable(trade) < amount) throw new TradeError('REFUND_AMT_NOT_EQUAL_TOTAL');
      const beforeShipment = trade.status === 'WAIT_SELLER_SEND_GOODS';
      const status: CaseStatus = beforeShipment ? 'REFUNDING' : 'WAIT_SELLER_AGREE';
      const needReturn = !beforeShipment && request.needReturn === true;
      const now = this.#now();
      const [row] = await tx.query<CaseRow>(
        `insert into refund_cases (case_no, trade_no, app_id, buyer_id, refund_fen, reason, need_return, status,
           due_at, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $10, $9, $9) returning *`,
        [
          newNumber('RC', now),
          trade.trade_no,
          trade.app_id,
          trade.buyer_id,
          amount.toString(),
          reason,
          needReturn,
          status,
          now,
          dueAt(status, needReturn, now),
        ],
      );
      assert(row, 'insert returns its row');
      await this.#logMove(tx, row.case_no, null, status, actorName(actor));
      if (!beforeShipment) await this.#setCaseOpen(tx, trade, true);
      await this.#notifyCase(tx, trade, row);
      return row;
    });
    if (opened.status === 'REFUNDING') return caseView(await this.#payCase(opened));
    return caseView(opened);
  }

  /** The seller agrees: the refund is paid, or (when the buyer asked to return the goods) waits for them. */
  async agree(actor: Actor, caseNo: string): Promise<RefundCaseView> {
    const moved = await this.#moveCase(actor, caseNo, 'seller', (c) =>
      c.status === 'WAIT_SELLER_AGREE' ? (c.need_return ? 'WAIT_BUYER_RETURN_GOODS' : 'REFUNDING') : undefined,
    );
    return caseView(moved.status === 'REFUNDING' ? await this.#payCase(moved) : moved);
  }

  /** The seller refuses; the buyer may withdraw or open a dispute. The auto-confirm resumes. */
  async refuse(actor: Actor, caseNo: string, reason: string): Promise<RefundCaseView> {
    const text = requireText(reason, 'refuse_reason');
    return caseView(
      await this.#moveCase(
        actor,
        caseNo,
        'seller',
        (c) => (c.status === 'WAIT_SELLER_AGREE' ? 'SELLER_REFUSE_BUYER' : undefined),
        { refuse_reason: text },
      ),
    );
  }

  /** The buyer sends the goods back. */
  async returnGoods(actor: Actor, caseNo: string, logistics: { company: string; trackingNo: string }) {
    const company = requireText(logistics.company, 'logistics_company');
    if (!/^[A-Za-z0-9-]{1,64}$/.test(logistics.trackingNo ?? ''))
      throw new TradeError('INVALID_PARAMETER', 'logistics_no');
    return caseView(
      await this.#moveCase(
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
    const moved = await this.#moveCase(actor, caseNo, 'seller', (c) =>
      c.status === 'WAIT_SELLER_CONFIRM_GOODS' ? 'REFUNDING' : undefined,
    );
    return caseView(await this.#payCase(moved));
  }

  /**
   * The buyer withdraws the request while it waits on someone; the auto-confirm resumes. A case
   * being paid (REFUNDING) cannot be withdrawn: its refund is under way and decides how it ends.
   */
  async withdraw(actor: Actor, caseNo: string): Promise<RefundCaseView> {
    return caseView(
      await this.#moveCase(actor, caseNo, 'buyer', (c) =>
        c.status !== 'REFUNDING' && caseMayMove(c.status, 'REFUND_CLOSED') ? 'REFUND_CLOSED' : undefined,
      ),
    );
  }

  /** A case as a party of its trade sees it. */
  async getCase(actor: Actor, caseNo: string): Promise<RefundCaseView> {
    const c = await this.#case(this.db, caseNo);
    const trade = await this.#tradeOf(this.db, actor, c.trade_no);
    if (actor.kind === 'buyer') requireActor(actor, trade, 'buyer');
    if (actor.kind === 'seller') requireActor(actor, trade, 'seller');
    return caseView(c);
  }

  /**
   * Moves a case under its trade's row lock when `next` names a move for the case as it is, by
   * the right party; the trade's case flag and confirm deadline follow.
   */
  async #moveCase(
    actor: Actor,
    caseNo: string,
    party: 'buyer' | 'seller',
    next: (c: CaseRow) => CaseStatus | undefined,
    sets: Record<string, string> = {},
  ): Promise<CaseRow> {
    return this.db.transaction(async (tx) => {
      const c = await this.#case(tx, caseNo);
      const trade = await this.#tradeOf(tx, actor, c.trade_no, true);
      requireActor(actor, trade, party);
      const locked = await this.#case(tx, caseNo, true);
      // A dispute freezes its case: the ruling decides how it ends.
      if (await this.#openDispute(tx, trade.trade_no))
        throw new TradeError('CASE_STATUS_ERROR', 'a dispute is open; the platform rules on the case');
      const to = next(locked);
      if (!to) throw new TradeError('CASE_STATUS_ERROR', `the case is ${locked.status}`);
      const moved = await this.#caseTo(tx, trade, locked, to, actorName(actor), sets);
      return moved;
    });
  }

  /** The case moves; the trade's case flag follows (open while the case waits on someone). */
  async #caseTo(
    tx: Queryable,
    trade: TradeRow,
    c: CaseRow,
    to: CaseStatus,
    actor: string,
    sets: Record<string, string> = {},
  ): Promise<CaseRow> {
    assertCaseTransition(c.status, to);
    const columns = Object.keys(sets);
    const now = this.#now();
    const [moved] = await tx.query<CaseRow>(
      `update refund_cases set status = $2, updated_at = $3, due_at = $4${columns.map((k, i) => `, ${k} = $${i + 5}`).join('')}
       where case_no = $1 returning *`,
      [c.case_no, to, now, dueAt(to, c.need_return, now), ...columns.map((k) => sets[k])],
    );
    assert(moved, 'a locked case moves');
    await this.#logMove(tx, c.case_no, c.status, to, actor);
    const stillOpen = to === 'WAIT_BUYER_RETURN_GOODS' || to === 'WAIT_SELLER_CONFIRM_GOODS' || to === 'REFUNDING';
    if (inEscrow.includes(trade.status) && !(await this.#openDispute(tx, trade.trade_no)))
      await this.#setCaseOpen(tx, trade, stillOpen || to === 'WAIT_SELLER_AGREE');
    await this.#notifyCase(tx, trade, moved);
    return moved;
  }

  /** Pays a REFUNDING case through `Trades.refund` (idempotent by the case), then closes it. */
  async #payCase(c: CaseRow): Promise<CaseRow> {
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
      const trade = await this.#tradeOf(tx, { kind: 'system', name: 'refund' }, c.trade_no, true);
      const locked = await this.#case(tx, c.case_no, true);
      if (locked.status !== 'REFUNDING') return locked;
      return this.#caseTo(tx, trade, locked, failure ? 'REFUND_CLOSED' : 'REFUND_SUCCESS', 'refund');
    });
    if (failure) throw failure;
    return done;
  }

  // ---- disputes ----

  /**
   * The buyer asks the platform to decide: on a shipped trade (usually after the seller refused a
   * refund; the refused case joins the dispute), or within the dispute window after release.
   */
  async openDispute(
    actor: Actor,
    key: TradeKey,
    request: { claimAmount?: string | undefined; reason: string },
  ): Promise<DisputeView> {
    const reason = requireText(request.reason, 'reason');
    const row = await this.db.transaction(async (tx) => {
      const trade = await tradeFor(tx, actor, key, true);
      requireActor(actor, trade, 'buyer');
      if (!trade.escrow) throw new TradeError('TRADE_STATUS_ERROR', 'not an escrow trade');
      if (await this.#openDispute(tx, trade.trade_no)) throw new TradeError('DISPUTE_ALREADY_OPEN');
      const now = this.#now();
      let caseNo: string | null = null;
      let limit: bigint;
      if (trade.status === 'WAIT_BUYER_CONFIRM_GOODS') {
        const [open] = await tx.query<CaseRow>(
          `select * from refund_cases where trade_no = $1 and status not in ('REFUND_SUCCESS', 'REFUND_CLOSED')`,
          [trade.trade_no],
        );
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
          caseNo,
          claim.toString(),
          reason,
          now,
        ],
      );
      assert(created, 'insert returns its row');
      await this.#logMove(tx, created.dispute_no, null, 'WAIT_SELLER_EVIDENCE', actorName(actor));
      if (trade.status === 'WAIT_BUYER_CONFIRM_GOODS') await this.#setCaseOpen(tx, trade, true);
      await this.#notifyDispute(tx, trade, created);
      return created;
    });
    return disputeView(row);
  }

  /** The seller answers with its evidence. */
  async answer(actor: Actor, disputeNo: string, evidence: string): Promise<DisputeView> {
    const text = requireText(evidence, 'evidence', limits.afterSaleEvidenceCharsMax);
    const row = await this.db.transaction(async (tx) => {
      const d = await this.#dispute(tx, disputeNo);
      const trade = await this.#tradeOf(tx, actor, d.trade_no, true);
      requireActor(actor, trade, 'seller');
      const locked = await this.#dispute(tx, disputeNo, true);
      if (!disputeMayMove(locked.status, 'WAIT_RULING')) throw new TradeError('DISPUTE_STATUS_ERROR');
      return this.#disputeTo(tx, trade, locked, 'WAIT_RULING', actorName(actor), { evidence: text });
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
      const d = await this.#dispute(tx, disputeNo);
      const trade = await this.#tradeOf(tx, actor, d.trade_no, true);
      const locked = await this.#dispute(tx, disputeNo, true);
      if (locked.status === 'RULED_FOR_BUYER' || locked.status === 'RULED_FOR_SELLER' || locked.status === 'RULING')
        throw new TradeError('DISPUTE_CLOSED');
      const sets = { ruled_by: actorName(actor), ruling_note: note, ruled_at: this.#now() };
      if (ruling.decision === 'SELLER') {
        const done = await this.#disputeTo(tx, trade, locked, 'RULED_FOR_SELLER', actorName(actor), sets);
        const c = d.case_no ? await this.#case(tx, d.case_no, true) : undefined;
        if (c && caseMayMove(c.status, 'REFUND_CLOSED'))
          await this.#caseTo(tx, trade, c, 'REFUND_CLOSED', actorName(actor));
        else await this.#setCaseOpen(tx, trade, false);
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
        await reserveRefund(tx, trade, awardRequestNo(locked), award, `dispute ${locked.dispute_no}`, this.#now());
      return this.#disputeTo(tx, trade, locked, 'RULING', actorName(actor), {
        ...sets,
        award_fen: award.toString(),
        paid_from: paidFrom,
      });
    });
    if (ruled.status === 'RULING') return disputeView(await this.#payAward(ruled));
    return disputeView(ruled);
  }

  /** A dispute as its buyer, its seller or an operator sees it. */
  async getDispute(actor: Actor, disputeNo: string): Promise<DisputeView> {
    const d = await this.#dispute(this.db, disputeNo);
    const trade = await this.#tradeOf(this.db, actor, d.trade_no);
    if (actor.kind === 'buyer') requireActor(actor, trade, 'buyer');
    if (actor.kind === 'seller') requireActor(actor, trade, 'seller');
    return disputeView(d);
  }

  /** Disputes waiting for an operator (the console's queue), oldest first. */
  async disputesToRule(limit = 100): Promise<DisputeView[]> {
    const rows = await this.db.query<DisputeRow>(
      `select * from disputes where status in ('WAIT_SELLER_EVIDENCE', 'WAIT_RULING')
       order by created_at limit $1`,
      [Math.min(Math.max(1, limit), 1000)],
    );
    return rows.map(disputeView);
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
      await this.#compensate(d, d.award_fen);
    }
    return this.db.transaction(async (tx) => {
      const trade = await this.#tradeOf(tx, { kind: 'system', name: 'ruling' }, d.trade_no, true);
      const locked = await this.#dispute(tx, d.dispute_no, true);
      if (locked.status !== 'RULING') return locked;
      const done = await this.#disputeTo(tx, trade, locked, 'RULED_FOR_BUYER', 'ledger');
      const c = d.case_no ? await this.#case(tx, d.case_no, true) : undefined;
      if (c && !['REFUND_SUCCESS', 'REFUND_CLOSED'].includes(c.status)) {
        const paying = c.status === 'REFUNDING' ? c : await this.#caseTo(tx, trade, c, 'REFUNDING', 'ruling');
        await this.#caseTo(tx, trade, paying, 'REFUND_SUCCESS', 'ruling');
      } else {
        await this.#setCaseOpen(tx, trade, false);
      }
      return done;
    });
  }

  /**
   * The fund pays the buyer; the seller's wallet gives back what it holds, up to the award (a
   * balancing transfer); the rest becomes a recovery claim. Ids derive from the dispute, so a
   * retry finds both transfers done and records the same claim.
   */
  async #compensate(d: DisputeRow, award: bigint): Promise<void> {
    await this.#ensureFundCapital();
    const [trade] = await this.db.query<TradeRow>('select * from trades where trade_no = $1', [d.trade_no]);
    assert(trade?.buyer_account, 'a disputed trade has a buyer');
    const ref = derivedId('trade', d.trade_no);
    const [paid] = await this.ledger.createTransfers([
      {
        id: derivedId('escrow.compensation', d.dispute_no),
        debitAccountId: escrowAccounts.compensationFund,
        creditAccountId: u128FromUuid(trade.buyer_account),
        amount: award,
        userData128: ref,
        ledger: cnyLedger,
        code: EscrowTransferCode.compensation,
      },
    ]);
    if (paid === 'exceeds_credits') throw new TradeError('COMPENSATION_FUND_NOT_ENOUGH');
    assertLedgerResult(paid, 'compensation');
    const recoveryId = derivedId('escrow.recovery-at-ruling', d.dispute_no);
    const [taken] = await this.ledger.createTransfers([
      {
        id: recoveryId,
        debitAccountId: u128FromUuid(trade.seller_account),
        creditAccountId: escrowAccounts.compensationFund,
        amount: award,
        flags: TransferFlags.balancingDebit,
        userData128: ref,
        ledger: cnyLedger,
        code: EscrowTransferCode.recoveryAtRuling,
      },
    ]);
    assertLedgerResult(taken, 'recovery at ruling');
    const [transfer] = await this.ledger.lookupTransfers([recoveryId]);
    const owed = award - (transfer?.amount ?? 0n);
    if (owed > 0n) {
      await this.db.query(
        `insert into recovery_claims (dispute_no, seller_id, amount_fen, created_at) values ($1, $2, $3, $4)
         on conflict (dispute_no) do nothing`,
        [d.dispute_no, d.seller_id, owed.toString(), this.#now()],
      );
    }
  }

  /** The fund's first capital, from platform funding, once (its id is fixed). */
  #ensureFundCapital(): Promise<void> {
    this.#fundCapital ??= (async () => {
      const [r] = await this.ledger.createTransfers([
        {
          id: derivedId('escrow.fund-capital', 'initial'),
          debitAccountId: await this.parties.fundingAccountId(),
          creditAccountId: escrowAccounts.compensationFund,
          amount: BigInt(limits.compensationFundCapitalFen),
          ledger: cnyLedger,
          code: EscrowTransferCode.fundCapital,
        },
      ]);
      assertLedgerResult(r, 'fund capital');
    })().catch((error: unknown) => {
      this.#fundCapital = undefined;
      throw error;
    });
    return this.#fundCapital;
  }

  /** Adds capital to the compensation fund from platform funding; idempotent by `reference`. */
  async addFundCapital(amount: string, reference: string): Promise<void> {
    const fen = parseRefundAmount(amount);
    await this.#ensureFundCapital();
    const [r] = await this.ledger.createTransfers([
      {
        id: derivedId('escrow.fund-capital', reference),
        debitAccountId: await this.parties.fundingAccountId(),
        creditAccountId: escrowAccounts.compensationFund,
        amount: fen,
        ledger: cnyLedger,
        code: EscrowTransferCode.fundCapital,
      },
    ]);
    if (r !== 'ok' && r !== 'exists') throw new TradeError('CONTEXT_INCONSISTENT', `fund capital: ${r}`);
  }

  /**
   * An operator gives up on what a recovery claim still owes (the seller is gone): the fund's
   * money is lost, recorded as such and counted by the loss rate. Answers the amount written off
   * (zero for a claim already settled or written off).
   */
  async writeOffClaim(actor: Actor, disputeNo: string): Promise<string> {
    if (actor.kind !== 'operator') throw new TradeError('ACCESS_FORBIDDEN', 'only an operator writes off');
    const [row] = await this.db.query<{ written: bigint }>(
      `with claim as (
         select dispute_no, amount_fen - recovered_fen - written_off_fen as left_fen
         from recovery_claims where dispute_no = $1 for update
       )
       update recovery_claims r set written_off_fen = r.written_off_fen + claim.left_fen, written_off_at = $2
       from claim where r.dispute_no = claim.dispute_no
       returning claim.left_fen as written`,
      [disputeNo, this.#now()],
    );
    if (!row) throw new TradeError('DISPUTE_NOT_EXIST', 'no recovery claim for this dispute');
    await this.#logMove(this.db, `claim:${disputeNo}`, 'OWED', 'WRITTEN_OFF', actorName(actor));
    return formatAmount(row.written);
  }

  /**
   * Compensation the fund paid and will not get back (written-off claims), against the volume of
   * escrow trades paid: the escrow side of the loss rate.
   */
  async losses(): Promise<{ lossFen: bigint; lossCount: number; volumeFen: bigint }> {
    const [l] = await this.db.query<{ fen: bigint; n: bigint }>(
      'select coalesce(sum(written_off_fen), 0)::int8 as fen, count(*)::int8 as n from recovery_claims where written_off_fen > 0',
    );
    const [v] = await this.db.query<{ fen: bigint }>(
      'select coalesce(sum(total_fen), 0)::int8 as fen from trades where escrow and paid_at is not null',
    );
    return { lossFen: l?.fen ?? 0n, lossCount: Number(l?.n ?? 0n), volumeFen: v?.fen ?? 0n };
  }

  /**
   * Moves the cases whose awaited party let the deadline pass, and finishes rulings and case
   * refunds a crash or an empty fund left in flight. Answers how many it moved or finished.
   */
  async sweep(): Promise<number> {
    // One case failing does not hold up the others (it is retried next round); a refusal (the fund
    // is short) is an outcome, and every other failure is thrown at the end (`SweepFailures`).
    const failures = new SweepFailures();
    let done = await this.#expireCases(failures);
    const stale = new Date(this.#now().getTime() - limits.tradePayingStaleMs);
    const rulings = await this.db.query<DisputeRow>(
      'select * from disputes where status = $1 and ruled_at <= $2 limit $3',
      ['RULING', stale, limits.tradeSweepBatchMax],
    );
    done += (await failures.each(rulings, (d) => this.#payAward(d), isRefusal)).length;
    const refunding = await this.db.query<CaseRow>(
      'select * from refund_cases where status = $1 and updated_at <= $2 limit $3',
      ['REFUNDING', stale, limits.tradeSweepBatchMax],
    );
    const paid = await failures.each(refunding, (c) => this.#payCaseUnlessRuling(c), isRefusal);
    done += paid.filter(Boolean).length;
    failures.throwIfAny('after-sale sweep');
    return done;
  }

  /** Pays a REFUNDING case, unless its dispute is being ruled: the ruling pays it then. */
  async #payCaseUnlessRuling(c: CaseRow): Promise<boolean> {
    const [ruling] = await this.db.query('select 1 from disputes where case_no = $1 and status = $2', [
      c.case_no,
      'RULING',
    ]);
    if (ruling) return false;
    await this.#payCase(c);
    return true;
  }

  /**
   * Moves each case past its deadline as `caseDeadline` says (a frozen case, under a dispute,
   * waits for the ruling instead), under its trade's row lock, then pays it when it is now
   * REFUNDING; a refund that fails for want of money is left REFUNDING for the sweep's next round.
   */
  async #expireCases(failures: SweepFailures): Promise<number> {
    const now = this.#now();
    const due = await this.db.query<CaseRow>(
      `select c.* from refund_cases c where c.due_at <= $1
         and not exists (select 1 from disputes d where d.trade_no = c.trade_no and d.status in ${openDisputeStatuses})
       order by c.due_at limit $2`,
      [now, limits.tradeSweepBatchMax],
    );
    const expired = await failures.each(
      due,
      async (c) => {
        const moved = await this.#expireCase(c, now);
        // A refund that fails for want of money stays REFUNDING for the next round.
        if (moved?.status === 'REFUNDING') await failures.each([moved], (m) => this.#payCase(m), isRefusal);
        return moved;
      },
      isRefusal,
    );
    return expired.filter((c) => c !== null).length;
  }

  /** One case past its deadline, under its trade's row lock; null when it moved on meanwhile. */
  #expireCase(c: CaseRow, now: Date): Promise<CaseRow | null> {
    return this.db.transaction(async (tx) => {
      const trade = await this.#tradeOf(tx, { kind: 'system', name: 'deadline' }, c.trade_no, true);
      const locked = await this.#case(tx, c.case_no, true);
      const deadline = caseDeadline(locked.status, locked.need_return);
      // Answered meanwhile, or frozen by a dispute opened since the select.
      if (!deadline || !locked.due_at || locked.due_at > now || (await this.#openDispute(tx, trade.trade_no)))
        return null;
      return this.#caseTo(tx, trade, locked, deadline.to, 'deadline');
    });
  }

  async #awardedAfterRelease(q: Queryable, tradeNo: string): Promise<bigint> {
    const [row] = await q.query<{ sum: bigint | null }>(
      `select sum(award_fen)::int8 as sum from disputes where trade_no = $1 and paid_from = 'fund'
       and status in ('RULING', 'RULED_FOR_BUYER')`,
      [tradeNo],
    );
    return row?.sum ?? 0n;
  }

  async #unfinishedCase(q: Queryable, tradeNo: string): Promise<boolean> {
    const rows = await q.query(
      `select 1 from refund_cases where trade_no = $1 and status not in ('REFUND_SUCCESS', 'REFUND_CLOSED')`,
      [tradeNo],
    );
    return rows.length > 0;
  }

  async #openDispute(q: Queryable, tradeNo: string): Promise<boolean> {
    const rows = await q.query(`select 1 from disputes where trade_no = $1 and status in ${openDisputeStatuses}`, [
      tradeNo,
    ]);
    return rows.length > 0;
  }

  /** Opens or closes the trade's case flag; closing it gives the buyer at least the grace period. */
  async #setCaseOpen(tx: Queryable, trade: TradeRow, open: boolean): Promise<void> {
    if (!inEscrow.includes(trade.status)) return;
    const graceUntil = new Date(this.#now().getTime() + limits.escrowResumeGraceMs);
    await tx.query(
      `update trades set case_open = $2,
         confirm_due_at = case when $2 or confirm_due_at is null then confirm_due_at else greatest(confirm_due_at, $3) end
       where trade_no = $1`,
      [trade.trade_no, open, graceUntil],
    );
  }

  async #disputeTo(
    tx: Queryable,
    trade: TradeRow,
    d: DisputeRow,
    to: DisputeStatus,
    actor: string,
    sets: Record<string, unknown> = {},
  ): Promise<DisputeRow> {
    assertDisputeTransition(d.status, to);
    const columns = Object.keys(sets);
    const [moved] = await tx.query<DisputeRow>(
      `update disputes set status = $2${columns.map((k, i) => `, ${k} = $${i + 3}`).join('')}
       where dispute_no = $1 returning *`,
      [d.dispute_no, to, ...columns.map((k) => sets[k])],
    );
    assert(moved, 'a locked dispute moves');
    await this.#logMove(tx, d.dispute_no, d.status, to, actor);
    await this.#notifyDispute(tx, trade, moved);
    return moved;
  }

  async #logMove(tx: Queryable, subject: string, from: string | null, to: string, actor: string): Promise<void> {
    await tx.query(
      'insert into after_sale_transitions (subject, from_status, to_status, actor, at) values ($1, $2, $3, $4, $5)',
      [subject, from, to, actor, this.#now()],
    );
  }

  async #notifyCase(tx: Queryable, trade: TradeRow, c: CaseRow): Promise<void> {
    await this.#store.notify(tx, trade, {
      notify_type: 'refund_case_sync',
      case_no: c.case_no,
      case_status: c.status,
      refund_amount: formatAmount(c.refund_fen),
      need_return: c.need_return ? 'Y' : 'N',
      gmt_modified: beijingTime(c.updated_at),
    });
  }

  async #notifyDispute(tx: Queryable, trade: TradeRow, d: DisputeRow): Promise<void> {
    await this.#store.notify(tx, trade, {
      notify_type: 'dispute_sync',
      dispute_no: d.dispute_no,
      dispute_status: d.status,
      claim_amount: formatAmount(d.claim_fen),
      ...(d.award_fen !== null ? { award_amount: formatAmount(d.award_fen) } : {}),
    });
  }

  async #case(q: Queryable, caseNo: string, forUpdate = false): Promise<CaseRow> {
    if (typeof caseNo !== 'string' || !caseNo) throw new TradeError('INVALID_PARAMETER', 'case_no');
    const [row] = await q.query<CaseRow>(
      `select * from refund_cases where case_no = $1${forUpdate ? ' for update' : ''}`,
      [caseNo],
    );
    if (!row) throw new TradeError('CASE_NOT_EXIST');
    return row;
  }

  async #dispute(q: Queryable, disputeNo: string, forUpdate = false): Promise<DisputeRow> {
    if (typeof disputeNo !== 'string' || !disputeNo) throw new TradeError('INVALID_PARAMETER', 'dispute_no');
    const [row] = await q.query<DisputeRow>(
      `select * from disputes where dispute_no = $1${forUpdate ? ' for update' : ''}`,
      [disputeNo],
    );
    if (!row) throw new TradeError('DISPUTE_NOT_EXIST');
    return row;
  }

  /** The trade of a case or dispute; another app's or buyer's reads as a missing case. */
  async #tradeOf(q: Queryable, actor: Actor, tradeNo: string, forUpdate = false): Promise<TradeRow> {
    const [trade] = await q.query<TradeRow>(
      `select * from trades where trade_no = $1${forUpdate ? ' for update' : ''}`,
      [tradeNo],
    );
    assert(trade, 'a case has its trade');
    if (actor.kind === 'seller' && trade.app_id !== actor.appId) throw new TradeError('CASE_NOT_EXIST');
    if (actor.kind === 'buyer' && trade.buyer_id !== actor.userId) throw new TradeError('CASE_NOT_EXIST');
    return trade;
  }

  #now(): Date {
    return dateFromNs(this.clock.nowNs());
  }
}

/** The refund request number of a dispute's award from escrow: its case's, or its own. */
function awardRequestNo(d: DisputeRow): string {
  return d.case_no ? `case-${d.case_no}` : `dispute-${d.dispute_no}`;
}

function parseRefundAmount(text: string): bigint {
  const fen = typeof text === 'string' ? parseAmount(text) : undefined;
  if (fen === undefined || fen < 1n || fen > 100_000_000_00n) throw new TradeError('REASON_TRADE_REFUND_FEE_ERR');
  return fen;
}

function requireText(text: unknown, name: string, max: number = limits.afterSaleTextCharsMax): string {
  if (typeof text !== 'string' || !text.trim() || text.length > max) throw new TradeError('INVALID_PARAMETER', name);
  return text.trim();
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

function caseView(c: CaseRow): RefundCaseView {
  return {
    caseNo: c.case_no,
    tradeNo: c.trade_no,
    refundAmount: formatAmount(c.refund_fen),
    reason: c.reason,
    needReturn: c.need_return,
    status: c.status,
    refuseReason: c.refuse_reason,
    returnLogisticsCompany: c.return_company,
    returnLogisticsNo: c.return_no,
    dueAt: c.due_at,
    createdAt: c.created_at,
    updatedAt: c.updated_at,
  };
}

function disputeView(d: DisputeRow): DisputeView {
  return {
    disputeNo: d.dispute_no,
    tradeNo: d.trade_no,
    caseNo: d.case_no,
    buyerId: d.buyer_id,
    sellerId: d.seller_id,
    claimAmount: formatAmount(d.claim_fen),
    reason: d.reason,
    evidence: d.evidence,
    status: d.status,
    awardAmount: d.award_fen === null ? null : formatAmount(d.award_fen),
    paidFrom: d.paid_from,
    ruledBy: d.ruled_by,
    rulingNote: d.ruling_note,
    createdAt: d.created_at,
    ruledAt: d.ruled_at,
  };
}
