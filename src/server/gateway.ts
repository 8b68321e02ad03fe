/**
 * Mounts the open gateway (`src/gateway`) on Fastify: `/gateway.do` for the legacy protocol (form
 * body and query string) and `/v3/alipay/*` (with `/v3/paybao/*`) for v3 (raw JSON body, since the signature covers
 * its exact text). The routes live in an encapsulated scope whose body parsers are the gateway's
 * own, and whose error handler turns every framework refusal (oversized body, unknown content
 * type, unreadable body) into an Alipay error instead of Fastify's.
 */
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { limits } from '../core/limits.ts';
import {
  Gateway,
  type GatewayError,
  type GatewayOptions,
  type GatewayResponse,
  gatewayError,
} from '../gateway/index.ts';

const bodyLimit = limits.gatewayBodyBytesMax;

function send(reply: FastifyReply, response: GatewayResponse): FastifyReply {
  return reply.code(response.status).headers(response.headers).send(response.body);
}

/** The Alipay error for a request Fastify refused before the handler ran. */
function frameworkError(error: FastifyError): GatewayError {
  const status = error.statusCode ?? 500;
  if (status === 413) return gatewayError('isv.request-too-large');
  if (status === 415) return gatewayError('isv.invalid-content-type');
  if (status < 500) return gatewayError('isv.invalid-parameter', '请求无法解析');
  return gatewayError('isp.unknow-error');
}

/** Registers the gateway's routes on `app`; answers the `Gateway` serving them. */
export function registerGateway(app: FastifyInstance, options: GatewayOptions): Gateway {
  const gateway = new Gateway({
    ...options,
    onMethodError:
      options.onMethodError ??
      ((error, ctx) => app.log.error({ err: error, method: ctx.method, appId: ctx.appId }, 'gateway method failed')),
  });

  app.register(async (scope) => {
    await scope.register(formbody, { bodyLimit });
    // Every other body is kept as text: v3 verifies the exact bytes, and the gateway decides
    // which content types it takes, so that Fastify never answers 415 or 400 in its own words.
    scope.removeContentTypeParser(['application/json', 'text/plain']);
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_request, body, done) => done(null, body));

    scope.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      if ((error.statusCode ?? 500) >= 500) request.log.error({ err: error }, 'gateway request failed');
      const refusal = frameworkError(error);
      const response = await (request.url.startsWith('/v3/')
        ? gateway.v3Error(refusal, request)
        : gateway.legacyError(request.query, refusal));
      return send(reply, response);
    });

    scope.route({
      method: ['GET', 'POST'],
      url: '/gateway.do',
      bodyLimit,
      handler: async (request, reply) =>
        send(reply, await gateway.legacy({ query: request.query, form: request.body })),
    });

    // Alipay's namespace, and Paybao's own methods (escrow steps Alipay has no method for).
    for (const namespace of ['alipay', 'paybao']) {
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
  return gateway;
}
