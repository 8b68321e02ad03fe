import type { Migration } from '../core/db/index.ts';

/** The trades' tables: trades, their refunds, and the notification outbox. */
export const tradesMigrations: Migration[] = [
  {
    id: '20261126-03-trades',
    sql: `
create table trades (
  trade_no text primary key,
  app_id text not null,
  out_trade_no text not null,
  subject text not null,
  total_fen bigint not null check (total_fen > 0),
  -- WAIT_BUYER_PAY, PAYING (internal: a payment is in flight), TRADE_SUCCESS, TRADE_FINISHED,
  -- TRADE_CLOSED. Transitions are enforced in one place: src/trades/state.ts.
  status text not null,
  seller_id text not null,
  seller_account uuid not null,
  buyer_id text,
  buyer_account uuid,
  product_code text,
  refunded_fen bigint not null default 0,
  -- Refunds accepted but not yet moved by the ledger: they count against what can be refunded.
  refund_reserved_fen bigint not null default 0,
  expires_at timestamptz not null,
  created_at timestamptz not null,
  paying_at timestamptz,
  paid_at timestamptz,
  closed_at timestamptz,
  unique (app_id, out_trade_no),
  check (refunded_fen + refund_reserved_fen <= total_fen)
);
create index trades_due on trades (expires_at) where status = 'WAIT_BUYER_PAY';

create table trade_refunds (
  trade_no text not null references trades (trade_no),
  out_request_no text not null,
  refund_fen bigint not null check (refund_fen > 0),
  reason text,
  -- PROCESSING until the ledger answers, then SUCCESS or FAILED.
  status text not null,
  created_at timestamptz not null,
  primary key (trade_no, out_request_no)
);

create table trade_transitions (
  trade_no text not null,
  from_status text not null,
  to_status text not null,
  actor text not null,
  at timestamptz not null
);
create index trade_transitions_trade on trade_transitions (trade_no, at);

-- The notification outbox: written in the same transaction as the state change it reports.
create table trade_notifications (
  id bigserial primary key,
  app_id text not null,
  trade_no text not null,
  event text not null,
  payload jsonb not null,
  created_at timestamptz not null,
  attempts int not null default 0,
  next_attempt_at timestamptz not null,
  delivered_at timestamptz
);
create index trade_notifications_due on trade_notifications (next_attempt_at) where delivered_at is null;
`,
  },
  {
    id: '20261126-04-trades-return-url',
    sql: `
-- Where the cashier sends the buyer back after a page.pay / wap.pay payment.
alter table trades add column return_url text;
`,
  },
  {
    id: '20261127-10-trades-finish-and-bills',
    sql: `
-- The sweep finds paid trades whose refund period is over (TRADE_SUCCESS → TRADE_FINISHED).
create index trades_finishing on trades (paid_at) where status = 'TRADE_SUCCESS';
-- A bill reads one app's trades of a day in (created_at, trade_no) order, page by page.
create index trades_bill on trades (app_id, created_at, trade_no);
`,
  },
];
