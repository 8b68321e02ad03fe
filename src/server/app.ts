import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { assert } from '../core/assert.ts';
import { failureLogLevel } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import type { Gateway, GatewayOptions } from '../gateway/index.ts';
import type { Platform } from '../platform.ts';
import { createGateway, mountGateway } from './gateway.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { Overload, type OverloadOptions, overloadProtection } from './overload.ts';
import { answerEarlyRefusal, refusalHandler, refusals } from './refusals.ts';
import { securityHeaders, type WebSecurityOptions } from './web-security.ts';

export interface AppOptions {
  platform: Platform;
  /** A pino logger; without one the app logs nothing (tests). */
  logger?: FastifyBaseLogger;
  /**
   * The registry `/metrics` serves. Pass the one whose `observeBatch` the platform was opened
   * with; without it the app gets a fresh registry whose ledger histograms stay empty.
   */
  metrics?: Metrics;
  /** Mounts the Alipay-compatible open gateway (`/gateway.do`, `/v3/alipay/*`) when given. */
  gateway?: GatewayOptions;
  /** Where the platform is reached: the security headers (HSTS under https) follow it. */
  security?: WebSecurityOptions | undefined;
  /** The overload protection's settings (overload.ts); the limits' values when absent. */
  overload?: Omit<OverloadOptions, 'metrics'> | undefined;
}

const healthSchema = {
  type: 'object',
  required: ['status', 'engine', 'uptime_s'],
  properties: {
    status: { type: 'string', enum: ['ok', 'unavailable'] },
    engine: { type: 'string' },
    uptime_s: { type: 'number' },
    /** PostgreSQL: the server in use, `host:port` (a cluster's current primary); null while none answers. */
    database_host: { type: ['string', 'null'] },
    /** Seconds since the primary was lost, while no other has answered. */
    database_lost_s: { type: 'number' },
    /** Why the database did not answer. */
    reason: { type: 'string' },
  },
} as const;

/**
 * A Fastify instance whose every refusal, the framework's included (bad URLs, over-long path
 * parameters, unreadable bodies), is answered by `refusals.ts` in the wire form of its scope;
 * `gateway` signs the gateway's. Every app of the platform starts here.
 */
export function createApp(
  options: {
    logger?: FastifyBaseLogger | undefined;
    gateway?: Gateway;
    /**
     * Looks at each request on the server before Fastify does, and answers it itself when it
     * returns true (the overload protection's early refusals). Requests through `inject()` skip it.
     */
    answerFirst?: (request: IncomingMessage, response: ServerResponse) => boolean;
  } = {},
) {
  const handler = refusalHandler({ gateway: () => options.gateway });
  const base = options.logger ? { loggerInstance: options.logger } : { logger: false };
  const answerFirst = options.answerFirst;
  const serverFactory = answerFirst
    ? (route: (request: IncomingMessage, response: ServerResponse) => void) => {
        const server = createServer((request, response) => {
          if (!answerFirst(request, response)) route(request, response);
        });
        // What Fastify sets on a server it makes itself (it leaves a given one alone).
        server.keepAliveTimeout = limits.httpKeepAliveTimeoutMs;
        return server;
      }
    : undefined;
  const app = Fastify({ ...base, frameworkErrors: handler, ...(serverFactory ? { serverFactory } : {}) });
  const routes: ServedRoute[] = [];
  servedRoutesOf.set(app, routes);
  app.addHook('onRoute', (route) => {
    routes.push({ methods: [route.method].flat(), url: route.url, schema: route.schema });
  });
  app.register(refusals, { handler });
  return app;
}

/** A route as it was registered: its methods, its URL pattern (`/cashier/:tradeNo`), its schemas. */
export interface ServedRoute {
  readonly methods: readonly string[];
  readonly url: string;
  readonly schema: unknown;
}

const servedRoutesOf = new WeakMap<FastifyInstance, ServedRoute[]>();

/**
 * Every route an app from `createApp` serves, in registration order, straight from Fastify's
 * `onRoute` hook: what a test that must cover every route (the fuzz test) walks, so that a new
 * route is covered the day it is added.
 */
export function servedRoutes(app: FastifyInstance): readonly ServedRoute[] {
  const routes = servedRoutesOf.get(app);
  assert(routes, 'the app was made by createApp');
  return routes;
}

const overloads = new WeakMap<FastifyInstance, Overload>();

/** The overload protection of an app from `buildApp`: the server asks it before background rounds. */
export function overloadOf(app: FastifyInstance): Overload {
  const overload = overloads.get(app);
  assert(overload, 'the app was made by buildApp');
  return overload;
}

/** Builds the HTTP app without listening: tests drive it through `app.inject()`. */
export function buildApp(options: AppOptions): FastifyInstance {
  const { platform } = options;
  const metrics = options.metrics ?? createMetrics();
  metrics.watchRisk(platform.risk.stats);
  const gateway = options.gateway && createGateway(options.gateway, () => app.log);
  const overload = new Overload({ ...options.overload, metrics: metrics.overload });
  const headers = securityHeaders(options.security ?? {});
  // A gateway request refused before Fastify routes it costs the kept busy answer alone.
  const answerFirst =
    gateway &&
    ((request: IncomingMessage, response: ServerResponse) => {
      const refusal = overload.arriveEarly(request, response);
      if (!refusal) return false;
      answerEarlyRefusal(gateway, request, response, refusal, headers.fixed).catch((error: unknown) => {
        app.log.error({ err: error }, 'an early refusal could not be answered');
        response.destroy();
      });
      return true;
    });
  const app: FastifyInstance = createApp({ logger: options.logger, gateway, answerFirst });
  const startedMs = performance.now();

  app.get('/health', { schema: { response: { 200: healthSchema, 503: healthSchema } } }, async (request, reply) => {
    const body = { engine: platform.db.engine, uptime_s: Math.floor((performance.now() - startedMs) / 1000) };
    const server = () => {
      const state = platform.db.engine === 'postgres' ? platform.db.serverState?.() : undefined;
      if (!state) return {};
      const lost =
        state.lostSinceMs === null ? {} : { database_lost_s: Math.floor((Date.now() - state.lostSinceMs) / 1000) };
      return { database_host: state.host, ...lost };
    };
    try {
      await platform.db.query('select 1');
    } catch (error) {
      const level = failureLogLevel(error);
      request.log[level]({ err: error }, 'health check: database unreachable');
      const reason = error instanceof Error ? error.message : String(error);
      return reply.code(503).send({ status: 'unavailable', ...body, ...server(), reason });
    }
    return { status: 'ok', ...body, ...server() };
  });

  // On the root, so that every route, the framework's own answers included, carries the headers.
  app.addHook('onRequest', headers.hook);
  // After the headers (a refusal carries them too), before every route's own hooks.
  overloads.set(app, overload);
  app.register(overloadProtection, { overload });
  metrics.watchBreakers(() => platform.channels.breakerStates());

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  if (gateway) mountGateway(app, gateway);

  return app;
}
