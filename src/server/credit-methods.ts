/**
 * Sesame credit on the open gateway: `zhima.credit.score.get` answers, for a user's `auth_token`
 * granted `auth_zhima`, the user's score now as `zm_score` ("350"–"950", or "N/A" with too little
 * data) under a `biz_no`. The merchant's `transaction_id` is de-duplicated for 24 hours: the same
 * id answers the same result (the same `biz_no` and score), and is refused for another user.
 * `auth_token` is a public parameter (legacy) or the query string's (v3), as for
 * `alipay.user.info.share`; a token without `auth_zhima` gets `aop.invalid-auth-token`, the reason
 * in `sub_msg`. The credit module's refusals are 40004 under `ZMCREDIT.` (docs/credit.md).
 */
import { type Credit, type CreditErrorCode, creditErrors, isCreditError } from '../credit/index.ts';
import {
  checkBizContent,
  type GatewayContext,
  type GatewayMethod,
  type GatewayResult,
  gatewayError,
} from '../gateway/index.ts';
import { type Authorizations, isOAuthError } from '../oauth/index.ts';
import { bizSchemas } from './biz-schemas.ts';

export interface CreditMethodDeps {
  credit: Credit;
  oauth: Authorizations;
}

const zhimaSubCodes: Partial<Record<CreditErrorCode, string>> = {
  transaction_id_invalid: 'ZMCREDIT.invalid_parameter',
  transaction_id_reused: 'ZMCREDIT.transaction_id_reused',
  user_not_found: 'ZMCREDIT.user_not_found',
};

function failure(subCode: string, subMsg: string): GatewayResult {
  return { code: '40004', msg: 'Business Failed', subCode, subMsg };
}

/** The user's token: a legacy public parameter, or the v3 query string's. */
function authToken(ctx: GatewayContext): string {
  const value = ctx.params.auth_token ?? ctx.bizContent.auth_token;
  return typeof value === 'string' ? value : '';
}

export function creditMethods({ credit, oauth }: CreditMethodDeps): Record<string, GatewayMethod> {
  return {
    'zhima.credit.score.get': async (ctx) => {
      const checked = checkBizContent(bizSchemas['zhima.credit.score.get'], ctx.bizContent);
      if ('failure' in checked) return checked.failure;
      try {
        const owner = await oauth.owner(ctx.appId, authToken(ctx));
        if (!owner.scopes.includes('auth_zhima')) {
          return gatewayError(
            'aop.invalid-auth-token',
            '该令牌未获 auth_zhima 授权 · the user did not allow auth_zhima',
          );
        }
        const answer = await credit.answerApp(ctx.appId, checked.value.transaction_id, owner.userId);
        return { body: { biz_no: answer.bizNo, zm_score: answer.zmScore } };
      } catch (error) {
        if (isOAuthError(error, 'access_token_invalid')) return gatewayError('aop.invalid-auth-token');
        if (isOAuthError(error, 'access_token_expired')) return gatewayError('aop.auth-token-time-out');
        const subCode = isCreditError(error) ? zhimaSubCodes[error.code] : undefined;
        if (subCode && isCreditError(error)) return failure(subCode, creditErrors[error.code].message);
        throw error;
      }
    },
  };
}
