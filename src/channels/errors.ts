/**
 * The channels' one error catalog: every operating error of a top-up, a card binding or a
 * withdrawal, with its `type`, HTTP status and message. A refusal writes nothing (or replays a
 * stored outcome). The native API answers `{type, code, message, param}` from it.
 */
import { CatalogError } from '../core/catalog-error.ts';

export const channelErrors = {
  parameter_invalid: { type: 'invalid_request_error', status: 400, message: 'a parameter is malformed' },
  amount_invalid: {
    type: 'invalid_request_error',
    status: 400,
    message: 'amount must be a decimal string of yuan with at most 2 places, above zero',
  },
  bank_not_found: { type: 'invalid_request_error', status: 404, message: 'no such bank' },
  no_bank_available: {
    type: 'invalid_request_error',
    status: 400,
    message: 'no bank takes this amount today (per-payment or per-day limit)',
  },
  payment_limit_exceeded: {
    type: 'invalid_request_error',
    status: 400,
    message: "the amount is above the bank's per-payment limit",
  },
  daily_limit_exceeded: {
    type: 'invalid_request_error',
    status: 400,
    message: "the amount would pass the bank's per-day limit for you",
  },
  user_not_found: { type: 'invalid_request_error', status: 404, message: 'no such user' },
  card_not_found: { type: 'invalid_request_error', status: 404, message: 'no such card among yours' },
  card_not_active: {
    type: 'invalid_request_error',
    status: 409,
    message: 'the card is not bound yet: confirm it with the SMS code first',
  },
  card_rejected: {
    type: 'invalid_request_error',
    status: 400,
    message: 'the bank did not accept the card number, name and phone together',
  },
  sms_code_invalid: { type: 'invalid_request_error', status: 400, message: 'the SMS code is wrong or expired' },
  balance_not_enough: { type: 'invalid_request_error', status: 402, message: 'the wallet balance is not enough' },
  order_not_found: { type: 'invalid_request_error', status: 404, message: 'no such channel order among yours' },
  idempotency_key_reused: {
    type: 'idempotency_error',
    status: 409,
    message: 'this Idempotency-Key was used with a different request; use a new key for a new request',
  },
  bank_unavailable: {
    type: 'api_error',
    status: 503,
    message: 'the bank did not answer; nothing was charged, try again later',
  },
  statement_unavailable: {
    type: 'api_error',
    status: 503,
    message: "the bank did not deliver the day's statement, so nothing was reconciled; try again later",
  },
  bank_refused: { type: 'api_error', status: 502, message: 'the bank refused the request' },
} as const satisfies Record<string, { type: string; status: number; message: string }>;

export type ChannelErrorCode = keyof typeof channelErrors;

/** An operating error of the channels: nothing was written, or a stored outcome is replayed. */
export class ChannelError extends CatalogError<typeof channelErrors> {
  declare readonly code: ChannelErrorCode;
  constructor(code: ChannelErrorCode, options: { param?: string | undefined; detail?: string | undefined } = {}) {
    super(channelErrors, code, options);
    this.name = 'ChannelError';
  }
}

export function isChannelError(error: unknown, code?: ChannelErrorCode): error is ChannelError {
  return error instanceof ChannelError && (code === undefined || error.code === code);
}
