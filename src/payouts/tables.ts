/**
 * The payouts' table (migrations.ts) as Kysely sees it, for `typed<PayoutTables>(q)`. Column
 * types are what our drivers answer: int8 → bigint, timestamptz → Date, uuid → text.
 */
import type { Selectable } from 'kysely';
import type { PayoutErrorCode } from './errors.ts';

export interface PayoutTables {
  payouts: {
    order_id: string;
    pay_fund_order_id: string;
    app_id: string;
    out_biz_no: string;
    amount_fen: bigint;
    payer_id: string;
    payer_account: string;
    payee_id: string;
    payee_account: string;
    payee_identity: string;
    payee_identity_type: string;
    order_title: string | null;
    remark: string | null;
    status: 'PROCESSING' | 'SUCCESS' | 'FAIL';
    error_code: PayoutErrorCode | null;
    created_at: Date;
    paid_at: Date | null;
  };
}

/** A payout as stored. */
export type PayoutRow = Selectable<PayoutTables['payouts']>;
