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
];
