/**
 * The members' tables (migrations/*.sql) as Kysely sees them, for `typed<MemberTables>(q)`.
 * Column types are what our drivers answer: int8 → bigint, timestamptz → Date, uuid → text.
 * Columns with a default are `Generated` (optional on insert).
 */
import type { Generated, Selectable } from 'kysely';

export interface MemberTables {
  members: {
    user_id: string;
    kind: 'user' | 'merchant';
    phone: string | null;
    password_hash: string | null;
    name: string | null;
    wallet_account_id: string;
    opening_balance: Generated<bigint>;
    opening_transfer_id: string | null;
    created_at_ns: bigint;
    /** SHA-256 (hex) of the phone, computed by the database (contact matching). */
    phone_sha256: Generated<string | null>;
  };
  platform_accounts: {
    name: string;
    account_id: string;
    ledger: number;
    code: number;
  };
  members_sms_codes: {
    id: string;
    phone: string;
    code_hash: string;
    status: 'open' | 'used' | 'superseded' | 'revoked';
    attempts: Generated<number>;
    created_at_ns: bigint;
    expires_at_ns: bigint;
  };
  members_sms_outbox: {
    id: string;
    phone: string;
    text: string;
    created_at_ns: bigint;
  };
  members_payment_codes: {
    code: string;
    user_id: string;
    created_at_ns: bigint;
    expires_at_ns: bigint;
    redeemed_at_ns: bigint | null;
    redeemed_for: string | null;
  };
  members_apps: {
    app_id: string;
    seller_id: string;
    name: string;
    merchant_public_key_pem: string;
    notify_url: string | null;
    created_at_ns: bigint;
    /** The authorisation callback address (`migrations/006_auth_redirect.sql`). */
    auth_redirect_url: Generated<string | null>;
  };
  members_platform_keys: {
    id: string;
    public_key_pem: string;
    private_key_pem: string;
    status: 'active' | 'retired';
    created_at_ns: bigint;
    retired_at_ns: bigint | null;
  };
  operators: {
    operator_id: string;
    name: string;
    token_sha256: string;
    created_at: Date;
    /** scrypt, for a browser login; null: the operator has only its script token (`008_operator_roles.sql`). */
    password_hash: Generated<string | null>;
  };
  operator_roles: {
    operator_id: string;
    role: 'dispute_reviewer' | 'finance' | 'risk' | 'administrator';
  };
  operator_sessions: {
    token_sha256: string;
    operator_id: string;
    created_at: Date;
    expires_at: Date;
  };
  operator_audit: {
    id: Generated<bigint>;
    operator_id: string;
    operator_name: string;
    action: string;
    target: string;
    reason: string | null;
    detail: string | null;
    at: Date;
  };
  members_freezes: {
    user_id: string;
    reason: string;
    frozen_by: string;
    frozen_at: Date;
  };
  merchant_staff: {
    staff_id: string;
    merchant_id: string;
    phone: string;
    password_hash: string;
    name: string;
    role: 'owner' | 'finance' | 'support';
    created_by: string | null;
    created_at_ns: bigint;
  };
  merchant_staff_activity: {
    id: Generated<bigint>;
    merchant_id: string;
    staff_id: string;
    action: string;
    target: string;
    detail: string | null;
    at_ns: bigint;
  };
  merchant_staff_codes: {
    id: string;
    staff_id: string;
    code_hash: string;
    status: 'open' | 'used' | 'superseded' | 'revoked';
    attempts: Generated<number>;
    created_at_ns: bigint;
    expires_at_ns: bigint;
  };
  merchant_staff_sessions: {
    token_hash: string;
    staff_id: string;
    created_at_ns: bigint;
    expires_at_ns: bigint;
    revoked_at_ns: Generated<bigint | null>;
  };
  members_login_failures: {
    key: string;
    window_start_ns: bigint;
    failures: number;
  };
}

/** A member as stored. */
export type MemberRow = Selectable<MemberTables['members']>;
