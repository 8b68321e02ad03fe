import { CatalogError, type CatalogErrorOptions, catalog, invalidRequest } from '../core/catalog-error.ts';
import { limits } from '../core/limits.ts';

/**
 * The credit module's catalog (docs/credit.md). A refusal writes nothing. The gateway answers
 * `zhima.credit.score.get`'s with Alipay's codes (src/server/credit-methods.ts).
 */
export const creditErrors = catalog({
  user_not_found: invalidRequest(404, 'no such user'),
  real_name_invalid: invalidRequest(
    400,
    `the name must be 1 to ${limits.creditRealNameCharsMax} characters of letters, with spaces or a middle dot (·) between them`,
  ),
  id_number_invalid: invalidRequest(
    400,
    'the identity number must be an 18-character PRC resident identity number whose birth date and check character are right',
  ),
  id_number_taken: invalidRequest(409, 'this identity number is verified for another account already'),
  real_name_verified: invalidRequest(
    409,
    'your real name is verified already, with another identity number: one account has one identity',
  ),
  transaction_id_invalid: invalidRequest(400, 'transaction_id must be 1 to 64 letters, digits, - or _'),
  transaction_id_reused: invalidRequest(409, 'this transaction_id was used for another user within 24 hours'),
});

export type CreditErrorCode = keyof typeof creditErrors;

/** An operating error of the credit module, carrying its catalog entry. */
export class CreditError extends CatalogError<typeof creditErrors> {
  constructor(code: CreditErrorCode, options: CatalogErrorOptions = {}) {
    super(creditErrors, code, options);
  }
}

/** True when `error` is a CreditError, and of one of `codes` when any are given. */
export function isCreditError(error: unknown, ...codes: CreditErrorCode[]): error is CreditError {
  return error instanceof CreditError && (codes.length === 0 || codes.includes(error.code));
}
