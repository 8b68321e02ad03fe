import type { Migration } from '../core/db/index.ts';

/**
 * The credit module's tables (docs/credit.md). Scores are computed from other modules' tables,
 * read only (trades, disputes, members, the ledger's accounts, the fund's holders, friends): the
 * indexes below are the ones that reading needs and the owners did not (a buyer's trades, a
 * user's disputes and fund holdings), created here so that the owners' schemas stay theirs.
 */
export const creditMigrations: Migration[] = [
  {
    id: '20261208-30-credit',
    sql: `
-- Real-name verification: one identity per account and one account per identity. The identity
-- number is kept only as its keyed hash (src/credit/id-number.ts: HMAC-SHA256 under
-- PAYBAO_ID_HASH_KEY of 'paybao-id-v1:' + the 18 characters), which the court list matches.
create table credit_real_names (
  user_id text primary key,
  real_name text not null,
  id_sha256 text not null unique check (id_sha256 ~ '^[0-9a-f]{64}$'),
  verified_at timestamptz not null
);
-- The score of each user on each Beijing day the batch ran (null: N/A), with its reason codes
-- (comma-separated, the largest gain first), and the user's balance that day (wallet and Yu'e
-- Bao, fen): the average balance of the ability-to-pay dimension is over these and today's.
create table credit_score_history (
  user_id text not null,
  day text not null check (day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
  score int check (score between 350 and 950),
  band text,
  reasons text not null,
  balance_fen bigint not null,
  primary key (user_id, day),
  check ((score is null) = (band is null))
);
create index credit_score_history_day on credit_score_history (day, user_id);
-- One nightly run per Beijing day, resumable: the last user id whose chunk committed.
create table credit_runs (
  day text primary key check (day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
  started_at timestamptz not null,
  last_user_id text,
  users_done bigint not null default 0,
  finished_at timestamptz
);
-- zhima.credit.score.get: the answer to an app's transaction_id, given again for 24 hours.
create table credit_transactions (
  app_id text not null,
  transaction_id text not null,
  user_id text not null,
  biz_no text not null,
  zm_score text not null,
  created_at timestamptz not null,
  primary key (app_id, transaction_id)
);
create index credit_transactions_created on credit_transactions (created_at);
-- What the features statement reads by user (see above).
create index credit_trades_buyer on trades (buyer_id, paid_at) where buyer_id is not null;
create index credit_disputes_buyer on disputes (buyer_id);
create index credit_disputes_seller on disputes (seller_id);
create index credit_fund_holders_user on fund_holders (user_id);
`,
  },
  {
    id: '20261208-31-credit-disputes-lost',
    sql: `
-- The features statement asks of each escrow trade whether its buyer lost a dispute over it: by
-- trade, only the disputes ruled for the seller (without it, a scan of all disputes per trade).
create index credit_disputes_ruled_for_seller on disputes (trade_no) where status = 'RULED_FOR_SELLER';
`,
  },
];
