import { type CatalogEntry, CatalogError } from '../core/catalog-error.ts';
import { limits } from '../core/limits.ts';

/**
 * Every operating error of the members module: bad input or a state the caller must handle, never
 * a bug (bugs are assertions). Each code has its HTTP status and its message, documented once; the
 * gateway and the native API map them to their own wire formats. Codes are never renamed.
 */
export const membersErrors = {
  phone_invalid: {
    type: 'invalid_request_error',
    status: 400,
    message: 'phone must be a mainland China mobile number (1 and 10 more digits) or E.164 (+ and 8 to 15 digits)',
  },
  phone_taken: { type: 'invalid_request_error', status: 409, message: 'a user with this phone already exists' },
  password_invalid: {
    type: 'invalid_request_error',
    status: 400,
    message: `password must be ${limits.passwordLengthMin} to ${limits.passwordLengthMax} characters`,
  },
  amount_invalid: {
    type: 'invalid_request_error',
    status: 400,
    message: 'amount must be a whole number of fen from 0 up to the ledger maximum',
  },
  login_failed: { type: 'authentication_error', status: 401, message: 'wrong phone or password' },
  login_throttled: {
    type: 'rate_limit_error',
    status: 429,
    message: 'too many wrong passwords for this phone or from this address; password login is paused',
  },
  sms_code_too_frequent: {
    type: 'rate_limit_error',
    status: 429,
    message: 'an SMS code was sent to this phone moments ago; wait before asking again',
  },
  sms_code_invalid: { type: 'authentication_error', status: 401, message: 'wrong or unknown SMS code' },
  sms_code_expired: {
    type: 'authentication_error',
    status: 401,
    message: 'the SMS code has expired; ask for a new one',
  },
  sms_code_attempts_exceeded: {
    type: 'authentication_error',
    status: 401,
    message: 'too many wrong guesses for this SMS code; ask for a new one',
  },
  user_not_found: { type: 'invalid_request_error', status: 404, message: 'no such user' },
  merchant_not_found: { type: 'invalid_request_error', status: 404, message: 'no such merchant' },
  app_not_found: { type: 'invalid_request_error', status: 404, message: 'no such app' },
  app_name_invalid: {
    type: 'invalid_request_error',
    status: 400,
    message: `app name must be 1 to ${limits.appNameLengthMax} characters, not all blank`,
  },
  merchant_public_key_invalid: {
    type: 'invalid_request_error',
    status: 400,
    message: `merchant public key must be an RSA public key of at least ${limits.rsaKeyBitsMin} bits, PEM or bare base64`,
  },
  notify_url_invalid: {
    type: 'invalid_request_error',
    status: 400,
    message: `notify URL must be an http or https URL of at most ${limits.notifyUrlLengthMax} characters`,
  },
  payment_code_invalid: {
    type: 'invalid_request_error',
    status: 400,
    message: 'payment code must be 18 digits starting with 28',
  },
  payment_code_not_found: { type: 'invalid_request_error', status: 404, message: 'no such payment code' },
  payment_code_expired: { type: 'invalid_request_error', status: 410, message: 'the payment code has expired' },
  payment_code_used: { type: 'invalid_request_error', status: 409, message: 'the payment code has already been used' },
} as const satisfies Record<string, CatalogEntry>;

export type MembersErrorCode = keyof typeof membersErrors;

/** An operating error of the members module, carrying its catalog entry. */
export class MembersError extends CatalogError<typeof membersErrors> {
  declare readonly code: MembersErrorCode;
  /** `login_throttled`: how long until password logins are taken again. */
  retryAfterMs: number | undefined;
  constructor(code: MembersErrorCode, detail?: string) {
    super(membersErrors, code, { detail });
    this.name = 'MembersError';
  }
}

/** True when `error` is a MembersError, and of `code` when one is given. */
export function isMembersError(error: unknown, code?: MembersErrorCode): error is MembersError {
  return error instanceof MembersError && (code === undefined || error.code === code);
}
