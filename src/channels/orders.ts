/**
 * Channel order rows: reading, the compare-and-set transitions of state.ts, and the view users
 * see. Nothing here talks to a bank or the ledger.
 */
import { assert } from '../core/assert.ts';
import type { Queryable } from '../core/db/index.ts';
import { dailyNumber } from '../core/external-ids.ts';
import { requestFingerprint } from '../core/idempotency.ts';
import { formatAmount } from '../core/money.ts';
import { beijingTime } from '../core/time.ts';
import { assertTransition, type ChannelOrderStatus } from './state.ts';

export type ChannelOrderKind = 'TOPUP_GATEWAY' | 'TOPUP_WITHHOLD' | 'WITHDRAW';

export interface OrderRow {
  order_no: string;
  kind: ChannelOrderKind;
  bank: string;
  user_id: string;
  wallet_account: string;
  card_id: string | null;
  amount_fen: bigint;
  idempotency_key: string;
  request_hash: string;
  status: ChannelOrderStatus;
  fail_code: string | null;
  bank_serial: string | null;
  pay_url: string | null;
  queries: number;
  next_query_at: Date | null;
  /** The Beijing day the order was created, `YYYY-MM-DD`. */
  business_date: string;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

/** A channel order as its owner (and the API) sees it. */
export interface ChannelOrderView {
  orderNo: string;
  kind: ChannelOrderKind;
  bank: string;
  userId: string;
  cardId: string | null;
  amount: string;
  status: ChannelOrderStatus;
  failCode: string | null;
  /** Where the customer pays (gateway top-ups while in flight); null otherwise. */
  payUrl: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export function orderView(row: OrderRow): ChannelOrderView {
  return {
    orderNo: row.order_no,
    kind: row.kind,
    bank: row.bank,
    userId: row.user_id,
    cardId: row.card_id,
    amount: formatAmount(row.amount_fen),
    status: row.status,
    failCode: row.fail_code,
    payUrl: row.status === 'SUCCESS' || row.status === 'FAILED' ? null : row.pay_url,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}

export async function findOrder(q: Queryable, orderNo: string): Promise<OrderRow | undefined> {
  const [row] = await q.query<OrderRow>('select * from channel_orders where order_no = $1', [orderNo]);
  return row;
}

/**
 * Moves an order from one of `from` to `to` under its row lock and records the transition.
 * Answers the new row, or undefined when the order was not in one of `from` (someone else moved
 * it first: the caller reads the row again and follows what it says).
 */
export async function transition(
  tx: Queryable,
  orderNo: string,
  from: readonly ChannelOrderStatus[],
  to: ChannelOrderStatus,
  change: { actor: string; reason?: string | undefined; at: Date; sets?: Record<string, unknown> },
): Promise<OrderRow | undefined> {
  const [current] = await tx.query<OrderRow>('select * from channel_orders where order_no = $1 for update', [orderNo]);
  assert(current, `channel order ${orderNo} exists`);
  if (!from.includes(current.status)) return undefined;
  if (current.status !== to) assertTransition(current.status, to);
  const sets = { ...change.sets, status: to, updated_at: change.at };
  const columns = Object.keys(sets);
  const assignments = columns.map((c, i) => `${c} = $${i + 2}`).join(', ');
  const [row] = await tx.query<OrderRow>(`update channel_orders set ${assignments} where order_no = $1 returning *`, [
    orderNo,
    ...columns.map((c) => sets[c as keyof typeof sets]),
  ]);
  if (current.status !== to) {
    await tx.query(
      `insert into channel_order_transitions (order_no, from_status, to_status, actor, reason, at)
       values ($1, $2, $3, $4, $5, $6)`,
      [orderNo, current.status, to, change.actor, change.reason ?? null, change.at],
    );
  }
  return row;
}

/** The fingerprint of a request, to tell a retry (same) from a reused Idempotency-Key (different). */
export function requestHash(parts: readonly unknown[]): string {
  return requestFingerprint(parts);
}

/** The Beijing date of a moment, `YYYY-MM-DD`: the business day of orders and statements. */
export function beijingDate(at: Date): string {
  return beijingTime(at).slice(0, 10);
}

/** A channel order number, also the bank's: `PB`, the Beijing date, 16 random digits. */
export function newOrderNo(now: Date): string {
  return dailyNumber('PB', now, 16);
}
