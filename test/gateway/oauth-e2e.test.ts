/**
 * User authorisation for merchants over the open gateway, driven by the real alipay-sdk: a code
 * the user's authorisation issued is exchanged once for a token pair (`alipay.system.oauth.token`,
 * legacy and v3), the token reads the user's profile (`alipay.user.info.share`, `exec` with
 * `{ authToken }`) only under `auth_user`, and every refusal is Alipay's code: a code used twice
 * (which also kills what it issued), expired or another app's (`isv.code-invalid`), an expired,
 * revoked or another app's token (`aop.auth-token-time-out`, `aop.invalid-auth-token`), a
 * refresh token spent, expired or revoked (`isv.refresh-token-invalid`, `-time-out`). The
 * authorise page itself is test/browser/oauth.test.ts; its checks, test/oauth/authorize.test.ts.
 */
import { AlipayRequestError } from 'alipay-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import { type Merchant, newBuyer, type PlatformGateway, startPlatformGateway } from './platform-support.ts';

// The codes and tokens expire on this clock; the gateway checks request timestamps against real time.
const clock = new ManualClock(Date.now());
let gw: PlatformGateway;
let user: { userId: string };

type Result = Record<string, unknown> & { code: string; sub_code?: string; sub_msg?: string };

/** The user allows `scope` to the merchant's app (what the authorise page does); the auth_code. */
async function authorize(m: Merchant, scope = 'auth_user', userId = user.userId): Promise<string> {
  const request = await gw.platform.oauth.check({
    appId: m.appId,
    scope,
    redirectUri: `https://${m.appId}.shop.test/callback?from=paybao`,
    state: 'xyz',
  });
  const back = new URL(await gw.platform.oauth.authorize(userId, request));
  expect(back.searchParams.get('app_id')).toBe(m.appId);
  expect(back.searchParams.get('state')).toBe('xyz');
  expect(back.searchParams.get('from')).toBe('paybao');
  return back.searchParams.get('auth_code') ?? '';
}

const exec = async (m: Merchant, method: string, params: Record<string, string>): Promise<Result> =>
  (await m.sdk.exec(method, params, { validateSign: true })) as Result;
const token = (m: Merchant, code: string) =>
  exec(m, 'alipay.system.oauth.token', { grantType: 'authorization_code', code });
const refresh = (m: Merchant, refreshToken: string) =>
  exec(m, 'alipay.system.oauth.token', { grantType: 'refresh_token', refreshToken });
const share = (m: Merchant, authToken: string) => exec(m, 'alipay.user.info.share', { authToken });

function refused(result: Result, code: string, subCode: string): void {
  expect(result).toMatchObject({ code, sub_code: subCode });
}

beforeAll(async () => {
  gw = await startPlatformGateway({ clock });
  for (const m of [gw.a, gw.b]) {
    await gw.platform.members.setAuthRedirectUrl(m.appId, `https://${m.appId}.shop.test/oauth`);
  }
  user = await newBuyer(gw.platform, '13600136000', 0n);
  await gw.platform.social.friends.updateProfile(user.userId, { nickname: '小明' });
});

afterAll(async () => {
  await gw?.close();
});

describe('alipay.system.oauth.token and alipay.user.info.share', () => {
  it('exchanges a code for tokens that read the profile; the open id is the app’s own and stable', async () => {
    const issued = await token(gw.a, await authorize(gw.a));
    expect(issued).toMatchObject({
      code: '10000',
      user_id: user.userId,
      expires_in: limits.oauthAccessTokenTtlMs / 1000,
      re_expires_in: limits.oauthRefreshTokenTtlMs / 1000,
    });
    expect(issued.access_token).toMatch(/^authusrB[0-9a-f]{32}$/);
    expect(issued.open_id).toMatch(/^0[0-9A-Za-z]{45}$/);
    expect(issued.auth_start).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const profile = await share(gw.a, String(issued.access_token));
    expect(profile).toMatchObject({ code: '10000', user_id: user.userId, open_id: issued.open_id, nick_name: '小明' });

    const again = await token(gw.a, await authorize(gw.a));
    expect(again.open_id).toBe(issued.open_id);
    const other = await token(gw.b, await authorize(gw.b));
    expect(other.user_id).toBe(user.userId);
    expect(other.open_id).not.toBe(issued.open_id);
  });

  it('takes a code once: a second exchange is refused and kills the tokens the first one issued', async () => {
    const code = await authorize(gw.a);
    const first = await token(gw.a, code);
    expect(first.code).toBe('10000');
    refused(await token(gw.a, code), '40002', 'isv.code-invalid');
    refused(await share(gw.a, String(first.access_token)), '20001', 'aop.invalid-auth-token');
    refused(await refresh(gw.a, String(first.refresh_token)), '40002', 'isv.refresh-token-invalid');
  });

  it('refuses an expired code, an unknown one, and another app’s, which stays good for its own', async () => {
    const late = await authorize(gw.a);
    clock.advanceMs(limits.oauthAuthCodeTtlMs + 1);
    refused(await token(gw.a, late), '40002', 'isv.code-invalid');
    refused(await token(gw.a, '0123456789abcdef0123456789abcdef'), '40002', 'isv.code-invalid');
    refused(await token(gw.a, 'not a code'), '40002', 'isv.code-invalid');

    const bs = await authorize(gw.b);
    refused(await token(gw.a, bs), '40002', 'isv.code-invalid');
    expect((await token(gw.b, bs)).code).toBe('10000');
  });

  it('refuses another app’s access and refresh tokens', async () => {
    const issued = await token(gw.b, await authorize(gw.b));
    refused(await share(gw.a, String(issued.access_token)), '20001', 'aop.invalid-auth-token');
    refused(await refresh(gw.a, String(issued.refresh_token)), '40002', 'isv.refresh-token-invalid');
    expect((await share(gw.b, String(issued.access_token))).code).toBe('10000');
  });

  it('with auth_base alone identifies the user, but does not read the profile', async () => {
    const someone = await newBuyer(gw.platform, '13600136001', 0n);
    const issued = await token(gw.a, await authorize(gw.a, 'auth_base', someone.userId));
    expect(issued).toMatchObject({ code: '10000', user_id: someone.userId });
    expect(issued.access_token).toMatch(/^authbseB/);
    const result = await share(gw.a, String(issued.access_token));
    refused(result, '20001', 'aop.invalid-auth-token');
    expect(result.sub_msg).toContain('auth_user');
  });

  it('refreshes: a new pair for the same authorisation, the old pair dead, each refresh token once', async () => {
    const issued = await token(gw.a, await authorize(gw.a));
    clock.advanceMs(limits.oauthAccessTokenTtlMs);
    refused(await share(gw.a, String(issued.access_token)), '20001', 'aop.auth-token-time-out');
    const next = await refresh(gw.a, String(issued.refresh_token));
    expect(next).toMatchObject({
      code: '10000',
      user_id: user.userId,
      open_id: issued.open_id,
      auth_start: issued.auth_start,
    });
    expect(next.access_token).not.toBe(issued.access_token);
    expect((await share(gw.a, String(next.access_token))).code).toBe('10000');
    refused(await refresh(gw.a, String(issued.refresh_token)), '40002', 'isv.refresh-token-invalid');

    clock.advanceMs(limits.oauthRefreshTokenTtlMs);
    refused(await refresh(gw.a, String(next.refresh_token)), '40002', 'isv.refresh-token-time-out');
  });

  it('stops every token and pending code of an app the user revokes, at once', async () => {
    const someone = await newBuyer(gw.platform, '13600136002', 0n);
    const issued = await token(gw.a, await authorize(gw.a, 'auth_user', someone.userId));
    const pending = await authorize(gw.a, 'auth_user', someone.userId);
    await gw.platform.oauth.revoke(someone.userId, gw.a.appId);
    refused(await share(gw.a, String(issued.access_token)), '20001', 'aop.invalid-auth-token');
    refused(await refresh(gw.a, String(issued.refresh_token)), '40002', 'isv.refresh-token-invalid');
    refused(await token(gw.a, pending), '40002', 'isv.code-invalid');
    // Revoking twice is done; allowing again gives working tokens again.
    await gw.platform.oauth.revoke(someone.userId, gw.a.appId);
    const renewed = await token(gw.a, await authorize(gw.a, 'auth_user', someone.userId));
    expect((await share(gw.a, String(renewed.access_token))).code).toBe('10000');
  });

  it('refuses a grant type it does not know and a missing token, in Alipay’s codes', async () => {
    refused(
      await exec(gw.a, 'alipay.system.oauth.token', { grantType: 'password' }),
      '40002',
      'isv.grant-type-invalid',
    );
    refused(await exec(gw.a, 'alipay.system.oauth.token', {}), '40002', 'isv.grant-type-invalid');
    refused(await exec(gw.a, 'alipay.user.info.share', {}), '20001', 'aop.invalid-auth-token');
  });

  it('speaks v3 too: the grant in the JSON body, refusals as HTTP 400 with the bare code', async () => {
    const code = await authorize(gw.a);
    const { data } = await gw.a.sdk.curl('POST', '/v3/alipay/system/oauth/token', {
      body: { grant_type: 'authorization_code', code },
    });
    expect(data).toMatchObject({ user_id: user.userId });
    const again = await gw.a.sdk
      .curl('POST', '/v3/alipay/system/oauth/token', { body: { grant_type: 'authorization_code', code } })
      .catch((error: unknown) => error);
    expect(again).toBeInstanceOf(AlipayRequestError);
    expect(again).toMatchObject({ code: 'code-invalid', responseHttpStatus: 400 });
  });
});
