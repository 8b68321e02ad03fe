import {
  apiError,
  CatalogError,
  type CatalogErrorOptions,
  catalog,
  idempotencyError,
  invalidRequest,
} from '../core/catalog-error.ts';

/**
 * The pre-authorisation module's catalog, in precedence order. Every refusal writes nothing. The
 * gateway answers each with Alipay's bare sub code of the fund-auth methods (the code's upper
 * case: `REQUEST_AMOUNT_EXCEED`, `ORDER_ALREADY_CLOSED` …), and with `ACQ.` on `alipay.trade.pay`.
 */
export const preauthErrors = catalog({
  invalid_parameter: invalidRequest(400, 'a parameter is missing or out of range'),
  auth_code_invalid: invalidRequest(400, 'the payment code is unknown, expired or already used'),
  auth_order_not_exist: invalidRequest(404, 'no such freeze order for this app'),
  operation_not_exist: invalidRequest(404, 'no such operation of this freeze order'),
  order_already_closed: invalidRequest(409, 'the freeze order is closed: nothing is frozen any more'),
  order_already_finish: invalidRequest(
    409,
    'the freeze order is finished: its frozen amount is all settled or unfrozen',
  ),
  order_not_authorized: invalidRequest(409, 'the freeze order waits for the user to confirm it'),
  request_amount_exceed: invalidRequest(409, 'the amount is more than what is still frozen'),
  payer_balance_not_enough: invalidRequest(409, "the payer's balance does not cover the freeze"),
  payer_not_match: invalidRequest(409, 'this freeze order belongs to another user'),
  credit_service_not_open: invalidRequest(
    403,
    'this app has no credit service: a freeze that asks for credit (extra_param serviceId) needs one the platform granted; without it, send a plain fund freeze',
  ),
  credit_service_mismatch: invalidRequest(400, "extra_param's serviceId or category is not this app's credit service"),
  buyer_restricted: invalidRequest(
    403,
    'the payer may not have a credit-based freeze: they are on the dishonest-debtor list (失信被执行人)',
  ),
  out_order_no_conflict: idempotencyError('this out_order_no was used with other terms'),
  out_request_no_conflict: idempotencyError('this out_request_no was used with other terms on this freeze order'),
  busy: apiError(503, 'another operation on this freeze order is in flight; try again'),
});

export type PreauthErrorCode = keyof typeof preauthErrors;

/** An operating error of the pre-authorisation module, carrying its catalog entry. */
export class PreauthError extends CatalogError<typeof preauthErrors> {
  constructor(code: PreauthErrorCode, options: CatalogErrorOptions = {}) {
    super(preauthErrors, code, options);
  }
}

/** True when `error` is a PreauthError, and of one of `codes` when any are given. */
export function isPreauthError(error: unknown, ...codes: PreauthErrorCode[]): error is PreauthError {
  return error instanceof PreauthError && (codes.length === 0 || codes.includes(error.code));
}
