/**
 * What the authorise page asks the module before it shows anything: the app exists and has
 * registered a callback address, `redirect_uri` is on that address's origin (scheme, host and
 * port), the scopes are Alipay's that Paybao offers, the state is short. Each refusal names its
 * parameter and writes nothing. Then: `auth_base` is silent and `auth_user` asks once; a code is
 * bound to the app; the apps a user authorised are listed and revoked; the sweep forgets what
 * can never be used again.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import { isMembersError } from '../../src/members/index.ts';
import { isOAuthError, type OAuthErrorCode } from '../../src/oauth/index.ts';
import { keyPair } from '../gateway/support.ts';
import { usePlatform } from '../support/engine.ts';

const clock = new ManualClock(Date.UTC(2026, 11, 8, 2));
const platform = usePlatform({ clock });

async function app(authRedirectUrl?: string) {
  return platform().members.createApp({
    name: 'Tea Shop',
    merchantPublicKeyPem: keyPair().publicKeyPem,
    authRedirectUrl,
  });
}

async function rowCounts() {
  const [row] = await platform().db.query<{ grants: string; codes: string; ids: string }>(
    `select (select count(*) from oauth_grants) as grants, (select count(*) from oauth_codes) as codes,
            (select count(*) from oauth_open_ids) as ids`,
  );
  return row;
}

async function refusal(params: Parameters<ReturnType<typeof platform>['oauth']['check']>[0]) {
  const error = await platform()
    .oauth.check(params)
    .catch((e: unknown) => e);
  if (!isOAuthError(error)) throw new Error(`expected a refusal, got ${String(error)}`);
  return { code: error.code as OAuthErrorCode, param: error.param };
}

describe('the authorise page’s request', () => {
  it('is refused, naming the parameter and writing nothing, unless every part of it checks out', async () => {
    const { appId } = await app('https://shop.test/oauth/back');
    const bare = await app();
    const good = { appId, scope: 'auth_user', redirectUri: 'https://shop.test/anywhere?x=1', state: 's' };
    const before = await rowCounts();
    const cases: Array<[Partial<typeof good>, OAuthErrorCode, string]> = [
      [{ appId: '2021000000000000' }, 'app_not_found', 'app_id'],
      [{ appId: undefined }, 'app_not_found', 'app_id'],
      [{ appId: bare.appId }, 'redirect_uri_not_registered', 'app_id'],
      [{ redirectUri: undefined }, 'redirect_uri_invalid', 'redirect_uri'],
      [{ redirectUri: 'shop.test/oauth' }, 'redirect_uri_invalid', 'redirect_uri'],
      [{ redirectUri: 'javascript:alert(1)' }, 'redirect_uri_invalid', 'redirect_uri'],
      [{ redirectUri: 'https://shop.test/oauth#frag' }, 'redirect_uri_invalid', 'redirect_uri'],
      [
        { redirectUri: `https://shop.test/${'a'.repeat(limits.oauthRedirectUriLengthMax)}` },
        'redirect_uri_invalid',
        'redirect_uri',
      ],
      [{ redirectUri: 'https://evil.test/oauth/back' }, 'redirect_uri_mismatch', 'redirect_uri'],
      [{ redirectUri: 'https://shop.test.evil.test/oauth/back' }, 'redirect_uri_mismatch', 'redirect_uri'],
      [{ redirectUri: 'http://shop.test/oauth/back' }, 'redirect_uri_mismatch', 'redirect_uri'],
      [{ redirectUri: 'https://shop.test:8443/oauth/back' }, 'redirect_uri_mismatch', 'redirect_uri'],
      [{ scope: '' }, 'scope_invalid', 'scope'],
      [{ scope: 'auth_ecard' }, 'scope_invalid', 'scope'],
      [{ scope: 'auth_user,,auth_base' }, 'scope_invalid', 'scope'],
      [{ state: 'x'.repeat(limits.oauthStateLengthMax + 1) }, 'state_invalid', 'state'],
      [{ state: 'a\u0000b' }, 'state_invalid', 'state'],
    ];
    for (const [change, code, param] of cases) {
      expect(await refusal({ ...good, ...change }), JSON.stringify(change)).toEqual({ code, param });
    }
    expect(await rowCounts()).toEqual(before);
    const request = await platform().oauth.check({ ...good, scope: ' auth_user , auth_base ' });
    expect(request.scopes).toEqual(['auth_base', 'auth_user']);
  });

  it('asks for auth_user once, never for auth_base alone; the code comes back with the request’s fields', async () => {
    const { appId } = await app('https://shop.test/oauth');
    const { userId } = await platform().members.createUser({ phone: '13500135000', password: 'a password 1' });
    const oauth = platform().oauth;
    const base = await oauth.check({ appId, scope: 'auth_base', redirectUri: 'https://shop.test/cb' });
    const user = await oauth.check({ appId, scope: 'auth_user', redirectUri: 'https://shop.test/cb', state: 'é&=' });
    expect(await oauth.needsConsent(userId, base)).toBe(false);
    expect(await oauth.needsConsent(userId, user)).toBe(true);
    const back = new URL(await oauth.authorize(userId, user));
    expect(Object.fromEntries(back.searchParams)).toMatchObject({ app_id: appId, scope: 'auth_user', state: 'é&=' });
    expect(back.searchParams.get('auth_code')).toMatch(/^[0-9a-f]{32}$/);
    expect(await oauth.needsConsent(userId, user)).toBe(false);
    expect(new URL(oauth.denied(user)).searchParams.get('error')).toBe('access_denied');

    // Allowing auth_base later keeps auth_user: a grant widens, it never narrows.
    await oauth.authorize(userId, base);
    expect((await oauth.list(userId)).map((a) => [a.appId, a.appName, a.scopes])).toEqual([
      [appId, 'Tea Shop', ['auth_base', 'auth_user']],
    ]);
    await oauth.revoke(userId, appId);
    expect(await oauth.list(userId)).toEqual([]);
    expect(await oauth.needsConsent(userId, user)).toBe(true);
    const never = await oauth.revoke(userId, (await app('https://x.test/')).appId).catch((e: unknown) => e);
    expect(isOAuthError(never, 'authorization_not_found')).toBe(true);
  });

  it('sweeps codes and tokens past use once they are older than the retention', async () => {
    const { appId } = await app('https://shop.test/oauth');
    const { userId } = await platform().members.createUser({ phone: '13500135001', password: 'a password 1' });
    const oauth = platform().oauth;
    const request = await oauth.check({ appId, scope: 'auth_base', redirectUri: 'https://shop.test/cb' });
    const code = new URL(await oauth.authorize(userId, request)).searchParams.get('auth_code') ?? '';
    await oauth.exchangeCode(appId, code);
    const tokens = async () =>
      (await platform().db.query('select token_id from oauth_tokens where app_id = $1', [appId])).length;
    expect(await oauth.sweep()).toBe(0);
    // A week after its expiry the code goes; the token pair lives on until its refresh token is past too.
    clock.advanceMs(limits.oauthAuthCodeTtlMs + limits.oauthRetentionMs + 1);
    expect(await oauth.sweep()).toBeGreaterThanOrEqual(1);
    expect(await tokens()).toBe(1);
    clock.advanceMs(limits.oauthRefreshTokenTtlMs);
    expect(await oauth.sweep()).toBeGreaterThanOrEqual(1);
    expect(await tokens()).toBe(0);
    // The authorisation itself stays until the user revokes it.
    expect((await oauth.list(userId)).length).toBe(1);
  });
});

describe('an app’s authorisation callback address', () => {
  it('is an http(s) URL without a fragment, set and removed per app', async () => {
    const { appId } = await app();
    for (const bad of ['ftp://shop.test/', 'not a url', 'https://shop.test/#x']) {
      const error = await platform()
        .members.setAuthRedirectUrl(appId, bad)
        .catch((e: unknown) => e);
      expect(isMembersError(error) && error.code).toBe('auth_redirect_url_invalid');
    }
    expect((await platform().members.setAuthRedirectUrl(appId, ' https://shop.test/cb ')).authRedirectUrl).toBe(
      'https://shop.test/cb',
    );
    expect((await platform().members.setAuthRedirectUrl(appId, undefined)).authRedirectUrl).toBeUndefined();
    const missing = await platform()
      .members.setAuthRedirectUrl('2021000000000009', 'https://a.test/')
      .catch((e) => e);
    expect(isMembersError(missing, 'app_not_found')).toBe(true);
  });
});
