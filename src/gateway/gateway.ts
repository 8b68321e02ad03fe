/**
 * The open gateway's protocol engine, free of HTTP framework code: it takes what arrived (query,
 * form, headers, raw body), authenticates it, calls the method, and answers the exact bytes,
 * status and headers to send. `src/server/gateway.ts` only moves these between Fastify and here.
 *
 * Every request gets an Alipay answer; nothing a client sends makes it throw.
 */
import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../core/clock.ts';
import { limits } from '../core/limits.ts';
import { findUnreadableText } from '../core/text.ts';
import { type GatewayError, gatewayCodes, gatewayError, v3ErrorCode } from './errors.ts';
import { MemoryNonceStore, type NonceStore } from './nonces.ts';
import {
  isSignType,
  legacyResponseBody,
  privateKeyObject,
  rsaSignAsync,
  rsaVerify,
  type SignType,
  verifyLegacyRequest,
} from './sign.ts';
import type { GatewayContext, GatewayMethod, GatewayOptions, GatewayResult } from './types.ts';
import { parseV3Authorization, v3RequestSignContent, v3ResponseSignContent } from './v3.ts';

/** What to send back: the server writes these verbatim. */
export interface GatewayResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface LegacyRequest {
  /** The parsed query string (values may be arrays when a key repeats). */
  readonly query: unknown;
  /** The parsed form body, or undefined when there is none. */
  readonly form: unknown;
}

export interface V3Request {
  readonly httpMethod: string;
  /** The request target exactly as on the request line: path and query string. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body text; '' for none. */
  readonly body: string;
}

type Headers = V3Request['headers'];
type Params = Record<string, string>;
type Authenticated = { readonly appId: string };

const jsonType = 'application/json;charset=utf-8';
const reservedResponseKeys = new Set(['code', 'msg', 'sub_code', 'sub_msg']);
const v3PathPattern = /^\/v3\/((?:alipay|paybao|zhima)(?:\/[a-z0-9_]+)+)$/;
const legacyTimestampPattern = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** `alipay.trade.query` → `alipay_trade_query_response`. */
export const legacyResponseKey = (method: string): string => `${method.replaceAll('.', '_')}_response`;

/**
 * `/v3/alipay/trade/query` → `alipay.trade.query` (and Paybao's own `/v3/paybao/trade/ship` →
 * `paybao.trade.ship`, and Sesame credit's `/v3/zhima/credit/score/get`); undefined for any other path.
 */
export function v3MethodOf(pathname: string): string | undefined {
  return v3PathPattern.exec(pathname)?.[1]?.replaceAll('/', '.');
}

const isFailure = (result: GatewayResult | GatewayError): result is Extract<GatewayResult, { code: '40004' }> =>
  'code' in result;
const isRedirect = (result: GatewayResult | GatewayError): result is Extract<GatewayResult, { redirect: string }> =>
  'redirect' in result;
const isError = (value: unknown): value is GatewayError =>
  typeof value === 'object' && value !== null && 'v3Status' in value;

function headerOf(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Merges query string and form into one flat parameter set. A key that repeats (within one or
 * across both) is refused: which copy was signed would be ambiguous.
 */
function collectParams(query: unknown, form: unknown): { params: Params; problem?: GatewayError } {
  const params: Params = Object.create(null);
  let problem: GatewayError | undefined;
  if (form !== undefined && (typeof form !== 'object' || form === null) && form !== '') {
    problem = gatewayError('isv.invalid-content-type', '请以 application/x-www-form-urlencoded 提交');
  }
  for (const source of [query, form]) {
    if (typeof source !== 'object' || source === null) continue;
    for (const [key, value] of Object.entries(source)) {
      if (typeof value !== 'string' || Object.hasOwn(params, key)) {
        problem ??= gatewayError('isv.invalid-parameter', `参数 ${key} 重复`);
        continue;
      }
      params[key] = value;
    }
  }
  return problem ? { params, problem } : { params };
}

/**
 * A JSON object from `text`. A string in it holding NUL or an unpaired surrogate (JSON escapes
 * can write both) is refused here, naming the field: no module could store or compare it.
 */
function parseObject(text: string, what: string): Record<string, unknown> | GatewayError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return gatewayError('isv.invalid-parameter', `${what} 不是合法的 JSON 对象`);
  }
  const unreadable = findUnreadableText(value);
  if (unreadable !== undefined) {
    return gatewayError('isv.invalid-parameter', `参数 ${unreadable} 含有 NUL 字符或不成对的代理字符`);
  }
  return value as Record<string, unknown>;
}

export class Gateway {
  readonly #options: GatewayOptions;
  readonly #privateKey: ReturnType<typeof privateKeyObject>;
  readonly #nonces: NonceStore;
  readonly #clock: Clock;
  readonly #legacyOffsetMs: number;
  /** Busy answers by method, sign type and error, with when they were signed (see `busy`). */
  readonly #busyAnswers = new Map<string, { signedMs: number; response: Promise<GatewayResponse> }>();

  constructor(options: GatewayOptions) {
    this.#options = options;
    this.#privateKey = privateKeyObject(options.platformKeys.privateKey);
    this.#nonces = options.nonces ?? new MemoryNonceStore();
    this.#clock = options.clock ?? systemClock;
    this.#legacyOffsetMs = (options.legacyUtcOffsetMinutes ?? -new Date().getTimezoneOffset()) * 60_000;
  }

  #nowMs(): number {
    return Number(this.#clock.nowNs() / 1_000_000n);
  }

  #method(name: string): GatewayMethod | undefined {
    return Object.hasOwn(this.#options.methods, name) ? this.#options.methods[name] : undefined;
  }

  async #invoke(method: GatewayMethod, ctx: GatewayContext): Promise<GatewayResult | GatewayError> {
    try {
      return await method(ctx);
    } catch (error) {
      this.#options.onMethodError?.(error, ctx);
      return gatewayError('isp.unknow-error');
    }
  }

  // ---- legacy protocol: /gateway.do ----

  /** Answers a legacy request (always HTTP 200, as Alipay does). */
  async legacy(request: LegacyRequest): Promise<GatewayResponse> {
    const { params, problem } = collectParams(request.query, request.form);
    const signType: SignType = isSignType(params.sign_type) ? params.sign_type : 'RSA2';
    const name = params.method;
    if (!name) return this.#legacyAnswer('error_response', gatewayError('isv.missing-method'), signType);
    const method = this.#method(name);
    if (!method) return this.#legacyAnswer('error_response', gatewayError('isv.invalid-method'), signType);
    const outcome = problem ?? (await this.#legacyCall(name, method, params));
    return this.#legacyAnswer(legacyResponseKey(name), outcome, signType);
  }

  /** Answers a legacy request that failed before its body could be read (too large, bad type). */
  legacyError(query: unknown, error: GatewayError): Promise<GatewayResponse> {
    const { params } = collectParams(query, undefined);
    const signType: SignType = isSignType(params.sign_type) ? params.sign_type : 'RSA2';
    const name = params.method;
    const key = name && this.#method(name) ? legacyResponseKey(name) : 'error_response';
    return this.#legacyAnswer(key, error, signType);
  }

  /**
   * The answer to a request refused before it was read, because the platform sheds load or the
   * app sent past its rate: `error` (Alipay's system-busy `20000 isp.unknow-error`, which SDK
   * users retry on) in the request's protocol. Every such answer of one method, sign type and
   * error is the same bytes, so it is signed once and kept `gatewayBusyAnswerCacheMs`: a refusal
   * must cost far less than the work it spares (an RSA signature is most of a paid trade's).
   * `params`: the legacy request's query string (with its form, when read); a v3 request's
   * answer only echoes its own `alipay-request-id` as the trace id, which is not signed.
   */
  async busy(
    error: GatewayError,
    request: { protocol: 'legacy'; params: unknown } | { protocol: 'v3'; headers: Headers },
  ): Promise<GatewayResponse> {
    if (request.protocol === 'v3') {
      const signed = await this.#busyAnswer(`v3\n${error.subCode}\n${error.subMsg}`, () =>
        this.v3Error(error, { headers: {} }),
      );
      const requestId = headerOf(request.headers, 'alipay-request-id');
      const traceId = requestId && /^[\w-]{1,64}$/.test(requestId) ? requestId : randomUUID().replaceAll('-', '');
      return { ...signed, headers: { ...signed.headers, 'alipay-trace-id': traceId } };
    }
    const { params } = collectParams(request.params, undefined);
    const signType: SignType = isSignType(params.sign_type) ? params.sign_type : 'RSA2';
    const name = params.method;
    // Only a known method names its own response key: the cache holds a bounded set.
    const key = name && this.#method(name) ? legacyResponseKey(name) : 'error_response';
    return this.#busyAnswer(`${key}\n${signType}\n${error.subCode}\n${error.subMsg}`, () =>
      this.#legacyAnswer(key, error, signType),
    );
  }

  #busyAnswer(key: string, sign: () => Promise<GatewayResponse>): Promise<GatewayResponse> {
    const nowMs = this.#nowMs();
    const kept = this.#busyAnswers.get(key);
    if (kept && nowMs - kept.signedMs < limits.gatewayBusyAnswerCacheMs) return kept.response;
    const response = sign();
    response.catch(() => this.#busyAnswers.delete(key));
    this.#busyAnswers.set(key, { signedMs: nowMs, response });
    return response;
  }

  async #legacyCall(name: string, method: GatewayMethod, params: Params): Promise<GatewayResult | GatewayError> {
    const auth = await this.#legacyAuthenticate(params);
    if (isError(auth)) return auth;
    const bizContent = params.biz_content === undefined ? {} : parseObject(params.biz_content, 'biz_content');
    if (isError(bizContent)) return bizContent;
    const { sign: _sign, biz_content: _biz, ...rest } = params;
    const ctx: GatewayContext = { appId: auth.appId, method: name, bizContent, params: rest, protocol: 'legacy' };
    return this.#invoke(method, ctx);
  }

  /** The public parameters' checks, in the order Alipay reports them, the signature last. */
  async #legacyAuthenticate(params: Params): Promise<Authenticated | GatewayError> {
    const appId = params.app_id;
    if (!appId) return gatewayError('isv.missing-app-id');
    if (!params.sign) return gatewayError('isv.missing-signature');
    if (!params.sign_type) return gatewayError('isv.missing-signature-type');
    if (!isSignType(params.sign_type)) return gatewayError('isv.invalid-signature-type');
    if (!params.timestamp) return gatewayError('isv.missing-timestamp');
    if (!this.#legacyTimestampOk(params.timestamp)) return gatewayError('isv.invalid-timestamp');
    if (!params.version) return gatewayError('isv.missing-version');
    if (params.charset && params.charset.toLowerCase() !== 'utf-8') return gatewayError('isv.invalid-charset');
    if (params.format && params.format.toUpperCase() !== 'JSON') return gatewayError('isv.invalid-format');
    if (params.encrypt_type) return gatewayError('isv.encrypt-not-supported');
    if (params.app_auth_token) return gatewayError('aop.invalid-app-auth-token');
    const app = await this.#options.resolveApp(appId);
    if (!app) return gatewayError('isv.invalid-app-id');
    if (!verifyLegacyRequest(params, app.merchantPublicKey, params.sign_type)) {
      return gatewayError('isv.invalid-signature');
    }
    return { appId };
  }

  #legacyTimestampOk(timestamp: string): boolean {
    const m = legacyTimestampPattern.exec(timestamp);
    if (!m) return false;
    const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, ...number[]];
    const utc = Date.UTC(year, (month ?? 1) - 1, day, hour, minute, second);
    // Date.UTC rolls 2026-02-31 over into March; a real date formats back to the same fields.
    if (new Date(utc).toISOString().slice(0, 19).replace('T', ' ') !== timestamp) return false;
    return Math.abs(this.#nowMs() - (utc - this.#legacyOffsetMs)) <= limits.gatewayTimestampSkewMs;
  }

  async #legacyAnswer(
    responseKey: string,
    outcome: GatewayResult | GatewayError,
    signType: SignType,
  ): Promise<GatewayResponse> {
    if (isRedirect(outcome)) return { status: 302, headers: { location: outcome.redirect }, body: '' };
    let value: Record<string, unknown>;
    if (isError(outcome) || isFailure(outcome)) {
      value = { code: outcome.code, msg: outcome.msg, sub_code: outcome.subCode, sub_msg: outcome.subMsg };
    } else {
      for (const key of Object.keys(outcome.body)) {
        if (reservedResponseKeys.has(key)) throw new Error(`a method's body may not carry '${key}'`);
      }
      const code = outcome.inProcess ? '10003' : '10000';
      value = { code, msg: gatewayCodes[code], ...outcome.body };
    }
    const body = await legacyResponseBody(responseKey, value, this.#privateKey, signType);
    return { status: 200, headers: { 'content-type': jsonType }, body };
  }

  // ---- v3 protocol: /v3/alipay/... ----

  /** Answers a v3 request: 200 with a signed JSON body, or a 4xx `{code, message, links}`. */
  async v3(request: V3Request): Promise<GatewayResponse> {
    const url = new URL(request.url, 'http://gateway.invalid');
    const name = v3MethodOf(url.pathname);
    const method = name === undefined ? undefined : this.#method(name);
    if (name === undefined || method === undefined) return this.v3Error(gatewayError('isv.invalid-method'), request);
    const auth = await this.#v3Authenticate(request);
    if (isError(auth)) return this.v3Error(auth, request);
    const input = v3Input(request, url);
    if (isError(input)) return this.v3Error(input, request);
    const ctx: GatewayContext = { appId: auth.appId, method: name, ...input, protocol: 'v3' };
    const result = await this.#invoke(method, ctx);
    if (isError(result)) return this.v3Error(result, request);
    if (isFailure(result)) {
      // v3 drops the isv./isp. namespace (`bill_not_exist`); ACQ.* and bare codes stay as they are.
      const value = { code: v3ErrorCode(result.subCode), message: result.subMsg, links: [] };
      return this.#v3Answer(result.httpStatus ?? 400, value, request);
    }
    if (isRedirect(result)) return this.#v3Answer(200, { page_redirection_data: result.redirect }, request);
    return this.#v3Answer(200, result.body, request);
  }

  /** A v3 error answer (also for requests refused before their body was read). */
  v3Error(error: GatewayError, request: { readonly headers: Headers }): Promise<GatewayResponse> {
    const value = { code: v3ErrorCode(error.subCode), message: error.subMsg, links: [] };
    return this.#v3Answer(error.v3Status, value, request);
  }

  async #v3Authenticate(request: V3Request): Promise<Authenticated | GatewayError> {
    const header = headerOf(request.headers, 'authorization');
    if (!header) return gatewayError('isv.missing-signature', '缺少 authorization');
    const auth = parseV3Authorization(header);
    if (!auth) return gatewayError('isv.invalid-signature', 'authorization 格式错误');
    const { app_id: appId, nonce, timestamp } = auth.fields;
    if (!appId) return gatewayError('isv.missing-app-id');
    if (!timestamp) return gatewayError('isv.missing-timestamp');
    if (!nonce || nonce.length > 128) return gatewayError('isv.invalid-nonce', 'nonce 缺失或过长');
    const timestampMs = this.#v3TimestampMs(timestamp, auth.fields.expired_seconds);
    if (timestampMs === undefined) return gatewayError('isv.invalid-timestamp');
    if (headerOf(request.headers, 'alipay-encrypt-type')) return gatewayError('isv.encrypt-not-supported');
    const appAuthToken = headerOf(request.headers, 'alipay-app-auth-token');
    if (appAuthToken !== undefined) return gatewayError('aop.invalid-app-auth-token');
    const app = await this.#options.resolveApp(appId);
    if (!app) return gatewayError('isv.invalid-app-id');
    const content = v3RequestSignContent({ ...request, authString: auth.authString, appAuthToken });
    if (!rsaVerify(content, auth.sign, app.merchantPublicKey, 'RSA2')) return gatewayError('isv.invalid-signature');
    // Only a request that verifies spends its nonce, so that nobody can burn another app's nonces.
    const claim = await this.#nonces.claim(
      `${appId}\n${nonce}`,
      timestampMs + limits.gatewayTimestampSkewMs,
      this.#nowMs(),
    );
    if (claim === 'replayed') return gatewayError('isv.invalid-nonce');
    if (claim === 'full') return gatewayError('isp.unknow-error', 'nonce 存储已满');
    return { appId };
  }

  /** The timestamp in ms when it is inside the window (and inside `expired_seconds`, if given). */
  #v3TimestampMs(timestamp: string, expiredSeconds: string | undefined): number | undefined {
    if (!/^\d{1,15}$/.test(timestamp)) return undefined;
    const timestampMs = Number(timestamp);
    const ageMs = this.#nowMs() - timestampMs;
    if (Math.abs(ageMs) > limits.gatewayTimestampSkewMs) return undefined;
    if (expiredSeconds !== undefined) {
      if (!/^\d{1,9}$/.test(expiredSeconds) || ageMs > Number(expiredSeconds) * 1000) return undefined;
    }
    return timestampMs;
  }

  async #v3Answer(status: number, value: unknown, request: { readonly headers: Headers }): Promise<GatewayResponse> {
    const body = JSON.stringify(value);
    const timestamp = String(this.#nowMs());
    const nonce = randomUUID().replaceAll('-', '');
    const signature = await rsaSignAsync(v3ResponseSignContent(timestamp, nonce, body), this.#privateKey, 'RSA2');
    const requestId = headerOf(request.headers, 'alipay-request-id');
    const traceId = requestId && /^[\w-]{1,64}$/.test(requestId) ? requestId : randomUUID().replaceAll('-', '');
    const headers = {
      'content-type': jsonType,
      'alipay-timestamp': timestamp,
      'alipay-nonce': nonce,
      'alipay-signature': signature,
      'alipay-trace-id': traceId,
    };
    return { status, headers, body };
  }
}

/** The method's input from a v3 request: the JSON body of a POST, or the query of a GET. */
function v3Input(request: V3Request, url: URL): Pick<GatewayContext, 'bizContent' | 'params'> | GatewayError {
  const query: Params = {};
  for (const [key, value] of url.searchParams) {
    if (Object.hasOwn(query, key)) return gatewayError('isv.invalid-parameter', `参数 ${key} 重复`);
    query[key] = value;
  }
  const httpMethod = request.httpMethod.toUpperCase();
  if (httpMethod === 'GET') return { bizContent: { ...query }, params: {} };
  if (httpMethod !== 'POST') return gatewayError('isv.invalid-parameter', `不支持 ${httpMethod} 请求`);
  if (request.body === '') return { bizContent: {}, params: query };
  const type = headerOf(request.headers, 'content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) return gatewayError('isv.invalid-content-type');
  const bizContent = parseObject(request.body, '请求体');
  return isError(bizContent) ? bizContent : { bizContent, params: query };
}
