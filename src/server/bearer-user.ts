import type { FastifyInstance, FastifyRequest } from 'fastify';
import { assert } from '../core/assert.ts';
import type { Wallet } from '../wallet/index.ts';
import { noteSessionUser } from './overload.ts';

/** The user behind each request of a scope that `requireUser` guards. */
const userIds = new WeakMap<FastifyRequest, string>();

/**
 * Guards every route of `api` with the native API's bearer session (`Authorization: Bearer
 * <token>`): a request without a live session is refused before its route runs.
 */
export function requireUser(api: FastifyInstance, wallet: Wallet): void {
  api.addHook('onRequest', async (request) => {
    const match = /^Bearer ([^\s]+)$/i.exec(request.headers.authorization ?? '');
    const { userId } = await wallet.authenticate(match?.[1] ?? '');
    userIds.set(request, userId);
    noteSessionUser(request, userId);
  });
}

/** The user id of a request in a scope guarded by `requireUser`. */
export function userOf(request: FastifyRequest): string {
  const userId = userIds.get(request);
  assert(userId, 'an authenticated route runs after the session hook');
  return userId;
}
