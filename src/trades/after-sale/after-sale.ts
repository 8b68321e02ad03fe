import type { Clock } from '../../core/clock.ts';
import type { Db } from '../../core/db/index.ts';
import { SweepFailures } from '../../core/jobs.ts';
import { limits } from '../../core/limits.ts';
import type { Ledger } from '../../ledger/index.ts';
import type { Actor } from '../escrow/escrow.ts';
import type { Trades } from '../trade/service.ts';
import type { TradeKey } from '../trade/store.ts';
import { type AfterSaleParties, CompensationFund } from './compensation-fund.ts';
import { Disputes } from './disputes.ts';
import { RecoveryClaims } from './recovery-claims.ts';
import { RefundCases } from './refund-cases.ts';
import { AfterSaleStore } from './store.ts';
import type { DisputeView, RefundCaseView } from './views.ts';

/**
 * After-sale on escrow trades, as one object for the interfaces: refund cases (`RefundCases`),
 * disputes ruled by an operator (`Disputes`), the compensation fund that pays a ruling after
 * release (`CompensationFund`) and the recovery claims it leaves against sellers
 * (`RecoveryClaims`). Each method hands over to the class that owns the concept; only the sweep
 * spans them.
 *
 * Every move is a compare-and-set under the trade's row lock, recorded in
 * `after_sale_transitions` (`AfterSaleStore`); money moves only through `Trades.refund`
 * (idempotent by the case's or dispute's request number) or by transfers whose ids derive from
 * the dispute, so a retry after a crash (the sweep) never pays twice.
 */
export class AfterSale {
  readonly #store: AfterSaleStore;
  readonly #cases: RefundCases;
  readonly #disputes: Disputes;
  readonly #fund: CompensationFund;
  readonly #claims: RecoveryClaims;

  constructor(db: Db, ledger: Ledger, trades: Trades, parties: AfterSaleParties, clock: Clock) {
    this.#store = new AfterSaleStore(clock);
    this.#claims = new RecoveryClaims(db, this.#store);
    this.#fund = new CompensationFund(db, ledger, parties, this.#claims);
    this.#cases = new RefundCases(db, trades, this.#store);
    this.#disputes = new Disputes(db, trades, this.#store, this.#fund);
  }

  requestRefund(
    actor: Actor,
    key: TradeKey,
    request: { amount: string; reason: string; needReturn?: boolean | undefined },
  ): Promise<RefundCaseView> {
    return this.#cases.request(actor, key, request);
  }

  agree(actor: Actor, caseNo: string): Promise<RefundCaseView> {
    return this.#cases.agree(actor, caseNo);
  }

  refuse(actor: Actor, caseNo: string, reason: string): Promise<RefundCaseView> {
    return this.#cases.refuse(actor, caseNo, reason);
  }

  returnGoods(
    actor: Actor,
    caseNo: string,
    logistics: { company: string; trackingNo: string },
  ): Promise<RefundCaseView> {
    return this.#cases.returnGoods(actor, caseNo, logistics);
  }

  receiveReturn(actor: Actor, caseNo: string): Promise<RefundCaseView> {
    return this.#cases.receiveReturn(actor, caseNo);
  }

  withdraw(actor: Actor, caseNo: string): Promise<RefundCaseView> {
    return this.#cases.withdraw(actor, caseNo);
  }

  getCase(actor: Actor, caseNo: string): Promise<RefundCaseView> {
    return this.#cases.get(actor, caseNo);
  }

  openDispute(
    actor: Actor,
    key: TradeKey,
    request: { claimAmount?: string | undefined; reason: string },
  ): Promise<DisputeView> {
    return this.#disputes.open(actor, key, request);
  }

  answer(actor: Actor, disputeNo: string, evidence: string): Promise<DisputeView> {
    return this.#disputes.answer(actor, disputeNo, evidence);
  }

  rule(
    actor: Actor,
    disputeNo: string,
    ruling: { decision: 'BUYER' | 'SELLER'; awardAmount?: string | undefined; note?: string | undefined },
  ): Promise<DisputeView> {
    return this.#disputes.rule(actor, disputeNo, ruling);
  }

  getDispute(actor: Actor, disputeNo: string): Promise<DisputeView> {
    return this.#disputes.get(actor, disputeNo);
  }

  disputesToRule(limit?: number): Promise<DisputeView[]> {
    return this.#disputes.toRule(limit);
  }

  addFundCapital(amount: string, reference: string): Promise<void> {
    return this.#fund.addCapital(amount, reference);
  }

  writeOffClaim(actor: Actor, disputeNo: string): Promise<string> {
    return this.#claims.writeOff(actor, disputeNo);
  }

  losses(): Promise<{ lossFen: bigint; lossCount: number; volumeFen: bigint }> {
    return this.#claims.losses();
  }

  /**
   * Moves the cases whose awaited party let the deadline pass, and finishes rulings and case
   * refunds a crash or an empty fund left in flight. Answers how many it moved or finished.
   */
  async sweep(): Promise<number> {
    // One case failing does not hold up the others (it is retried next round); a refusal (the fund
    // is short) is an outcome, and every other failure is thrown at the end (`SweepFailures`).
    const failures = new SweepFailures();
    let done = await this.#cases.expireDue(failures);
    const stale = new Date(this.#store.now().getTime() - limits.tradePayingStaleMs);
    done += await this.#disputes.finishRulings(stale, failures);
    done += await this.#cases.finishRefunds(stale, failures);
    failures.throwIfAny('after-sale sweep');
    return done;
  }
}
