/**
 * Overload protection at the HTTP edge (docs/overload.md): every request is classed from what
 * arrives first — its path, and for the gateway its `method` — and, under overload, the lower
 * classes are refused first, in an `onRequest` hook: before any body is read, any session looked
 * up or anything written. From the top:
 *
 * 1. `payment` — trade create/pay/precreate, cashier pay, wallet transfers, red packets, quick pay;
 * 2. `refund` — refunds and payouts: refunds, `fund.trans.uni.transfer`, withdrawals, settlement;
 * 3. `query` — `trade.query` and the other queries, the native API's GETs and the pages;
 * 4. `report` — bills, reports and the back office (`/console`, `/ops`, `/regulator`, `/docs`);
 * 5. `background` — notifications and sweeps, asked before each round (`admitsBackground`).
 *
 * Three checks, in order: the app's (gateway) or user's (native API) token bucket, so that one
 * merchant's storm spends its own rate; the queueing bound (the event loop's delay, measured by
 * `@fastify/under-pressure`, against the class's share of `overloadQueueWaitMs`); the class's
 * share of the adaptive concurrency limit (`src/core/concurrency-limit.ts`). A refusal is the
 * wire's own: Alipay's system-busy answer on the gateway, 503 (or 429) with `Retry-After` on the
 * native API, a page on the pages (refusals.ts). Health and metrics are never refused.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type Clock, systemClock } from '../core/clock.ts';
import { ConcurrencyLimit, type Load } from '../core/concurrency-limit.ts';
import { limits } from '../core/limits.ts';
import { TokenBuckets } from '../core/token-bucket.ts';
import { v3MethodOf } from '../gateway/index.ts';
import type { OverloadMetrics, ShedReason } from './metrics.ts';
import { EdgeError } from './refusals.ts';
import { syncHook } from './sync-hook.ts';

/** The request classes, from the top: a lower class is refused first. */
export const requestClasses = ['payment', 'refund', 'query', 'report', 'background'] as const;
export type RequestClass = (typeof requestClasses)[number];

/** Gateway methods that move money in: the top class. */
const paymentMethods = [
  'alipay.trade.create',
  'alipay.trade.pay',
  'alipay.trade.precreate',
  'alipay.trade.page.pay',
  'alipay.trade.wap.pay',
  'alipay.trade.app.pay',
  'alipay.fund.trans.app.pay',
  'paybao.fund.redpacket.grab',
  'alipay.fund.auth.order.freeze',
  'alipay.fund.auth.order.app.freeze',
];
/** Gateway methods that move money back or out, or change a paid trade. */
const refundMethods = [
  'alipay.trade.refund',
  'alipay.trade.cancel',
  'alipay.trade.close',
  'alipay.trade.order.settle',
  'alipay.fund.trans.uni.transfer',
  'paybao.trade.ship',
  'paybao.trade.refund.agree',
  'paybao.trade.refund.refuse',
  'paybao.trade.return.receive',
  'paybao.trade.dispute.answer',
  'alipay.fund.auth.order.unfreeze',
];
const gatewayClasses = new Map<string, RequestClass>([
  ...paymentMethods.map((m): [string, RequestClass] => [m, 'payment']),
  ...refundMethods.map((m): [string, RequestClass] => [m, 'refund']),
  ['alipay.data.dataservice.bill.downloadurl.query', 'report'],
]);

/** A gateway method's class; any other method (the queries, an unknown name) is a query. */
export function gatewayMethodClass(method: string): RequestClass {
  return gatewayClasses.get(method) ?? 'query';
}

/** The native API's and the pages' writes by class, as `METHOD path` patterns; the rest are queries. */
const routeClasses: ReadonlyArray<readonly [RegExp, RequestClass]> = [
  [
    /^POST \/api\/v1\/(transfers|red-packets|red-packets\/[^/]+\/grab|payment-codes|topups|fund\/purchases)$/,
    'payment',
  ],
  [/^POST \/api\/v1\/collections\/[^/]+\/pay$/, 'payment'],
  // A till's payment the buyer confirms with the texted code (the risk engine's challenge).
  [/^POST \/api\/v1\/risk\/challenges\/[^/]+\/confirm$/, 'payment'],
  [/^POST \/api\/v1\/(withdrawals|fund\/redemptions|trades\/[^/]+\/[a-z-]+|refund-cases\/[^/]+\/[a-z]+)$/, 'refund'],
  [/^GET \/api\/v1\/bills$/, 'report'],
  [/^(GET|POST) \/cashier\//, 'payment'],
  [/^GET \/channels\/return\//, 'payment'],
  [/^POST \/wallet\/(red-packets|friends|fund)$/, 'payment'],
  [/^POST \/wallet\/withdraw$/, 'refund'],
  [/^POST \/channels\/callbacks\//, 'refund'],
  [/^[A-Z]+ \/(console|ops|regulator)\//, 'report'],
  [/^[A-Z]+ \/(docs|bills)(\/|$)/, 'report'],
];

/** Never refused: what operators watch the process with, and the pages' immutable stylesheet. */
const exempt = /^\/(health|metrics)$|^\/assets\//;

/**
 * The class of a request from its method and URL alone, or `exempt`, or `form` for a legacy
 * gateway POST whose method is not in the query string (it is decided once the form is read).
 */
export function requestClassOf(httpMethod: string, url: string): RequestClass | 'exempt' | 'form' {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (exempt.test(path)) return 'exempt';
  if (path === '/gateway.do') {
    const method = q < 0 ? null : new URLSearchParams(url.slice(q + 1)).get('method');
    if (method) return gatewayMethodClass(method);
    return httpMethod === 'POST' ? 'form' : 'query';
  }
  if (path.startsWith('/v3/')) return gatewayMethodClass(v3MethodOf(path) ?? '');
  const line = `${httpMethod} ${path}`;
  return routeClasses.find(([pattern]) => pattern.test(line))?.[1] ?? 'query';
}

/** What an operator may set (src/config.ts); the limits' values otherwise. */
export interface OverloadSettings {
  concurrencyMax?: number;
  queueWaitMs?: number;
  appRequestsPerSecond?: number;
  userRequestsPerSecond?: number;
}

export interface OverloadOptions extends OverloadSettings {
  metrics: OverloadMetrics;
  clock?: Clock;
  /**
   * Whether the event loop's delay and the heap, as `@fastify/under-pressure` measures them,
   * drive the queueing bound and the adaptive limit. The server turns it on (`paybao start`, the
   * benches); an app built without it (tests) is bounded by the ceiling and the rates alone, so
   * that a test's verdict never hangs on how busy the machine that runs it is.
   */
  measureLoad?: boolean;
  /** The process's load, given (tests that drive the queueing bound); it overrides `measureLoad`. */
  load?: () => Load;
}

/** A request refused before it was read: the refusal's code (refusals.ts) and its `Retry-After`. */
export interface EarlyRefusal {
  code: 'server_busy' | 'too_many_requests';
  retryAfterS: number;
  /** A legacy request's query string, parsed (its busy answer names the method's response key). */
  params?: URLSearchParams | undefined;
}

/** One admitted request: its class, when it arrived, when it was admitted. */
interface Admitted {
  requestClass: RequestClass;
  arrivedNs: bigint;
  startNs: bigint | undefined;
}

/** The overload protection of one app, for the server (`admitsBackground`) and the metrics. */
export class Overload {
  readonly #limit: ConcurrencyLimit;
  readonly #apps: TokenBuckets;
  readonly #users: TokenBuckets;
  readonly #sessionUsers = new Map<string, string>();
  readonly #metrics: OverloadMetrics;
  readonly #clock: Clock;
  #load: () => Load;
  readonly #measured: boolean;
  readonly #requests = new WeakMap<FastifyRequest, Admitted>();
  /** Gateway requests admitted by `arriveEarly`, until their `onRequest` hook takes them over. */
  readonly #early = new WeakMap<IncomingMessage, Admitted>();

  constructor(options: OverloadOptions) {
    const clock = options.clock ?? systemClock;
    this.#clock = clock;
    this.#metrics = options.metrics;
    this.#load = options.load ?? (() => ({ pressured: false, waitMs: 0 }));
    this.#measured = options.load === undefined && options.measureLoad === true;
    const concurrencyMax = options.concurrencyMax ?? limits.overloadConcurrencyMax;
    this.#limit = new ConcurrencyLimit({
      clock,
      concurrencyMax,
      concurrencyMin: Math.min(limits.overloadConcurrencyMin, concurrencyMax),
      sharesPercent: limits.overloadSharesPercent,
      windowMs: limits.overloadWindowMs,
      bucketMs: limits.overloadBucketMs,
      cooldownMs: limits.overloadCooldownMs,
      queueWaitMs: options.queueWaitMs ?? limits.overloadQueueWaitMs,
      // Only a server measuring its load keeps the limit always in force (see `measureLoad`).
      ...(this.#measured
        ? {
            responseTimeMs: limits.overloadResponseTimeMs,
            rateBucketMs: limits.overloadRateBucketMs,
            rateWindowMs: limits.overloadRateWindowMs,
          }
        : {}),
    });
    const perApp = options.appRequestsPerSecond ?? limits.appRequestsPerSecondMax;
    const perUser = options.userRequestsPerSecond ?? limits.userRequestsPerSecondMax;
    // A configured rate keeps the limits' ratio of burst to rate.
    const burst = (perSecond: number, defaultRate: number, defaultBurst: number) =>
      Math.max(1, Math.round((perSecond * defaultBurst) / defaultRate));
    const buckets = (perSecond: number, defaultRate: number, defaultBurst: number) =>
      new TokenBuckets({
        clock,
        perSecond,
        burst: burst(perSecond, defaultRate, defaultBurst),
        keysMax: limits.rateBucketsMax,
      });
    this.#apps = buckets(perApp, limits.appRequestsPerSecondMax, limits.appRequestsBurstMax);
    this.#users = buckets(perUser, limits.userRequestsPerSecondMax, limits.userRequestsBurstMax);
    this.#metrics.watch({ limits: () => this.limits(), inFlight: () => this.#limit.inFlight });
  }

  /** Measures the load with `load` (the app's under-pressure) from now on, when measuring is on. */
  measureWith(load: () => Load): void {
    if (this.#measured) this.#load = load;
  }

  /** The process's load as the checks see it now. */
  load(): Load {
    return this.#load();
  }

  /** Each class's concurrency limit now. */
  limits(): Map<RequestClass, number> {
    const { pressured } = this.#load();
    return new Map(requestClasses.map((c, priority) => [c, this.#limit.limitOf(priority, pressured)]));
  }

  /**
   * Whether a background round (a sweep, a notification round) may run now: it yields to
   * requests, taking no place of theirs. A round not admitted is counted as shed and waits for
   * its next turn.
   */
  admitsBackground(): boolean {
    const admitted = this.#limit.wouldAdmit(requestClasses.indexOf('background'), this.#load());
    if (admitted) this.#metrics.admitted('background');
    else this.#metrics.shed('background', 'concurrency');
    return admitted;
  }

  /** Remembers the user of a session token, so that all of a user's sessions share one bucket. */
  #rememberSession(token: string, userId: string): void {
    if (this.#sessionUsers.get(token) === userId) return;
    if (this.#sessionUsers.size >= limits.sessionUsersCacheMax) {
      const oldest = this.#sessionUsers.keys().next();
      if (!oldest.done) this.#sessionUsers.delete(oldest.value);
    }
    this.#sessionUsers.set(token, userId);
  }

  /**
   * The first check of a gateway request whose method is in its URL, on the raw request before
   * Fastify routes it (the server's `request` listener, app.ts): a refusal there costs the kept
   * busy answer and nothing else — no routing, no hooks, no thrown error — which is what lets a
   * server offered three times its capacity keep its cores for the payments it admitted. Answers
   * the refusal to write, or undefined: admitted (the hooks find it admitted), or not the gateway's
   * (the hooks decide).
   */
  arriveEarly(request: IncomingMessage, response: ServerResponse): EarlyRefusal | undefined {
    const url = request.url ?? '/';
    let requestClass: RequestClass;
    let app: string | undefined;
    let params: URLSearchParams | undefined;
    if (url.startsWith('/gateway.do?')) {
      // The query string parsed once, here: the class, the app and the busy answer read it.
      params = new URLSearchParams(url.slice(url.indexOf('?') + 1));
      const method = params.get('method');
      if (method === null) return undefined; // in the form: the hooks decide once it is read
      requestClass = gatewayMethodClass(method);
      app = params.get('app_id') ?? undefined;
    } else if (url.startsWith('/v3/')) {
      requestClass = gatewayMethodClass(v3MethodOf(url.split('?', 1)[0] ?? url) ?? '');
      app = gatewayAppOf(url, request.headers.authorization, undefined);
    } else return undefined;
    const arrivedNs = this.#clock.nowNs();
    const admitted = this.#tryAdmit(requestClass, app === undefined ? 0 : this.#apps.take(app));
    if ('code' in admitted) return { ...admitted, params };
    this.#early.set(request, { requestClass, arrivedNs, startNs: admitted.startNs });
    // Fastify answers some requests without its hooks (a path it cannot decode): the place is
    // then given back when the response closes, not kept for ever.
    response.once('close', () => {
      if (this.#early.delete(request)) this.#limit.release(admitted.startNs, false);
    });
    return undefined;
  }

  /** The `onRequest` check: admits the request, or throws the refusal (refusals.ts words it). */
  arrive(request: FastifyRequest, reply: FastifyReply): void {
    const early = this.#early.get(request.raw);
    if (early) {
      this.#early.delete(request.raw);
      this.#requests.set(request, early);
      return;
    }
    const requestClass = requestClassOf(request.method, request.url);
    if (requestClass === 'exempt') return;
    const arrivedNs = this.#clock.nowNs();
    if (requestClass === 'form') {
      this.#requests.set(request, { requestClass: 'query', arrivedNs, startNs: undefined });
      return;
    }
    this.#admit(request, reply, requestClass, arrivedNs);
  }

  /** The `preValidation` check of a legacy gateway request whose method came in its form. */
  formRead(request: FastifyRequest, reply: FastifyReply): void {
    const pending = this.#requests.get(request);
    if (!pending || pending.startNs !== undefined) return;
    const form = request.body as Record<string, unknown> | undefined;
    const method = typeof form?.method === 'string' ? form.method : '';
    this.#admit(request, reply, gatewayMethodClass(method), pending.arrivedNs);
  }

  /** The `preHandler` measurement: how long the request waited to run. */
  handlerStarts(request: FastifyRequest): void {
    const admitted = this.#requests.get(request);
    if (admitted?.startNs === undefined) return;
    this.#metrics.queued(admitted.requestClass, Number(this.#clock.nowNs() - admitted.arrivedNs) / 1e9);
  }

  /**
   * The end of a request, answered (`succeeded` unless a 5xx) or abandoned by its client: its
   * place is given back once. A session the request resolved is remembered for its user's bucket.
   */
  leave(request: FastifyRequest, succeeded: boolean): void {
    const userId = sessionUsers.get(request);
    const token = bearerToken(request);
    if (userId !== undefined && token !== undefined) this.#rememberSession(token, userId);
    const admitted = this.#requests.get(request);
    this.#requests.delete(request);
    if (admitted?.startNs === undefined) return;
    this.#limit.release(admitted.startNs, succeeded);
    this.#metrics.answered(admitted.requestClass, Number(this.#clock.nowNs() - admitted.arrivedNs) / 1e9);
  }

  #admit(request: FastifyRequest, reply: FastifyReply, requestClass: RequestClass, arrivedNs: bigint): void {
    const admitted = this.#tryAdmit(requestClass, this.#rateWait(request));
    if ('code' in admitted) {
      reply.header('retry-after', String(admitted.retryAfterS));
      throw new EdgeError(admitted.code);
    }
    this.#requests.set(request, { requestClass, arrivedNs, startNs: admitted.startNs });
  }

  /**
   * Admits a request of `requestClass` whose app or user waits `rateWaitMs` for a token (0: it had
   * one), counting it and answering when it started; or answers its refusal, counted as shed.
   */
  #tryAdmit(requestClass: RequestClass, rateWaitMs: number): { startNs: bigint } | EarlyRefusal {
    if (rateWaitMs > 0) return this.#refusal(requestClass, 'rate', rateWaitMs);
    const admission = this.#limit.tryAcquire(requestClasses.indexOf(requestClass), this.#load());
    if (!admission.admitted) return this.#refusal(requestClass, admission.reason, 0);
    this.#metrics.admitted(requestClass);
    return { startNs: admission.startNs };
  }

  #refusal(requestClass: RequestClass, reason: ShedReason, waitMs: number): EarlyRefusal {
    this.#metrics.shed(requestClass, reason);
    return {
      code: reason === 'rate' ? 'too_many_requests' : 'server_busy',
      retryAfterS: Math.max(limits.overloadRetryAfterS, Math.ceil(waitMs / 1000)),
    };
  }

  /** How long the request's app or user must wait for a token: 0 when one was there (or no key). */
  #rateWait(request: FastifyRequest): number {
    const app = appIdOf(request);
    if (app !== undefined) return this.#apps.take(app);
    const token = bearerToken(request);
    if (token === undefined || !request.url.startsWith('/api/')) return 0;
    return this.#users.take(this.#sessionUsers.get(token) ?? `token:${token}`);
  }
}

const sessionUsers = new WeakMap<FastifyRequest, string>();

/**
 * Called by the native API's session guards once a request's bearer token resolved to its user:
 * from then on every session of that user draws on the user's one token bucket.
 */
export function noteSessionUser(request: FastifyRequest, userId: string): void {
  sessionUsers.set(request, userId);
}

const bearerToken = (request: FastifyRequest): string | undefined =>
  /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];

/** The gateway app a request names, read without parsing its body (or from its form, once read). */
function appIdOf(request: FastifyRequest): string | undefined {
  return gatewayAppOf(request.url, request.headers.authorization, request.body);
}

/** The app a gateway request names: v3 in its `authorization` header, legacy in its query string or form. */
function gatewayAppOf(url: string, authorization: string | undefined, form: unknown): string | undefined {
  if (url.startsWith('/v3/')) {
    return typeof authorization === 'string' ? /[\s,]app_id=([^,\s]+)/.exec(authorization)?.[1] : undefined;
  }
  if (!url.startsWith('/gateway.do')) return undefined;
  const q = url.indexOf('?');
  const fromQuery = q < 0 ? null : new URLSearchParams(url.slice(q + 1)).get('app_id');
  const fromForm = typeof form === 'object' && form !== null ? (form as Record<string, unknown>).app_id : undefined;
  const appId = fromQuery ?? fromForm;
  return typeof appId === 'string' ? appId : undefined;
}

/**
 * The plugin: on the root (fastify-plugin), so that its hooks see every route. Registered after
 * the security headers, so that a refusal carries them too.
 */
export const overloadProtection = fp<{ overload: Overload }>(
  async (app: FastifyInstance, { overload }) => {
    await app.register(underPressure, { sampleInterval: limits.overloadSampleIntervalMs });
    // under-pressure's histogram runs from registration, so its first samples after listen hold the
    // process's own start (migrations, recovery, compiling the routes): a second-long stall that
    // no request waited in. The checks act on the load from the first sample window that began
    // after the server listened — two intervals on — and on the ceiling and the rates until then.
    const measureLoad = () =>
      overload.measureWith(() => {
        const { eventLoopDelay, heapUsed } = app.memoryUsage();
        // Infinity: the loop was blocked through a whole sample, so no delay was measured. That is
        // pressure, but no measured wait: no class is refused on a number nobody measured.
        const measured = Number.isFinite(eventLoopDelay);
        return {
          pressured:
            !measured || eventLoopDelay > limits.overloadEventLoopDelayMs || heapUsed > limits.overloadHeapUsedBytesMax,
          waitMs: measured ? eventLoopDelay : 0,
        };
      });
    app.addHook('onListen', (done) => {
      setTimeout(measureLoad, 2 * limits.overloadSampleIntervalMs).unref();
      done();
    });
    app.addHook(
      'onRequest',
      syncHook((request, reply) => overload.arrive(request, reply)),
    );
    app.addHook(
      'preValidation',
      syncHook((request, reply) => overload.formRead(request, reply)),
    );
    app.addHook(
      'preHandler',
      syncHook((request) => overload.handlerStarts(request)),
    );
    app.addHook(
      'onResponse',
      syncHook((request, reply) => overload.leave(request, reply.statusCode < 500)),
    );
    app.addHook('onRequestAbort', (request, done) => {
      overload.leave(request, false);
      done();
    });
  },
  { name: 'paybao-overload', fastify: '5.x' },
);
