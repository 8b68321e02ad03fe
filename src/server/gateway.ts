/**
 * Mounts the open gateway (`src/gateway`) on Fastify: `/gateway.do` for the legacy protocol (form
 * body and query string) and `/v3/alipay/*` (with `/v3/zhima/*` and `/v3/paybao/*`) for v3 (raw JSON body, since the signature covers
 * its exact text). The routes live in an encapsulated scope whose body parsers are the gateway's
 * own; `refusals.ts` answers every framework refusal there (oversized body, unknown content type,
 * unreadable body) as an Alipay error instead of Fastify's.
 */

import formbody from '@fastify/formbody';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify';
import { failureLogLevel } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { Gateway, type GatewayOptions, type GatewayResponse, gatewayError } from '../gateway/index.ts';

const bodyLimit = limits.gatewayBodyBytesMax;

function send(reply: FastifyReply, response: GatewayResponse): FastifyReply {
  return reply.code(response.status).headers(response.headers).send(response.body);
}

/** The gateway behind the routes; its methods' failures are logged through `log`. */
export function createGateway(options: GatewayOptions, log: () => FastifyBaseLogger): Gateway {
  return new Gateway({
    ...options,
    onMethodError:
      options.onMethodError ??
      ((error, ctx) =>
        log()[failureLogLevel(error)]({ err: error, method: ctx.method, appId: ctx.appId }, 'gateway method failed')),
  });
}

/**
 * Mounts `gateway`'s routes on `app`. The app must come from `createServer({ gateway })`, whose
 * refusals sign the gateway's errors with the same gateway.
 */
export function mountGateway(app: FastifyInstance, gateway: Gateway): void {
  app.register(async (scope) => {
    await scope.register(formbody, { bodyLimit });
    // Every other body is kept as text: v3 verifies the exact bytes, and the gateway decides
    // which content types it takes, so that Fastify never answers 415 or 400 in its own words.
    scope.removeContentTypeParser(['application/json', 'text/plain']);
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_request, body, done) => done(null, body));

    scope.route({
      method: ['GET', 'POST'],
      url: '/gateway.do',
      bodyLimit,
      handler: async (request, reply) =>
        send(reply, await gateway.legacy({ query: request.query, form: request.body })),
    });

    // Alipay's namespaces (Sesame credit's is zhima), and Paybao's own methods (escrow steps
    // Alipay has no method for).
    for (const namespace of ['alipay', 'zhima', 'paybao']) {
      scope.route({
        method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
        url: `/v3/${namespace}/*`,
        bodyLimit,
        handler: async (request, reply) => {
          const { body } = request;
          if (body !== undefined && typeof body !== 'string') {
            return send(reply, await gateway.v3Error(gatewayError('isv.invalid-content-type'), request));
          }
          const v3Request = {
            httpMethod: request.method,
            url: request.url,
            headers: request.headers,
            body: body ?? '',
          };
          return send(reply, await gateway.v3(v3Request));
        },
      });
    }
  });
}
