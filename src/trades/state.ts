/**
 * The trade state machine, in one place. Every status change goes through `assertTransition`
 * and is recorded in trade_transitions with who and when.
 *
 * ```mermaid
 * stateDiagram-v2
 *   [*] --> WAIT_BUYER_PAY: create / precreate
 *   WAIT_BUYER_PAY --> PAYING: pay (money in flight)
 *   PAYING --> TRADE_SUCCESS: ledger ok
 *   PAYING --> WAIT_BUYER_PAY: balance not enough
 *   WAIT_BUYER_PAY --> TRADE_CLOSED: close / cancel / timeout
 *   TRADE_SUCCESS --> TRADE_CLOSED: refunded in full
 *   TRADE_SUCCESS --> TRADE_FINISHED: refund period over
 * ```
 */
export type TradeStatus = 'WAIT_BUYER_PAY' | 'PAYING' | 'TRADE_SUCCESS' | 'TRADE_FINISHED' | 'TRADE_CLOSED';

const allowed: Record<TradeStatus, readonly TradeStatus[]> = {
  WAIT_BUYER_PAY: ['PAYING', 'TRADE_CLOSED'],
  PAYING: ['TRADE_SUCCESS', 'WAIT_BUYER_PAY'],
  TRADE_SUCCESS: ['TRADE_CLOSED', 'TRADE_FINISHED'],
  TRADE_FINISHED: [],
  TRADE_CLOSED: [],
};

/** A transition the code asks for that the diagram forbids is a bug, not a user error. */
export function assertTransition(from: TradeStatus, to: TradeStatus): void {
  if (!allowed[from].includes(to)) throw new Error(`invariant: trade cannot go from ${from} to ${to}`);
}

/** What merchants see: a payment in flight is still waiting for the buyer. */
export function publicStatus(status: TradeStatus): Exclude<TradeStatus, 'PAYING'> {
  return status === 'PAYING' ? 'WAIT_BUYER_PAY' : status;
}
