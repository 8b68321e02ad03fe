/**
 * The trades catalog: every business error a trade operation can answer, with Alipay's sub code
 * (the open gateway maps `code` straight to `40004` / `sub_code`) and a message for people.
 */
export const tradeErrors = {
  INVALID_PARAMETER: 'A parameter is missing or malformed.',
  TRADE_HAS_SUCCESS: 'The trade has already been paid.',
  TRADE_HAS_CLOSE: 'The trade is closed.',
  TRADE_HAS_FINISHED: 'The trade is finished: its refund period is over.',
  TRADE_NOT_EXIST: 'No such trade for this app.',
  CONTEXT_INCONSISTENT: 'The out_trade_no was used before with different parameters.',
  TRADE_STATUS_ERROR: 'The trade is not in a state that allows this.',
  BUYER_BALANCE_NOT_ENOUGH: "The buyer's balance is not enough.",
  PAYMENT_AUTH_CODE_INVALID: 'The payment code is invalid or expired.',
  REFUND_AMT_NOT_EQUAL_TOTAL: 'The refund amount exceeds what is left to refund.',
  REASON_TRADE_REFUND_FEE_ERR: 'The refund amount is not valid.',
  SELLER_BALANCE_NOT_ENOUGH: "The seller's balance is not enough for the refund.",
  SYSTEM_ERROR: 'The system is busy; retry with the same request.',
  ACCESS_FORBIDDEN: 'This party may not do this to the trade.',
  CASE_NOT_EXIST: 'No such refund case.',
  CASE_STATUS_ERROR: 'The refund case is not in a state that allows this.',
  CASE_ALREADY_OPEN: 'The trade already has an open refund case.',
  DISPUTE_NOT_EXIST: 'No such dispute.',
  DISPUTE_CLOSED: 'The dispute has been ruled on; it is closed.',
  DISPUTE_STATUS_ERROR: 'The dispute is not in a state that allows this.',
  DISPUTE_ALREADY_OPEN: 'The trade already has an open dispute.',
  DISPUTE_WINDOW_OVER: 'The dispute window of this trade is over.',
  ALLOC_AMOUNT_VALIDATE_ERROR:
    'The split amounts are not valid: each above zero, together at most what is left of the trade.',
  ROYALTY_RECEIVER_INVALID: 'A split receiver is not a Paybao member.',
  COMPENSATION_FUND_NOT_ENOUGH:
    'The compensation fund cannot cover this award now; the ruling stands and is paid when it can.',
  SETTLEMENT_NOT_EXIST: 'No such settlement for this app.',
} as const;

export type TradeErrorCode = keyof typeof tradeErrors;

/** An operating error of a trade operation: the request was refused and nothing was written. */
export class TradeError extends Error {
  readonly code: TradeErrorCode;
  constructor(code: TradeErrorCode, detail?: string) {
    super(detail ? `${tradeErrors[code]} ${detail}` : tradeErrors[code]);
    this.code = code;
  }
}

/**
 * For the sweeps: a refusal (the row moved on meanwhile, the buyer or the fund was short) is an
 * outcome to retry or leave, not a failure; SYSTEM_ERROR and anything not a TradeError is one.
 */
export function isRefusal(error: unknown): boolean {
  return error instanceof TradeError && error.code !== 'SYSTEM_ERROR';
}
