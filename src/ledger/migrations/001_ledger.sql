-- The ledger's tables. Nothing here is ever deleted; transfers are never updated. Accounts change
-- only their four balances and the closed flag; pending states only their status.

-- One row: the commit lock every batch takes first (so batches apply in one serial order across
-- processes), the source of strictly increasing timestamps, and the version token of the books:
-- every batch writes a fresh random one, so a process whose batch wrote the current token knows
-- that its account cache is exactly what is stored.
create table ledger_state (
  id int primary key check (id = 1),
  last_timestamp bigint not null,
  version bigint not null
);
insert into ledger_state (id, last_timestamp, version) values (1, 0, 0);

create table ledger_accounts (
  id uuid primary key,
  ledger int not null,
  code int not null,
  flags int not null,
  debits_pending bigint not null default 0,
  debits_posted bigint not null default 0,
  credits_pending bigint not null default 0,
  credits_posted bigint not null default 0,
  user_data_128 uuid not null,
  user_data_64 bigint not null,
  user_data_32 bigint not null,
  timestamp bigint not null,
  -- The engine checks these in memory; the database checks them again on every write.
  constraint ledger_accounts_balances_not_negative
    check (debits_pending >= 0 and debits_posted >= 0 and credits_pending >= 0 and credits_posted >= 0),
  constraint ledger_accounts_debits_within_credits
    check (flags & 2 = 0 or debits_pending + debits_posted <= credits_posted),
  constraint ledger_accounts_credits_within_debits
    check (flags & 4 = 0 or credits_pending + credits_posted <= debits_posted)
) with (fillfactor = 50);

create table ledger_transfers (
  id uuid primary key,
  debit_account_id uuid not null,
  credit_account_id uuid not null,
  amount bigint not null check (amount >= 0),
  pending_id uuid not null,
  user_data_128 uuid not null,
  user_data_64 bigint not null,
  user_data_32 bigint not null,
  timeout bigint not null,
  ledger int not null,
  code int not null,
  flags int not null,
  timestamp bigint not null
);
create index ledger_transfers_debit on ledger_transfers (debit_account_id, timestamp);
create index ledger_transfers_credit on ledger_transfers (credit_account_id, timestamp);

-- The state of each pending transfer: 1 pending, 2 posted, 3 voided, 4 expired.
create table ledger_pending (
  id uuid primary key,
  status smallint not null check (status between 1 and 4),
  expires_at bigint not null
);
create index ledger_pending_due on ledger_pending (expires_at) where status = 1 and expires_at > 0;

-- Balances after each transfer, for accounts flagged `history`.
create table ledger_account_balances (
  account_id uuid not null,
  timestamp bigint not null,
  debits_pending bigint not null,
  debits_posted bigint not null,
  credits_pending bigint not null,
  credits_posted bigint not null,
  primary key (account_id, timestamp)
);
