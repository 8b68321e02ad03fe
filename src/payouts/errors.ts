/**
 * The payouts catalog: every business error a transfer can answer. The codes are Alipay's
 * `sub_code`s of `alipay.fund.trans.uni.transfer` / `.common.query`, which (unlike the trade
 * methods' `ACQ.*`) carry no namespace; the gateway writes them as they are.
 */
export const payoutErrors = {
  INVALID_PARAMETER: 'A parameter is missing or malformed.',
  PAYEE_NOT_EXIST: 'No account matches the payee.',
  PAYER_PAYEE_CANNOT_SAME: 'The payer and the payee are the same account.',
  PAYER_BALANCE_NOT_ENOUGH: "The payer's balance is not enough.",
  PAYMENT_INFO_INCONSISTENCY:
    'The out_biz_no was used before with different parameters: retry with the same ones, or use a new out_biz_no.',
  ORDER_NOT_EXIST: 'No such transfer for this app.',
  SYSTEM_ERROR: 'The system is busy; retry with the same out_biz_no.',
} as const;

export type PayoutErrorCode = keyof typeof payoutErrors;

/** An operating error of a payout: the request was refused, and no money moved. */
export class PayoutError extends Error {
  readonly code: PayoutErrorCode;
  constructor(code: PayoutErrorCode, detail?: string) {
    super(detail ? `${payoutErrors[code]} ${detail}` : payoutErrors[code]);
    this.code = code;
  }
}
