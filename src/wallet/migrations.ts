import type { Migration } from '../core/db/index.ts';

/** The wallet's tables: native API sessions and user-to-user transfer requests. */
export const walletMigrations: Migration[] = [
  {
    id: '20261127-01-wallet',
    sql: `
-- Native API sessions. Only the SHA-256 of a bearer token is kept, so a leaked table logs no
-- one in. Times are nanoseconds from the injected clock. Logging out sets revoked_at_ns.
create table wallet_sessions (
  token_hash text primary key,
  user_id text not null,
  created_at_ns bigint not null,
  expires_at_ns bigint not null,
  revoked_at_ns bigint
);
create index wallet_sessions_user on wallet_sessions (user_id, created_at_ns desc) where revoked_at_ns is null;

-- One row per (payer, Idempotency-Key): the request's fingerprint, the ledger transfer it moves
-- (its id derived from payer and key), and, once known, the outcome every replay answers.
-- 'processing' rows are held by one request until lease_until_ns; money is only in the ledger.
create table wallet_transfers (
  user_id text not null,
  idempotency_key text not null,
  request_hash text not null,
  transfer_id uuid not null unique,
  to_user_id text not null,
  amount_fen bigint not null check (amount_fen > 0),
  memo text not null,
  status text not null check (status in ('processing', 'succeeded', 'failed')),
  error_code text,
  lease_until_ns bigint not null,
  created_at_ns bigint not null,
  completed_at_ns bigint,
  primary key (user_id, idempotency_key),
  check ((status = 'failed') = (error_code is not null))
);
`,
  },
  {
    id: '20261207-75-wallet-transfer-fund-source',
    sql: `
-- A transfer paid from Yu'e Bao: the fund product whose shares paid it (null: from the balance).
alter table wallet_transfers add column fund_source text;
`,
  },
  {
    id: '20261207-81-wallet-transfer-review',
    sql: `
-- A transfer the risk engine sent to review: its money is held (a pending ledger transfer) until an
-- operator approves (posted) or rejects it (voided, failed with risk_rejected).
alter table wallet_transfers add column review_id uuid;
alter table wallet_transfers drop constraint wallet_transfers_status_check;
alter table wallet_transfers add constraint wallet_transfers_status_check
  check (status in ('processing', 'held', 'succeeded', 'failed'));
alter table wallet_transfers add constraint wallet_transfers_held_reviewed check (status <> 'held' or review_id is not null);
`,
  },
];
