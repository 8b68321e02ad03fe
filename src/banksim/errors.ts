import { apiError, CatalogError, catalog, invalidRequest } from '../core/catalog-error.ts';

/**
 * The one catalog of the simulator's refusals: each code with its HTTP status and message. A
 * refusal moves nothing and records nothing. (A business failure after a request is accepted —
 * a short balance, a limit, an unknown card — is not a refusal: the order is recorded FAILED
 * with one of `failCodes`, so a retry with the same order number answers the same.)
 */
export const errorCatalog = catalog({
  INVALID_REQUEST: invalidRequest(400, 'the request is malformed or misses a field'),
  INVALID_AMOUNT: invalidRequest(400, 'amount must be a decimal string in yuan, above zero, at most two decimals'),
  BATCH_TOO_LARGE: invalidRequest(400, 'a batch carries too many items'),
  SMS_CODE_INVALID: invalidRequest(400, 'the SMS code is wrong or expired'),
  INVALID_SIGNATURE: invalidRequest(401, 'the merchant, timestamp or signature does not verify'),
  BANK_NOT_FOUND: invalidRequest(404, 'no such bank'),
  ORDER_NOT_FOUND: invalidRequest(404, 'no such order'),
  AGREEMENT_NOT_FOUND: invalidRequest(404, 'no such agreement'),
  NOT_FOUND: invalidRequest(404, 'no such page'),
  ORDER_PARAMS_CONFLICT: invalidRequest(409, 'this order number was used with other parameters'),
  AGREEMENT_NOT_ACTIVE: invalidRequest(409, 'the agreement is not confirmed or was cancelled'),
  BODY_TOO_LARGE: invalidRequest(413, 'the request body is too large'),
  UNSUPPORTED_MEDIA_TYPE: invalidRequest(415, 'send application/json'),
  SYSTEM_BUSY: apiError(503, 'the bank is busy; try again'),
});

export type ErrorCode = keyof typeof errorCatalog;

/** Why an accepted order failed, as its query and its callback report it. */
export const failCodes = [
  'CARD_NOT_FOUND',
  'NAME_MISMATCH',
  'INSUFFICIENT_BALANCE',
  'PAYMENT_LIMIT_EXCEEDED',
  'DAILY_LIMIT_EXCEEDED',
  'PAYOUT_LIMIT_EXCEEDED',
  'WRONG_PASSWORD',
  'ORDER_EXPIRED',
] as const;
export type FailCode = (typeof failCodes)[number];

/** A refusal of the simulated bank: nothing moved, nothing recorded. */
export class BankSimError extends CatalogError<typeof errorCatalog> {
  constructor(code: ErrorCode, detail?: string) {
    super(errorCatalog, code, { detail });
  }
}
