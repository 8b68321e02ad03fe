/**
 * User authorisation on the open gateway (docs/oauth.md): `alipay.system.oauth.token` exchanges
 * an `auth_code` (`grant_type=authorization_code`) or a refresh token (`refresh_token`) for a
 * token pair, and `alipay.user.info.share` answers, for a user's `auth_token`, what the user
 * allowed the app to read. Legacy: `grant_type`, `code`, `refresh_token` and `auth_token` are
 * public parameters, as in Alipay's SDKs; v3: the first three are the JSON body's, `auth_token`
 * the query string's. No `biz_content`, so no schema in biz-schemas.ts: each field is checked here.
 *
 * Alipay refuses these with protocol codes, not 40004: 40002 `isv.code-invalid`,
 * `isv.refresh-token-invalid` …, 20001 `aop.invalid-auth-token`, `aop.auth-token-time-out`. A
 * token granted `auth_base` alone gets `aop.invalid-auth-token` from `alipay.user.info.share`, as
 * Alipay answers it, with the reason in `sub_msg`.
 */
import { beijingTime } from '../core/time.ts';
import {
  type GatewayContext,
  type GatewayErrorSubCode,
  type GatewayMethod,
  type GatewayResult,
  gatewayError,
} from '../gateway/index.ts';
import { type Authorizations, isOAuthError, OAuthError, type OAuthErrorCode } from '../oauth/index.ts';
import type { Social } from '../social/index.ts';

export interface OAuthMethodDeps {
  oauth: Authorizations;
  /** The nickname a user chose (the social profile): `nick_name`. */
  social: Social;
}

/** Alipay's codes for the refusals these methods make; the rest are the authorise page's. */
const subCodes: Partial<Record<OAuthErrorCode, GatewayErrorSubCode>> = {
  grant_type_invalid: 'isv.grant-type-invalid',
  code_invalid: 'isv.code-invalid',
  refresh_token_invalid: 'isv.refresh-token-invalid',
  refresh_token_expired: 'isv.refresh-token-time-out',
  access_token_invalid: 'aop.invalid-auth-token',
  access_token_expired: 'aop.auth-token-time-out',
  scope_insufficient: 'aop.invalid-auth-token',
};

/** The details Alipay's message gets, where the code alone does not say why. */
const details: Partial<Record<OAuthErrorCode, string>> = {
  scope_insufficient: '该令牌仅获 auth_base 授权，未获 auth_user 授权 · the user allowed auth_base only',
};

/** A field of the request: a legacy public parameter, or a string of the v3 body. */
function field(ctx: GatewayContext, name: string): string | undefined {
  const value = ctx.params[name] ?? ctx.bizContent[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Runs `body`, answering the module's refusals with Alipay's codes. */
function refusing(body: (ctx: GatewayContext) => Promise<GatewayResult>): GatewayMethod {
  return async (ctx) => {
    try {
      return await body(ctx);
    } catch (error) {
      const subCode = isOAuthError(error) ? subCodes[error.code] : undefined;
      if (!subCode || !isOAuthError(error)) throw error;
      return gatewayError(subCode, details[error.code]);
    }
  };
}

/** `alipay.system.oauth.token` and `alipay.user.info.share`. */
export function oauthMethods({ oauth, social }: OAuthMethodDeps): Record<string, GatewayMethod> {
  return {
    'alipay.system.oauth.token': refusing(async (ctx) => {
      const grantType = field(ctx, 'grant_type');
      let issued: Awaited<ReturnType<Authorizations['refresh']>>;
      if (grantType === 'authorization_code') issued = await oauth.exchangeCode(ctx.appId, field(ctx, 'code') ?? '');
      else if (grantType === 'refresh_token')
        issued = await oauth.refresh(ctx.appId, field(ctx, 'refresh_token') ?? '');
      else throw new OAuthError('grant_type_invalid', { param: 'grant_type' });
      return {
        body: {
          user_id: issued.userId,
          open_id: issued.openId,
          access_token: issued.accessToken,
          expires_in: issued.expiresInS,
          refresh_token: issued.refreshToken,
          re_expires_in: issued.reExpiresInS,
          auth_start: beijingTime(issued.authStart),
        },
      };
    }),
    'alipay.user.info.share': refusing(async (ctx) => {
      const owner = await oauth.owner(ctx.appId, field(ctx, 'auth_token') ?? '');
      if (!owner.scopes.includes('auth_user')) throw new OAuthError('scope_insufficient', { param: 'auth_token' });
      const profile = await social.friends.profile(owner.userId);
      return { body: { user_id: owner.userId, open_id: owner.openId, nick_name: profile.nickname ?? undefined } };
    }),
  };
}
