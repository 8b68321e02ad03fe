-- The operations console (issue 17 §2): operators' roles, a password and browser sessions for
-- each, the audit log of every operator action, and account freezes.

-- What an operator may do. An operator made before roles existed keeps every right it had.
create table operator_roles (
  operator_id text not null references operators (operator_id),
  role text not null check (role in ('dispute_reviewer', 'finance', 'risk', 'administrator')),
  primary key (operator_id, role)
);
insert into operator_roles (operator_id, role) select operator_id, 'administrator' from operators;

-- A browser logs in by name and password (scrypt); scripts keep their bearer tokens.
alter table operators add column password_hash text;
create unique index operators_login_name on operators (name) where password_hash is not null;

-- Browser sessions: the SHA-256 of the token only.
create table operator_sessions (
  token_sha256 text primary key,
  operator_id text not null references operators (operator_id),
  created_at timestamptz not null,
  expires_at timestamptz not null
);
create index operator_sessions_operator on operator_sessions (operator_id);

-- Every operator action that changed something: who, what, on what, why, when. Never updated.
create table operator_audit (
  id bigint generated always as identity primary key,
  operator_id text not null,
  operator_name text not null,
  action text not null,
  target text not null,
  reason text,
  detail text,
  at timestamptz not null
);
create index operator_audit_at on operator_audit (at desc, id desc);
create index operator_audit_operator on operator_audit (operator_id, at desc);

-- A frozen member may log in and receive money, but pays, transfers and withdraws nothing.
create table members_freezes (
  user_id text primary key references members (user_id),
  reason text not null,
  frozen_by text not null,
  frozen_at timestamptz not null
);
