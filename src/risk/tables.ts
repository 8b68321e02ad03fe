import type { ColumnType, Generated } from 'kysely';

/** jsonb: written as JSON text, read parsed. */
type Json<T> = ColumnType<T, string, string>;

/** The risk engine's tables as Kysely sees them (src/core/db/typed.ts); see migrations.ts. */
export interface RiskTables {
  risk_config: { singleton: boolean; version: bigint };
  risk_rules: {
    rule_id: Generated<number>;
    name: string;
    condition: Json<Record<string, unknown>>;
    paths: string[];
    action: string;
    mode: string;
    enabled: boolean;
    created_at: Date;
    updated_at: Date;
    updated_by: string;
  };
  risk_lists: { list: string; value: string; reason: string; created_at: Date; created_by: string };
  risk_regions: { network: string; region: string };
  risk_merchant_categories: { merchant_id: string; category: string };
  risk_counters: { key: string; bucket: bigint; count: bigint; amount_fen: bigint; written_at_ms: bigint };
  risk_payees: { payer_id: string; payee_id: string; first_at: Date };
  risk_profiles: { user_id: string; usual_region: string; since: Date };
  risk_decisions: {
    decision_id: string;
    at: Date;
    path: string;
    user_id: string;
    payee_id: string | null;
    amount_fen: bigint;
    decision: string;
    fired: Json<unknown>;
    context: Json<Record<string, unknown>>;
    ref: string | null;
  };
  risk_challenges: {
    challenge_id: string;
    decision_id: string;
    user_id: string;
    path: string;
    amount_fen: bigint;
    fingerprint: string;
    ref: string | null;
    code_hash: string;
    attempts: Generated<number>;
    status: 'OPEN' | 'USED' | 'FAILED';
    created_at: Date;
    expires_at: Date;
    used_at: Date | null;
  };
  risk_reviews: {
    review_id: string;
    path: string;
    ref: string;
    user_id: string;
    amount_fen: bigint;
    status: 'PENDING' | 'APPROVED' | 'REJECTED';
    created_at: Date;
    decided_at: Date | null;
    decided_by: string | null;
    note: string | null;
    applied_at: Date | null;
  };
  risk_losses: {
    loss_key: string;
    user_id: string;
    amount_fen: bigint;
    reason: string;
    decision_id: string | null;
    recorded_at: Date;
    recorded_by: string;
  };
}
