import type { Migration } from '../core/db/index.ts';

/**
 * The court list's tables (docs/court-list.md). No identity number is stored: a person is their
 * keyed hash (src/credit/id-number.ts), the same the real-name verification keeps, so that a user
 * matches an entry through their verified real name. Entries are never deleted: a removal (the
 * debt met, a court's file without the line) marks the entry with when, why and by whom, and
 * every change is one row of `court_list_changes`.
 */
export const courtListMigrations: Migration[] = [
  {
    id: '20261208-50-court-list',
    sql: `
create table court_list_entries (
  entry_id text primary key,
  id_sha256 text not null check (id_sha256 ~ '^[0-9a-f]{64}$'),
  case_number text not null,
  name text not null,
  court text not null,
  -- Beijing days, YYYY-MM-DD: listed from listing_date, lapsed from expiry_date on.
  listing_date text not null check (listing_date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
  grounds text not null,
  expiry_date text not null check (expiry_date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' and expiry_date > listing_date),
  -- 'import' (paybao blacklist import) or 'console' (an operator's single entry).
  source text not null check (source in ('import', 'console')),
  created_at timestamptz not null,
  created_by text not null,
  updated_at timestamptz not null,
  removed_at timestamptz,
  removed_reason text,
  removed_by text,
  check ((removed_at is null) = (removed_reason is null) and (removed_at is null) = (removed_by is null))
);
-- One entry in force per person and case; removed ones stay beside it.
create unique index court_list_entries_current on court_list_entries (id_sha256, case_number) where removed_at is null;
create index court_list_entries_person on court_list_entries (id_sha256);
create index court_list_entries_created on court_list_entries (created_at desc, entry_id desc);
-- Every change: added, updated (the values before in 'before'), removed, with who and why.
create table court_list_changes (
  change_id bigserial primary key,
  entry_id text not null references court_list_entries (entry_id),
  action text not null check (action in ('added', 'updated', 'removed')),
  at timestamptz not null,
  actor text not null,
  reason text,
  before jsonb
);
create index court_list_changes_entry on court_list_changes (entry_id, change_id);
-- Each import that ran (a dry run writes nothing): the file's digest and what it changed.
create table court_list_imports (
  import_id text primary key,
  file_sha256 text not null,
  file_name text not null,
  at timestamptz not null,
  actor text not null,
  lines bigint not null,
  added bigint not null,
  updated bigint not null,
  removed bigint not null,
  unchanged bigint not null
);
create index court_list_imports_file on court_list_imports (file_sha256, at desc);
-- The merchant categories (the risk engine's codes, risk_merchant_categories) a listed person
-- may not pay: air tickets, first-class rail and luxury travel by default.
create table court_list_restricted_categories (
  category text primary key check (category ~ '^[A-Za-z0-9_-]{1,32}$'),
  set_at timestamptz not null,
  set_by text not null
);
insert into court_list_restricted_categories (category, set_at, set_by) values
  ('air_tickets', now(), 'platform'),
  ('rail_first_class', now(), 'platform'),
  ('luxury_travel', now(), 'platform');
`,
  },
];
