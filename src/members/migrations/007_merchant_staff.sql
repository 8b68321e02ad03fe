-- The merchant portal's logins (merchant-staff.ts): people who work for a merchant, each with a
-- phone, a password and a role. A login takes the password and then a code texted to the phone.
-- Times are nanoseconds from the injected clock, as in the rest of the module.

-- A merchant's staff. A phone logs into one merchant at most; `owner` may add the others.
create table merchant_staff (
  staff_id uuid primary key,
  merchant_id text not null references members (user_id),
  phone text not null unique,
  password_hash text not null,
  name text not null,
  role text not null check (role in ('owner', 'finance', 'support')),
  created_by uuid references merchant_staff (staff_id),
  created_at_ns bigint not null
);
create index merchant_staff_merchant on merchant_staff (merchant_id, created_at_ns);

-- The texted login codes: only a hash is kept, the newest open code of a member of staff counts.
create table merchant_staff_codes (
  id uuid primary key,
  staff_id uuid not null references merchant_staff (staff_id),
  code_hash text not null,
  status text not null check (status in ('open', 'used', 'superseded', 'revoked')),
  attempts int not null default 0,
  created_at_ns bigint not null,
  expires_at_ns bigint not null
);
create index merchant_staff_codes_staff on merchant_staff_codes (staff_id, created_at_ns desc);

-- Bearer sessions of the portal (`pbm_` tokens), stored as SHA-256 only.
create table merchant_staff_sessions (
  token_hash text primary key,
  staff_id uuid not null references merchant_staff (staff_id),
  created_at_ns bigint not null,
  expires_at_ns bigint not null,
  revoked_at_ns bigint
);
create index merchant_staff_sessions_staff on merchant_staff_sessions (staff_id, created_at_ns desc);
