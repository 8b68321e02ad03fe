/**
 * The open gateway's protocol layer, wire-compatible with the Alipay Open Platform: signatures
 * (legacy RSA2/RSA and v3), the timestamp window, v3 replay refusal, the error catalog and the
 * method registry. The trade methods live elsewhere and plug in as `GatewayMethod`s.
 */
export {
  amount,
  type BizOf,
  type BizRefusal,
  type BizSchema,
  bizSchema,
  checkBizContent,
  maybe,
  merchantNo,
  oneOf,
  relativeTime,
  text,
} from './biz-content.ts';
export {
  type GatewayCode,
  type GatewayError,
  type GatewayErrorSubCode,
  gatewayCodes,
  gatewayError,
  gatewayErrors,
  v3ErrorCode,
} from './errors.ts';
export {
  Gateway,
  type GatewayResponse,
  type LegacyRequest,
  legacyResponseKey,
  type V3Request,
  v3MethodOf,
} from './gateway.ts';
export { DbNonceStore, gatewayMigrations, MemoryNonceStore, type NonceClaim, type NonceStore } from './nonces.ts';
export {
  isSignType,
  legacyResponseBody,
  legacySignContent,
  rsaSign,
  rsaSignAsync,
  rsaVerify,
  type SignType,
  signLegacyRequest,
  signNotification,
  signNotificationAsync,
  verifyLegacyRequest,
  verifyNotification,
} from './sign.ts';
export type {
  AppResolver,
  GatewayContext,
  GatewayFailure,
  GatewayMethod,
  GatewayOptions,
  GatewayRedirect,
  GatewayResult,
  GatewaySuccess,
  PlatformKeys,
} from './types.ts';
export {
  parseV3Authorization,
  type V3Authorization,
  v3Authorization,
  v3AuthScheme,
  v3RequestSignContent,
  v3ResponseSignContent,
} from './v3.ts';
