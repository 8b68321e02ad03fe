import { authenticationError, CatalogError, catalog, invalidRequest, rateLimitError } from '../core/catalog-error.ts';
import { limits } from '../core/limits.ts';

/**
 * Every operating error of the members module: bad input or a state the caller must handle, never
 * a bug (bugs are assertions). Each code has its HTTP status and its message, documented once; the
 * gateway and the native API map them to their own wire formats. Codes are never renamed.
 */
export const membersErrors = catalog({
  phone_invalid: invalidRequest(
    400,
    'phone must be a mainland China mobile number (1 and 10 more digits) or E.164 (+ and 8 to 15 digits)',
  ),
  phone_taken: invalidRequest(409, 'a user with this phone already exists'),
  password_invalid: invalidRequest(
    400,
    `password must be ${limits.passwordLengthMin} to ${limits.passwordLengthMax} characters`,
  ),
  amount_invalid: invalidRequest(400, 'amount must be a whole number of fen from 0 up to the ledger maximum'),
  login_failed: authenticationError('wrong phone or password'),
  login_throttled: rateLimitError(
    'too many wrong passwords for this phone or from this address; password login is paused',
  ),
  sms_code_too_frequent: rateLimitError('an SMS code was sent to this phone moments ago; wait before asking again'),
  sms_code_invalid: authenticationError('wrong or unknown SMS code'),
  sms_code_expired: authenticationError('the SMS code has expired; ask for a new one'),
  sms_code_attempts_exceeded: authenticationError('too many wrong guesses for this SMS code; ask for a new one'),
  user_not_found: invalidRequest(404, 'no such user'),
  staff_not_found: invalidRequest(404, 'no such member of staff'),
  staff_name_invalid: invalidRequest(
    400,
    `a staff name must be 1 to ${limits.staffNameLengthMax} characters, not all blank`,
  ),
  staff_role_invalid: invalidRequest(400, 'role must be owner, finance or support'),
  merchant_not_found: invalidRequest(404, 'no such merchant'),
  app_not_found: invalidRequest(404, 'no such app'),
  app_name_invalid: invalidRequest(400, `app name must be 1 to ${limits.appNameLengthMax} characters, not all blank`),
  merchant_public_key_invalid: invalidRequest(
    400,
    `merchant public key must be an RSA public key of at least ${limits.rsaKeyBitsMin} bits, PEM or bare base64`,
  ),
  notify_url_invalid: invalidRequest(
    400,
    `notify URL must be an http or https URL of at most ${limits.notifyUrlLengthMax} characters`,
  ),
  auth_redirect_url_invalid: invalidRequest(
    400,
    `authorisation callback address must be an http or https URL of at most ${limits.notifyUrlLengthMax} characters, without a fragment`,
  ),
  payment_code_invalid: invalidRequest(400, 'payment code must be 18 digits starting with 28'),
  payment_code_not_found: invalidRequest(404, 'no such payment code'),
  payment_code_expired: invalidRequest(410, 'the payment code has expired'),
  payment_code_used: invalidRequest(409, 'the payment code has already been used'),
  account_frozen: invalidRequest(
    403,
    'this account is frozen by Paybao: it cannot pay, transfer or withdraw; nothing was paid — contact Paybao support',
  ),
  account_not_frozen: invalidRequest(409, 'this account is not frozen'),
  operator_not_found: invalidRequest(404, 'no such operator'),
  operator_name_taken: invalidRequest(409, 'another operator logs in with this name'),
});

export type MembersErrorCode = keyof typeof membersErrors;

/** An operating error of the members module, carrying its catalog entry. */
export class MembersError extends CatalogError<typeof membersErrors> {
  /** `login_throttled`: how long until password logins are taken again. */
  retryAfterMs: number | undefined;
  constructor(code: MembersErrorCode, detail?: string) {
    super(membersErrors, code, { detail });
  }
}

/** True when `error` is a MembersError, and of `code` when one is given. */
export function isMembersError(error: unknown, code?: MembersErrorCode): error is MembersError {
  return error instanceof MembersError && (code === undefined || error.code === code);
}
