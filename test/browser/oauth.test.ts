/**
 * "Log in with Paybao" in a real browser: a merchant's site (its own origin) links to Paybao's
 * authorise page; the user logs in to the wallet, sees the app's name and what it asks, allows
 * it, and lands back on the merchant's callback with an `auth_code`, which the merchant exchanges
 * through the real alipay-sdk and uses to read the user's nickname. Cancel comes back with
 * `error=access_denied`; a `redirect_uri` the app did not register gets a page saying so and goes
 * nowhere. In the wallet the user sees the app and revokes it, and the merchant's token is dead.
 *
 * Runs Debian's `/usr/bin/chromium` through `playwright-core` (see test/support/browser.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlipaySdk } from 'alipay-sdk';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/index.ts';
import type { Platform } from '../../src/platform.ts';
import { escapeHtml } from '../../src/server/html.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { keyPair, listen } from '../gateway/support.ts';
import { browserMissing, launchBrowser } from '../support/browser.ts';
import { engine, freshPlatform } from '../support/engine.ts';

const phone = '13912347777';
const password = 'log in with paybao 1';
/** Where the screenshots go (kept after the run, for people to look at). */
export const consentScreenshot = join(tmpdir(), `paybao-oauth-consent-${engine}.png`);
export const walletScreenshot = join(tmpdir(), `paybao-oauth-wallet-${engine}.png`);

let platform: Platform;
let paybao: FastifyInstance;
let merchant: Server;
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
let base = '';
let merchantBase = '';
let sdk: AlipaySdk;
let appId = '';
let userId = '';
/** What the merchant's callback saw and did, newest last. */
const callbacks: Array<{ query: Record<string, string>; accessToken?: string; userId?: string; nick?: string }> = [];

/** The merchant's side: a page with the link, and the callback that exchanges the code. */
async function merchantSite(): Promise<Server> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', merchantBase);
    res.setHeader('content-type', 'text/html; charset=utf-8');
    if (url.pathname === '/callback') {
      const query = Object.fromEntries(url.searchParams);
      const seen: (typeof callbacks)[number] = { query };
      callbacks.push(seen);
      if (query.auth_code) {
        const issued = await sdk.exec('alipay.system.oauth.token', {
          grantType: 'authorization_code',
          code: query.auth_code,
        });
        const profile = await sdk.exec('alipay.user.info.share', { authToken: String(issued.accessToken) });
        Object.assign(seen, { accessToken: issued.accessToken, userId: profile.userId, nick: profile.nickName });
        return res.end(
          `<h1 id="hello">Hello ${escapeHtml(String(profile.nickName))}</h1><p id="uid">${profile.userId}</p>`,
        );
      }
      return res.end(`<h1 id="declined">${escapeHtml(query.error ?? 'no code')}</h1>`);
    }
    const link = authorizeUrl(`${merchantBase}/callback`, 'csrf-state-1');
    return res.end(`<a id="login" href="${escapeHtml(link)}">Log in with Paybao</a>`);
  });
  // `localhost`, not 127.0.0.1 where Paybao listens: another site, as a merchant's is.
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  merchantBase = `http://localhost:${(server.address() as AddressInfo).port}`;
  return server;
}

function authorizeUrl(redirectUri: string, state: string): string {
  const query = new URLSearchParams({ app_id: appId, scope: 'auth_user', redirect_uri: redirectUri, state });
  return `${base}/oauth2/publicAppAuthorize.htm?${query}`;
}

async function logIn(page: Page): Promise<void> {
  await page.fill('#phone', phone);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
}

describe.skipIf(browserMissing)('log in with Paybao in a real browser', () => {
  beforeAll(async () => {
    platform = await freshPlatform();
    paybao = await buildPlatformApp({ platform, publicUrl: () => base });
    base = await listen(paybao);
    merchant = await merchantSite();
    const keys = keyPair();
    const app = await platform.members.createApp({
      name: 'Tea Shop',
      merchantPublicKeyPem: keys.publicKeyPem,
      authRedirectUrl: `${merchantBase}/callback`,
    });
    appId = app.appId;
    sdk = new AlipaySdk({
      appId,
      privateKey: keys.privateKeyPem,
      alipayPublicKey: app.alipayPublicKey,
      gateway: `${base}/gateway.do`,
    });
    userId = (await platform.members.createUser({ phone, password })).userId;
    await platform.social.friends.updateProfile(userId, { nickname: '茶友' });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await paybao?.close();
    await new Promise((resolve) => merchant?.close(resolve));
    if (platform) {
      expect(await verifyLedger(platform.db)).toEqual([]);
      await platform.close();
    }
  });

  it('logs in, allows, lands on the merchant with a code the merchant exchanges for the profile', async () => {
    const page = await (browser?.context ?? (await launchBrowser()).context).newPage();
    await page.goto(merchantBase);
    await page.click('#login');
    await page.waitForSelector('#phone');
    expect(await page.textContent('main')).toContain('Authorise Tea Shop');
    await logIn(page);
    await page.waitForSelector('#allow');
    expect(await page.textContent('#app-name')).toBe('Tea Shop');
    expect(await page.textContent('#scopes')).toContain('nickname');
    expect(await page.textContent('#account')).toBe('139****7777');
    expect(await page.textContent('#return-host')).toBe(new URL(merchantBase).host);
    await page.screenshot({ path: consentScreenshot, fullPage: true });
    await page.click('#allow');
    await page.waitForSelector('#hello');
    expect(await page.textContent('#hello')).toBe('Hello 茶友');
    expect(await page.textContent('#uid')).toBe(userId);
    const last = callbacks.at(-1);
    expect(last?.query).toMatchObject({ app_id: appId, scope: 'auth_user', state: 'csrf-state-1' });
    expect(last?.query.auth_code).toMatch(/^[0-9a-f]{32}$/);

    // Allowed once, the next visit of a logged-in user goes straight back with a fresh code.
    await page.goto(merchantBase);
    await page.click('#login');
    await page.waitForSelector('#hello');
    expect(callbacks.at(-1)?.query.auth_code).not.toBe(last?.query.auth_code);
  });

  it('comes back with error=access_denied when the user cancels', async () => {
    const page = await (browser?.context ?? (await launchBrowser()).context).newPage();
    await platform.oauth.revoke(userId, appId);
    await page.goto(merchantBase);
    await page.click('#login');
    await page.waitForSelector('#deny');
    await page.click('#deny');
    await page.waitForSelector('#declined');
    expect(callbacks.at(-1)?.query).toMatchObject({ error: 'access_denied', state: 'csrf-state-1' });
    expect(callbacks.at(-1)?.query.auth_code).toBeUndefined();
  });

  it('refuses a redirect_uri the app did not register with a page, and goes nowhere', async () => {
    const page = await (browser?.context ?? (await launchBrowser()).context).newPage();
    const response = await page.goto(authorizeUrl('https://evil.test/steal', 's'));
    expect(response?.status()).toBe(400);
    expect(await page.textContent('#reason')).toContain('redirect_uri is not on the authorisation callback address');
    expect(new URL(page.url()).origin).toBe(base);
  });

  it('lists the app in the wallet; revoking it kills the merchant’s token at once', async () => {
    const page = await (browser?.context ?? (await launchBrowser()).context).newPage();
    await page.goto(merchantBase);
    await page.click('#login');
    await page.click('#allow');
    await page.waitForSelector('#hello');
    const accessToken = String(callbacks.at(-1)?.accessToken);

    await page.goto(`${base}/wallet/authorizations`);
    await logIn(page);
    await page.waitForSelector(`#app-${appId}`);
    expect(await page.textContent(`#app-${appId} h2`)).toBe('Tea Shop');
    await page.screenshot({ path: walletScreenshot, fullPage: true });
    await page.click(`#app-${appId} button.revoke`);
    await page.waitForSelector('#notice');
    expect(await page.locator(`#app-${appId}`).count()).toBe(0);
    expect(await page.textContent('#none')).toContain('not authorised any app');
    const refused = await sdk.exec('alipay.user.info.share', { authToken: accessToken });
    expect(refused).toMatchObject({ code: '20001', subCode: 'aop.invalid-auth-token' });
  });
});
