/**
 * The trades module's tables as Kysely sees them (`typed<TradesTables>(q)`), declared once, next
 * to the migrations that create them (`migrations.ts`): a column added there is added here. int8
 * columns read as `bigint`; `Generated` marks a column the database fills when an insert leaves
 * it out.
 */
import type { Generated, Selectable } from 'kysely';
import type { CaseStatus, DisputeStatus } from './after-sale/state.ts';
import type { TradeStatus } from './trade/state.ts';

export interface TradesTables {
  trades: TradesTable;
  trade_refunds: TradeRefundsTable;
  trade_transitions: TradeTransitionsTable;
  trade_notifications: TradeNotificationsTable;
  trade_notification_attempts: TradeNotificationAttemptsTable;
  escrow_contracts: EscrowContractsTable;
  refund_cases: RefundCasesTable;
  disputes: DisputesTable;
  after_sale_transitions: AfterSaleTransitionsTable;
  recovery_claims: RecoveryClaimsTable;
  royalties: RoyaltiesTable;
  settlements: SettlementsTable;
  settlement_items: SettlementItemsTable;
  settlement_recoveries: SettlementRecoveriesTable;
}

export interface TradesTable {
  trade_no: string;
  app_id: string;
  out_trade_no: string;
  subject: string;
  total_fen: bigint;
  status: TradeStatus;
  seller_id: string;
  seller_account: string;
  buyer_id: string | null;
  buyer_account: string | null;
  product_code: string | null;
  refunded_fen: Generated<bigint>;
  refund_reserved_fen: Generated<bigint>;
  expires_at: Date;
  created_at: Date;
  /** When the payment in flight was claimed (PAYING); null before. */
  paying_at: Date | null;
  paid_at: Date | null;
  closed_at: Date | null;
  return_url: string | null;
  /** The request's own notify URL; null: the app's. */
  notify_url: string | null;
  /** A guaranteed (escrow) trade: paid into escrow, released to the seller on confirmed receipt. */
  escrow: Generated<boolean>;
  /** The platform fee of an escrow trade, in basis points of what is released. */
  fee_bps: Generated<number>;
  /** How long after shipment an unconfirmed escrow trade confirms itself. */
  confirm_period_ms: Generated<bigint>;
  shipped_at: Date | null;
  logistics_company: string | null;
  logistics_no: string | null;
  confirm_due_at: Date | null;
  reminded_at: Date | null;
  /** A refund case (or dispute) is open: the trade neither releases nor auto-confirms. */
  case_open: Generated<boolean>;
  released_at: Date | null;
  fee_fen: Generated<bigint>;
  royalty_fen: Generated<bigint>;
  royalty_reserved_fen: Generated<bigint>;
  settlement_no: string | null;
  /** A payment's other source than the balance (Yu'e Bao: the product's code); null: the balance alone. */
  fund_source: string | null;
  /** What that source paid; the balance paid the rest of total_fen. */
  fund_fen: Generated<bigint>;
}

export interface TradeRefundsTable {
  trade_no: string;
  out_request_no: string;
  refund_fen: bigint;
  /** The part of it that goes back to Yu'e Bao; the rest goes to the balance. */
  fund_fen: bigint;
  reason: string | null;
  /** PROCESSING until the ledger answers, then SUCCESS or FAILED. */
  status: 'PROCESSING' | 'SUCCESS' | 'FAILED';
  created_at: Date;
}

/** Every move of a trade, with who and when. */
export interface TradeTransitionsTable {
  trade_no: string;
  from_status: string;
  to_status: string;
  actor: string;
  at: Date;
}

export interface TradeNotificationsTable {
  id: Generated<bigint>;
  app_id: string;
  trade_no: string;
  event: string;
  payload: unknown;
  created_at: Date;
  attempts: Generated<number>;
  next_attempt_at: Date;
  delivered_at: Date | null;
}

/** Every post of a notification and what came of it (the dispatcher writes them). */
export interface TradeNotificationAttemptsTable {
  notification_id: bigint;
  attempt: number;
  at: Date;
  url: string | null;
  outcome: 'success' | 'rejected' | 'failed' | 'no_url';
  /** The merchant's answer or the error, cut to `notifyAttemptDetailCharsMax`. */
  detail: string | null;
}

export interface EscrowContractsTable {
  app_id: string;
  escrow_default: boolean;
  fee_bps: number;
  confirm_period_ms: bigint;
  updated_at: Date;
}

export interface RefundCasesTable {
  case_no: string;
  trade_no: string;
  app_id: string;
  buyer_id: string;
  refund_fen: bigint;
  reason: string;
  need_return: boolean;
  status: CaseStatus;
  refuse_reason: string | null;
  return_company: string | null;
  return_no: string | null;
  /** When the case moves without the party it waits on (`caseDeadline`); null when it waits on nobody. */
  due_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** Every move of a refund case or a dispute (or a recovery claim's write-off), with who and when. */
export interface AfterSaleTransitionsTable {
  /** A case_no, a dispute_no, or `claim:<dispute_no>`. */
  subject: string;
  /** Null for the move that creates the case or dispute. */
  from_status: string | null;
  to_status: string;
  actor: string;
  at: Date;
}

export interface DisputesTable {
  dispute_no: string;
  trade_no: string;
  app_id: string;
  buyer_id: string;
  seller_id: string;
  case_no: string | null;
  claim_fen: bigint;
  reason: string;
  evidence: string | null;
  status: DisputeStatus;
  /** Set by the ruling: what the buyer gets, who paid it. */
  award_fen: bigint | null;
  paid_from: 'escrow' | 'fund' | null;
  ruled_by: string | null;
  ruling_note: string | null;
  created_at: Date;
  ruled_at: Date | null;
}

export interface RecoveryClaimsTable {
  dispute_no: string;
  seller_id: string;
  amount_fen: bigint;
  recovered_fen: Generated<bigint>;
  written_off_fen: Generated<bigint>;
  written_off_at: Date | null;
  created_at: Date;
}

export interface RoyaltiesTable {
  trade_no: string;
  out_request_no: string;
  app_id: string;
  amount_fen: bigint;
  /** The receivers in request order, every part above zero (jsonb). */
  parts: { trans_in: string; amount_fen: string; desc: string | null }[];
  /** The request as the merchant sent it, to tell a replay from a reuse of the number. */
  request: string;
  /** Where the parts come from: the seller's unsettled proceeds, or its wallet. */
  source: 'unsettled' | 'wallet';
  status: 'PROCESSING' | 'SUCCESS' | 'FAILED';
  created_at: Date;
}

export interface SettlementsTable {
  settlement_no: string;
  seller_id: string;
  gross_fen: bigint;
  recovery_fen: bigint;
  payout_fen: bigint;
  trade_count: number;
  status: 'PROCESSING' | 'SETTLED';
  created_at: Date;
  settled_at: Date | null;
  /** Where the payout went: a bank order number, or 'wallet'; null until decided. */
  payout_destination: string | null;
}

export interface SettlementItemsTable {
  settlement_no: string;
  trade_no: string;
  out_trade_no: string;
  total_fen: bigint;
  refunded_fen: bigint;
  fee_fen: bigint;
  royalty_fen: bigint;
  amount_fen: bigint;
  released_at: Date;
}

export interface SettlementRecoveriesTable {
  settlement_no: string;
  dispute_no: string;
  amount_fen: bigint;
}

/** A trade's row as read. */
export type TradeRow = Selectable<TradesTable>;
/** A refund case's row as read. */
export type CaseRow = Selectable<RefundCasesTable>;
/** A dispute's row as read. */
export type DisputeRow = Selectable<DisputesTable>;
