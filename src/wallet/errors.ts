/**
 * The native API's one error catalog: every operating error a wallet call can answer, with its
 * `type` (the family a client switches on), HTTP status and message, documented once. The HTTP
 * layer answers `{type, code, message, param}` from it and nothing else; errors of the members
 * module are translated into these codes here, never passed through. Codes are never renamed.
 */
import {
  apiError,
  authenticationError,
  CatalogError,
  type CatalogErrorOptions,
  catalog,
  idempotencyError,
  invalidRequest,
  rateLimitError,
} from '../core/catalog-error.ts';
import { limits } from '../core/limits.ts';

export const walletErrors = catalog({
  // Input the schema cannot judge alone; the schema's own refusals are `parameter_*` too.
  parameter_invalid: invalidRequest(400, 'a parameter is malformed'),
  parameter_missing: invalidRequest(400, 'a required parameter is missing'),
  body_invalid: invalidRequest(400, 'the request body is not valid JSON'),
  body_too_large: invalidRequest(413, `the request body exceeds ${limits.apiBodyBytesMax} bytes`),
  content_type_unsupported: invalidRequest(415, 'the request body must be application/json'),
  amount_invalid: invalidRequest(
    400,
    `amount must be a decimal string of yuan with at most 2 places, from 0.01 to ${limits.walletTransferFenMax / 100}`,
  ),
  route_not_found: invalidRequest(404, 'no such route'),
  recipient_not_found: invalidRequest(404, 'no user with this id or phone'),
  recipient_is_sender: invalidRequest(400, 'a transfer needs another user'),
  recipient_unavailable: invalidRequest(403, 'this user cannot receive your transfers'),
  risk_rejected: invalidRequest(403, 'this transfer was refused after review; the money stayed in your wallet'),
  fund_not_enough: invalidRequest(402, "Yu'e Bao cannot cover this transfer now; send it from the balance"),
  new_friend_limit_exceeded: rateLimitError(
    `a friendship younger than ${limits.socialNewFriendshipDays} days may carry at most ${limits.socialNewFriendDailyFenMax / 100} yuan a day; try tomorrow`,
  ),
  trade_not_found: invalidRequest(404, 'no such trade among yours'),
  bill_not_found: invalidRequest(404, 'no such entry in your bill'),
  trade_state_conflict: invalidRequest(409, 'the trade is not in a state that allows this'),
  refund_case_open: invalidRequest(409, 'the trade has an open refund request; finish or withdraw it first'),
  refund_case_not_found: invalidRequest(404, 'no such refund request among yours'),
  refund_case_state_conflict: invalidRequest(409, 'the refund request is not in a state that allows this'),
  refund_amount_too_large: invalidRequest(400, 'the amount exceeds what is left to refund on the trade'),
  dispute_not_found: invalidRequest(404, 'no such dispute among yours'),
  dispute_open: invalidRequest(409, 'the trade already has an open dispute'),
  dispute_window_over: invalidRequest(409, 'disputes on this trade are no longer accepted'),
  balance_not_enough: invalidRequest(402, 'the wallet balance is not enough'),
  login_failed: authenticationError('wrong phone, password or SMS code'),
  session_invalid: authenticationError(
    'send a live session token as `Authorization: Bearer <token>` (POST /api/v1/sessions)',
  ),
  login_throttled: rateLimitError(
    'too many wrong passwords for this phone or from this address; password login is paused',
  ),
  too_many_requests: rateLimitError('too many login or SMS-code requests from this address; wait and retry'),
  sms_code_too_frequent: rateLimitError('an SMS code was sent to this phone moments ago; wait before asking again'),
  idempotency_key_reused: idempotencyError(
    'this Idempotency-Key was used with a different request; use a new key for a new request',
  ),
  idempotency_request_in_progress: idempotencyError(
    'a request with this Idempotency-Key is still running; retry shortly with the same key',
  ),
  internal_error: apiError(500, 'something went wrong on our side; retry the request'),
});

export type WalletErrorCode = keyof typeof walletErrors;
export type WalletErrorType = (typeof walletErrors)[WalletErrorCode]['type'];

/** An operating error of the wallet: nothing was written (or a stored outcome is replayed). */
export class WalletError extends CatalogError<typeof walletErrors> {
  /** `login_throttled`: how long until password logins are taken again (the Retry-After). */
  retryAfterMs: number | undefined;
  constructor(code: WalletErrorCode, options: CatalogErrorOptions = {}) {
    super(walletErrors, code, options);
  }
}

export function isWalletError(error: unknown, code?: WalletErrorCode): error is WalletError {
  return error instanceof WalletError && (code === undefined || error.code === code);
}
