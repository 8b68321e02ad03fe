/**
 * Channel order rows: reading, the compare-and-set transitions of state.ts, and the view users
 * see. Nothing here talks to a bank or the ledger.
 */

import type { Updateable } from 'kysely';
import { assert } from '../core/assert.ts';
import { type Queryable, typed } from '../core/db/index.ts';
import { dailyNumber } from '../core/external-ids.ts';
import { requestFingerprint } from '../core/idempotency.ts';
import { formatAmount } from '../core/money.ts';
import { beijingTime } from '../core/time.ts';
import { assertTransition, type ChannelOrderStatus } from './state.ts';
import type { ChannelOrderKind, ChannelTables, OrderRow } from './tables.ts';

export type { ChannelOrderKind, OrderRow } from './tables.ts';

/** The columns a transition may change besides the status (which it sets itself). */
export type OrderChanges = Omit<Updateable<ChannelTables['channel_orders']>, 'order_no' | 'status' | 'updated_at'>;

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
  return typed<ChannelTables>(q)
    .selectFrom('channel_orders')
    .selectAll()
    .where('order_no', '=', orderNo)
    .executeTakeFirst();
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
  change: { actor: string; reason?: string | undefined; at: Date; sets?: OrderChanges },
): Promise<OrderRow | undefined> {
  const db = typed<ChannelTables>(tx);
  const current = await db
    .selectFrom('channel_orders')
    .selectAll()
    .where('order_no', '=', orderNo)
    .forUpdate()
    .executeTakeFirst();
  assert(current, `channel order ${orderNo} exists`);
  if (!from.includes(current.status)) return undefined;
  if (current.status !== to) assertTransition(current.status, to);
  const row = await db
    .updateTable('channel_orders')
    .set({ ...change.sets, status: to, updated_at: change.at })
    .where('order_no', '=', orderNo)
    .returningAll()
    .executeTakeFirst();
  if (current.status !== to) {
    await db
      .insertInto('channel_order_transitions')
      .values({
        order_no: orderNo,
        from_status: current.status,
        to_status: to,
        actor: change.actor,
        reason: change.reason ?? null,
        at: change.at,
      })
      .execute();
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
