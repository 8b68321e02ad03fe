-- The database's own floor for a fund distribution to 1,000,000 holders (BENCHMARKS.md, bench fund):
-- the rows the engine writes, written by PostgreSQL alone. Run: psql -h 127.0.0.1 -U postgres -d test -f docs/fund-floor.sql
-- (it creates and leaves a schema "floor"; drop it afterwards). The last timing is the floor.
\timing on
drop schema if exists floor cascade; create schema floor; set search_path = floor;
create table ledger_accounts (id uuid primary key, ledger int not null, code int not null, flags int not null,
 debits_pending bigint not null default 0, debits_posted bigint not null default 0, credits_pending bigint not null default 0, credits_posted bigint not null default 0,
 user_data_128 uuid not null, user_data_64 bigint not null, user_data_32 bigint not null, timestamp bigint not null,
 check (debits_pending >= 0 and debits_posted >= 0 and credits_pending >= 0 and credits_posted >= 0),
 check (flags & 2 = 0 or debits_pending + debits_posted <= credits_posted), check (flags & 4 = 0 or credits_pending + credits_posted <= debits_posted)) with (fillfactor = 50);
create table ledger_transfers (id uuid primary key, debit_account_id uuid not null, credit_account_id uuid not null, amount bigint not null check (amount >= 0),
 pending_id uuid not null, user_data_128 uuid not null, user_data_64 bigint not null, user_data_32 bigint not null, timeout bigint not null,
 ledger int not null, code int not null, flags int not null, timestamp bigint not null);
create index ledger_transfers_debit on ledger_transfers (debit_account_id, timestamp);
create index ledger_transfers_credit on ledger_transfers (credit_account_id, timestamp);
insert into ledger_accounts select md5('a'||g)::uuid, 1, 1, 2, 0, 0, 0, 1000, '00000000-0000-0000-0000-000000000000', 0, 0, g from generate_series(1,1000000) g;
insert into ledger_transfers select md5('p'||g)::uuid, '00000000-0000-0000-0000-000000000001', md5('a'||g)::uuid, 1000, '00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000', 0,0,0,1,1,0, g from generate_series(1,1000000) g;
vacuum analyze; checkpoint;
-- the distribution's rows, 1,000,000 in pages of 512 (account order), each its own transaction
do $$ declare i int; begin
  for i in 0..1952 loop
    insert into ledger_transfers select md5('i'||g)::uuid, '00000000-0000-0000-0000-000000000002', md5('a'||g)::uuid, 7, '00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000', 0,0,0,1,1,0, 2000000+g from generate_series(i*512+1, least(i*512+512, 1000000)) g;
    update ledger_accounts a set credits_posted = a.credits_posted + 7 where a.id in (select md5('a'||g)::uuid from generate_series(i*512+1, least(i*512+512, 1000000)) g);
    commit;
  end loop; end $$;
