/** The fund's tables as Kysely sees them (src/core/db/typed.ts); see migrations.ts. */
export interface FundTables {
  fund_companies: {
    company_id: string;
    name: string;
    company_account: string;
    pool_account: string;
    created_at: Date;
    /** Fen per hour; null: `fundPoolRefillFenPerHourDefault`. */
    refill_fen_per_hour: bigint | null;
  };
  fund_products: {
    product_code: string;
    company_id: string;
    name: string;
    seq: number;
    share_ledger: number;
    custodian_account: string;
    issuance_account: string;
    undistributed_account: string;
    created_at: Date;
  };
  fund_holders: { product_code: string; user_id: string; account_id: string; wallet_account: string };
  fund_orders: {
    order_id: string;
    user_id: string;
    idempotency_key: string;
    product_code: string;
    kind: OrderKind;
    amount_fen: bigint;
    status: OrderStatus;
    requested_at: Date;
    requested_day: string;
    trade_day: string;
    due_day: string;
    done_at: Date | null;
    /** A purchase from a bound card: the card, and the channel order that withheld the money; null for the balance. */
    card_id: string | null;
    card_order_no: string | null;
  };
  fund_income_days: {
    product_code: string;
    day: string;
    per10k_scaled: bigint;
    status: 'DECLARED' | 'SNAPSHOT' | 'DONE';
    total_fen: bigint | null;
    holders: number | null;
    declared_at: Date;
    done_at: Date | null;
  };
  /** A day's lines cut into pages of consecutive accounts (the last open-ended), each paid whole. */
  fund_income_pages: {
    product_code: string;
    day: string;
    first_account: string;
    end_account: string | null;
    lines: number;
    paid: boolean;
  };
  fund_auto_transfers: { user_id: string; product_code: string; keep_fen: bigint };
}

/** A purchase, a standard redemption (money on the next trading day) or a fast one (at once). */
/** PAYMENT: shares redeemed to pay a trade, in the trade's own ledger chain (`payments.ts`). */
/** REFUND: shares a refund of a trade paid from the fund gave back (done once its transfer exists). */
export type OrderKind = 'PURCHASE' | 'STANDARD' | 'FAST' | 'PAYMENT' | 'REFUND';
export type OrderStatus = 'SUBMITTED' | 'PENDING' | 'DONE';
export type OrderRow = FundTables['fund_orders'];
export type ProductRow = FundTables['fund_products'];
export type CompanyRow = FundTables['fund_companies'];
