import type { Migration } from '../core/db/index.ts';

/**
 * The risk engine's tables: rules and lists an operator changes at run time (`risk_config.version`
 * tells every process to reload), the velocity counters all processes share, what the engine
 * learned (payees paid, usual regions), decisions with the rules that fired, confirmations sent to
 * payers, and the review queue. No money here: a held payment is its path's pending transfer.
 */
export const riskMigrations: Migration[] = [
  {
    id: '20261207-80-risk',
    sql: `
create table risk_config (
  singleton boolean primary key default true check (singleton),
  version bigint not null
);
insert into risk_config (singleton, version) values (true, 1);
create table risk_rules (
  rule_id serial primary key,
  name text not null unique,
  condition jsonb not null,
  paths text[] not null,
  action text not null check (action in ('challenge', 'review', 'deny')),
  mode text not null check (mode in ('enforce', 'shadow')),
  enabled boolean not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  updated_by text not null
);
create table risk_lists (
  list text not null check (list in ('user', 'card', 'device', 'address')),
  value text not null,
  reason text not null,
  created_at timestamptz not null,
  created_by text not null,
  primary key (list, value)
);
create table risk_regions (
  network cidr primary key,
  region text not null
);
create table risk_merchant_categories (
  merchant_id text primary key,
  category text not null
);
create table risk_counters (
  key text not null,
  bucket bigint not null,
  count bigint not null,
  amount_fen bigint not null,
  primary key (key, bucket)
);
create table risk_payees (
  payer_id text not null,
  payee_id text not null,
  first_at timestamptz not null,
  primary key (payer_id, payee_id)
);
create table risk_profiles (
  user_id text primary key,
  usual_region text not null,
  since timestamptz not null
);
create table risk_decisions (
  decision_id uuid primary key,
  at timestamptz not null,
  path text not null,
  user_id text not null,
  payee_id text,
  amount_fen bigint not null check (amount_fen >= 0),
  decision text not null check (decision in ('allow', 'challenge', 'review', 'deny')),
  fired jsonb not null,
  context jsonb not null,
  ref text
);
create index risk_decisions_at on risk_decisions (at desc);
create index risk_decisions_user on risk_decisions (user_id, at desc);
create table risk_challenges (
  challenge_id uuid primary key,
  decision_id uuid not null references risk_decisions,
  user_id text not null,
  path text not null,
  amount_fen bigint not null,
  fingerprint text not null,
  ref text,
  code_hash text not null,
  attempts integer not null default 0,
  status text not null check (status in ('OPEN', 'USED', 'FAILED')),
  created_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz
);
create index risk_challenges_user on risk_challenges (user_id, created_at desc);
create table risk_reviews (
  review_id uuid primary key references risk_decisions (decision_id),
  path text not null,
  ref text not null,
  user_id text not null,
  amount_fen bigint not null,
  status text not null check (status in ('PENDING', 'APPROVED', 'REJECTED')),
  created_at timestamptz not null,
  decided_at timestamptz,
  decided_by text,
  note text,
  applied_at timestamptz,
  unique (path, ref),
  check ((status = 'PENDING') = (decided_at is null)),
  check (applied_at is null or status <> 'PENDING')
);
create index risk_reviews_pending on risk_reviews (created_at) where status = 'PENDING';
create index risk_reviews_unapplied on risk_reviews (decided_at) where status <> 'PENDING' and applied_at is null;
`,
  },
  {
    id: '20261207-83-risk-losses',
    sql: `
-- Fraud losses: a payment found fraudulent whose victim the platform made whole, once per key; the
-- money is the ledger's transfer (fraud losses → the victim's wallet), counted by the loss rate.
create table risk_losses (
  loss_key text primary key,
  user_id text not null,
  amount_fen bigint not null check (amount_fen > 0),
  reason text not null,
  decision_id uuid references risk_decisions,
  recorded_at timestamptz not null,
  recorded_by text not null
);
`,
  },
  {
    id: '20261207-84-risk-counter-mirror',
    sql: `
-- Each process mirrors the counters: it reads all of the longest window when it starts (by
-- bucket), then on each sync what any process wrote since (each flush marks its rows with its clock).
alter table risk_counters add column written_at_ms bigint not null default 0;
create index risk_counters_bucket on risk_counters (bucket);
create index risk_counters_written on risk_counters (written_at_ms);
-- The same for the pairs of payer and payee each process keeps in a Bloom filter.
create index risk_payees_first_at on risk_payees (first_at);
`,
  },
];
