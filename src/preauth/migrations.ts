import type { Migration } from '../core/db/index.ts';

/**
 * Pre-authorisation's tables: freeze orders and their operations. No money here: what is frozen
 * is a pending ledger transfer (a hold) from the user's wallet to the merchant's; these rows say
 * which hold is live (`hold_seq`) and how much of the order is still frozen, settled, unfrozen.
 * An operation in flight (`in_flight`) is the one saga step of its order: claimed here, moved in
 * the ledger under derived ids, recorded here by compare and set on `in_flight`.
 */
export const preauthMigrations: Migration[] = [
  {
    id: '20261208-40-preauth',
    sql: `
create table preauth_orders (
  auth_no text primary key,
  app_id text not null,
  out_order_no text not null,
  order_title text not null,
  -- BAR_CODE (the merchant scanned the user's payment code) or APP (the user confirms at the cashier).
  kind text not null check (kind in ('BAR_CODE', 'APP')),
  payee_id text not null,
  payee_account uuid not null,
  payer_id text,
  payer_account uuid,
  amount_fen bigint not null check (amount_fen > 0),
  credit_fen bigint not null check (credit_fen >= 0),
  fund_fen bigint not null check (fund_fen >= 0),
  rest_fund_fen bigint not null default 0 check (rest_fund_fen >= 0),
  rest_credit_fen bigint not null default 0 check (rest_credit_fen >= 0),
  paid_fund_fen bigint not null default 0 check (paid_fund_fen >= 0),
  paid_credit_fen bigint not null default 0 check (paid_credit_fen >= 0),
  unfrozen_fund_fen bigint not null default 0 check (unfrozen_fund_fen >= 0),
  unfrozen_credit_fen bigint not null default 0 check (unfrozen_credit_fen >= 0),
  -- INIT (an app freeze waiting for its user), AUTHORIZED, FINISH (all settled or unfrozen), CLOSED.
  status text not null check (status in ('INIT', 'AUTHORIZED', 'FINISH', 'CLOSED')),
  -- The live hold's generation: its ledger id is derivedId('preauth.hold', auth_no/hold_seq).
  hold_seq integer not null default 0,
  in_flight text,
  term_s integer not null check (term_s > 0),
  pay_expires_at timestamptz,
  expires_at timestamptz,
  notify_url text,
  created_at timestamptz not null,
  authorized_at timestamptz,
  finished_at timestamptz,
  unique (app_id, out_order_no),
  check (credit_fen + fund_fen = amount_fen),
  check (rest_fund_fen + paid_fund_fen + unfrozen_fund_fen <= fund_fen),
  check (rest_credit_fen + paid_credit_fen + unfrozen_credit_fen <= credit_fen)
);
create index preauth_orders_init_due on preauth_orders (pay_expires_at) where status = 'INIT';
create index preauth_orders_due on preauth_orders (expires_at) where status = 'AUTHORIZED';
create index preauth_orders_in_flight on preauth_orders (auth_no) where in_flight is not null;

create table preauth_operations (
  operation_id text primary key,
  auth_no text not null references preauth_orders (auth_no),
  -- The idempotency key within the order: out_request_no, or 'trade:' || out_trade_no for a payment.
  request_key text not null,
  out_request_no text,
  operation_type text not null check (operation_type in ('FREEZE', 'UNFREEZE', 'PAY', 'EXPIRE')),
  amount_fen bigint not null check (amount_fen >= 0),
  fund_fen bigint not null check (fund_fen >= 0),
  credit_fen bigint not null check (credit_fen >= 0),
  -- The hold this operation ends (hold_seq) and the next generation's amount it opens (0: none).
  hold_seq integer not null,
  new_hold_fen bigint not null check (new_hold_fen >= 0),
  hold_timeout_s integer not null check (hold_timeout_s >= 0),
  -- A payment's credit-guaranteed part: collected from the payer's wallet, the rest advanced by the platform.
  collect_fen bigint not null default 0 check (collect_fen >= 0),
  advance_fen bigint not null default 0 check (advance_fen >= 0),
  complete boolean not null default false,
  trade_no text,
  out_trade_no text,
  remark text,
  -- INIT until the ledger answers, then SUCCESS or CLOSED.
  status text not null check (status in ('INIT', 'SUCCESS', 'CLOSED')),
  created_at timestamptz not null,
  finished_at timestamptz,
  unique (auth_no, request_key),
  check (fund_fen + credit_fen = amount_fen),
  check (collect_fen + advance_fen in (0, credit_fen))
);

-- What the platform advanced for a payer's credit-guaranteed settlement, owed until collected.
create table preauth_debts (
  operation_id text primary key references preauth_operations (operation_id),
  user_id text not null,
  user_account uuid not null,
  amount_fen bigint not null check (amount_fen > 0),
  repaid_fen bigint not null default 0 check (repaid_fen >= 0),
  created_at timestamptz not null,
  repaid_at timestamptz,
  check (repaid_fen <= amount_fen)
);
create index preauth_debts_open on preauth_debts (user_id) where repaid_fen < amount_fen;
`,
  },
  {
    id: '20261209-10-preauth-credit-services',
    sql: `
-- The credit services the platform granted apps (issue 14 §3, Alipay's 信用服务): a freeze that asks
-- for credit through extra_param ({"category": …, "serviceId": …}) must name the app's active
-- service; at or above its score threshold up to its waiver cap is credit-guaranteed, not held.
-- One row per app: a withdrawal keeps the row (WITHDRAWN) and its service id, a new grant reopens it.
-- Who changed it and why is in operator_audit.
create table preauth_credit_services (
  app_id text primary key,
  service_id text not null unique check (service_id ~ '^[0-9]{28}$'),
  category text not null check (category ~ '^[A-Z][A-Z0-9_]{1,63}$'),
  score_threshold integer not null check (score_threshold between 350 and 950),
  waiver_max_fen bigint not null check (waiver_max_fen > 0),
  status text not null check (status in ('ACTIVE', 'WITHDRAWN')),
  granted_by text not null,
  granted_at timestamptz not null,
  withdrawn_by text,
  withdrawn_at timestamptz,
  check ((status = 'WITHDRAWN') = (withdrawn_at is not null))
);

-- The credit service a freeze asked for (null: a plain fund freeze, held in full).
alter table preauth_orders add column credit_service_id text;
`,
  },
];
