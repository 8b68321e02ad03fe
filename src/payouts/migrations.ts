import type { Migration } from '../core/db/index.ts';

/** The payouts' table: one row per (app, out_biz_no), written before the ledger moves money. */
export const payoutsMigrations: Migration[] = [
  {
    id: '20261127-11-payouts',
    sql: `
create table payouts (
  order_id text primary key,
  pay_fund_order_id text not null unique,
  app_id text not null,
  out_biz_no text not null,
  amount_fen bigint not null check (amount_fen > 0),
  payer_id text not null,
  payer_account uuid not null,
  payee_id text not null,
  payee_account uuid not null,
  -- What the merchant sent, kept to tell a retry (same) from a reuse (different) of out_biz_no.
  payee_identity text not null,
  payee_identity_type text not null,
  order_title text,
  remark text,
  -- PROCESSING until the ledger answers, then SUCCESS or FAIL (error_code says why). A FAIL
  -- may be retried with the same out_biz_no; the ledger transfer id never changes.
  status text not null,
  error_code text,
  created_at timestamptz not null,
  paid_at timestamptz,
  unique (app_id, out_biz_no)
);
create index payouts_processing on payouts (created_at) where status = 'PROCESSING';
`,
  },
];
