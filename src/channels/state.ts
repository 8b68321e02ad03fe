import { assert } from '../core/assert.ts';
/**
 * The channel order state machine, in one place. Every status change goes through
 * `assertTransition` and is recorded in channel_order_transitions with who and why.
 *
 * ```mermaid
 * stateDiagram-v2
 *   [*] --> CREATED: order written (withdrawal: then the wallet amount is held, pending)
 *   CREATED --> IN_FLIGHT: claimed to send to the bank
 *   CREATED --> REVIEW: a withdrawal the risk engine sent to review, its amount held
 *   REVIEW --> IN_FLIGHT: an operator approved it: sent to the bank
 *   REVIEW --> FAILED: an operator rejected it: the hold voided (RISK_REJECTED)
 *   CREATED --> FAILED: the hold was refused (balance) / the bank refused outright
 *   IN_FLIGHT --> SUCCESS: the bank confirmed (answer, verified callback, or query)
 *   IN_FLIGHT --> FAILED: the bank confirmed a failure
 *   IN_FLIGHT --> UNKNOWN: no answer (timeout, dropped connection, 5xx)
 *   UNKNOWN --> IN_FLIGHT: a query found it still PROCESSING (a gateway page not paid yet)
 *   UNKNOWN --> SUCCESS: a query (or a verified callback) confirmed success
 *   UNKNOWN --> FAILED: a query (or a verified callback) confirmed a failure
 * ```
 *
 * Money follows only confirmed results: a top-up credits the wallet from the bank's reserve
 * account on SUCCESS; a withdrawal holds the amount (pending) from CREATED, posts it on SUCCESS
 * and voids it on FAILED. UNKNOWN is resolved only by asking the bank (query with backoff; when
 * the bank has no such order, by sending the same order number again, which the bank treats
 * idempotently) — never by guessing.
 */
export type ChannelOrderStatus = 'CREATED' | 'REVIEW' | 'IN_FLIGHT' | 'UNKNOWN' | 'SUCCESS' | 'FAILED';

const allowed: Record<ChannelOrderStatus, readonly ChannelOrderStatus[]> = {
  CREATED: ['IN_FLIGHT', 'FAILED', 'REVIEW'],
  // Not open: the sweep never sends or asks about an order an operator has not decided.
  REVIEW: ['IN_FLIGHT', 'FAILED'],
  IN_FLIGHT: ['SUCCESS', 'FAILED', 'UNKNOWN'],
  UNKNOWN: ['IN_FLIGHT', 'SUCCESS', 'FAILED'],
  SUCCESS: [],
  FAILED: [],
};

/** A transition the code asks for that the diagram forbids is a bug, not a user error. */
export function assertTransition(from: ChannelOrderStatus, to: ChannelOrderStatus): void {
  assert(allowed[from].includes(to), `channel order cannot go from ${from} to ${to}`);
}

export function isTerminal(status: ChannelOrderStatus): boolean {
  return status === 'SUCCESS' || status === 'FAILED';
}

export const openStatuses: readonly ChannelOrderStatus[] = ['CREATED', 'IN_FLIGHT', 'UNKNOWN'];
