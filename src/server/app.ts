import helmet from '@fastify/helmet';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { GatewayOptions } from '../gateway/index.ts';
import type { Platform } from '../platform.ts';
import { registerGateway } from './gateway.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { helmetOptions, type WebSecurityOptions } from './web-security.ts';

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
}

const healthSchema = {
  type: 'object',
  required: ['status', 'engine', 'uptime_s'],
  properties: {
    status: { type: 'string', enum: ['ok', 'unavailable'] },
    engine: { type: 'string' },
    uptime_s: { type: 'number' },
  },
} as const;

/** Builds the HTTP app without listening: tests drive it through `app.inject()`. */
export function buildApp(options: AppOptions): FastifyInstance {
  const { platform } = options;
  const metrics = options.metrics ?? createMetrics();
  const app = options.logger ? Fastify({ loggerInstance: options.logger }) : Fastify({ logger: false });
  const startedMs = performance.now();

  app.get('/health', { schema: { response: { 200: healthSchema, 503: healthSchema } } }, async (request, reply) => {
    const body = { engine: platform.db.engine, uptime_s: Math.floor((performance.now() - startedMs) / 1000) };
    try {
      await platform.db.query('select 1');
    } catch (error) {
      request.log.error({ err: error }, 'health check: database unreachable');
      return reply.code(503).send({ status: 'unavailable', ...body });
    }
    return { status: 'ok', ...body };
  });

  // On the root, so that every route, the framework's own answers included, carries the headers.
  app.register(helmet, helmetOptions(options.security ?? {}));

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  if (options.gateway) registerGateway(app, options.gateway);

  return app;
}
