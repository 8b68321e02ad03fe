-- Console operators (they rule on disputes): a name and the SHA-256 of a bearer token.
create table operators (
  operator_id text primary key,
  name text not null,
  token_sha256 text not null unique,
  created_at timestamptz not null
);
