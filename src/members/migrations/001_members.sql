-- The members module's tables. Times are nanoseconds since the epoch from the injected clock, so
-- that tests can move them; money lives in the ledger, never here (the opening balance is the
-- amount of a ledger transfer, kept so that the transfer can be submitted again after a crash).

-- Users (people with a phone and a password) and merchants (who own apps), one id space.
create table members (
  user_id text primary key check (user_id ~ '^2088[0-9]{12}$'),
  kind text not null check (kind in ('user', 'merchant')),
  phone text unique,
  password_hash text,
  name text,
  wallet_account_id uuid not null unique,
  opening_balance bigint not null default 0 check (opening_balance >= 0),
  opening_transfer_id uuid unique,
  created_at_ns bigint not null,
  check (kind <> 'user' or (phone is not null and password_hash is not null)),
  check (kind <> 'merchant' or name is not null),
  check ((opening_balance = 0) = (opening_transfer_id is null))
);

-- Ledger accounts the platform itself holds, by name; created once, whoever gets there first.
create table platform_accounts (
  name text primary key,
  account_id uuid not null unique,
  ledger int not null,
  code int not null
);

-- SMS login codes. Only a hash of the code is kept; the newest open code of a phone is the one
-- that counts, older ones are superseded when a new one is sent.
create table members_sms_codes (
  id uuid primary key,
  phone text not null,
  code_hash text not null,
  status text not null check (status in ('open', 'used', 'superseded', 'revoked')),
  attempts int not null default 0,
  created_at_ns bigint not null,
  expires_at_ns bigint not null
);
create index members_sms_codes_phone on members_sms_codes (phone, created_at_ns desc);

-- What the development SMS sender "sent": the outbox that `paybao sms list` prints.
create table members_sms_outbox (
  id uuid primary key,
  phone text not null,
  text text not null,
  created_at_ns bigint not null
);
create index members_sms_outbox_created on members_sms_outbox (created_at_ns desc);

-- Payment codes a user shows at a till: single use, short-lived.
create table members_payment_codes (
  code text primary key check (code ~ '^28[0-9]{16}$'),
  user_id text not null references members (user_id),
  created_at_ns bigint not null,
  expires_at_ns bigint not null,
  redeemed_at_ns bigint
);

-- Merchant apps: the merchant's RSA public key (SPKI PEM) verifies the app's requests.
create table members_apps (
  app_id text primary key check (app_id ~ '^2021[0-9]{12}$'),
  seller_id text not null references members (user_id),
  name text not null,
  merchant_public_key_pem text not null,
  notify_url text,
  created_at_ns bigint not null
);
create index members_apps_seller on members_apps (seller_id);

-- The platform's RSA key pairs: one active (signs responses and notifications), older ones
-- retired but listed, so that signatures made before a rotation can still be checked. The private
-- key is stored as PKCS#8 PEM in the clear: production should wrap it with a KMS (see
-- ARCHITECTURE.md).
create table members_platform_keys (
  id uuid primary key,
  public_key_pem text not null,
  private_key_pem text not null,
  status text not null check (status in ('active', 'retired')),
  created_at_ns bigint not null,
  retired_at_ns bigint
);
create unique index members_platform_keys_one_active on members_platform_keys ((true)) where status = 'active';
