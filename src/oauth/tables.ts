/**
 * The user authorisation module's tables (migrations.ts) as Kysely sees them, for
 * `typed<OAuthTables>(q)`: int8 → bigint, uuid → text.
 */
import type { Selectable } from 'kysely';

export interface OAuthTables {
  oauth_open_ids: {
    app_id: string;
    user_id: string;
    open_id: string;
    created_at_ns: bigint;
  };
  oauth_grants: {
    grant_id: string;
    app_id: string;
    user_id: string;
    scopes: string;
    status: 'active' | 'revoked';
    authorized_at_ns: bigint;
    revoked_at_ns: bigint | null;
  };
  oauth_codes: {
    code_sha256: string;
    grant_id: string;
    app_id: string;
    scopes: string;
    created_at_ns: bigint;
    expires_at_ns: bigint;
    used_at_ns: bigint | null;
  };
  oauth_tokens: {
    token_id: string;
    grant_id: string;
    app_id: string;
    code_sha256: string;
    scopes: string;
    access_sha256: string;
    refresh_sha256: string;
    auth_start_ns: bigint;
    created_at_ns: bigint;
    access_expires_at_ns: bigint;
    refresh_expires_at_ns: bigint;
    revoked_at_ns: bigint | null;
    revoked_reason: 'refreshed' | 'revoked' | 'code_replayed' | null;
  };
}

export type TokenRow = Selectable<OAuthTables['oauth_tokens']>;
