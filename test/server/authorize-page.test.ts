/**
 * The authorise page over HTTP, as a browser's forms drive it (the real browser's run is
 * test/browser/oauth.test.ts): a bad request gets a page and no redirect; a good one the login
 * form under a policy whose forms may lead only to the app's origin; login sets the page's own
 * session cookie (HttpOnly, SameSite=Lax, path /oauth2); Allow without the CSRF token or a session
 * is refused; Allow sends the browser to the registered address with a code that works once;
 * auth_base goes back at once.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { keyPair, listen } from '../gateway/support.ts';
import { freshPlatform } from '../support/engine.ts';
import { PageSession } from '../support/page-session.ts';

const phone = '13712340000';
const password = 'authorise me 1';
let platform: Platform;
let app: FastifyInstance;
let base = '';
let appId = '';

const url = (scope: string, redirectUri = 'https://shop.test/cb?x=1') =>
  `${base}/oauth2/publicAppAuthorize.htm?${new URLSearchParams({ app_id: appId, scope, redirect_uri: redirectUri, state: 'st' })}`;

beforeAll(async () => {
  platform = await freshPlatform();
  app = await buildPlatformApp({ platform, publicUrl: () => base });
  base = await listen(app);
  appId = (
    await platform.members.createApp({
      name: 'Tea <Shop>',
      merchantPublicKeyPem: keyPair().publicKeyPem,
      authRedirectUrl: 'https://shop.test/oauth',
    })
  ).appId;
  await platform.members.createUser({ phone, password });
});

afterAll(async () => {
  await app?.close();
  await platform?.close();
});

describe('/oauth2/publicAppAuthorize.htm', () => {
  it('answers a request that fails its checks with a page, never a redirect', async () => {
    const browser = new PageSession();
    for (const bad of [
      url('auth_user', 'https://evil.test/cb'),
      url('auth_wallet'),
      `${base}/oauth2/publicAppAuthorize.htm?app_id=${appId}&app_id=${appId}`,
      `${base}/oauth2/publicAppAuthorize.htm`,
    ]) {
      const res = await browser.get(bad);
      expect(res.status, bad).toBeGreaterThanOrEqual(400);
      expect(res.headers.get('location'), bad).toBeNull();
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
    }
  });

  it('logs in, asks, and sends the browser back with a code that works once', async () => {
    const browser = new PageSession();
    const page = await browser.get(url('auth_user'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self' https://shop.test;");
    const html = await page.text();
    expect(html).toContain('Authorise Tea &lt;Shop&gt;');
    expect((await browser.post(url('auth_user'), { step: 'allow', _csrf: '' })).status).toBe(403);
    expect((await browser.post(url('auth_user'), { step: 'allow' })).status).toBe(401);

    const login = await browser.post(url('auth_user'), { step: 'login', phone, password });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe(url('auth_user').slice(base.length));
    const session = login.headers.getSetCookie().find((c) => c.startsWith('paybao_authorize='));
    expect(session).toMatch(/Path=\/oauth2/);
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Lax/);

    const consent = await browser.get(url('auth_user'));
    expect(await consent.text()).toContain('id="allow"');
    const allowed = await browser.post(url('auth_user'), { step: 'allow' });
    expect(allowed.status).toBe(303);
    const back = new URL(allowed.headers.get('location') ?? '');
    expect(back.origin + back.pathname).toBe('https://shop.test/cb');
    expect(Object.fromEntries(back.searchParams)).toMatchObject({
      x: '1',
      app_id: appId,
      scope: 'auth_user',
      state: 'st',
    });
    const code = back.searchParams.get('auth_code') ?? '';
    expect((await platform.oauth.exchangeCode(appId, code)).scopes).toEqual(['auth_user']);
    await expect(platform.oauth.exchangeCode(appId, code)).rejects.toMatchObject({ code: 'code_invalid' });

    // auth_base is silent for a logged-in user: straight back with a code.
    const silent = await browser.get(url('auth_base'));
    expect(silent.status).toBe(303);
    expect(new URL(silent.headers.get('location') ?? '').searchParams.get('auth_code')).toMatch(/^[0-9a-f]{32}$/);

    // Logging out ends the page's session: the login form again.
    expect((await browser.post(url('auth_user'), { step: 'logout' })).status).toBe(303);
    expect(await (await browser.get(url('auth_user'))).text()).toContain('id="password"');
  });
});
