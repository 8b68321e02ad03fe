/** User authorisation for merchants: Alipay's OAuth 2.0, codes, tokens, open ids (docs/oauth.md). */
export {
  Authorizations,
  type AuthorizationView,
  type AuthorizeParams,
  type AuthorizeRequest,
  type IssuedTokens,
  type OAuthApp,
  type OAuthParties,
  type TokenOwner,
} from './authorizations.ts';
export { isOAuthError, OAuthError, type OAuthErrorCode, oauthErrors } from './errors.ts';
export { oauthMigrations } from './migrations.ts';
export { type Scope, scopeNames } from './scopes.ts';
