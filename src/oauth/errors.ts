import {
  authenticationError,
  CatalogError,
  type CatalogErrorOptions,
  catalog,
  invalidRequest,
} from '../core/catalog-error.ts';
import { limits } from '../core/limits.ts';

/**
 * The user authorisation module's catalog. A refusal writes nothing. The gateway answers the
 * token refusals with Alipay's codes (`isv.code-invalid`, `aop.invalid-auth-token` …,
 * src/server/oauth-methods.ts); the authorise page shows the request refusals as a page, never
 * sending the user on to an address it could not check.
 */
export const oauthErrors = catalog({
  app_not_found: invalidRequest(404, 'no such app'),
  redirect_uri_not_registered: invalidRequest(
    400,
    'this app has no authorisation callback address registered, so it cannot ask users to authorise it',
  ),
  redirect_uri_invalid: invalidRequest(
    400,
    `redirect_uri must be an http or https URL of at most ${limits.oauthRedirectUriLengthMax} characters, without a fragment`,
  ),
  redirect_uri_mismatch: invalidRequest(
    400,
    'redirect_uri is not on the authorisation callback address this app registered (scheme, host and port must match)',
  ),
  scope_invalid: invalidRequest(
    400,
    'scope must be one or more of auth_base, auth_user and auth_zhima, separated by commas',
  ),
  state_invalid: invalidRequest(400, `state must be at most ${limits.oauthStateLengthMax} characters`),
  grant_type_invalid: invalidRequest(400, 'grant_type must be authorization_code or refresh_token'),
  code_invalid: invalidRequest(400, 'the authorisation code is unknown, used, expired, or not this app’s'),
  refresh_token_invalid: invalidRequest(400, 'the refresh token is unknown, used, revoked, or not this app’s'),
  refresh_token_expired: invalidRequest(400, 'the refresh token has expired; ask the user to authorise again'),
  access_token_invalid: authenticationError('the access token is unknown, revoked, or not this app’s'),
  access_token_expired: authenticationError('the access token has expired; refresh it'),
  scope_insufficient: invalidRequest(
    403,
    'the user did not authorise the scope this method needs (auth_user, auth_zhima)',
  ),
  authorization_not_found: invalidRequest(404, 'you have not authorised this app'),
});

export type OAuthErrorCode = keyof typeof oauthErrors;

/** An operating error of the user authorisation module, carrying its catalog entry. */
export class OAuthError extends CatalogError<typeof oauthErrors> {
  constructor(code: OAuthErrorCode, options: CatalogErrorOptions = {}) {
    super(oauthErrors, code, options);
  }
}

/** True when `error` is an OAuthError, and of one of `codes` when any are given. */
export function isOAuthError(error: unknown, ...codes: OAuthErrorCode[]): error is OAuthError {
  return error instanceof OAuthError && (codes.length === 0 || codes.includes(error.code));
}
