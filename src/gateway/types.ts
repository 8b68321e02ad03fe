import type { Clock } from '../core/clock.ts';
import type { GatewayError } from './errors.ts';
import type { NonceStore } from './nonces.ts';
import type { PrivateKeyInput, PublicKeyInput } from './sign.ts';

/** What a method receives once the gateway has authenticated the request. */
export interface GatewayContext {
  /** The authenticated app: every lookup a method makes must be scoped to it. */
  readonly appId: string;
  /** Dotted, as in the legacy `method` parameter (`alipay.trade.query`), for both protocols. */
  readonly method: string;
  /** Legacy: `biz_content` parsed; v3: the JSON body (POST) or the query string (GET). */
  readonly bizContent: Record<string, unknown>;
  /**
   * Legacy: every public parameter but `sign` and `biz_content` (`notify_url`, `return_url`, …).
   * v3: the query string of a POST.
   */
  readonly params: Readonly<Record<string, string>>;
  readonly protocol: 'legacy' | 'v3';
}

/** A business answer: its fields go into `<method>_response` (legacy) or the body (v3). */
export interface GatewaySuccess {
  readonly body: Record<string, unknown>;
  /**
   * The order is made but waits for its buyer (Alipay's `10003`, "order success pay inprocess":
   * the buyer must confirm on their phone; the merchant queries until it is paid or closed).
   * v3 answers it as any success, the trade's status in the body.
   */
  readonly inProcess?: boolean;
}

/** A business failure: legacy `code` 40004 with `sub_code`; v3 HTTP `httpStatus` (400) with `code`. */
export interface GatewayFailure {
  readonly code: '40004';
  readonly msg: 'Business Failed';
  /** `ACQ.TRADE_NOT_EXIST`, … */
  readonly subCode: string;
  readonly subMsg: string;
  /** The v3 HTTP status; Alipay answers 400 for business failures. */
  readonly httpStatus?: number;
}

/**
 * A page method's answer (`alipay.trade.page.pay`, `.wap.pay`): the buyer's browser posted the
 * merchant's signed form to the gateway and is sent on to this URL (the cashier page).
 */
export interface GatewayRedirect {
  readonly redirect: string;
}

/**
 * A method's answer. A `GatewayError` is for the methods whose refusals Alipay answers with a
 * protocol code rather than 40004 (`alipay.system.oauth.token`'s 40002 `isv.code-invalid`,
 * `alipay.user.info.share`'s 20001 `aop.invalid-auth-token`).
 */
export type GatewayResult = GatewaySuccess | GatewayFailure | GatewayRedirect | GatewayError;

/**
 * One open API method. It throws only for bugs and outages (the caller then hears 20000 / 503);
 * every refusal a merchant can cause is a `GatewayFailure`.
 */
export type GatewayMethod = (ctx: GatewayContext) => Promise<GatewayResult>;

/** Finds an app's verification key (a PEM or, faster, a parsed KeyObject); null when there is no such app. */
export type AppResolver = (appId: string) => Promise<{ merchantPublicKey: PublicKeyInput } | null>;

/** The platform's key pair: it signs every response and notification ("alipay public key"). */
export interface PlatformKeys {
  /** A PEM, or (faster, and never written out in clear) a parsed KeyObject. */
  readonly privateKey: PrivateKeyInput;
  readonly publicKeyPem: string;
}

export interface GatewayOptions {
  readonly resolveApp: AppResolver;
  readonly platformKeys: PlatformKeys;
  /** Methods by dotted name. */
  readonly methods: Readonly<Record<string, GatewayMethod>>;
  /** Where v3 nonces are remembered; a `MemoryNonceStore` by default. */
  readonly nonces?: NonceStore;
  readonly clock?: Clock;
  /**
   * The UTC offset in which legacy `timestamp`s ("yyyy-MM-dd HH:mm:ss", no zone) are read. Alipay
   * reads them as Beijing time (480); `alipay-sdk` writes the client machine's local time. The
   * default is the server's own offset, so a merchant running in the server's zone just works.
   */
  readonly legacyUtcOffsetMinutes?: number;
  /** Told about methods that throw (the caller hears 20000 / 503). */
  readonly onMethodError?: (error: unknown, ctx: GatewayContext) => void;
}
