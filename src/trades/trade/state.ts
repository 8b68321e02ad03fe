/**
 * The state machine of trades, in one place (refund cases and disputes have theirs in
 * `../after-sale/state.ts`). Every status change goes through `assertTransition` and is recorded
 * with who and when in `trade_transitions`.
 *
 * A plain trade settles to the seller when paid; a guaranteed (escrow) trade is paid into escrow
 * and released to the seller when the buyer confirms receipt (or the confirm period runs out).
 *
 * ```mermaid
 * stateDiagram-v2
 *   [*] --> WAIT_BUYER_PAY: create / precreate
 *   WAIT_BUYER_PAY --> PAYING: pay (money in flight)
 *   PAYING --> TRADE_SUCCESS: ledger ok (plain)
 *   PAYING --> WAIT_SELLER_SEND_GOODS: ledger ok (escrow)
 *   PAYING --> WAIT_BUYER_PAY: balance not enough
 *   WAIT_BUYER_PAY --> TRADE_CLOSED: close / cancel / timeout
 *   TRADE_SUCCESS --> TRADE_CLOSED: refunded in full
 *   TRADE_SUCCESS --> TRADE_FINISHED: refund period over
 *   WAIT_SELLER_SEND_GOODS --> WAIT_BUYER_CONFIRM_GOODS: seller ships
 *   WAIT_SELLER_SEND_GOODS --> TRADE_CLOSED: refunded in full
 *   WAIT_BUYER_CONFIRM_GOODS --> RELEASING: buyer confirms / confirm period over (money in flight)
 *   WAIT_BUYER_CONFIRM_GOODS --> TRADE_CLOSED: refunded in full
 *   RELEASING --> TRADE_FINISHED: released to the seller, less the fee
 * ```
 */

import { assert } from '../../core/assert.ts';

export type TradeStatus =
  | 'WAIT_BUYER_PAY'
  | 'PAYING'
  | 'TRADE_SUCCESS'
  | 'WAIT_SELLER_SEND_GOODS'
  | 'WAIT_BUYER_CONFIRM_GOODS'
  | 'RELEASING'
  | 'TRADE_FINISHED'
  | 'TRADE_CLOSED';

const allowed: Record<TradeStatus, readonly TradeStatus[]> = {
  WAIT_BUYER_PAY: ['PAYING', 'TRADE_CLOSED'],
  PAYING: ['TRADE_SUCCESS', 'WAIT_SELLER_SEND_GOODS', 'WAIT_BUYER_PAY'],
  TRADE_SUCCESS: ['TRADE_CLOSED', 'TRADE_FINISHED'],
  WAIT_SELLER_SEND_GOODS: ['WAIT_BUYER_CONFIRM_GOODS', 'TRADE_CLOSED'],
  WAIT_BUYER_CONFIRM_GOODS: ['RELEASING', 'TRADE_CLOSED'],
  RELEASING: ['TRADE_FINISHED'],
  TRADE_FINISHED: [],
  TRADE_CLOSED: [],
};

/** A transition the code asks for that the diagram forbids is a bug, not a user error. */
export function assertTransition(from: TradeStatus, to: TradeStatus): void {
  assert(allowed[from].includes(to), `trade cannot go from ${from} to ${to}`);
}

/** The statuses in which an escrow trade's money is in escrow. */
export const inEscrow: readonly TradeStatus[] = ['WAIT_SELLER_SEND_GOODS', 'WAIT_BUYER_CONFIRM_GOODS'];

/** What merchants see: a payment in flight is still waiting for the buyer, a release still waits too. */
export function publicStatus(status: TradeStatus): Exclude<TradeStatus, 'PAYING' | 'RELEASING'> {
  if (status === 'PAYING') return 'WAIT_BUYER_PAY';
  if (status === 'RELEASING') return 'WAIT_BUYER_CONFIRM_GOODS';
  return status;
}

/**
 * Whether a trade's buyer has paid, from its row: `paid_at` is written with the move out of PAYING
 * and kept through a full refund's close. PAYING is a payment in flight: its money may have moved
 * (the next server start records it) or not yet.
 */
export function paymentState(status: TradeStatus, paidAt: Date | null): 'paid' | 'unpaid' | 'in_flight' {
  if (status === 'PAYING') return 'in_flight';
  return paidAt === null ? 'unpaid' : 'paid';
}
