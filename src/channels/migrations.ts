import type { Migration } from '../core/db/index.ts';

/** The channels' tables: bound cards, channel orders, the callback log, reconciliation, losses. */
export const channelsMigrations: Migration[] = [
  {
    id: '20261128-50-channels',
    sql: `
-- A user's card at a bank, bound for withholding (quick pay) and withdrawals by an agreement the
-- bank confirms with an SMS code. request_no is the binding request's idempotency key at the bank.
create table channel_cards (
  card_id text primary key,
  user_id text not null,
  bank text not null,
  card_no text not null,
  name text not null,
  phone text not null,
  request_no text not null unique,
  agreement_no text,
  status text not null check (status in ('PENDING', 'ACTIVE')),
  created_at timestamptz not null,
  activated_at timestamptz,
  -- Agreement numbers are the bank's: unique within a bank.
  unique (bank, agreement_no)
);
create index channel_cards_user on channel_cards (user_id, created_at);

-- One row per channel order: money in (TOPUP_GATEWAY, TOPUP_WITHHOLD) or out (WITHDRAW). The
-- order_no is also the bank's order number. One row per (user, Idempotency-Key), with the
-- request's fingerprint. Money lives only in the ledger, under ids derived from order_no.
create table channel_orders (
  order_no text primary key,
  kind text not null check (kind in ('TOPUP_GATEWAY', 'TOPUP_WITHHOLD', 'WITHDRAW')),
  bank text not null,
  user_id text not null,
  wallet_account uuid not null,
  card_id text references channel_cards (card_id),
  amount_fen bigint not null check (amount_fen > 0),
  idempotency_key text not null,
  request_hash text not null,
  status text not null check (status in ('CREATED', 'IN_FLIGHT', 'UNKNOWN', 'SUCCESS', 'FAILED')),
  fail_code text,
  bank_serial text,
  pay_url text,
  queries int not null default 0,
  next_query_at timestamptz,
  business_date text not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  finished_at timestamptz,
  unique (user_id, idempotency_key),
  check ((status = 'FAILED') = (fail_code is not null))
);
create index channel_orders_open on channel_orders (next_query_at) where status in ('CREATED', 'IN_FLIGHT', 'UNKNOWN');
create index channel_orders_day on channel_orders (bank, business_date);
create index channel_orders_user_day on channel_orders (user_id, bank, business_date);

create table channel_order_transitions (
  order_no text not null references channel_orders (order_no),
  from_status text not null,
  to_status text not null,
  actor text not null,
  reason text,
  at timestamptz not null
);
create index channel_order_transitions_order on channel_order_transitions (order_no, at);

-- Every callback the platform received, with its verdict: accepted, replay, forged, stale,
-- unknown_order, amount_mismatch, kind_mismatch. Nothing moves for any verdict but accepted.
create table channel_callbacks (
  id bigserial primary key,
  bank text not null,
  order_no text,
  verdict text not null,
  signature text,
  body text not null,
  received_at timestamptz not null
);
create unique index channel_callbacks_seen on channel_callbacks (bank, signature) where verdict = 'accepted';

-- Reconciliation: one row per run, and the lines it could not settle for an operator.
create table recon_runs (
  id bigserial primary key,
  bank text not null,
  business_date text not null,
  started_at timestamptz not null,
  finished_at timestamptz,
  lines int not null default 0,
  matched int not null default 0,
  settled int not null default 0,
  queued int not null default 0
);
create table recon_items (
  id bigserial primary key,
  bank text not null,
  business_date text not null,
  order_no text not null,
  class text not null check (class in ('missing_at_bank', 'missing_at_paybao', 'amount_mismatch', 'status_mismatch')),
  paybao_status text,
  paybao_amount_fen bigint,
  bank_status text,
  bank_amount_fen bigint,
  detail text not null,
  state text not null default 'OPEN' check (state in ('OPEN', 'RESOLVED')),
  resolution text,
  created_at timestamptz not null,
  resolved_at timestamptz,
  unique (bank, business_date, order_no, class)
);
create index recon_items_open on recon_items (created_at) where state = 'OPEN';

-- Losses: money the platform gave up (a credited top-up the bank never received, written off).
-- The ledger transfer id is derived from the loss's key, so recording it twice moves nothing.
create table channel_losses (
  loss_key text primary key,
  bank text not null,
  order_no text,
  amount_fen bigint not null check (amount_fen > 0),
  reason text not null,
  transfer_id uuid not null unique,
  recorded_at timestamptz not null
);
`,
  },
  {
    id: '20261128-51-reserve-reports',
    sql: `
-- The daily reserve report: the position as it was, kept (the regulator's API serves the live one).
create table reserve_reports (
  id bigserial primary key,
  taken_at timestamptz not null,
  report text not null
);
`,
  },
  {
    id: '20261129-52-daily-work-claims',
    sql: `
-- Which process does a day's channel work (a bank's reconciliation, the reserve report): the
-- first to insert the row; a claim left unfinished past limits.dailyWorkStaleMs is taken over.
create table daily_work (
  job text not null,
  day text not null,
  claimed_at timestamptz not null,
  done_at timestamptz,
  primary key (job, day)
);
`,
  },
  {
    id: '20261207-82-channel-order-review',
    sql: `
-- A withdrawal the risk engine sent to review: held in the wallet, not sent to the bank, until an
-- operator approves (then sent) or rejects it (the hold voided, FAILED with RISK_REJECTED).
alter table channel_orders add column review_id uuid;
alter table channel_orders drop constraint channel_orders_status_check;
alter table channel_orders add constraint channel_orders_status_check
  check (status in ('CREATED', 'REVIEW', 'IN_FLIGHT', 'UNKNOWN', 'SUCCESS', 'FAILED'));
`,
  },
];
