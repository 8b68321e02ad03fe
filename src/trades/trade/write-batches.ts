import { Batcher, firstPerKey } from '../../core/batcher.ts';
import type { Db } from '../../core/db/index.ts';
import { limits } from '../../core/limits.ts';
import { assertTransition, type TradeStatus } from './state.ts';
import { notificationPayload, type TradeRow } from './store.ts';

/** A trade to insert: waiting for its buyer, or (`PAYING`) already claimed by one. */
export interface NewTrade {
  tradeNo: string;
  appId: string;
  outTradeNo: string;
  subject: string;
  totalFen: bigint;
  status: 'WAIT_BUYER_PAY' | 'PAYING';
  sellerId: string;
  sellerAccount: string;
  productCode: string | null;
  expiresAt: Date;
  createdAt: Date;
  returnUrl: string | null;
  /** The request's own notify URL, taken over the app's for this trade's notifications. */
  notifyUrl: string | null;
  buyerId: string | null;
  buyerAccount: string | null;
  /** Who claimed it (recorded as the first transition's actor); null for a waiting trade. */
  actor: string | null;
  escrow: boolean;
  feeBps: number;
  confirmPeriodMs: number;
}

/** A claim of the waiting trade with this out_trade_no and these terms, by a buyer, at a time. */
export interface Claim {
  appId: string;
  outTradeNo: string;
  totalFen: bigint;
  subject: string;
  buyerId: string;
  buyerAccount: string;
  actor: string;
  at: Date;
  /** The paying request's own notify URL (`alipay.trade.pay`); null keeps the trade's. */
  notifyUrl: string | null;
}

/** A paid trade moving from PAYING to where a paid trade goes, with its notification. */
export interface Paid {
  trade: TradeRow;
  to: TradeStatus;
  actor: string;
  at: Date;
}

/**
 * Every column of `trades`, by name: the insert is prepared (named), and a prepared statement's
 * result type must not change under it — PostgreSQL refuses a cached plan whose result type
 * changed, which `returning *` would do the day a migration adds a column. The `satisfies` keeps
 * the list whole: a column added to `TradesTable` fails to compile here until it is listed.
 *
 * Only the insert is prepared, whose plan does not depend on the table's size. The claim and the
 * record join `trades` to their input: a prepared statement's generic plan is made once per
 * connection, and one made while `trades` was small (a fresh database, no ANALYZE since) is a
 * sequential scan and a hash join, kept as the table grows — measured in the gateway bench, the
 * record then took 2.5–4.1 ms a statement against 1.1 ms planned each time (BENCHMARKS.md).
 */
const tradeColumnSet = {
  trade_no: true,
  app_id: true,
  out_trade_no: true,
  subject: true,
  total_fen: true,
  status: true,
  seller_id: true,
  seller_account: true,
  buyer_id: true,
  buyer_account: true,
  product_code: true,
  refunded_fen: true,
  refund_reserved_fen: true,
  expires_at: true,
  created_at: true,
  paying_at: true,
  paid_at: true,
  closed_at: true,
  return_url: true,
  escrow: true,
  fee_bps: true,
  confirm_period_ms: true,
  shipped_at: true,
  logistics_company: true,
  logistics_no: true,
  confirm_due_at: true,
  reminded_at: true,
  case_open: true,
  released_at: true,
  fee_fen: true,
  royalty_fen: true,
  royalty_reserved_fen: true,
  settlement_no: true,
  notify_url: true,
  fund_source: true,
  fund_fen: true,
} satisfies Record<keyof TradeRow, true>;
const tradeColumns = (alias: string) =>
  Object.keys(tradeColumnSet)
    .map((c) => `${alias}.${c}`)
    .join(', ');
const createdColumns = tradeColumns('c');
const tradeRowColumns = tradeColumns('t');
const insertedColumns = tradeColumns('trades');

const batchOptions = {
  waitMs: 0,
  // One statement of a kind at a time: rows are locked in one order, and the next batch gathers
  // while this one runs.
  maxInFlight: 1,
  batchEventsMax: limits.tradeWriteBatchMax,
  submissionEventsMax: 1,
  queueEventsMax: limits.tradeWriteQueueMax,
  isolateFailures: true,
  name: 'trade writes',
} as const;

/**
 * The payment path's three trade statements, grouped across concurrent callers (group commit, as
 * the ledger does): while one statement of a kind runs, the next gathers, and every caller gets
 * its own answer, as if it had run alone. Each statement still records its transitions (and
 * notifications) with the change. Two claims or two records of one trade never share a statement:
 * the later one answers as if it lost the race (null), which is what running alone would answer.
 * Two inserts of one out_trade_no may: `on conflict do nothing` lets one in and answers the other
 * null, as alone.
 */
export class TradeWrites {
  readonly #inserts: Batcher<NewTrade, TradeRow | null>;
  readonly #claims: Batcher<Claim, TradeRow | null>;
  readonly #paid: Batcher<Paid, TradeRow | null>;

  constructor(private readonly db: Db) {
    this.#inserts = new Batcher((items) => this.#insert(items), batchOptions);
    this.#claims = new Batcher(
      (items) =>
        firstPerKey(
          items,
          (c) => `${c.appId}\n${c.outTradeNo}`,
          (unique) => this.#claim(unique),
        ),
      batchOptions,
    );
    this.#paid = new Batcher(
      (items) =>
        firstPerKey(
          items,
          (p) => p.trade.trade_no,
          (unique) => this.#recordPaid(unique),
        ),
      batchOptions,
    );
  }

  /** Inserts a trade; null when its app already has a trade with that out_trade_no. */
  insert(trade: NewTrade): Promise<TradeRow | null> {
    return this.#inserts.submit(trade);
  }

  /** Claims the waiting trade of a claim's terms (and not timed out); null when there is none. */
  claim(claim: Claim): Promise<TradeRow | null> {
    return this.#claims.submit(claim);
  }

  /** Records a payment the ledger made; null when the trade had already left PAYING. */
  recordPaid(paid: Paid): Promise<TradeRow | null> {
    assertTransition(paid.trade.status, paid.to);
    return this.#paid.submit(paid);
  }

  async #insert(items: readonly NewTrade[]): Promise<(TradeRow | null)[]> {
    const rows = await this.db.query<TradeRow>(
      `with input as (
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[],
           $8::uuid[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::text[], $13::text[], $14::uuid[],
           $15::text[], $16::boolean[], $17::int[], $18::bigint[], $19::text[])
         as i(trade_no, app_id, out_trade_no, subject, total_fen, status, seller_id, seller_account, product_code,
           expires_at, created_at, return_url, buyer_id, buyer_account, actor, escrow, fee_bps, confirm_period_ms,
           notify_url)
       ), created as (
         insert into trades (trade_no, app_id, out_trade_no, subject, total_fen, status, seller_id, seller_account,
           product_code, expires_at, created_at, return_url, buyer_id, buyer_account, paying_at,
           escrow, fee_bps, confirm_period_ms, notify_url)
         select trade_no, app_id, out_trade_no, subject, total_fen, status, seller_id, seller_account,
           product_code, expires_at, created_at, return_url, buyer_id, buyer_account,
           case when status = 'PAYING' then created_at end, escrow, fee_bps, confirm_period_ms, notify_url
         from input
         on conflict (app_id, out_trade_no) do nothing
         returning ${insertedColumns}
       ), logged as (
         insert into trade_transitions (trade_no, from_status, to_status, actor, at)
         select c.trade_no, 'WAIT_BUYER_PAY', c.status, i.actor, c.created_at
         from created c join input i on i.trade_no = c.trade_no
         where c.status <> 'WAIT_BUYER_PAY'
       )
       select ${createdColumns} from created c`,
      [
        items.map((t) => t.tradeNo),
        items.map((t) => t.appId),
        items.map((t) => t.outTradeNo),
        items.map((t) => t.subject),
        items.map((t) => t.totalFen.toString()),
        items.map((t) => t.status),
        items.map((t) => t.sellerId),
        items.map((t) => t.sellerAccount),
        items.map((t) => t.productCode),
        items.map((t) => t.expiresAt.toISOString()),
        items.map((t) => t.createdAt.toISOString()),
        items.map((t) => t.returnUrl),
        items.map((t) => t.buyerId),
        items.map((t) => t.buyerAccount),
        items.map((t) => t.actor),
        items.map((t) => t.escrow),
        items.map((t) => t.feeBps),
        items.map((t) => String(t.confirmPeriodMs)),
        items.map((t) => t.notifyUrl),
      ],
      { name: 'trades_insert' },
    );
    const byNo = new Map(rows.map((r) => [r.trade_no, r]));
    return items.map((t) => byNo.get(t.tradeNo) ?? null);
  }

  async #claim(items: readonly Claim[]): Promise<(TradeRow | null)[]> {
    const rows = await this.db.query<TradeRow & { claim_index: number; claim_actor?: string }>(
      `with input as (
         select * from unnest($1::int[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::uuid[],
           $8::text[], $9::timestamptz[], $10::text[])
         as i(claim_index, app_id, out_trade_no, total_fen, subject, buyer_id, buyer_account, actor, at, notify_url)
       ), claimed as (
         update trades t set status = 'PAYING', buyer_id = i.buyer_id, buyer_account = i.buyer_account, paying_at = i.at,
           notify_url = coalesce(i.notify_url, t.notify_url)
         from input i
         where t.app_id = i.app_id and t.out_trade_no = i.out_trade_no and t.total_fen = i.total_fen
           and t.subject = i.subject and t.status = 'WAIT_BUYER_PAY' and t.expires_at > i.at
         returning ${tradeRowColumns}, i.claim_index, i.actor as claim_actor
       ), logged as (
         insert into trade_transitions (trade_no, from_status, to_status, actor, at)
         select trade_no, 'WAIT_BUYER_PAY', 'PAYING', claim_actor, paying_at from claimed
       )
       select * from claimed`,
      [
        items.map((_, i) => i),
        items.map((c) => c.appId),
        items.map((c) => c.outTradeNo),
        items.map((c) => c.totalFen.toString()),
        items.map((c) => c.subject),
        items.map((c) => c.buyerId),
        items.map((c) => c.buyerAccount),
        items.map((c) => c.actor),
        items.map((c) => c.at.toISOString()),
        items.map((c) => c.notifyUrl),
      ],
    );
    const answers: (TradeRow | null)[] = items.map(() => null);
    for (const { claim_index, ...row } of rows) {
      delete row.claim_actor;
      answers[claim_index] = row;
    }
    return answers;
  }

  async #recordPaid(items: readonly Paid[]): Promise<(TradeRow | null)[]> {
    const payloads = items.map((p) => notificationPayload({ ...p.trade, status: p.to, paid_at: p.at } as TradeRow, {}));
    const rows = await this.db.query<TradeRow>(
      `with input as (
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::jsonb[])
         as i(trade_no, from_status, to_status, actor, at, event, payload)
       ), moved as (
         update trades t set status = i.to_status, paid_at = i.at
         from input i
         where t.trade_no = i.trade_no and t.status = i.from_status
         returning ${tradeRowColumns}
       ), logged as (
         insert into trade_transitions (trade_no, from_status, to_status, actor, at)
         select i.trade_no, i.from_status, i.to_status, i.actor, i.at from moved m join input i on i.trade_no = m.trade_no
       ), notified as (
         insert into trade_notifications (app_id, trade_no, event, payload, created_at, next_attempt_at)
         select m.app_id, i.trade_no, i.event, i.payload, i.at, i.at from moved m join input i on i.trade_no = m.trade_no
       )
       select * from moved`,
      [
        items.map((p) => p.trade.trade_no),
        items.map((p) => p.trade.status),
        items.map((p) => p.to),
        items.map((p) => p.actor),
        items.map((p) => p.at.toISOString()),
        payloads.map((p) => p.trade_status ?? ''),
        payloads.map((p) => JSON.stringify(p)),
      ],
    );
    const byNo = new Map(rows.map((r) => [r.trade_no, r]));
    return items.map((p) => byNo.get(p.trade.trade_no) ?? null);
  }
}
