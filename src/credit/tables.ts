/**
 * The credit module's own tables (migrations.ts) as Kysely sees them, for `typed<CreditTables>(q)`:
 * int8 → bigint, days as text (YYYY-MM-DD, Beijing), timestamptz → Date. The features statement reads other
 * modules' tables by hand-written SQL (features.ts), never through these declarations.
 */
export interface CreditTables {
  credit_real_names: {
    user_id: string;
    real_name: string;
    id_sha256: string;
    verified_at: Date;
  };
  credit_score_history: {
    user_id: string;
    day: string;
    score: number | null;
    band: string | null;
    reasons: string;
    balance_fen: bigint;
  };
  credit_runs: {
    day: string;
    started_at: Date;
    last_user_id: string | null;
    users_done: bigint;
    finished_at: Date | null;
  };
  credit_transactions: {
    app_id: string;
    transaction_id: string;
    user_id: string;
    biz_no: string;
    zm_score: string;
    created_at: Date;
  };
}
