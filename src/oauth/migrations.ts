import type { Migration } from '../core/db/index.ts';

/**
 * The user authorisation module's tables (docs/oauth.md). Times are nanoseconds since the epoch
 * from the injected clock. No code or token is stored: only its SHA-256 (hex), so that a copy of
 * the database grants nothing; they are 128 random bits each, so no salt or slow hash is needed.
 */
export const oauthMigrations: Migration[] = [
  {
    id: '20261208-11-oauth',
    sql: `
-- The app-scoped id of a user (Alipay's open_id): drawn at random the first time the pair meets
-- and the same ever after, so apps cannot correlate users by it or guess another's.
create table oauth_open_ids (
  app_id text not null,
  user_id text not null,
  open_id text not null unique,
  created_at_ns bigint not null,
  primary key (app_id, user_id)
);
-- What a user allowed an app: one row per pair, the scopes allowed since the last revocation.
-- Revoking kills every token of the pair in the same transaction.
create table oauth_grants (
  grant_id uuid primary key,
  app_id text not null,
  user_id text not null,
  scopes text not null check (scopes in ('auth_base', 'auth_user', 'auth_base,auth_user')),
  status text not null check (status in ('active', 'revoked')),
  authorized_at_ns bigint not null,
  revoked_at_ns bigint,
  unique (app_id, user_id),
  check ((status = 'revoked') = (revoked_at_ns is not null))
);
create index oauth_grants_user on oauth_grants (user_id, authorized_at_ns desc);
-- Authorisation codes: single use, short-lived, bound to the app that asked.
create table oauth_codes (
  code_sha256 text primary key,
  grant_id uuid not null references oauth_grants (grant_id),
  app_id text not null,
  scopes text not null,
  created_at_ns bigint not null,
  expires_at_ns bigint not null,
  used_at_ns bigint
);
create index oauth_codes_expires on oauth_codes (expires_at_ns);
-- Token pairs: an access token and its refresh token, from one code or one refresh. A refresh
-- revokes the pair it used; a code presented twice revokes the pairs it issued.
create table oauth_tokens (
  token_id uuid primary key,
  grant_id uuid not null references oauth_grants (grant_id),
  app_id text not null,
  code_sha256 text not null,
  scopes text not null,
  access_sha256 text not null unique,
  refresh_sha256 text not null unique,
  auth_start_ns bigint not null,
  created_at_ns bigint not null,
  access_expires_at_ns bigint not null,
  refresh_expires_at_ns bigint not null,
  revoked_at_ns bigint,
  revoked_reason text check (revoked_reason in ('refreshed', 'revoked', 'code_replayed')),
  check ((revoked_at_ns is null) = (revoked_reason is null))
);
create index oauth_tokens_live on oauth_tokens (grant_id) where revoked_at_ns is null;
create index oauth_tokens_code on oauth_tokens (code_sha256);
create index oauth_tokens_refresh_expires on oauth_tokens (refresh_expires_at_ns);
`,
  },
  {
    id: '20261208-29-oauth-zhima',
    sql: `
-- The credit score's scope (zhima.credit.score.get): grants hold any set of the three scopes, in
-- their one stored order (scopes.ts).
alter table oauth_grants drop constraint oauth_grants_scopes_check;
alter table oauth_grants add constraint oauth_grants_scopes_check check (
  scopes in ('auth_base', 'auth_user', 'auth_zhima', 'auth_base,auth_user', 'auth_base,auth_zhima',
             'auth_user,auth_zhima', 'auth_base,auth_user,auth_zhima')
);
`,
  },
];
