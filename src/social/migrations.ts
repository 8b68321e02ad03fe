import type { Migration } from '../core/db/index.ts';

/**
 * The social module's tables: profiles, friend requests, friendships (one row per direction),
 * blocks, groups. No money here: transfers to friends are the wallet's, under this module's rules.
 */
export const socialMigrations: Migration[] = [
  {
    id: '20261207-71-social',
    sql: `
create table social_profiles (
  user_id text primary key,
  nickname text,
  discoverable boolean not null default true,
  show_score_band boolean not null default false,
  updated_at timestamptz not null
);
create table social_friend_requests (
  request_id uuid primary key,
  from_user_id text not null,
  to_user_id text not null,
  message text not null,
  status text not null check (status in ('PENDING', 'ACCEPTED', 'DECLINED', 'CANCELLED')),
  created_at timestamptz not null,
  decided_at timestamptz,
  check (from_user_id <> to_user_id),
  check ((status = 'PENDING') = (decided_at is null))
);
-- At most one open request from one user to another.
create unique index social_friend_requests_open on social_friend_requests (from_user_id, to_user_id) where status = 'PENDING';
create index social_friend_requests_to on social_friend_requests (to_user_id, created_at desc) where status = 'PENDING';
create table social_friends (
  user_id text not null,
  friend_id text not null,
  since timestamptz not null,
  primary key (user_id, friend_id),
  check (user_id <> friend_id)
);
create table social_blocks (
  user_id text not null,
  blocked_id text not null,
  created_at timestamptz not null,
  primary key (user_id, blocked_id),
  check (user_id <> blocked_id)
);
create table social_groups (
  group_id uuid primary key,
  owner_id text not null,
  name text not null,
  created_at timestamptz not null
);
create table social_group_members (
  group_id uuid not null references social_groups on delete cascade,
  user_id text not null,
  joined_at timestamptz not null,
  primary key (group_id, user_id)
);
create index social_group_members_user on social_group_members (user_id);
`,
  },
  {
    id: '20261207-72-social-red-packets',
    sql: `
-- A red packet: its money sits in its own ledger account (code 50) from the send until grabbed
-- or refunded. remaining_fen and remaining_shares are what is left to draw; every draw is a grab
-- row, written under the packet row's lock, and paid by a ledger transfer (paid_at once it is).
create table social_red_packets (
  packet_id uuid primary key,
  sender_id text not null,
  idempotency_key text not null,
  request_hash text not null,
  kind text not null check (kind in ('SINGLE', 'EQUAL', 'LUCKY')),
  target_kind text not null check (target_kind in ('USER', 'GROUP')),
  target_id text not null,
  amount_fen bigint not null check (amount_fen > 0),
  shares int not null check (shares > 0),
  greeting text not null,
  account_id uuid not null unique,
  remaining_fen bigint not null check (remaining_fen >= 0),
  remaining_shares int not null check (remaining_shares >= 0),
  status text not null check (status in ('FUNDING', 'FAILED', 'OPEN', 'FINISHED', 'EXPIRED')),
  error_code text,
  refunded_fen bigint,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  closed_at timestamptz,
  unique (sender_id, idempotency_key),
  check ((status = 'FAILED') = (error_code is not null)),
  check ((status = 'EXPIRED') = (refunded_fen is not null)),
  check (remaining_shares > 0 or remaining_fen = 0)
);
create index social_red_packets_due on social_red_packets (expires_at) where status in ('FUNDING', 'OPEN', 'FINISHED');
create index social_red_packets_sender on social_red_packets (sender_id, created_at desc);
create table social_red_packet_grabs (
  packet_id uuid not null references social_red_packets,
  user_id text not null,
  seq int not null check (seq > 0),
  amount_fen bigint not null check (amount_fen > 0),
  -- The draw's bounds (both included), kept with it: the rule can be checked afterwards.
  low_fen bigint not null,
  high_fen bigint not null,
  grabbed_at timestamptz not null,
  paid_at timestamptz,
  primary key (packet_id, user_id),
  unique (packet_id, seq),
  check (low_fen <= amount_fen and amount_fen <= high_fen)
);
create index social_red_packet_grabs_user on social_red_packet_grabs (user_id, grabbed_at desc);
create index social_red_packet_grabs_unpaid on social_red_packet_grabs (grabbed_at) where paid_at is null;
`,
  },
  {
    id: '20261207-73-social-red-packet-campaigns',
    sql: `
-- A campaign packet (a merchant's "red packet rain"): anyone may grab one share.
alter table social_red_packets drop constraint social_red_packets_target_kind_check;
alter table social_red_packets add constraint social_red_packets_target_kind_check
  check (target_kind in ('USER', 'GROUP', 'CAMPAIGN'));
`,
  },
  {
    id: '20261207-74-social-collections-notices',
    sql: `
-- A collection request (AA, 群收款): a group member asks the others for a share each; each pays
-- from the wallet to the requester (one ledger transfer, id derived from the request and the payer).
create table social_collections (
  collection_id uuid primary key,
  requester_id text not null,
  idempotency_key text not null,
  request_hash text not null,
  group_id uuid not null,
  title text not null,
  status text not null check (status in ('OPEN', 'CLOSED')),
  created_at timestamptz not null,
  closes_at timestamptz not null,
  reminded_at timestamptz,
  closed_at timestamptz,
  unique (requester_id, idempotency_key),
  check ((status = 'CLOSED') = (closed_at is not null))
);
create index social_collections_due on social_collections (closes_at) where status = 'OPEN';
create table social_collection_shares (
  collection_id uuid not null references social_collections,
  user_id text not null,
  amount_fen bigint not null check (amount_fen > 0),
  paid_at timestamptz,
  primary key (collection_id, user_id)
);
create index social_collection_shares_user on social_collection_shares (user_id);
-- What a user is told: a red packet's refund, a collection's reminder or payment.
create table social_notices (
  notice_id uuid primary key,
  user_id text not null,
  kind text not null,
  message text not null,
  ref text not null,
  created_at timestamptz not null,
  unique (user_id, kind, ref)
);
create index social_notices_user on social_notices (user_id, created_at desc);
`,
  },
];
