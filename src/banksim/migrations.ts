import type { Migration } from '../core/db/index.ts';

/**
 * The simulator's own schema, in its own database: nothing here is shared with the platform.
 * Balances are bank liabilities to each account's owner (credits minus debits); the `opening`
 * account of each bank funds opening balances and is the only one allowed below zero, so a
 * bank's balances always sum to zero.
 */
export const bankSimMigrations: readonly Migration[] = [
  {
    id: 'banksim-001',
    sql: `
create table banksim_banks (
  code text primary key,
  name text not null,
  payment_max_fen bigint not null check (payment_max_fen > 0),
  daily_max_fen bigint not null check (daily_max_fen > 0),
  payout_max_fen bigint not null check (payout_max_fen > 0)
);
create table banksim_accounts (
  bank text not null references banksim_banks (code),
  account_no text not null,
  kind text not null check (kind in ('opening', 'settlement', 'customer')),
  name text not null default '',
  phone text not null default '',
  password text not null default '',
  balance_fen bigint not null default 0,
  primary key (bank, account_no),
  check (kind = 'opening' or balance_fen >= 0)
);
create table banksim_merchants (
  bank text not null references banksim_banks (code),
  merchant_id text not null,
  secret text not null,
  settlement_account text not null,
  primary key (bank, merchant_id),
  foreign key (bank, settlement_account) references banksim_accounts (bank, account_no)
);
create sequence banksim_serial_seq;
create table banksim_entries (
  id bigserial primary key,
  bank text not null,
  serial text not null,
  debit_account text not null,
  credit_account text not null,
  amount_fen bigint not null check (amount_fen > 0),
  created_at timestamptz not null,
  foreign key (bank, debit_account) references banksim_accounts (bank, account_no),
  foreign key (bank, credit_account) references banksim_accounts (bank, account_no)
);
create index banksim_entries_serial on banksim_entries (serial);
create table banksim_agreements (
  agreement_no text primary key,
  bank text not null,
  merchant_id text not null,
  request_no text not null,
  fingerprint text not null,
  card_no text not null,
  status text not null check (status in ('PENDING', 'ACTIVE')),
  created_at timestamptz not null,
  unique (bank, merchant_id, request_no)
);
create table banksim_orders (
  bank text not null,
  merchant_id text not null,
  order_no text not null,
  kind text not null check (kind in ('GATEWAY', 'WITHHOLD', 'PAYOUT')),
  fingerprint text not null,
  amount_fen bigint not null check (amount_fen > 0),
  status text not null check (status in ('PROCESSING', 'SUCCESS', 'FAILED')),
  fail_code text,
  serial text not null unique,
  card_no text,
  agreement_no text,
  batch_no text,
  subject text not null default '',
  notify_url text,
  return_url text,
  page_token text unique,
  password_attempts integer not null default 0,
  created_at timestamptz not null,
  value_date date not null,
  finished_at timestamptz,
  primary key (bank, merchant_id, order_no),
  check ((status = 'PROCESSING') = (finished_at is null)),
  check ((status = 'FAILED') = (fail_code is not null))
);
create index banksim_orders_card_day on banksim_orders (bank, card_no, value_date) where status = 'SUCCESS';
create index banksim_orders_day on banksim_orders (bank, merchant_id, value_date, created_at);
create table banksim_batches (
  bank text not null,
  merchant_id text not null,
  batch_no text not null,
  fingerprint text not null,
  created_at timestamptz not null,
  primary key (bank, merchant_id, batch_no)
);
create table banksim_sms (
  id bigserial primary key,
  bank text not null,
  phone text not null,
  text text not null,
  code text not null,
  agreement_no text not null,
  attempts integer not null default 0,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz
);
create table banksim_callbacks (
  id bigserial primary key,
  bank text not null,
  merchant_id text not null,
  order_no text not null,
  url text not null,
  body text not null,
  duplicate boolean not null default false,
  attempts integer not null default 0,
  next_at timestamptz not null,
  delivered_at timestamptz,
  abandoned_at timestamptz,
  last_error text
);
create index banksim_callbacks_due on banksim_callbacks (next_at) where delivered_at is null and abandoned_at is null;
`,
  },
];
