/**
 * Every refusal of the HTTP surface, in one place: whatever a route or the framework refuses
 * (an error a module raised, a schema that did not match, unreadable JSON, a body too large, a
 * content type no parser takes, an unknown route, a URL that is not UTF-8, a path parameter too
 * long, text no field may hold) is answered in the wire form of the scope the request hit:
 *
 * - `gateway` (`/gateway.do`, `/v3/…`): Alipay's codes, signed, through the `Gateway`;
 * - `native` (`/api/v1`, `/ops/v1`, `/regulator/v1`, the banks' callbacks, health and metrics):
 *   `{type, code, message, param}`, the message in words (never a regular expression);
 * - `console` (`/console/v1`): the operators' `{code, message}`;
 * - `page` (everything else: the cashier, the card cashier, the wallet pages, the bank's return,
 *   unknown addresses): an HTML page a person can read.
 *
 * A 5xx is logged with its error and answered without it: no body ever carries a stack, a
 * framework code or a database message. Routes keep only the refusals that are part of their
 * own conversation (a cashier form shown again with its message).
 */

import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchemaValidationError,
} from 'fastify';
import fp from 'fastify-plugin';
import { ChannelError } from '../channels/index.ts';
import {
  apiError,
  CatalogError,
  type CatalogErrorOptions,
  catalog,
  invalidRequest,
  rateLimitError,
} from '../core/catalog-error.ts';
import { DatabaseUnavailableError, isReadOnlyRefusal } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { findUnreadableText } from '../core/text.ts';
import { CourtListError } from '../court-list/index.ts';
import { FundError } from '../fund/index.ts';
import { type Gateway, type GatewayError, gatewayError } from '../gateway/index.ts';
import { MembersError } from '../members/index.ts';
import { PreauthError } from '../preauth/index.ts';
import { RiskError } from '../risk/index.ts';
import { TradeError } from '../trades/index.ts';
import { ConsoleError } from './console.ts';
import { escapeHtml, page } from './html.ts';
import type { EarlyRefusal } from './overload.ts';
import { syncHook } from './sync-hook.ts';

/** The refusals of the HTTP edge itself, in the native API's terms (the codes are the wallet catalog's). */
export const edgeErrors = catalog({
  parameter_invalid: invalidRequest(400, 'a parameter is malformed'),
  parameter_missing: invalidRequest(400, 'a required parameter is missing'),
  body_invalid: invalidRequest(400, 'the request body could not be read'),
  body_too_large: invalidRequest(413, 'the request body is too large'),
  content_type_unsupported: invalidRequest(415, 'this route does not take a body of this content type'),
  route_not_found: invalidRequest(404, 'no such route'),
  url_invalid: invalidRequest(400, 'the URL is not valid: a percent-encoded part is not UTF-8'),
  url_too_long: invalidRequest(414, 'a part of the URL is too long'),
  request_forbidden: invalidRequest(
    403,
    'this request is not allowed: it lacks a valid token or comes from another site',
  ),
  too_many_requests: rateLimitError('too many requests; wait a moment and retry'),
  server_busy: apiError(503, 'the platform is busy; nothing was done, retry in a moment'),
  read_only: apiError(
    503,
    'this server was started read-only (paybao start --read-only) to look at the books: nothing can be written',
  ),
  request_invalid: invalidRequest(400, 'the request could not be accepted'),
  internal_error: apiError(500, 'something went wrong on our side; retry the request'),
});

export type EdgeErrorCode = keyof typeof edgeErrors;

/** Why a parameter was refused, for the wire forms that word it themselves (the gateway's Chinese). */
export type EdgeReason = 'repeated' | 'unreadable_text';

/** A refusal of the HTTP edge; `reason` says why a parameter was refused, when it was. */
export class EdgeError extends CatalogError<typeof edgeErrors> {
  readonly reason: EdgeReason | undefined;
  constructor(code: EdgeErrorCode, options: Omit<CatalogErrorOptions, 'message'> & { reason?: EdgeReason } = {}) {
    // A detail names the parameter and says what is wrong with it: it is the whole message.
    super(edgeErrors, code, { param: options.param, message: options.detail });
    this.reason = options.reason;
  }
}

/** A field sent more than once (a form, a query string): which copy counts would be a guess. */
export const repeatedParameter = (param: string) =>
  new EdgeError('parameter_invalid', { param, detail: `${param} was sent more than once`, reason: 'repeated' });

/** The page guard's refusals (`web-security.ts`: the origin, the CSRF token, the request rate). */
export const pageGuardErrors = catalog({
  form_from_other_site: invalidRequest(
    403,
    '此请求来自其他网站 · This form was sent from another site. Open the page on Paybao and try again.',
  ),
  form_expired: invalidRequest(403, '页面已过期 · This form has expired. Reload the page and try again.'),
  form_token_invalid: invalidRequest(
    403,
    '页面已过期 · This form has expired or did not come from its page. Reload it and try again.',
  ),
  too_many_attempts: rateLimitError('操作太频繁 · Too many attempts from your network. Wait a moment and try again.'),
});

/** A refusal of the page guard, answered with a page of its own that links back to the form. */
export class PageRefusal extends CatalogError<typeof pageGuardErrors> {
  constructor(code: keyof typeof pageGuardErrors, options: { message?: string } = {}) {
    super(pageGuardErrors, code, options);
  }
}

/** The CSRF plugin's refusals, by its error code, in the guard's words. */
const csrfRefusals: Record<string, keyof typeof pageGuardErrors> = {
  FST_CSRF_MISSING_SECRET: 'form_expired',
  FST_CSRF_INVALID_TOKEN: 'form_token_invalid',
};

/** The guard's refusal an error is, if it is one. */
function pageGuardRefusal(error: FastifyError): PageRefusal | undefined {
  if (error instanceof PageRefusal) return error;
  const code = csrfRefusals[error.code];
  return code === undefined ? undefined : new PageRefusal(code);
}

export type WireForm = 'gateway' | 'native' | 'console' | 'page';

const formsByPrefix: ReadonlyArray<readonly [string, WireForm]> = [
  ['/gateway.do', 'gateway'],
  ['/v3/', 'gateway'],
  ['/api/', 'native'],
  ['/ops/', 'native'],
  ['/regulator/', 'native'],
  ['/channels/callbacks/', 'native'],
  ['/health', 'native'],
  ['/metrics', 'native'],
  ['/console/', 'console'],
];

/** The wire form of the scope a request path belongs to; a person's browser gets a page. */
export function wireFormOf(url: string): WireForm {
  return formsByPrefix.find(([prefix]) => url.startsWith(prefix))?.[1] ?? 'page';
}

// ---- From any error to one refusal ----------------------------------------------------------

/** What a refusal says, before it is put in a wire form. */
interface Refusal {
  readonly status: number;
  readonly type: string;
  readonly code: string;
  readonly message: string;
  readonly param: string | null;
  readonly reason?: EdgeReason | undefined;
  /** The confirmation a `challenge_required` waits for (the risk engine's). */
  readonly challengeId?: string | undefined;
}

type CatalogLike = Pick<Refusal, 'status' | 'type' | 'code' | 'message' | 'param'>;

const fromCatalog = (error: CatalogLike, reason?: EdgeReason): Refusal => ({
  status: error.status,
  type: error.type,
  code: error.code,
  message: error.message,
  param: error.param,
  reason,
});

const edge = (code: EdgeErrorCode, options: ConstructorParameters<typeof EdgeError>[1] = {}): Refusal => {
  const error = new EdgeError(code, options);
  return fromCatalog(error, error.reason);
};

/** Words for the framework's own refusals, by Fastify's error code. */
const frameworkDetails: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'the request body is not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the request body is empty but its content type says JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the request body is not as long as its Content-Length says',
  FST_ERR_CTP_EMPTY_TYPE: 'the request body has an empty content type',
  FST_ERR_CTP_INVALID_TYPE: 'the request body has a content type that cannot be read',
};

/** A refusal the framework made before (or instead of) a handler, or a 500 for anything else. */
function frameworkRefusal(error: FastifyError, request: FastifyRequest): Refusal {
  if (error.code === 'FST_ERR_BAD_URL') return edge('url_invalid');
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return edge('url_too_long');
  const status = error.statusCode ?? 500;
  if (status === 413) {
    const limit = request.routeOptions?.bodyLimit;
    return edge('body_too_large', { detail: limit ? `at most ${limit} bytes` : undefined });
  }
  if (status === 415) return edge('content_type_unsupported');
  if (status === 404) return edge('route_not_found');
  // Plugins refuse too (CSRF tokens, rate limits): in our words, with their status.
  if (status === 401 || status === 403) return { ...edge('request_forbidden'), status };
  if (status === 429) return edge('too_many_requests');
  const detail = frameworkDetails[error.code];
  if (detail) return { ...edge('body_invalid', { detail }), status };
  if (status >= 400 && status < 500) return { ...edge('request_invalid'), status };
  return edge('internal_error');
}

/** Any error, as a refusal: catalog errors as they are, schema misses in words, the rest mapped. */
function refusalOf(error: FastifyError, request: FastifyRequest): Refusal {
  if (error instanceof EdgeError) return fromCatalog(error, error.reason);
  // No primary answers (a failover): busy in the wire's own words, which every client retries.
  if (error instanceof DatabaseUnavailableError) return edge('server_busy');
  if (isReadOnlyRefusal(error)) return edge('read_only');
  if (error instanceof RiskError) return { ...fromCatalog(error), challengeId: error.challengeId };
  if (error instanceof CatalogError) return fromCatalog(error);
  if (error.validation) return validationRefusal(error.validation, error.validationContext, request);
  return frameworkRefusal(error, request);
}

// ---- Schema misses in words -------------------------------------------------------------------

const headerNames: Record<string, string> = { 'idempotency-key': 'Idempotency-Key', authorization: 'Authorization' };
const typeWords: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a JSON object',
  array: 'a list',
  null: 'null',
};

type Schema = Record<string, unknown>;

/** The sub-schema a TypeBox error points at (`#/properties/amount`), when it can be found. */
function schemaAt(request: FastifyRequest, context: string | undefined, schemaPath: string): Schema | undefined {
  const schemas = request.routeOptions?.schema as Record<string, unknown> | undefined;
  const part = context === 'querystring' ? (schemas?.querystring ?? schemas?.query) : schemas?.[context ?? ''];
  let node: unknown = part;
  for (const step of schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Schema)[step.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return typeof node === 'object' && node !== null ? (node as Schema) : undefined;
}

/** What a value must be, in words, for one schema miss. */
function expectation(issue: FastifySchemaValidationError, schema: Schema | undefined): string {
  const params = issue.params as Record<string, unknown>;
  const description = typeof schema?.description === 'string' ? `: ${schema.description}` : '';
  switch (issue.keyword) {
    case 'type':
      return `must be ${typeWords[String(params.type)] ?? 'of another type'}`;
    case 'maxLength':
      return `must be at most ${params.limit} characters`;
    case 'minLength':
      return params.limit === 1 ? 'must not be empty' : `must be at least ${params.limit} characters`;
    case 'minimum':
    case 'exclusiveMinimum':
      return `must be ${issue.keyword === 'minimum' ? 'at least' : 'more than'} ${params.limit}`;
    case 'maximum':
    case 'exclusiveMaximum':
      return `must be ${issue.keyword === 'maximum' ? 'at most' : 'less than'} ${params.limit}`;
    case 'anyOf':
    case 'const':
    case 'enum': {
      const choices = allowedValues(schema, params);
      return choices ? `must be one of ${choices}` : `is not an accepted value${description}`;
    }
    case 'format':
      return `must be ${params.format === 'date-time' ? 'a date and time (ISO 8601)' : `a ${params.format}`}`;
    default:
      // A pattern and anything else: the schema's description says what is expected, the
      // pattern itself is never shown.
      return `is malformed${description}`;
  }
}

/** The literals a union or enum allows, quoted and listed; undefined when they are not literals. */
function allowedValues(schema: Schema | undefined, params: Record<string, unknown>): string | undefined {
  const values: unknown[] = Array.isArray(schema?.anyOf)
    ? (schema.anyOf as Schema[]).map((s) => s.const)
    : Array.isArray(params.allowedValues)
      ? params.allowedValues
      : 'allowedValue' in params
        ? [params.allowedValue]
        : [];
  if (values.length === 0 || values.some((v) => typeof v !== 'string' && typeof v !== 'number')) return undefined;
  return values.map((v) => JSON.stringify(v)).join(', ');
}

/** The first schema miss, in the catalog's terms and in words. */
function validationRefusal(
  issues: readonly FastifySchemaValidationError[],
  context: string | undefined,
  request: FastifyRequest,
): Refusal {
  const first = issues[0];
  const name = (path: string) => (path === '' ? null : context === 'headers' ? (headerNames[path] ?? path) : path);
  const pathOf = (issue: FastifySchemaValidationError | undefined) =>
    (issue?.instancePath ?? '').split('/').filter(Boolean).join('.');
  const params = (first?.params ?? {}) as { requiredProperties?: string[]; additionalProperties?: string[] };
  if (first?.keyword === 'required') {
    const param = name(params.requiredProperties?.[0] ?? '');
    return edge('parameter_missing', { param: param ?? undefined, detail: `${param} is required` });
  }
  const whole =
    context === 'body' ? 'the request body' : context === 'querystring' ? 'the query string' : 'the request';
  const unknownIssue = issues.find((i) => i.keyword === 'additionalProperties');
  if (first?.schemaPath.endsWith('/additionalProperties') || first?.keyword === 'additionalProperties') {
    const unknown = (unknownIssue?.params as { additionalProperties?: string[] } | undefined)?.additionalProperties;
    const param = name(pathOf(first) || (unknown?.[0] ?? ''));
    return edge('parameter_invalid', {
      param: param ?? undefined,
      detail: `${param ?? whole} is not a known parameter`,
    });
  }
  // A union reports each branch first and itself last: the last miss at the same place says most.
  const path = pathOf(first);
  const issue = [...issues].reverse().find((i) => pathOf(i) === path) ?? first;
  const param = name(path);
  const words = issue ? expectation(issue, schemaAt(request, context, issue.schemaPath)) : 'is malformed';
  return edge('parameter_invalid', { param: param ?? undefined, detail: `${param ?? whole} ${words}` });
}

// ---- The wire forms -------------------------------------------------------------------------

function sendNative(reply: FastifyReply, r: Refusal): FastifyReply {
  const challenge = r.challengeId === undefined ? {} : { challenge_id: r.challengeId };
  return reply.code(r.status).send({ type: r.type, code: r.code, message: r.message, param: r.param, ...challenge });
}

function sendConsole(reply: FastifyReply, error: FastifyError, r: Refusal): FastifyReply {
  // The console's own refusals and the modules' (operators read their codes), each with
  // the status its catalog gives it.
  if (
    error instanceof ConsoleError ||
    error instanceof TradeError ||
    error instanceof FundError ||
    error instanceof RiskError ||
    error instanceof MembersError ||
    error instanceof ChannelError ||
    error instanceof PreauthError ||
    error instanceof CourtListError
  ) {
    return reply.code(error.status).send({ code: error.code, message: error.message });
  }
  if (error instanceof RangeError) return reply.code(400).send({ code: 'INVALID_PARAMETER', message: error.message });
  const code =
    r.code === 'server_busy'
      ? 'SYSTEM_BUSY'
      : r.status >= 500
        ? 'SYSTEM_ERROR'
        : r.status === 404
          ? 'NOT_FOUND'
          : r.status === 429
            ? 'TOO_MANY_REQUESTS'
            : 'INVALID_PARAMETER';
  return reply.code(r.status).send({ code, message: r.message });
}

/** Page titles by status, in the pages' two languages. */
function pageTitle(status: number): string {
  if (status === 404) return '页面不存在 · Not found';
  if (status >= 500) return '出错了 · Something went wrong';
  return '无法处理 · Request refused';
}

/** The friendly words of a refusal to wait (load shed, or too many requests from one person). */
const waitWords: Record<string, readonly [string, string]> = {
  server_busy: [
    '系统繁忙 · Busy right now',
    '当前访问人数较多，请稍后再试 · Many people are paying right now. Nothing was done: please try again in a moment',
  ],
  too_many_requests: ['操作太频繁 · Too many requests', '请稍后再试 · Please wait a moment and try again'],
};

function sendPage(reply: FastifyReply, r: Refusal): FastifyReply {
  const wait = waitWords[r.code];
  const title = wait?.[0] ?? pageTitle(r.status);
  const words =
    wait?.[1] ?? (r.status >= 500 ? 'Something went wrong on our side; please try again in a moment' : r.message);
  const body = `<div class="card"><h2 id="title">${escapeHtml(title)}</h2>
  <div class="error" role="alert" id="refusal">${escapeHtml(words.replace(/\.$/, ''))}.</div></div>`;
  return reply
    .code(r.status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(page('Paybao', title, body));
}

/** The HTML answer to a refusal of the page guard: its words, and a link to open the page again. */
function sendGuardPage(reply: FastifyReply, request: FastifyRequest, error: PageRefusal): FastifyReply {
  const path = request.url.split('?')[0] ?? '/';
  const body = `<div class="card"><h2>请求被拒绝 · Request refused</h2>
  <div class="error" role="alert">${escapeHtml(error.message)}</div>
  <p class="muted"><a href="${escapeHtml(path)}">重新打开页面 · Open the page again</a></p></div>`;
  return reply
    .code(error.status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(page('Paybao', 'Refused', body));
}

/** The Alipay error for a refusal (business errors never get here: methods answer them). */
function gatewayRefusal(r: Refusal): GatewayError {
  if (r.reason === 'repeated') return gatewayError('isv.invalid-parameter', `参数 ${r.param} 重复`);
  if (r.reason === 'unreadable_text') {
    return gatewayError('isv.invalid-parameter', `参数 ${r.param ?? '请求体'} 含有 NUL 字符或不成对的代理字符`);
  }
  if (r.code === 'body_too_large') return gatewayError('isv.request-too-large');
  if (r.code === 'content_type_unsupported') return gatewayError('isv.invalid-content-type');
  if (r.code === 'route_not_found') return gatewayError('isv.invalid-method');
  // Alipay's system-busy answer, which its SDKs' users retry on, for a shed request or an app
  // past its rate; the latter says so.
  if (r.code === 'too_many_requests') return gatewayError('isp.unknow-error', '调用频率超限，请稍后重试');
  if (r.status < 500) return gatewayError('isv.invalid-parameter', '请求无法解析');
  return gatewayError('isp.unknow-error');
}

/** Refusals made before a request is read, answered by the gateway's kept busy answers. */
const busyCodes = new Set(['server_busy', 'too_many_requests']);

async function sendGateway(reply: FastifyReply, request: FastifyRequest, gateway: Gateway, r: Refusal) {
  const error = gatewayRefusal(r);
  if (busyCodes.has(r.code)) {
    const { body, query } = request;
    // A legacy method named only in the form is known once the form is read (overload.ts).
    const params = typeof body === 'object' && body !== null ? { ...(query as object), ...body } : query;
    const response = await gateway.busy(
      error,
      request.url.startsWith('/v3/') ? { protocol: 'v3', headers: request.headers } : { protocol: 'legacy', params },
    );
    return reply.code(response.status).headers(response.headers).send(response.body);
  }
  const response = await (request.url.startsWith('/v3/')
    ? gateway.v3Error(error, request)
    : gateway.legacyError(request.query, error));
  return reply.code(response.status).headers(response.headers).send(response.body);
}

/**
 * Answers, on the raw response, a gateway request that the overload protection refused before
 * Fastify saw it (`Overload.arriveEarly`): the gateway's kept busy answer, as `sendGateway` gives
 * it, with `Retry-After`. Nothing else runs: no routing, no hook, no body read.
 */
export async function answerEarlyRefusal(
  gateway: Gateway,
  request: IncomingMessage,
  response: ServerResponse,
  refusal: EarlyRefusal,
  fixedHeaders: OutgoingHttpHeaders,
): Promise<void> {
  const error = earlyGatewayErrors[refusal.code];
  const answer = await gateway.busy(
    error,
    refusal.params === undefined
      ? { protocol: 'v3', headers: request.headers }
      : { protocol: 'legacy', params: Object.fromEntries(refusal.params) },
  );
  response.writeHead(answer.status, {
    ...fixedHeaders,
    ...answer.headers,
    'retry-after': String(refusal.retryAfterS),
    'content-length': Buffer.byteLength(answer.body),
  });
  response.end(answer.body);
}

/** The gateway's words for the two early refusals, made once (an error's stack is not free). */
const earlyGatewayErrors = {
  server_busy: gatewayRefusal(edge('server_busy')),
  too_many_requests: gatewayRefusal(edge('too_many_requests')),
};

export interface RefusalOptions {
  /** The gateway that signs the gateway's refusals, once it is mounted. */
  gateway?: () => Gateway | undefined;
}

/** The one handler: every error and every framework refusal, in the wire form of its scope. */
export function refusalHandler(options: RefusalOptions = {}) {
  return async (error: FastifyError, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const guard = pageGuardRefusal(error);
    if (guard) return sendGuardPage(reply, request, guard);
    const refusal = refusalOf(error, request);
    if (error instanceof DatabaseUnavailableError) {
      reply.header('retry-after', String(limits.overloadRetryAfterS));
      request.log.warn({ err: error }, 'refused: the database is unavailable');
    }
    // A shed request is the design working, counted by the metrics, not a failure to log.
    if (refusal.status >= 500 && refusal.code !== 'server_busy') request.log.error({ err: error }, 'request failed');
    const form = wireFormOf(request.url);
    const gateway = form === 'gateway' ? options.gateway?.() : undefined;
    if (gateway) return sendGateway(reply, request, gateway, refusal);
    if (form === 'console') return sendConsole(reply, error, refusal);
    if (form === 'page') return sendPage(reply, refusal);
    return sendNative(reply, refusal);
  };
}

/** Refuses, before validation and the handler, any parameter holding NUL or an unpaired surrogate. */
function refuseUnreadableText(request: FastifyRequest): void {
  const parts: Array<[string, unknown]> = [
    ['path', request.params],
    ['query', request.query],
    ['body', request.body],
  ];
  for (const [part, value] of parts) {
    const path = findUnreadableText(value);
    if (path === undefined) continue;
    const param = path === '' ? undefined : path;
    const what = param ?? `the request ${part}`;
    throw new EdgeError('parameter_invalid', {
      param,
      detail: `${what} contains a NUL character or an unpaired surrogate, which no text may hold`,
      reason: 'unreadable_text',
    });
  }
}

/** Refuses a query-string parameter given twice, everywhere (the form parsers refuse it in bodies). */
function refuseRepeatedQuery(request: FastifyRequest): void {
  const query = request.query;
  if (typeof query !== 'object' || query === null) return;
  for (const [key, value] of Object.entries(query)) if (Array.isArray(value)) throw repeatedParameter(key);
}

/**
 * The plugin: the root error and not-found handlers, and the edge checks every route gets.
 * Register it first, so that every scope inherits it; scopes set no handler of their own.
 */
export const refusals = fp<{ handler: ReturnType<typeof refusalHandler> }>(
  async (app: FastifyInstance, { handler }) => {
    app.setErrorHandler(handler);
    app.setNotFoundHandler((request, reply) => handler(new EdgeError('route_not_found'), request, reply));
    app.addHook('preValidation', syncHook(refuseRepeatedQuery));
    app.addHook('preValidation', syncHook(refuseUnreadableText));
  },
  { name: 'paybao-refusals', fastify: '5.x' },
);
