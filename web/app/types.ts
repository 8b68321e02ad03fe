/** The shapes `/api/v1` answers, as its OpenAPI document (`/docs/json`) describes them. */
export interface SessionBody {
  token: string;
  user_id: string;
  expires_at: string;
}
export interface Me {
  user_id: string;
  logon_id: string;
}
export interface Balance {
  currency: 'CNY';
  available: string;
}
export interface Bill {
  id: string;
  type: string;
  direction: 'in' | 'out';
  amount: string;
  counterparty_user_id: string | null;
  trade_no: string | null;
  memo: string | null;
  time: string;
}
export interface Bills {
  data: Bill[];
  has_more: boolean;
  next_cursor: string | null;
}
export interface FundHolding {
  product_code: string;
  product_name: string;
  shares: string;
  yesterday_income: string;
  total_income: string;
  seven_day_yield: string | null;
}
export interface RedPacket {
  packet_id: string;
  sender: { logon_id: string; masked_name: string | null };
  amount: string;
  greeting: string;
  grabs: { user_id: string; amount: string }[];
}
export interface Transfer {
  id: string;
  status: 'succeeded' | 'in_review';
  to_user_id: string;
  amount: string;
  memo: string;
  created_at: string;
}
export interface PaymentCode {
  payment_code: string;
  expires_in_s: number;
}
export interface Bank {
  code: string;
  name: string;
  payment_max: string;
  daily_max: string;
}
export interface Card {
  card_id: string;
  bank: string;
  card_no: string;
  status: 'PENDING' | 'ACTIVE' | string;
  created_at: string;
}
export interface ChannelOrder {
  order_no: string;
  kind: string;
  bank: string;
  card_id: string | null;
  amount: string;
  status: string;
  fail_code: string | null;
  pay_url: string | null;
  created_at: string;
  finished_at: string | null;
}
export interface Trade {
  trade_no: string;
  out_trade_no: string;
  status: string;
  subject: string;
  total_amount: string;
  refunded_amount: string;
  seller_id: string;
  created_at: string;
  paid_at: string | null;
  escrow: {
    logistics_company: string | null;
    logistics_no: string | null;
    shipped_at: string | null;
    confirm_deadline: string | null;
    released_at: string | null;
    fee_amount: string;
    refund_request_open: boolean;
  } | null;
}
export interface TradesPage {
  data: Trade[];
  has_more: boolean;
  next_after: string | null;
}
export interface RefundCase {
  case_no: string;
  trade_no: string;
  status: string;
  refund_amount: string;
  reason: string;
  need_return: boolean;
  refuse_reason: string | null;
  due_at: string | null;
}
export interface Dispute {
  dispute_no: string;
  trade_no: string;
  status: string;
  claim_amount: string;
  reason: string;
  award_amount: string | null;
}
export type CreditBand = 'POOR' | 'FAIR' | 'GOOD' | 'VERY_GOOD' | 'EXCELLENT';
export type CreditReason =
  | 'PAYMENTS_FEW'
  | 'ACCOUNT_NEW'
  | 'ESCROW_TRADES_FEW'
  | 'DISPUTES_LOST'
  | 'ACTIVE_MONTHS_FEW'
  | 'CATEGORIES_FEW'
  | 'BALANCE_LOW'
  | 'REAL_NAME_MISSING'
  | 'FRIENDS_SCORES_LOW'
  | 'DEBT_OVERDUE';
export interface CreditScore {
  score: number | null;
  band: CreditBand | null;
  reasons: CreditReason[];
  points: Record<'history' | 'behaviour' | 'ability' | 'identity' | 'relationships', number>;
  computed_at: string;
  history: { day: string; score: number | null }[];
}
export interface RealName {
  verified: boolean;
  masked_name: string | null;
  verified_at: string | null;
}
