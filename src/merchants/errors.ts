import { authenticationError, CatalogError, catalog, invalidRequest } from '../core/catalog-error.ts';
import { limits } from '../core/limits.ts';

/**
 * The merchant portal's own refusals; everything else it answers is the members' or the trades'
 * catalog (a wrong password, a refund over the paid amount), passed on as it is.
 */
export const merchantErrors = catalog({
  session_invalid: authenticationError(
    'send a live portal session token as `Authorization: Bearer <token>` (POST /api/v1/merchant/sessions)',
  ),
  role_forbidden: { type: 'permission_error', status: 403, message: 'your role may not do this' },
  app_not_found: invalidRequest(404, 'no such app of this merchant'),
  case_not_found: invalidRequest(404, 'no such refund case of this merchant'),
  dispute_not_found: invalidRequest(404, 'no such dispute against this merchant'),
  buyer_not_found: invalidRequest(404, 'no user with this phone'),
  test_amount_invalid: invalidRequest(
    400,
    `a test payment is from ¥0.01 to ¥${limits.merchantTestPaymentFenMax / 100}, in yuan with at most 2 decimals`,
  ),
});

export type MerchantErrorCode = keyof typeof merchantErrors;

export class MerchantError extends CatalogError<typeof merchantErrors> {
  constructor(code: MerchantErrorCode, detail?: string) {
    super(merchantErrors, code, { detail });
  }
}
