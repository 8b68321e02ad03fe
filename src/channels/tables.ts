/**
 * The channels' tables (migrations.ts) as Kysely sees them, for `typed<ChannelTables>(q)`. Column
 * types are what our drivers answer: int8 → bigint, timestamptz → Date, uuid → text. Columns
 * with a default are `Generated` (optional on insert).
 */
import type { Generated, Selectable } from 'kysely';
import type { ChannelOrderStatus } from './state.ts';

export type ChannelOrderKind = 'TOPUP_GATEWAY' | 'TOPUP_WITHHOLD' | 'WITHDRAW';

export interface ChannelTables {
  channel_cards: {
    card_id: string;
    user_id: string;
    bank: string;
    card_no: string;
    name: string;
    phone: string;
    request_no: string;
    agreement_no: string | null;
    status: 'PENDING' | 'ACTIVE';
    created_at: Date;
    activated_at: Date | null;
  };
  channel_orders: {
    order_no: string;
    kind: ChannelOrderKind;
    bank: string;
    user_id: string;
    wallet_account: string;
    card_id: string | null;
    amount_fen: bigint;
    idempotency_key: string;
    request_hash: string;
    status: ChannelOrderStatus;
    fail_code: string | null;
    bank_serial: string | null;
    pay_url: string | null;
    queries: Generated<number>;
    next_query_at: Date | null;
    /** The Beijing day the order was created, `YYYY-MM-DD`. */
    business_date: string;
    created_at: Date;
    updated_at: Date;
    finished_at: Date | null;
    /** The risk review holding a withdrawal; null when the engine allowed it outright. */
    review_id: string | null;
  };
  channel_order_transitions: {
    order_no: string;
    from_status: ChannelOrderStatus;
    to_status: ChannelOrderStatus;
    actor: string;
    reason: string | null;
    at: Date;
  };
  channel_callbacks: {
    id: Generated<bigint>;
    bank: string;
    order_no: string | null;
    verdict: string;
    signature: string | null;
    body: string;
    received_at: Date;
  };
  recon_runs: {
    id: Generated<bigint>;
    bank: string;
    business_date: string;
    started_at: Date;
    finished_at: Date | null;
    lines: Generated<number>;
    matched: Generated<number>;
    settled: Generated<number>;
    queued: Generated<number>;
  };
  recon_items: {
    id: Generated<bigint>;
    bank: string;
    business_date: string;
    order_no: string;
    class: 'missing_at_bank' | 'missing_at_paybao' | 'amount_mismatch' | 'status_mismatch';
    paybao_status: string | null;
    paybao_amount_fen: bigint | null;
    bank_status: string | null;
    bank_amount_fen: bigint | null;
    detail: string;
    state: Generated<'OPEN' | 'RESOLVED'>;
    resolution: string | null;
    created_at: Date;
    resolved_at: Date | null;
  };
  channel_losses: {
    loss_key: string;
    bank: string;
    order_no: string | null;
    amount_fen: bigint;
    reason: string;
    transfer_id: string;
    recorded_at: Date;
  };
  reserve_reports: {
    id: Generated<bigint>;
    taken_at: Date;
    report: string;
  };
  daily_work: {
    job: string;
    day: string;
    claimed_at: Date;
    done_at: Date | null;
  };
}

/** A channel order as stored. */
export type OrderRow = Selectable<ChannelTables['channel_orders']>;
/** A bound (or binding) card as stored. */
export type CardRow = Selectable<ChannelTables['channel_cards']>;
