import { apiError, CatalogError, catalog, invalidRequest } from '../core/catalog-error.ts';

/**
 * The payouts catalog: every business error a transfer can answer, with its HTTP status and
 * message. The codes are Alipay's
 * `sub_code`s of `alipay.fund.trans.uni.transfer` / `.common.query`, which (unlike the trade
 * methods' `ACQ.*`) carry no namespace; the gateway writes them as they are.
 */
export const payoutErrors = catalog({
  INVALID_PARAMETER: invalidRequest(400, 'A parameter is missing or malformed.'),
  PAYEE_NOT_EXIST: invalidRequest(404, 'No account matches the payee.'),
  PAYER_PAYEE_CANNOT_SAME: invalidRequest(400, 'The payer and the payee are the same account.'),
  PAYER_BALANCE_NOT_ENOUGH: invalidRequest(402, "The payer's balance is not enough."),
  PAYMENT_INFO_INCONSISTENCY: invalidRequest(
    409,
    'The out_biz_no was used before with different parameters: retry with the same ones, or use a new out_biz_no.',
  ),
  ORDER_NOT_EXIST: invalidRequest(404, 'No such transfer for this app.'),
  SYSTEM_ERROR: apiError(503, 'The system is busy; retry with the same out_biz_no.'),
});

export type PayoutErrorCode = keyof typeof payoutErrors;

/** An operating error of a payout: the request was refused, and no money moved. */
export class PayoutError extends CatalogError<typeof payoutErrors> {
  constructor(code: PayoutErrorCode, detail?: string) {
    // The gateway's sub_msg: the message, then what it is about.
    super(payoutErrors, code, { message: detail && `${payoutErrors[code].message} ${detail}` });
  }
}
