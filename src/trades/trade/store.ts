import { sql } from 'kysely';
import { assert } from '../../core/assert.ts';
import type { Clock } from '../../core/clock.ts';
import { type Queryable, typed } from '../../core/db/index.ts';
import { formatAmount } from '../../core/money.ts';
import { beijingTime, dateFromNs } from '../../core/time.ts';
import { TradeError } from '../errors.ts';
import type { TradeRow, TradesTables } from '../tables.ts';
import { assertTransition, publicStatus, type TradeStatus } from './state.ts';

export type { TradeRow } from '../tables.ts';

/** The columns a trade's move may set beside its status. */
export type TradeSets = Partial<Omit<TradeRow, 'trade_no' | 'status'>>;

/** A trade is named by Paybao's trade_no or by the merchant's out_trade_no. */
export interface TradeKey {
  tradeNo?: string | undefined;
  outTradeNo?: string | undefined;
}

/** A trade as merchants see it. */
export interface TradeView {
  tradeNo: string;
  outTradeNo: string;
  appId: string;
  status: Exclude<TradeStatus, 'PAYING' | 'RELEASING'>;
  totalAmount: string;
  subject: string;
  sellerId: string;
  buyerId: string | null;
  refundedAmount: string;
  createdAt: Date;
  paidAt: Date | null;
  closedAt: Date | null;
  returnUrl: string | null;
  /** Escrow (guaranteed) trades only: shipment, the auto-confirm deadline, release. */
  escrow: EscrowView | null;
  /** What paid it, as Alipay's fund_bill_list names it; empty before it is paid. */
  fundBills: FundBill[];
}

/**
 * One channel of a payment, Alipay's `fund_bill_list` entry: `ALIPAYACCOUNT` the balance,
 * `FINANCEACCOUNT` Yu'e Bao (the names of Alipay's documented list of fund channels).
 */
export interface FundBill {
  fundChannel: 'ALIPAYACCOUNT' | 'FINANCEACCOUNT';
  amount: string;
}

/** The channels that paid a trade: the fund's part, the balance the rest; none before payment. */
export function fundBills(t: Pick<TradeRow, 'paid_at' | 'total_fen' | 'fund_fen'>): FundBill[] {
  return t.paid_at ? channelBills(t.total_fen, t.fund_fen) : [];
}

/** `totalFen` by channel: `fundFen` of it Yu'e Bao's, the rest the balance's. */
export function channelBills(totalFen: bigint, fundFen: bigint): FundBill[] {
  const balance = totalFen - fundFen;
  return [
    ...(balance > 0n ? [{ fundChannel: 'ALIPAYACCOUNT' as const, amount: formatAmount(balance) }] : []),
    ...(fundFen > 0n ? [{ fundChannel: 'FINANCEACCOUNT' as const, amount: formatAmount(fundFen) }] : []),
  ];
}

export interface EscrowView {
  logisticsCompany: string | null;
  logisticsNo: string | null;
  shippedAt: Date | null;
  confirmDueAt: Date | null;
  releasedAt: Date | null;
  feeAmount: string;
  royaltyAmount: string;
  settlementNo: string | null;
  caseOpen: boolean;
}

/** A trade of this app, by either number, optionally under its row lock. */
export async function findTrade(q: Queryable, appId: string, key: TradeKey, forUpdate = false): Promise<TradeRow> {
  const lock = forUpdate ? ' for update' : '';
  let rows: TradeRow[] = [];
  if (key.tradeNo) {
    rows = await q.query<TradeRow>(`select * from trades where trade_no = $1 and app_id = $2${lock}`, [
      key.tradeNo,
      appId,
    ]);
  } else if (key.outTradeNo) {
    rows = await q.query<TradeRow>(`select * from trades where app_id = $1 and out_trade_no = $2${lock}`, [
      appId,
      key.outTradeNo,
    ]);
  } else {
    throw new TradeError('INVALID_PARAMETER', 'trade_no or out_trade_no is required');
  }
  const trade = rows[0];
  // Another app's trade is indistinguishable from a missing one.
  if (!trade || (key.outTradeNo && trade.out_trade_no !== key.outTradeNo)) throw new TradeError('TRADE_NOT_EXIST');
  return trade;
}

/**
 * The trades table's one writer of statuses: reads a trade (optionally under its row lock) and
 * moves it, recording every transition and writing its notification in the same statement.
 */
export class TradeStore {
  constructor(private readonly clock: Clock) {}

  find(q: Queryable, appId: string, key: TradeKey, forUpdate = false): Promise<TradeRow> {
    return findTrade(q, appId, key, forUpdate);
  }

  /**
   * Moves a trade from the status it was read with to `to`, in one statement: compare and set on
   * the status, the transition recorded with actor and time, and (when `notify` is given) the
   * notification written to the outbox. Null when the trade had already left that status.
   */
  async transition(
    q: Queryable,
    trade: TradeRow,
    to: TradeStatus,
    actor: string,
    sets: TradeSets,
    notify?: Record<string, string>,
  ): Promise<TradeRow | null> {
    assertTransition(trade.status, to);
    const now = this.now();
    const payload = notify ? notificationPayload({ ...trade, ...sets, status: to }, notify) : null;
    const moved = typed<TradesTables>(q)
      .with('moved', (db) =>
        db
          .updateTable('trades')
          .set({ ...sets, status: to })
          .where('trade_no', '=', trade.trade_no)
          .where('status', '=', trade.status)
          .returningAll(),
      )
      .with('logged', (db) =>
        db
          .insertInto('trade_transitions')
          .columns(['trade_no', 'from_status', 'to_status', 'actor', 'at'])
          .expression((eb) =>
            eb
              .selectFrom('moved')
              .select((m) => [
                'trade_no',
                m.val(trade.status).as('from_status'),
                m.val(to).as('to_status'),
                m.val(actor).as('actor'),
                m.val(now).as('at'),
              ]),
          ),
      );
    // The notification, when there is one, is written by the same statement.
    const statement = payload
      ? moved.with('notified', (db) =>
          db
            .insertInto('trade_notifications')
            .columns(['app_id', 'trade_no', 'event', 'payload', 'created_at', 'next_attempt_at'])
            .expression((eb) =>
              eb
                .selectFrom('moved')
                .select((m) => [
                  'app_id',
                  'trade_no',
                  m.val(payload.trade_status ?? null).as('event'),
                  sql<unknown>`${JSON.stringify(payload)}::jsonb`.as('payload'),
                  m.val(now).as('created_at'),
                  m.val(now).as('next_attempt_at'),
                ]),
            ),
        )
      : moved;
    const updated = await statement.selectFrom('moved').selectAll().executeTakeFirst();
    return updated ?? null;
  }

  /** Like `#transition`, for a trade read under its row lock: the move cannot lose a race. */
  async move(
    tx: Queryable,
    trade: TradeRow,
    to: TradeStatus,
    actor: string,
    sets: TradeSets,
    notify?: Record<string, string>,
  ): Promise<TradeRow> {
    const moved = await this.transition(tx, trade, to, actor, sets, notify);
    assert(moved, 'a locked trade moves');
    return moved;
  }

  /** Writes one notification per trade to the outbox in one statement (sweeps notify many). */
  async notifyMany(q: Queryable, items: readonly { trade: TradeRow; extra: Record<string, string> }[]): Promise<void> {
    if (items.length === 0) return;
    const payloads = items.map((i) => notificationPayload(i.trade, i.extra));
    await q.query(
      `insert into trade_notifications (app_id, trade_no, event, payload, created_at, next_attempt_at)
       select app_id, trade_no, event, payload, $5, $5
       from unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) as n(app_id, trade_no, event, payload)`,
      [
        items.map((i) => i.trade.app_id),
        items.map((i) => i.trade.trade_no),
        payloads.map((p) => (p.notify_type === 'trade_status_sync' ? (p.trade_status ?? '') : (p.notify_type ?? ''))),
        payloads.map((p) => JSON.stringify(p)),
        this.now(),
      ],
    );
  }

  /** Writes an Alipay trade_status_sync notification to the outbox, in the caller's transaction. */
  async notify(tx: Queryable, trade: TradeRow, extra: Record<string, string>): Promise<void> {
    const payload = notificationPayload(trade, extra);
    await tx.query(
      `insert into trade_notifications (app_id, trade_no, event, payload, created_at, next_attempt_at)
       values ($1, $2, $3, $4, $5, $5)`,
      [trade.app_id, trade.trade_no, payload.trade_status, JSON.stringify(payload), this.now()],
    );
  }

  now(): Date {
    return dateFromNs(this.clock.nowNs());
  }
}

/** An Alipay trade_status_sync notification's fields, for the trade as it is after the change. */
export function notificationPayload(trade: TradeRow, extra: Record<string, string>): Record<string, string> {
  return {
    notify_type: 'trade_status_sync',
    app_id: trade.app_id,
    trade_no: trade.trade_no,
    out_trade_no: trade.out_trade_no,
    trade_status: publicStatus(trade.status),
    total_amount: formatAmount(trade.total_fen),
    subject: trade.subject,
    seller_id: trade.seller_id,
    gmt_create: beijingTime(trade.created_at),
    ...(trade.buyer_id ? { buyer_id: trade.buyer_id } : {}),
    ...(trade.paid_at
      ? {
          gmt_payment: beijingTime(trade.paid_at),
          receipt_amount: formatAmount(trade.total_fen),
          // Alipay's notification carries the list as JSON text, its keys in camel case.
          fund_bill_list: JSON.stringify(fundBills(trade)),
        }
      : {}),
    ...(trade.closed_at ? { gmt_close: beijingTime(trade.closed_at) } : {}),
    ...extra,
  };
}

export function view(t: TradeRow): TradeView {
  return {
    tradeNo: t.trade_no,
    outTradeNo: t.out_trade_no,
    appId: t.app_id,
    status: publicStatus(t.status),
    totalAmount: formatAmount(t.total_fen),
    subject: t.subject,
    sellerId: t.seller_id,
    buyerId: t.buyer_id,
    refundedAmount: formatAmount(t.refunded_fen),
    createdAt: t.created_at,
    paidAt: t.paid_at,
    closedAt: t.closed_at,
    returnUrl: t.return_url,
    escrow: t.escrow
      ? {
          logisticsCompany: t.logistics_company,
          logisticsNo: t.logistics_no,
          shippedAt: t.shipped_at,
          confirmDueAt: t.confirm_due_at,
          releasedAt: t.released_at,
          feeAmount: formatAmount(t.fee_fen),
          royaltyAmount: formatAmount(t.royalty_fen),
          settlementNo: t.settlement_no,
          caseOpen: t.case_open,
        }
      : null,
    fundBills: fundBills(t),
  };
}
