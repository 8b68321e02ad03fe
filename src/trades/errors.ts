import { type CatalogEntry, CatalogError } from '../core/catalog-error.ts';

/** A refusal the caller can act on: its HTTP status (the console's) and its message. */
const refused = (status: 400 | 403 | 404 | 409, message: string) =>
  ({ type: 'invalid_request_error', status, message }) as const;
/** Not the caller's fault and not done: retry later with the same request. */
const unavailable = (message: string) => ({ type: 'api_error', status: 503, message }) as const;

/**
 * The trades catalog: every business error a trade operation can answer, with Alipay's sub code
 * (the open gateway maps `code` straight to `40004` / `sub_code`), the HTTP status the console
 * answers it with, and a message for people.
 */
export const tradeErrors = {
  INVALID_PARAMETER: refused(400, 'A parameter is missing or malformed.'),
  TRADE_HAS_SUCCESS: refused(400, 'The trade has already been paid.'),
  TRADE_HAS_CLOSE: refused(400, 'The trade is closed.'),
  TRADE_HAS_FINISHED: refused(400, 'The trade is finished: its refund period is over.'),
  TRADE_NOT_EXIST: refused(404, 'No such trade for this app.'),
  CONTEXT_INCONSISTENT: refused(400, 'The out_trade_no was used before with different parameters.'),
  TRADE_STATUS_ERROR: refused(409, 'The trade is not in a state that allows this.'),
  BUYER_BALANCE_NOT_ENOUGH: refused(400, "The buyer's balance is not enough."),
  PAYMENT_AUTH_CODE_INVALID: refused(400, 'The payment code is invalid or expired.'),
  BUYER_ENABLE_STATUS_FORBID: refused(400, "The buyer's account is frozen by Paybao: it cannot pay."),
  REFUND_AMT_NOT_EQUAL_TOTAL: refused(400, 'The refund amount exceeds what is left to refund.'),
  REASON_TRADE_REFUND_FEE_ERR: refused(400, 'The refund amount is not valid.'),
  SELLER_BALANCE_NOT_ENOUGH: refused(400, "The seller's balance is not enough for the refund."),
  SYSTEM_ERROR: unavailable('The system is busy; retry with the same request.'),
  ACCESS_FORBIDDEN: refused(403, 'This party may not do this to the trade.'),
  CASE_NOT_EXIST: refused(404, 'No such refund case.'),
  CASE_STATUS_ERROR: refused(409, 'The refund case is not in a state that allows this.'),
  CASE_ALREADY_OPEN: refused(409, 'The trade already has an open refund case.'),
  DISPUTE_NOT_EXIST: refused(404, 'No such dispute.'),
  DISPUTE_CLOSED: refused(409, 'The dispute has been ruled on; it is closed.'),
  DISPUTE_STATUS_ERROR: refused(409, 'The dispute is not in a state that allows this.'),
  DISPUTE_ALREADY_OPEN: refused(409, 'The trade already has an open dispute.'),
  DISPUTE_WINDOW_OVER: refused(400, 'The dispute window of this trade is over.'),
  ALLOC_AMOUNT_VALIDATE_ERROR: refused(
    400,
    'The split amounts are not valid: each above zero, together at most what is left of the trade.',
  ),
  ROYALTY_RECEIVER_INVALID: refused(400, 'A split receiver is not a Paybao member.'),
  COMPENSATION_FUND_NOT_ENOUGH: unavailable(
    'The compensation fund cannot cover this award now; the ruling stands and is paid when it can.',
  ),
  SETTLEMENT_NOT_EXIST: refused(404, 'No such settlement for this app.'),
} as const satisfies Record<string, CatalogEntry>;

export type TradeErrorCode = keyof typeof tradeErrors;

/** An operating error of a trade operation: the request was refused and nothing was written. */
export class TradeError extends CatalogError<typeof tradeErrors> {
  declare readonly code: TradeErrorCode;
  constructor(code: TradeErrorCode, detail?: string) {
    super(tradeErrors, code);
    // The gateway's sub_msg: the message, then what it is about (a parameter's name, a reason).
    if (detail) this.message = `${tradeErrors[code].message} ${detail}`;
    this.name = 'TradeError';
  }
}

/**
 * For the sweeps: a refusal (the row moved on meanwhile, the buyer or the fund was short) is an
 * outcome to retry or leave, not a failure; SYSTEM_ERROR and anything not a TradeError is one.
 */
export function isRefusal(error: unknown): boolean {
  return error instanceof TradeError && error.code !== 'SYSTEM_ERROR';
}
