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
  {
    id: '20261128-40-escrow',
    sql: `
-- Escrow (guaranteed) trades: paid into the escrow account, released on confirmed receipt.
alter table trades add column escrow boolean not null default false;
alter table trades add column fee_bps int not null default 0 check (fee_bps between 0 and 10000);
alter table trades add column confirm_period_ms bigint not null default 0;
alter table trades add column shipped_at timestamptz;
alter table trades add column logistics_company text;
alter table trades add column logistics_no text;
alter table trades add column confirm_due_at timestamptz;
alter table trades add column reminded_at timestamptz;
alter table trades add column case_open boolean not null default false;
alter table trades add column released_at timestamptz;
alter table trades add column fee_fen bigint not null default 0 check (fee_fen >= 0);
alter table trades add column royalty_fen bigint not null default 0 check (royalty_fen >= 0);
alter table trades add column royalty_reserved_fen bigint not null default 0 check (royalty_reserved_fen >= 0);
alter table trades add column settlement_no text;
-- Refunds, royalties and the fee share one budget: what the buyer paid.
alter table trades add constraint trades_budget
  check (refunded_fen + refund_reserved_fen + royalty_fen + royalty_reserved_fen + fee_fen <= total_fen);
create index trades_confirm_due on trades (confirm_due_at) where status = 'WAIT_BUYER_CONFIRM_GOODS';
create index trades_releasing on trades (trade_no) where status = 'RELEASING';
create index trades_unsettled on trades (seller_id, released_at)
  where escrow and status = 'TRADE_FINISHED' and settlement_no is null;

-- An app's escrow terms: whether its trades are escrow by default, its fee, its confirm period.
create table escrow_contracts (
  app_id text primary key,
  escrow_default boolean not null,
  fee_bps int not null check (fee_bps between 0 and 10000),
  confirm_period_ms bigint not null check (confirm_period_ms > 0),
  updated_at timestamptz not null
);

-- A buyer's refund request on a paid escrow trade (an after-sale case).
create table refund_cases (
  case_no text primary key,
  trade_no text not null references trades (trade_no),
  app_id text not null,
  buyer_id text not null,
  refund_fen bigint not null check (refund_fen > 0),
  reason text not null,
  need_return boolean not null,
  status text not null,
  refuse_reason text,
  return_company text,
  return_no text,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create unique index refund_cases_one_open on refund_cases (trade_no)
  where status not in ('REFUND_SUCCESS', 'REFUND_CLOSED');
create index refund_cases_refunding on refund_cases (updated_at) where status = 'REFUNDING';

create table disputes (
  dispute_no text primary key,
  trade_no text not null references trades (trade_no),
  app_id text not null,
  buyer_id text not null,
  seller_id text not null,
  case_no text references refund_cases (case_no),
  claim_fen bigint not null check (claim_fen > 0),
  reason text not null,
  evidence text,
  status text not null,
  -- Set by the ruling: what the buyer gets, who paid it.
  award_fen bigint check (award_fen > 0),
  paid_from text,
  ruled_by text,
  ruling_note text,
  created_at timestamptz not null,
  ruled_at timestamptz
);
create unique index disputes_one_open on disputes (trade_no)
  where status in ('WAIT_SELLER_EVIDENCE', 'WAIT_RULING', 'RULING');
create index disputes_ruling on disputes (ruled_at) where status = 'RULING';

-- Every move of a refund case or a dispute, with who and when.
create table after_sale_transitions (
  subject text not null,
  from_status text,
  to_status text not null,
  actor text not null,
  at timestamptz not null
);
create index after_sale_transitions_subject on after_sale_transitions (subject, at);

-- What a seller owes the compensation fund after a ruling the fund paid; collected from the
-- seller's next settlements.
create table recovery_claims (
  dispute_no text primary key references disputes (dispute_no),
  seller_id text not null,
  amount_fen bigint not null check (amount_fen > 0),
  recovered_fen bigint not null default 0,
  created_at timestamptz not null,
  check (recovered_fen between 0 and amount_fen)
);
create index recovery_claims_open on recovery_claims (seller_id, created_at) where recovered_fen < amount_fen;

-- alipay.trade.order.settle: one split of a trade's proceeds among receivers.
create table royalties (
  trade_no text not null references trades (trade_no),
  out_request_no text not null,
  app_id text not null,
  amount_fen bigint not null check (amount_fen > 0),
  -- [{trans_in, amount_fen, desc}] in request order, every part above zero.
  parts jsonb not null,
  -- The request as the merchant sent it, to tell a replay from a reuse of the number.
  request text not null,
  -- 'unsettled' (the seller's unsettled proceeds) or 'wallet'.
  source text not null,
  status text not null,
  created_at timestamptz not null,
  primary key (trade_no, out_request_no)
);

-- One merged payout of a seller's released trades, and its statement lines.
create table settlements (
  settlement_no text primary key,
  seller_id text not null,
  gross_fen bigint not null check (gross_fen >= 0),
  recovery_fen bigint not null check (recovery_fen >= 0),
  payout_fen bigint not null check (payout_fen >= 0),
  trade_count int not null,
  status text not null,
  created_at timestamptz not null,
  settled_at timestamptz,
  check (recovery_fen + payout_fen = gross_fen)
);
create index settlements_seller on settlements (seller_id, created_at);
create table settlement_items (
  settlement_no text not null references settlements (settlement_no),
  trade_no text not null,
  out_trade_no text not null,
  total_fen bigint not null,
  refunded_fen bigint not null,
  fee_fen bigint not null,
  royalty_fen bigint not null,
  amount_fen bigint not null,
  released_at timestamptz not null,
  primary key (settlement_no, trade_no)
);
-- The recoveries a settlement collected, claim by claim.
create table settlement_recoveries (
  settlement_no text not null references settlements (settlement_no),
  dispute_no text not null,
  amount_fen bigint not null check (amount_fen > 0),
  primary key (settlement_no, dispute_no)
);
`,
  },
  {
    id: '20261128-42-escrow-payouts-and-write-offs',
    sql: `
-- Where a settlement's payout went: a bank order (the seller's card) or 'wallet'; null until decided.
alter table settlements add column payout_destination text;
-- A recovery claim an operator gives up on: a loss, counted by the loss rate.
alter table recovery_claims add column written_off_fen bigint not null default 0 check (written_off_fen >= 0);
alter table recovery_claims add column written_off_at timestamptz;
alter table recovery_claims add constraint recovery_claims_settled check (recovered_fen + written_off_fen <= amount_fen);
drop index recovery_claims_open;
create index recovery_claims_open on recovery_claims (seller_id, created_at)
  where recovered_fen + written_off_fen < amount_fen;
-- The reminder sweep reads only shipped trades not yet reminded (not every trade waiting).
create index trades_to_remind on trades (confirm_due_at)
  where status = 'WAIT_BUYER_CONFIRM_GOODS' and reminded_at is null;
`,
  },
  {
    id: '20261129-43-refund-case-deadlines',
    sql: `
-- When a waiting refund case moves without its silent party (null once nobody is awaited).
alter table refund_cases add column due_at timestamptz;
create index refund_cases_due on refund_cases (due_at) where due_at is not null;
update refund_cases set due_at = updated_at + case status
    when 'WAIT_SELLER_AGREE' then interval '5 days'
    when 'WAIT_BUYER_RETURN_GOODS' then interval '7 days'
    when 'WAIT_SELLER_CONFIRM_GOODS' then interval '10 days' end
  where status in ('WAIT_SELLER_AGREE', 'WAIT_BUYER_RETURN_GOODS', 'WAIT_SELLER_CONFIRM_GOODS');
`,
  },
  {
    id: '20261204-10-trades-notify-url',
    sql: `
-- The request's own notify_url (Alipay takes it over the app's for this trade's notifications).
alter table trades add column notify_url text;
`,
  },
  {
    id: '20261204-62-trades-fund-source',
    sql: `
-- A trade paid (in part) from Yu'e Bao: its product and how much it paid, in the payment's chain.
alter table trades add column fund_source text;
alter table trades add column fund_fen bigint not null default 0 check (fund_fen >= 0 and fund_fen <= total_fen);
`,
  },
  {
    id: '20261204-70-trade-refunds-fund',
    sql: `
-- The part of a refund that goes back to Yu'e Bao (the trade's fund_source), fixed when it is reserved.
alter table trade_refunds add column fund_fen bigint not null default 0 check (fund_fen >= 0 and fund_fen <= refund_fen);
`,
  },
  {
    id: '20261207-90-trades-paying',
    sql: `
-- The payments in flight, for the sweep that finishes those a crash interrupted: without it, every
-- sweep (every few seconds, in every process) read the whole trades table to find the few PAYING.
create index trades_paying on trades (paying_at, trade_no) where status = 'PAYING';
`,
  },
  {
    id: '20261207-95-trades-buyer',
    sql: `
-- A buyer's trades, newest first (the wallet's list of orders).
create index trades_buyer on trades (buyer_id, created_at desc, trade_no desc) where buyer_id is not null;
`,
  },
];
