/**
 * The channels' one error catalog: every operating error of a top-up, a card binding or a
 * withdrawal, with its `type`, HTTP status and message. A refusal writes nothing (or replays a
 * stored outcome). The native API answers `{type, code, message, param}` from it.
 */
import {
  apiError,
  CatalogError,
  type CatalogErrorOptions,
  catalog,
  idempotencyError,
  invalidRequest,
} from '../core/catalog-error.ts';

export const channelErrors = catalog({
  parameter_invalid: invalidRequest(400, 'a parameter is malformed'),
  amount_invalid: invalidRequest(400, 'amount must be a decimal string of yuan with at most 2 places, above zero'),
  bank_not_found: invalidRequest(404, 'no such bank'),
  no_bank_available: invalidRequest(400, 'no bank takes this amount today (per-payment or per-day limit)'),
  payment_limit_exceeded: invalidRequest(400, "the amount is above the bank's per-payment limit"),
  daily_limit_exceeded: invalidRequest(400, "the amount would pass the bank's per-day limit for you"),
  user_not_found: invalidRequest(404, 'no such user'),
  card_not_found: invalidRequest(404, 'no such card among yours'),
  card_not_active: invalidRequest(409, 'the card is not bound yet: confirm it with the SMS code first'),
  card_rejected: invalidRequest(400, 'the bank did not accept the card number, name and phone together'),
  sms_code_invalid: invalidRequest(400, 'the SMS code is wrong or expired'),
  balance_not_enough: invalidRequest(402, 'the wallet balance is not enough'),
  order_not_found: invalidRequest(404, 'no such channel order among yours'),
  idempotency_key_reused: idempotencyError(
    'this Idempotency-Key was used with a different request; use a new key for a new request',
  ),
  bank_unavailable: apiError(503, 'the bank did not answer; nothing was charged, try again later'),
  statement_unavailable: apiError(
    503,
    "the bank did not deliver the day's statement, so nothing was reconciled; try again later",
  ),
  bank_refused: apiError(502, 'the bank refused the request'),
});

export type ChannelErrorCode = keyof typeof channelErrors;

/** An operating error of the channels: nothing was written, or a stored outcome is replayed. */
export class ChannelError extends CatalogError<typeof channelErrors> {
  constructor(code: ChannelErrorCode, options: CatalogErrorOptions = {}) {
    super(channelErrors, code, options);
  }
}

export function isChannelError(error: unknown, code?: ChannelErrorCode): error is ChannelError {
  return error instanceof ChannelError && (code === undefined || error.code === code);
}
