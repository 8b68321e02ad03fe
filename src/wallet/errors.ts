/**
 * The native API's one error catalog: every operating error a wallet call can answer, with its
 * `type` (the family a client switches on), HTTP status and message, documented once. The HTTP
 * layer answers `{type, code, message, param}` from it and nothing else; errors of the members
 * module are translated into these codes here, never passed through. Codes are never renamed.
 */
import { CatalogError } from '../core/catalog-error.ts';
import { limits } from '../core/limits.ts';

export const walletErrors = {
  // Input the schema cannot judge alone; the schema's own refusals are `parameter_*` too.
  parameter_invalid: { type: 'invalid_request_error', status: 400, message: 'a parameter is malformed' },
  parameter_missing: { type: 'invalid_request_error', status: 400, message: 'a required parameter is missing' },
  body_invalid: { type: 'invalid_request_error', status: 400, message: 'the request body is not valid JSON' },
  body_too_large: {
    type: 'invalid_request_error',
    status: 413,
    message: `the request body exceeds ${limits.apiBodyBytesMax} bytes`,
  },
  content_type_unsupported: {
    type: 'invalid_request_error',
    status: 415,
    message: 'the request body must be application/json',
  },
  amount_invalid: {
    type: 'invalid_request_error',
    status: 400,
    message: `amount must be a decimal string of yuan with at most 2 places, from 0.01 to ${limits.walletTransferFenMax / 100}`,
  },
  route_not_found: { type: 'invalid_request_error', status: 404, message: 'no such route' },
  recipient_not_found: { type: 'invalid_request_error', status: 404, message: 'no user with this id or phone' },
  recipient_is_sender: { type: 'invalid_request_error', status: 400, message: 'a transfer needs another user' },
  trade_not_found: { type: 'invalid_request_error', status: 404, message: 'no such trade among yours' },
  trade_state_conflict: {
    type: 'invalid_request_error',
    status: 409,
    message: 'the trade is not in a state that allows this',
  },
  refund_case_open: {
    type: 'invalid_request_error',
    status: 409,
    message: 'the trade has an open refund request; finish or withdraw it first',
  },
  refund_case_not_found: { type: 'invalid_request_error', status: 404, message: 'no such refund request among yours' },
  refund_case_state_conflict: {
    type: 'invalid_request_error',
    status: 409,
    message: 'the refund request is not in a state that allows this',
  },
  refund_amount_too_large: {
    type: 'invalid_request_error',
    status: 400,
    message: 'the amount exceeds what is left to refund on the trade',
  },
  dispute_not_found: { type: 'invalid_request_error', status: 404, message: 'no such dispute among yours' },
  dispute_open: { type: 'invalid_request_error', status: 409, message: 'the trade already has an open dispute' },
  dispute_window_over: {
    type: 'invalid_request_error',
    status: 409,
    message: 'disputes on this trade are no longer accepted',
  },
  balance_not_enough: { type: 'invalid_request_error', status: 402, message: 'the wallet balance is not enough' },
  login_failed: { type: 'authentication_error', status: 401, message: 'wrong phone, password or SMS code' },
  session_invalid: {
    type: 'authentication_error',
    status: 401,
    message: 'send a live session token as `Authorization: Bearer <token>` (POST /api/v1/sessions)',
  },
  login_throttled: {
    type: 'rate_limit_error',
    status: 429,
    message: 'too many wrong passwords for this phone or from this address; password login is paused',
  },
  too_many_requests: {
    type: 'rate_limit_error',
    status: 429,
    message: 'too many login or SMS-code requests from this address; wait and retry',
  },
  sms_code_too_frequent: {
    type: 'rate_limit_error',
    status: 429,
    message: 'an SMS code was sent to this phone moments ago; wait before asking again',
  },
  idempotency_key_reused: {
    type: 'idempotency_error',
    status: 409,
    message: 'this Idempotency-Key was used with a different request; use a new key for a new request',
  },
  idempotency_request_in_progress: {
    type: 'idempotency_error',
    status: 409,
    message: 'a request with this Idempotency-Key is still running; retry shortly with the same key',
  },
  internal_error: { type: 'api_error', status: 500, message: 'something went wrong on our side; retry the request' },
} as const satisfies Record<string, { type: string; status: number; message: string }>;

export type WalletErrorCode = keyof typeof walletErrors;
export type WalletErrorType = (typeof walletErrors)[WalletErrorCode]['type'];

/** An operating error of the wallet: nothing was written (or a stored outcome is replayed). */
export class WalletError extends CatalogError<typeof walletErrors> {
  declare readonly code: WalletErrorCode;
  declare readonly type: WalletErrorType;
  /** `login_throttled`: how long until password logins are taken again (the Retry-After). */
  retryAfterMs: number | undefined;
  constructor(code: WalletErrorCode, options: { param?: string | undefined; detail?: string | undefined } = {}) {
    super(walletErrors, code, options);
    this.name = 'WalletError';
  }
}

export function isWalletError(error: unknown, code?: WalletErrorCode): error is WalletError {
  return error instanceof WalletError && (code === undefined || error.code === code);
}
