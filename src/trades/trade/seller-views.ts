/**
 * A seller's own trades as its merchant portal reads them: search with filters and pages, the
 * dashboard's figures, one trade with every move, refund and notification, and the notification
 * log with a resend. Read-only but for the resend, which only schedules the outbox row again.
 */
import { sql } from 'kysely';
import type { Clock } from '../../core/clock.ts';
import { type Db, typed } from '../../core/db/index.ts';
import { limits } from '../../core/limits.ts';
import { formatAmount } from '../../core/money.ts';
import { beijingOffsetMs } from '../../core/time.ts';
import { TradeError } from '../errors.ts';
import type { TradesTables } from '../tables.ts';
import { publicStatus, type TradeStatus } from './state.ts';
import { type TradeRow, type TradeView, view } from './store.ts';

export interface SellerTradeFilter {
  appIds?: readonly string[] | undefined;
  /** Created at or after. */
  from?: Date | undefined;
  /** Created before. */
  to?: Date | undefined;
  /** Public statuses (`TRADE_SUCCESS` …); a trade in flight counts as the state it shows. */
  statuses?: readonly TradeStatus[] | undefined;
  minFen?: bigint | undefined;
  maxFen?: bigint | undefined;
  outTradeNo?: string | undefined;
  tradeNo?: string | undefined;
  buyerId?: string | undefined;
  page: number;
  pageSize: number;
}

export interface TradePage {
  total: number;
  trades: TradeView[];
}

/** One period's figures: paid volume and count, the share of created trades paid, refunds. */
export interface PeriodFigures {
  volume: string;
  count: number;
  created: number;
  /** Paid ÷ created, 0 to 1, null when nothing was created. */
  successRate: number | null;
  refunded: string;
  refundCount: number;
}

export interface SeriesPoint {
  /** `2026-12-08 14` for an hour, `2026-12-08` for a day (Beijing time). */
  label: string;
  volume: string;
  count: number;
}

export interface SellerFigures {
  today: PeriodFigures;
  month: PeriodFigures;
  /** Today's 24 hours, then the month's days so far. */
  byHour: SeriesPoint[];
  byDay: SeriesPoint[];
}

export interface TransitionView {
  from: string;
  to: string;
  actor: string;
  at: Date;
}

export interface TradeRefundView {
  outRequestNo: string;
  amount: string;
  reason: string | null;
  status: 'PROCESSING' | 'SUCCESS' | 'FAILED';
  createdAt: Date;
}

export interface NotificationView {
  id: string;
  appId: string;
  tradeNo: string;
  event: string;
  /** The trade status it reported. */
  tradeStatus: string | null;
  createdAt: Date;
  attempts: number;
  /** When the next attempt is due; null when delivered or when the retries are spent. */
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  /** Each post and what came of it, oldest first (in a trade's detail; the log's list leaves them out). */
  posts?: NotificationPost[];
}

export interface NotificationPost {
  attempt: number;
  at: Date;
  url: string | null;
  outcome: 'success' | 'rejected' | 'failed' | 'no_url';
  /** The merchant's answer or the error, cut short. */
  detail: string | null;
}

export interface SellerTradeDetail {
  trade: TradeView;
  transitions: TransitionView[];
  refunds: TradeRefundView[];
  notifications: NotificationView[];
}

/** What shows as each public status: a trade in flight shows the state it moves from. */
const storedStatuses: Record<string, TradeStatus[]> = {
  WAIT_BUYER_PAY: ['WAIT_BUYER_PAY', 'PAYING'],
  WAIT_BUYER_CONFIRM_GOODS: ['WAIT_BUYER_CONFIRM_GOODS', 'RELEASING'],
};

const msPerDay = 86_400_000;
const msPerHour = 3_600_000;
/** The outbox marks a notification whose retries are spent with `next_attempt_at = 'infinity'`. */
const spent = sql<boolean>`n.next_attempt_at = 'infinity'::timestamptz`;

export class SellerTrades {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** The seller's trades matching `filter`, newest first, one page. */
  async search(sellerId: string, filter: SellerTradeFilter): Promise<TradePage> {
    let q = typed<TradesTables>(this.db).selectFrom('trades').where('seller_id', '=', sellerId);
    if (filter.appIds?.length) q = q.where('app_id', 'in', [...filter.appIds]);
    if (filter.from) q = q.where('created_at', '>=', filter.from);
    if (filter.to) q = q.where('created_at', '<', filter.to);
    if (filter.statuses?.length) {
      q = q.where(
        'status',
        'in',
        filter.statuses.flatMap((s) => storedStatuses[s] ?? [s]),
      );
    }
    if (filter.minFen !== undefined) q = q.where('total_fen', '>=', filter.minFen);
    if (filter.maxFen !== undefined) q = q.where('total_fen', '<=', filter.maxFen);
    if (filter.outTradeNo) q = q.where('out_trade_no', '=', filter.outTradeNo);
    if (filter.tradeNo) q = q.where('trade_no', '=', filter.tradeNo);
    if (filter.buyerId) q = q.where('buyer_id', '=', filter.buyerId);
    const pageSize = Math.min(Math.max(1, filter.pageSize), limits.merchantPageRowsMax);
    const page = Math.max(1, filter.page);
    const [counted, rows] = await Promise.all([
      q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirst(),
      q
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('trade_no', 'desc')
        .limit(pageSize)
        .offset((page - 1) * pageSize)
        .execute(),
    ]);
    return { total: Number(counted?.n ?? 0), trades: rows.map((r) => view(r as TradeRow)) };
  }

  /** The dashboard: today and this month (Beijing time), and their series by hour and by day. */
  async figures(sellerId: string): Promise<SellerFigures> {
    const nowMs = Number(this.clock.nowNs() / 1_000_000n);
    const local = new Date(nowMs + beijingOffsetMs);
    const dayStart = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()) - beijingOffsetMs;
    const monthStart = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), 1) - beijingOffsetMs;
    const [today, month, byHour, byDay] = await Promise.all([
      this.#period(sellerId, new Date(dayStart)),
      this.#period(sellerId, new Date(monthStart)),
      this.#series(sellerId, new Date(dayStart), msPerHour, 24),
      this.#series(sellerId, new Date(monthStart), msPerDay, Math.floor((dayStart - monthStart) / msPerDay) + 1),
    ]);
    return { today, month, byHour, byDay };
  }

  /** One of the seller's trades with its moves, refunds and notifications; `TRADE_NOT_EXIST` otherwise. */
  async detail(sellerId: string, tradeNo: string): Promise<SellerTradeDetail> {
    const t = typed<TradesTables>(this.db);
    const row = await t
      .selectFrom('trades')
      .selectAll()
      .where('trade_no', '=', tradeNo)
      .where('seller_id', '=', sellerId)
      .executeTakeFirst();
    if (!row) throw new TradeError('TRADE_NOT_EXIST');
    const [transitions, refunds, notifications, posts] = await Promise.all([
      t.selectFrom('trade_transitions').selectAll().where('trade_no', '=', tradeNo).orderBy('at').execute(),
      t.selectFrom('trade_refunds').selectAll().where('trade_no', '=', tradeNo).orderBy('created_at').execute(),
      t
        .selectFrom('trade_notifications as n')
        .selectAll('n')
        .select(spent.as('spent'))
        .where('n.trade_no', '=', tradeNo)
        .orderBy('n.id')
        .execute(),
      t
        .selectFrom('trade_notification_attempts as a')
        .innerJoin('trade_notifications as n', 'n.id', 'a.notification_id')
        .selectAll('a')
        .where('n.trade_no', '=', tradeNo)
        .orderBy('a.notification_id')
        .orderBy('a.attempt')
        .execute(),
    ]);
    const postsOf = (id: bigint): NotificationPost[] =>
      posts
        .filter((p) => p.notification_id === id)
        .map((p) => ({ attempt: p.attempt, at: p.at, url: p.url, outcome: p.outcome, detail: p.detail }));
    return {
      trade: view(row as TradeRow),
      // The moves into PAYING and RELEASING are the platform's own steps: shown as the move they end.
      transitions: transitions
        .map((m) => ({
          from: publicStatus(m.from_status as TradeStatus),
          to: publicStatus(m.to_status as TradeStatus),
          actor: m.actor,
          at: m.at,
        }))
        .filter((m) => m.from !== m.to),
      refunds: refunds.map((r) => ({
        outRequestNo: r.out_request_no,
        amount: formatAmount(r.refund_fen),
        reason: r.reason,
        status: r.status,
        createdAt: r.created_at,
      })),
      notifications: notifications.map((n) => ({ ...notificationView(n), posts: postsOf(n.id) })),
    };
  }

  /**
   * The seller's notifications, newest first: `pending` (retries left), `failed` (retries spent),
   * `delivered`, or all.
   */
  async notifications(
    sellerId: string,
    filter: {
      state?: 'pending' | 'failed' | 'delivered' | undefined;
      tradeNo?: string | undefined;
      page: number;
      pageSize: number;
    },
  ): Promise<{ total: number; notifications: NotificationView[] }> {
    let q = typed<TradesTables>(this.db)
      .selectFrom('trade_notifications as n')
      .innerJoin('trades as t', 't.trade_no', 'n.trade_no')
      .where('t.seller_id', '=', sellerId);
    if (filter.tradeNo) q = q.where('n.trade_no', '=', filter.tradeNo);
    if (filter.state === 'delivered') q = q.where('n.delivered_at', 'is not', null);
    if (filter.state === 'pending') {
      q = q.where('n.delivered_at', 'is', null).where(sql<boolean>`not (${spent})`);
    }
    if (filter.state === 'failed') {
      q = q.where('n.delivered_at', 'is', null).where(spent);
    }
    const pageSize = Math.min(Math.max(1, filter.pageSize), limits.merchantPageRowsMax);
    const [counted, rows] = await Promise.all([
      q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirst(),
      q
        .selectAll('n')
        .select(spent.as('spent'))
        .orderBy('n.id', 'desc')
        .limit(pageSize)
        .offset((Math.max(1, filter.page) - 1) * pageSize)
        .execute(),
    ]);
    return { total: Number(counted?.n ?? 0), notifications: rows.map(notificationView) };
  }

  /**
   * Sends a notification again: one still waiting is due at once; one delivered or whose retries
   * are spent goes out as a new row of the outbox with the same content (a new `notify_id`, as
   * Alipay's resend from its console). Answers the row that will be sent; `TRADE_NOT_EXIST` when
   * the notification is not the seller's.
   */
  async resend(sellerId: string, notificationId: bigint): Promise<NotificationView> {
    const now = new Date(Number(this.clock.nowNs() / 1_000_000n));
    return this.db.transaction(async (tx) => {
      const t = typed<TradesTables>(tx);
      const row = await t
        .selectFrom('trade_notifications as n')
        .innerJoin('trades as tr', 'tr.trade_no', 'n.trade_no')
        .selectAll('n')
        .select(spent.as('spent'))
        .where('n.id', '=', notificationId)
        .where('tr.seller_id', '=', sellerId)
        .forUpdate()
        .executeTakeFirst();
      if (!row) throw new TradeError('TRADE_NOT_EXIST', 'no such notification');
      if (row.delivered_at === null && !row.spent) {
        await t.updateTable('trade_notifications').set({ next_attempt_at: now }).where('id', '=', row.id).execute();
        return notificationView({ ...row, next_attempt_at: now });
      }
      const copy = await t
        .insertInto('trade_notifications')
        .values({
          app_id: row.app_id,
          trade_no: row.trade_no,
          event: row.event,
          payload: JSON.stringify(row.payload),
          created_at: now,
          next_attempt_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return notificationView({ ...copy, spent: false });
    });
  }

  async #period(sellerId: string, from: Date): Promise<PeriodFigures> {
    const [trades] = await this.db.query<{ volume: bigint | null; paid: string; created: string }>(
      `select coalesce(sum(total_fen) filter (where paid_at >= $2), 0)::int8 as volume,
              count(*) filter (where paid_at >= $2) as paid,
              count(*) filter (where created_at >= $2) as created
       from trades where seller_id = $1 and (created_at >= $2 or paid_at >= $2)`,
      [sellerId, from],
    );
    const [refunds] = await this.db.query<{ refunded: bigint | null; n: string }>(
      `select coalesce(sum(r.refund_fen), 0)::int8 as refunded, count(*) as n
       from trade_refunds r join trades t on t.trade_no = r.trade_no
       where t.seller_id = $1 and r.created_at >= $2 and r.status = 'SUCCESS'`,
      [sellerId, from],
    );
    const created = Number(trades?.created ?? 0);
    const paidOfCreated = await this.db.query<{ n: string }>(
      'select count(*) as n from trades where seller_id = $1 and created_at >= $2 and paid_at is not null',
      [sellerId, from],
    );
    return {
      volume: formatAmount(BigInt(trades?.volume ?? 0n)),
      count: Number(trades?.paid ?? 0),
      created,
      successRate: created === 0 ? null : Number(paidOfCreated[0]?.n ?? 0) / created,
      refunded: formatAmount(BigInt(refunds?.refunded ?? 0n)),
      refundCount: Number(refunds?.n ?? 0),
    };
  }

  /** Paid volume and count in `buckets` buckets of `bucketMs` from `from` (Beijing labels). */
  async #series(sellerId: string, from: Date, bucketMs: number, buckets: number): Promise<SeriesPoint[]> {
    const rows = await this.db.query<{ bucket: string; volume: bigint; n: string }>(
      `select floor(extract(epoch from (paid_at - $2::timestamptz)) * 1000 / $3)::int8 as bucket,
              sum(total_fen)::int8 as volume, count(*) as n
       from trades where seller_id = $1 and paid_at >= $2 and paid_at < $4
       group by 1`,
      [sellerId, from, bucketMs, new Date(from.getTime() + bucketMs * buckets)],
    );
    const byBucket = new Map(rows.map((r) => [Number(r.bucket), r]));
    return Array.from({ length: buckets }, (_, i) => {
      const at = new Date(from.getTime() + i * bucketMs + beijingOffsetMs).toISOString();
      const row = byBucket.get(i);
      return {
        label: bucketMs === msPerHour ? `${at.slice(0, 10)} ${at.slice(11, 13)}` : at.slice(0, 10),
        volume: formatAmount(BigInt(row?.volume ?? 0n)),
        count: Number(row?.n ?? 0),
      };
    });
  }
}

function notificationView(n: {
  id: bigint;
  app_id: string;
  trade_no: string;
  event: string;
  payload: unknown;
  created_at: Date;
  attempts: number;
  next_attempt_at: Date;
  delivered_at: Date | null;
  spent: boolean;
}): NotificationView {
  const payload = (n.payload ?? {}) as Record<string, unknown>;
  return {
    id: n.id.toString(),
    appId: n.app_id,
    tradeNo: n.trade_no,
    event: n.event,
    tradeStatus: typeof payload.trade_status === 'string' ? payload.trade_status : null,
    createdAt: n.created_at,
    attempts: n.attempts,
    nextAttemptAt: n.delivered_at || n.spent ? null : n.next_attempt_at,
    deliveredAt: n.delivered_at,
  };
}
