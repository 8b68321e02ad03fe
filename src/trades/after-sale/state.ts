/**
 * The state machines of refund cases and disputes (the trade's is in `../trade/state.ts`). Every
 * status change goes through `assertCaseTransition` or `assertDisputeTransition` (in
 * `AfterSaleStore`) and is recorded with who and when in `after_sale_transitions`.
 *
 * Refund cases (a buyer's refund request on an escrow trade; at most one unfinished per trade;
 * while a dispute is open on the trade, only its ruling moves the case):
 *
 * ```mermaid
 * stateDiagram-v2
 *   [*] --> WAIT_SELLER_AGREE: buyer asks (after shipment)
 *   [*] --> REFUNDING: buyer asks before shipment
 *   WAIT_SELLER_AGREE --> REFUNDING: seller agrees (no return) / ruling for the buyer / seller silent 5 days
 *   WAIT_SELLER_AGREE --> WAIT_BUYER_RETURN_GOODS: seller agrees (or is silent 5 days), goods to come back
 *   WAIT_SELLER_AGREE --> SELLER_REFUSE_BUYER: seller refuses
 *   WAIT_SELLER_AGREE --> REFUND_CLOSED: buyer withdraws
 *   WAIT_BUYER_RETURN_GOODS --> WAIT_SELLER_CONFIRM_GOODS: buyer ships back
 *   WAIT_BUYER_RETURN_GOODS --> REFUND_CLOSED: buyer withdraws / does not ship back in 7 days
 *   WAIT_SELLER_CONFIRM_GOODS --> REFUNDING: seller confirms arrival / is silent 10 days
 *   SELLER_REFUSE_BUYER --> REFUNDING: ruling for the buyer
 *   SELLER_REFUSE_BUYER --> REFUND_CLOSED: buyer withdraws / ruling for the seller
 *   WAIT_SELLER_AGREE --> REFUND_CLOSED: ruling for the seller
 *   REFUNDING --> REFUND_SUCCESS: money back to the buyer
 *   REFUNDING --> REFUND_CLOSED: refund refused (nothing left to refund)
 * ```
 *
 * Disputes (the buyer asks the platform to decide):
 *
 * ```mermaid
 * stateDiagram-v2
 *   [*] --> WAIT_SELLER_EVIDENCE: buyer opens
 *   WAIT_SELLER_EVIDENCE --> WAIT_RULING: seller answers with evidence
 *   WAIT_SELLER_EVIDENCE --> RULING: operator rules for the buyer
 *   WAIT_RULING --> RULING: operator rules for the buyer
 *   RULING --> RULED_FOR_BUYER: buyer paid (by escrow, or by the compensation fund)
 *   WAIT_SELLER_EVIDENCE --> RULED_FOR_SELLER: operator rules for the seller
 *   WAIT_RULING --> RULED_FOR_SELLER: operator rules for the seller
 * ```
 */

import { assert } from '../../core/assert.ts';
import { limits } from '../../core/limits.ts';

export type CaseStatus =
  | 'WAIT_SELLER_AGREE'
  | 'WAIT_BUYER_RETURN_GOODS'
  | 'WAIT_SELLER_CONFIRM_GOODS'
  | 'SELLER_REFUSE_BUYER'
  | 'REFUNDING'
  | 'REFUND_SUCCESS'
  | 'REFUND_CLOSED';

const caseAllowed: Record<CaseStatus, readonly CaseStatus[]> = {
  WAIT_SELLER_AGREE: ['REFUNDING', 'WAIT_BUYER_RETURN_GOODS', 'SELLER_REFUSE_BUYER', 'REFUND_CLOSED'],
  WAIT_BUYER_RETURN_GOODS: ['WAIT_SELLER_CONFIRM_GOODS', 'REFUND_CLOSED'],
  WAIT_SELLER_CONFIRM_GOODS: ['REFUNDING'],
  SELLER_REFUSE_BUYER: ['REFUNDING', 'REFUND_CLOSED'],
  REFUNDING: ['REFUND_SUCCESS', 'REFUND_CLOSED'],
  REFUND_SUCCESS: [],
  REFUND_CLOSED: [],
};

export function assertCaseTransition(from: CaseStatus, to: CaseStatus): void {
  assert(caseAllowed[from].includes(to), `refund case cannot go from ${from} to ${to}`);
}

/** Whether a case in this status may move to `to` (a user asking for a move the diagram forbids). */
export function caseMayMove(from: CaseStatus, to: CaseStatus): boolean {
  return caseAllowed[from].includes(to);
}

/**
 * The deadline of a case that waits on one party: how long that party has, and where the case
 * goes when the time is up without an answer (as Taobao's rules: a silent seller agrees, a
 * buyer who does not send the goods back gives up the request). None when nobody is awaited.
 */
export function caseDeadline(status: CaseStatus, needReturn: boolean): { afterMs: number; to: CaseStatus } | null {
  switch (status) {
    case 'WAIT_SELLER_AGREE':
      return { afterMs: limits.refundCaseSellerAnswerMs, to: needReturn ? 'WAIT_BUYER_RETURN_GOODS' : 'REFUNDING' };
    case 'WAIT_BUYER_RETURN_GOODS':
      return { afterMs: limits.refundCaseBuyerReturnMs, to: 'REFUND_CLOSED' };
    case 'WAIT_SELLER_CONFIRM_GOODS':
      return { afterMs: limits.refundCaseSellerReceiveMs, to: 'REFUNDING' };
    default:
      return null;
  }
}

export const caseTerminal: readonly CaseStatus[] = ['REFUND_SUCCESS', 'REFUND_CLOSED'];

export type DisputeStatus = 'WAIT_SELLER_EVIDENCE' | 'WAIT_RULING' | 'RULING' | 'RULED_FOR_BUYER' | 'RULED_FOR_SELLER';

const disputeAllowed: Record<DisputeStatus, readonly DisputeStatus[]> = {
  WAIT_SELLER_EVIDENCE: ['WAIT_RULING', 'RULING', 'RULED_FOR_SELLER'],
  WAIT_RULING: ['RULING', 'RULED_FOR_SELLER'],
  RULING: ['RULED_FOR_BUYER'],
  RULED_FOR_BUYER: [],
  RULED_FOR_SELLER: [],
};

export function disputeMayMove(from: DisputeStatus, to: DisputeStatus): boolean {
  return disputeAllowed[from].includes(to);
}

export function assertDisputeTransition(from: DisputeStatus, to: DisputeStatus): void {
  assert(disputeMayMove(from, to), `dispute cannot go from ${from} to ${to}`);
}
