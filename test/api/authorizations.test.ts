/**
 * The apps a user authorised, over the native API: `GET /api/v1/authorizations` lists each with
 * its scopes (the user's own only), `DELETE /api/v1/authorizations/{appId}` revokes one and its
 * token stops at once; a second DELETE is done as well, an app never authorised is a 404, a
 * malformed id a 400 that names it, and no session a 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOAuthError } from '../../src/oauth/index.ts';
import { keyPair } from '../gateway/support.ts';
import { type ApiUser, type ApiWorld, apiUser, apiWorld } from './support.ts';

let world: ApiWorld;
let alice: ApiUser;
let bob: ApiUser;
let appId = '';

/** The user allows `scope` to the app and the app exchanges the code: its access token. */
async function authorized(user: ApiUser, scope: string): Promise<string> {
  const { oauth } = world.platform;
  const request = await oauth.check({ appId, scope, redirectUri: 'https://shop.test/cb' });
  const code = new URL(await oauth.authorize(user.userId, request)).searchParams.get('auth_code') ?? '';
  return (await oauth.exchangeCode(appId, code)).accessToken;
}

beforeAll(async () => {
  world = await apiWorld();
  alice = await apiUser(world, 0n);
  bob = await apiUser(world, 0n);
  const app = await world.platform.members.createApp({
    name: 'Tea Shop',
    merchantPublicKeyPem: keyPair().publicKeyPem,
    authRedirectUrl: 'https://shop.test/oauth',
  });
  appId = app.appId;
});

afterAll(async () => {
  await world.close();
});

describe('/api/v1/authorizations', () => {
  it('lists the apps the user authorised, and only theirs', async () => {
    await authorized(alice, 'auth_base');
    await authorized(alice, 'auth_user');
    const res = await alice.call({ method: 'GET', url: '/api/v1/authorizations' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual([
      { app_id: appId, app_name: 'Tea Shop', scopes: ['auth_base', 'auth_user'], authorized_at: expect.any(String) },
    ]);
    expect((await bob.call({ method: 'GET', url: '/api/v1/authorizations' })).json()).toEqual({ data: [] });
  });

  it('revokes one: its token stops at once; again is done; never authorised is a 404', async () => {
    const token = await authorized(bob, 'auth_user');
    expect((await world.platform.oauth.owner(appId, token)).userId).toBe(bob.userId);
    const del = () => bob.call({ method: 'DELETE', url: `/api/v1/authorizations/${appId}` });
    expect((await del()).statusCode).toBe(204);
    const error = await world.platform.oauth.owner(appId, token).catch((e: unknown) => e);
    expect(isOAuthError(error, 'access_token_invalid')).toBe(true);
    expect((await del()).statusCode).toBe(204);
    expect((await bob.call({ method: 'GET', url: '/api/v1/authorizations' })).json()).toEqual({ data: [] });

    const never = await bob.call({ method: 'DELETE', url: '/api/v1/authorizations/2021000000000000' });
    expect(never.statusCode).toBe(404);
    expect(never.json()).toMatchObject({ code: 'authorization_not_found', param: 'app_id' });
    // Alice's authorisation of the same app is hers: untouched.
    expect((await alice.call({ method: 'GET', url: '/api/v1/authorizations' })).json().data).toHaveLength(1);
  });

  it('refuses a malformed app id and a request without a session', async () => {
    const bad = await alice.call({ method: 'DELETE', url: '/api/v1/authorizations/not-an-app' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'parameter_invalid', param: 'appId' });
    const anonymous = await world.app.inject({ method: 'GET', url: '/api/v1/authorizations' });
    expect(anonymous.statusCode).toBe(401);
  });
});
