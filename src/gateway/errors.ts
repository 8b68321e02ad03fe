/**
 * The open gateway's one error catalog: Alipay's public codes (https://opendocs.alipay.com/common/02km9f)
 * keyed by their `sub_code`, each with the gateway `code` and `msg` of the legacy protocol and the
 * HTTP status of the v3 protocol. A few entries Alipay does not document are Paybao's and say so.
 *
 * Business errors (`40004` with `ACQ.*` sub-codes) are not here: they belong to the methods that
 * raise them and reach the gateway as a `GatewayFailure`.
 */

/** Alipay's gateway codes and their fixed messages. */
export const gatewayCodes = {
  '10000': 'Success',
  '10003': 'order success pay inprocess',
  '20000': 'Service Currently Unavailable',
  '20001': 'Insufficient Token Permissions',
  '40001': 'Missing Required Arguments',
  '40002': 'Invalid Arguments',
  '40004': 'Business Failed',
  '40006': 'Insufficient Permissions',
} as const;

export type GatewayCode = keyof typeof gatewayCodes;

interface ErrorSpec {
  readonly code: Exclude<GatewayCode, '10000' | '10003'>;
  readonly subMsg: string;
  /** The HTTP status a v3 request gets for this error (legacy answers are always 200). */
  readonly v3Status: number;
}

export const gatewayErrors = {
  'isp.unknow-error': { code: '20000', subMsg: '服务暂不可用（业务系统不可用）', v3Status: 503 },
  'aop.invalid-app-auth-token': { code: '20001', subMsg: '无效的应用授权令牌', v3Status: 401 },
  // User authorisation (alipay.user.info.share and other methods taking a user's auth_token).
  'aop.invalid-auth-token': { code: '20001', subMsg: '无效的访问令牌', v3Status: 401 },
  'aop.auth-token-time-out': { code: '20001', subMsg: '访问令牌已过期', v3Status: 401 },
  'isv.missing-method': { code: '40001', subMsg: '缺少方法名参数', v3Status: 400 },
  'isv.missing-signature': { code: '40001', subMsg: '缺少签名参数', v3Status: 401 },
  'isv.missing-signature-type': { code: '40001', subMsg: '缺少签名类型参数', v3Status: 401 },
  'isv.missing-app-id': { code: '40001', subMsg: '缺少appId参数', v3Status: 401 },
  'isv.missing-timestamp': { code: '40001', subMsg: '缺少时间戳参数', v3Status: 401 },
  'isv.missing-version': { code: '40001', subMsg: '缺少版本参数', v3Status: 400 },
  'isv.invalid-parameter': { code: '40002', subMsg: '参数无效', v3Status: 400 },
  'isv.invalid-method': { code: '40002', subMsg: '不存在的方法名', v3Status: 404 },
  'isv.invalid-format': { code: '40002', subMsg: '无效的数据格式', v3Status: 400 },
  'isv.invalid-signature-type': { code: '40002', subMsg: '无效的签名类型', v3Status: 401 },
  'isv.invalid-signature': { code: '40002', subMsg: '无效签名', v3Status: 401 },
  'isv.invalid-app-id': { code: '40002', subMsg: '无效的AppID参数', v3Status: 401 },
  'isv.invalid-timestamp': { code: '40002', subMsg: '非法的时间戳参数', v3Status: 401 },
  'isv.invalid-charset': { code: '40002', subMsg: '字符集错误', v3Status: 400 },
  'isv.invalid-content-type': { code: '40002', subMsg: '无效的 content-type', v3Status: 415 },
  /** Paybao's: a v3 nonce seen before within the timestamp window (a replayed request). */
  'isv.invalid-nonce': { code: '40002', subMsg: '重复的 nonce，请求被视为重放', v3Status: 401 },
  /** Paybao's: the body exceeds `limits.gatewayBodyBytesMax`. */
  'isv.request-too-large': { code: '40002', subMsg: '请求体过大', v3Status: 413 },
  /** Paybao's: AES-encrypted request bodies (`encrypt_type`, `alipay-encrypt-type`) are not offered. */
  'isv.encrypt-not-supported': { code: '40002', subMsg: '不支持加密请求', v3Status: 400 },
  // alipay.system.oauth.token's own (its v3 page lists them with HTTP 400).
  'isv.grant-type-invalid': { code: '40002', subMsg: 'grant_type参数不正确', v3Status: 400 },
  'isv.code-invalid': { code: '40002', subMsg: '授权码code无效', v3Status: 400 },
  'isv.refresh-token-invalid': { code: '40002', subMsg: '刷新令牌refresh_token无效', v3Status: 400 },
  'isv.refresh-token-time-out': { code: '40002', subMsg: '刷新令牌refresh_token过期', v3Status: 400 },
  'isv.insufficient-isv-permissions': { code: '40006', subMsg: 'ISV权限不足', v3Status: 403 },
} as const satisfies Record<string, ErrorSpec>;

export type GatewayErrorSubCode = keyof typeof gatewayErrors;

/** A protocol error ready to be written in either protocol. */
export interface GatewayError {
  readonly code: Exclude<GatewayCode, '10000' | '10003'>;
  readonly msg: string;
  readonly subCode: string;
  readonly subMsg: string;
  readonly v3Status: number;
}

/** The catalog entry for `subCode`, with `detail` appended to its message when given. */
export function gatewayError(subCode: GatewayErrorSubCode, detail?: string): GatewayError {
  const spec: ErrorSpec = gatewayErrors[subCode];
  const subMsg = detail ? `${spec.subMsg}：${detail}` : spec.subMsg;
  return { code: spec.code, msg: gatewayCodes[spec.code], subCode, subMsg, v3Status: spec.v3Status };
}

/**
 * The v3 `code` of an error: Alipay's v3 protocol errors drop the `isv.`/`isp.`/`aop.` namespace
 * (`invalid-auth-token`), while business codes keep theirs (`ACQ.TRADE_NOT_EXIST`).
 */
export function v3ErrorCode(subCode: string): string {
  return subCode.replace(/^(isv|isp|aop)\./, '');
}
