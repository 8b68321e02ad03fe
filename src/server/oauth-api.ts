/**
 * The apps a user authorised (user authorisation, src/oauth) over the native API (`/api/v1`,
 * bearer session as the rest of it): `GET /authorizations` lists them, `DELETE
 * /authorizations/{appId}` revokes one, its tokens dead at once (204 again for one revoked
 * already; 404 for an app never authorised). What the wallet page `/wallet/authorizations` does.
 */
import { type Static, Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Authorizations, AuthorizationView } from '../oauth/index.ts';
import type { Wallet } from '../wallet/index.ts';
import { errorResponses } from './api-errors.ts';
import { registerApiScope } from './api-scope.ts';
import { requireUser, userOf } from './bearer-user.ts';

export interface OAuthApiDeps {
  oauth: Authorizations;
  wallet: Wallet;
}

const AppId = Type.String({ pattern: '^2021[0-9]{12}$', description: '16 digits from 2021.' });
const Authorization = Type.Object({
  app_id: AppId,
  app_name: Type.String(),
  scopes: Type.Array(Type.Union([Type.Literal('auth_base'), Type.Literal('auth_user'), Type.Literal('auth_zhima')]), {
    description:
      'auth_base: the app knows who you are; auth_user: it also reads your nickname; auth_zhima: it reads your credit score.',
  }),
  authorized_at: Type.String({ format: 'date-time', description: 'The latest time you allowed it.' }),
});

function authorizationView(a: AuthorizationView): Static<typeof Authorization> {
  return { app_id: a.appId, app_name: a.appName, scopes: a.scopes, authorized_at: a.authorizedAt.toISOString() };
}

function routes(api: FastifyInstance, { oauth, wallet }: OAuthApiDeps): void {
  requireUser(api, wallet);
  const typed = api.withTypeProvider<TypeBoxTypeProvider>();
  const doc = (summary: string) => ({ summary, tags: ['authorizations'], security: [{ bearerAuth: [] }] });
  typed.get(
    '/authorizations',
    {
      schema: {
        ...doc('The apps you authorised to know you (Alipay user authorisation), the latest first'),
        response: { 200: Type.Object({ data: Type.Array(Authorization) }), ...errorResponses },
      },
    },
    async (request) => ({ data: (await oauth.list(userOf(request))).map(authorizationView) }),
  );
  typed.delete(
    '/authorizations/:appId',
    {
      schema: {
        ...doc("Revoke an app's authorisation: its tokens stop working at once"),
        params: Type.Object({ appId: AppId }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await oauth.revoke(userOf(request), request.params.appId);
      return reply.code(204).send(null);
    },
  );
}

/** Mounts the authorisation routes under `/api/v1`. */
export function registerOAuthApi(app: FastifyInstance, deps: OAuthApiDeps): Promise<void> {
  return registerApiScope(app, '/api/v1', (scope) => routes(scope, deps));
}
