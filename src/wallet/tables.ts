/**
 * The wallet's tables (migrations.ts) as Kysely sees them, for `typed<WalletTables>(q)`. Column
 * types are what our drivers answer: int8 → bigint, uuid → text.
 */
import type { Selectable } from 'kysely';

export interface WalletTables {
  wallet_sessions: {
    token_hash: string;
    user_id: string;
    created_at_ns: bigint;
    expires_at_ns: bigint;
    revoked_at_ns: bigint | null;
  };
  wallet_transfers: {
    user_id: string;
    idempotency_key: string;
    request_hash: string;
    transfer_id: string;
    to_user_id: string;
    amount_fen: bigint;
    memo: string;
    status: 'processing' | 'held' | 'succeeded' | 'failed';
    error_code: string | null;
    lease_until_ns: bigint;
    created_at_ns: bigint;
    completed_at_ns: bigint | null;
    /** The fund product whose shares paid it; null: from the balance. */
    fund_source: string | null;
    /** The risk review holding it; null when the engine allowed it outright. */
    review_id: string | null;
  };
}

/** A user-to-user transfer request as stored. */
export type TransferRow = Selectable<WalletTables['wallet_transfers']>;
