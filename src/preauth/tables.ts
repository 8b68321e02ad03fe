/**
 * Pre-authorisation's tables (migrations.ts) as Kysely sees them, for `typed<PreauthTables>(q)`:
 * int8 → bigint, uuid → text, timestamptz → Date.
 */
import type { Selectable } from 'kysely';

export type OrderStatus = 'INIT' | 'AUTHORIZED' | 'FINISH' | 'CLOSED';
export type OperationStatus = 'INIT' | 'SUCCESS' | 'CLOSED';

export interface PreauthTables {
  preauth_orders: {
    auth_no: string;
    app_id: string;
    out_order_no: string;
    order_title: string;
    kind: 'BAR_CODE' | 'APP';
    payee_id: string;
    payee_account: string;
    payer_id: string | null;
    payer_account: string | null;
    amount_fen: bigint;
    credit_fen: bigint;
    fund_fen: bigint;
    rest_fund_fen: bigint;
    rest_credit_fen: bigint;
    paid_fund_fen: bigint;
    paid_credit_fen: bigint;
    unfrozen_fund_fen: bigint;
    unfrozen_credit_fen: bigint;
    status: OrderStatus;
    hold_seq: number;
    in_flight: string | null;
    term_s: number;
    pay_expires_at: Date | null;
    expires_at: Date | null;
    notify_url: string | null;
    created_at: Date;
    authorized_at: Date | null;
    finished_at: Date | null;
    credit_service_id: string | null;
  };
  preauth_operations: {
    operation_id: string;
    auth_no: string;
    request_key: string;
    out_request_no: string | null;
    operation_type: 'FREEZE' | 'UNFREEZE' | 'PAY' | 'EXPIRE';
    amount_fen: bigint;
    fund_fen: bigint;
    credit_fen: bigint;
    hold_seq: number;
    new_hold_fen: bigint;
    hold_timeout_s: number;
    collect_fen: bigint;
    advance_fen: bigint;
    complete: boolean;
    trade_no: string | null;
    out_trade_no: string | null;
    remark: string | null;
    status: OperationStatus;
    created_at: Date;
    finished_at: Date | null;
  };
  preauth_debts: {
    operation_id: string;
    user_id: string;
    user_account: string;
    amount_fen: bigint;
    repaid_fen: bigint;
    created_at: Date;
    repaid_at: Date | null;
  };
  preauth_credit_services: {
    app_id: string;
    service_id: string;
    category: string;
    score_threshold: number;
    waiver_max_fen: bigint;
    status: 'ACTIVE' | 'WITHDRAWN';
    granted_by: string;
    granted_at: Date;
    withdrawn_by: string | null;
    withdrawn_at: Date | null;
  };
}

export type OperationType = PreauthTables['preauth_operations']['operation_type'];
export type OrderRow = Selectable<PreauthTables['preauth_orders']>;
export type OperationRow = Selectable<PreauthTables['preauth_operations']>;
