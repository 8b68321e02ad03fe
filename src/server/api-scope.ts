import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { limits } from '../core/limits.ts';

/**
 * Mounts `routes` in an encapsulated scope under `prefix` (`/api/v1`), as the native API's
 * modules do: TypeBox validation, and the API's body limit on every route that sets none. Register
 * before `registerApi`'s spec is built, so that `/docs/json` lists them.
 */
export function registerApiScope(
  app: FastifyInstance,
  prefix: string,
  routes: (scope: FastifyInstance) => void | Promise<void>,
): Promise<void> {
  return app.register(
    async (scope) => {
      scope.setValidatorCompiler(TypeBoxValidatorCompiler);
      scope.addHook('onRoute', (route) => {
        route.bodyLimit ??= limits.apiBodyBytesMax;
      });
      await routes(scope);
    },
    { prefix },
  ) as unknown as Promise<void>;
}
