import type { Migration } from '../core/db/index.ts';

/**
 * The fund's tables. Money and shares live in the ledger; these rows hold what the ledger cannot:
 * who owns which account, the orders and their confirmation days, the calendar, the declarations
 * and each day's distribution, line by line. Days are Beijing days as `YYYY-MM-DD` text (ordered
 * as text, and never turned into a local-time Date by a driver).
 */
export const fundMigrations: Migration[] = [
  {
    id: '20261204-60-fund',
    sql: `
create table fund_companies (
  company_id text primary key,
  name text not null unique,
  company_account uuid not null,
  pool_account uuid not null,
  created_at timestamptz not null
);
create sequence fund_product_seq;
create table fund_products (
  product_code text primary key,
  company_id text not null references fund_companies,
  name text not null,
  seq integer not null unique,
  share_ledger integer not null unique,
  custodian_account uuid not null,
  issuance_account uuid not null,
  undistributed_account uuid not null,
  created_at timestamptz not null
);
create table fund_holidays (
  day text primary key check (day ~ '^\\d{4}-\\d{2}-\\d{2}$'),
  name text not null
);
-- One share account per (product, user), made at the first purchase.
create table fund_holders (
  product_code text not null references fund_products,
  user_id text not null,
  account_id uuid not null unique,
  wallet_account uuid not null,
  primary key (product_code, user_id)
);
-- An order: a purchase or a redemption. SUBMITTED until the ledger answers (a retry with the same
-- key submits the same ids again), PENDING while money or shares wait for due_day, DONE after.
create table fund_orders (
  order_id uuid primary key,
  user_id text not null,
  idempotency_key text not null,
  product_code text not null references fund_products,
  kind text not null check (kind in ('PURCHASE', 'STANDARD', 'FAST')),
  amount_fen bigint not null check (amount_fen > 0),
  status text not null check (status in ('SUBMITTED', 'PENDING', 'DONE')),
  requested_at timestamptz not null,
  requested_day text not null,
  trade_day text not null,
  due_day text not null,
  done_at timestamptz,
  unique (user_id, idempotency_key)
);
create index fund_orders_due on fund_orders (due_day) where status = 'PENDING';
create index fund_orders_product_day on fund_orders (product_code, requested_day);
-- Fast redemptions taken per user and Beijing day, across products.
create table fund_fast_quota (
  user_id text not null,
  day text not null,
  used_fen bigint not null check (used_fen >= 0),
  primary key (user_id, day)
);
-- The fund company's daily figure: income per 10,000 shares in 0.0001 yuan ("0.6543" is 6543).
-- DECLARED, then SNAPSHOT (every holder's line written), then DONE (every line paid).
create table fund_income_days (
  product_code text not null references fund_products,
  day text not null check (day ~ '^\\d{4}-\\d{2}-\\d{2}$'),
  per10k_scaled bigint not null check (per10k_scaled >= 0),
  status text not null check (status in ('DECLARED', 'SNAPSHOT', 'DONE')),
  total_fen bigint,
  holders integer,
  declared_at timestamptz not null,
  done_at timestamptz,
  primary key (product_code, day)
);
-- One line per holder and day: the holder's earning shares and income (floor plus its share of
-- the remainder). paid once the ledger has moved it.
create table fund_income_lines (
  product_code text not null,
  day text not null,
  account_id uuid not null,
  shares bigint not null check (shares > 0),
  income_fen bigint not null check (income_fen >= 0),
  paid boolean not null default false,
  primary key (product_code, day, account_id),
  foreign key (product_code, day) references fund_income_days
);
create index fund_income_lines_unpaid on fund_income_lines (product_code, day, account_id) where not paid;
`,
  },
  {
    id: '20261204-61-fund-payments',
    sql: `
-- A payment from the fund: shares redeemed in the trade's own ledger chain (src/fund/payments.ts).
alter table fund_orders drop constraint fund_orders_kind_check;
alter table fund_orders add constraint fund_orders_kind_check
  check (kind in ('PURCHASE', 'STANDARD', 'FAST', 'PAYMENT'));
`,
  },
  {
    id: '20261204-62-fund-income-pages',
    sql: `
-- The snapshot cuts a day's lines into pages of consecutive accounts (the last one open-ended),
-- and a page is marked paid once the ledger has moved its lines: one row per page, not per line.
create table fund_income_pages (
  product_code text not null,
  day text not null,
  first_account uuid not null,
  end_account uuid,
  lines integer not null check (lines > 0),
  paid boolean not null default false,
  primary key (product_code, day, first_account),
  foreign key (product_code, day) references fund_income_days
);
-- The lines are written by the day's snapshot alone, under the day's row lock: the foreign key's
-- per-row check cost the snapshot of a million holders more than the lines themselves.
alter table fund_income_lines drop constraint fund_income_lines_product_code_day_fkey;
-- A day caught in the middle of its distribution becomes one page, paid again whole: the lines
-- already paid are answered exists by the ledger.
insert into fund_income_pages (product_code, day, first_account, lines, paid)
select d.product_code, d.day, '00000000-0000-0000-0000-000000000000'::uuid, count(*), d.status = 'DONE'
  from fund_income_days d join fund_income_lines l on l.product_code = d.product_code and l.day = d.day
 where d.status <> 'DECLARED' group by d.product_code, d.day, d.status;
alter table fund_income_lines drop column paid;
`,
  },
  {
    id: '20261204-63-fund-refill-rate',
    sql: `
-- The fund company's refill rate of its liquidity pool, fen per hour (null: the platform default),
-- which \`paybao fund stress\` uses to tell how long the pool takes to refill.
alter table fund_companies add column refill_fen_per_hour bigint check (refill_fen_per_hour > 0);
`,
  },
  {
    id: '20261204-64-fund-auto-transfer',
    sql: `
-- A user's evening auto-transfer: the wallet balance above keep_fen goes into product_code.
create table fund_auto_transfers (
  user_id text primary key,
  product_code text not null references fund_products,
  keep_fen bigint not null check (keep_fen >= 0)
);
`,
  },
  {
    id: '20261207-65-fund-card-purchase-refund-orders',
    sql: `
-- A purchase paid from a bound bank card: the card, and the channel order (a quick-pay
-- withholding) that brought its money into the wallet first; both null for the balance.
alter table fund_orders add column card_id text, add column card_order_no text,
  add constraint fund_orders_card check ((card_id is null) = (card_order_no is null));
-- The shares a refund gives back to Yu'e Bao: an order row whose id is the share transfer's, so
-- that it counts once that transfer exists (the buyer's order list; the distribution's day).
alter table fund_orders drop constraint fund_orders_kind_check;
alter table fund_orders add constraint fund_orders_kind_check
  check (kind in ('PURCHASE', 'STANDARD', 'FAST', 'PAYMENT', 'REFUND'));
`,
  },
];
