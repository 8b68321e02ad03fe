/**
 * The pages' web security in a real browser: a third-party page that frames the cashier gets no
 * password form (frame-ancestors 'none', X-Frame-Options DENY); a page on another port of the
 * same host that posts a withdrawal form for a logged-in wallet owner is refused and moves
 * nothing (SameSite does not help there: another port is the same site); the pages and Swagger UI
 * at /docs render under their Content-Security-Policy without a single violation.
 *
 * Runs Debian's `/usr/bin/chromium` through `playwright-core`.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { listen } from '../gateway/support.ts';
import { browserMissing, launchBrowser } from '../support/browser.ts';
import { freshPlatform } from '../support/engine.ts';

let platform: Platform;
let paybao: FastifyInstance;
let evil: Server;
let context: BrowserContext;
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
let base = '';
let evilBase = '';
/** What the other site's pages hold, by path. */
const evilPages = new Map<string, string>();

/** Collects the browser's CSP complaints on a page. */
function violations(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) seen.push(message.text());
  });
  return seen;
}

describe.skipIf(browserMissing)('web security in a real browser', () => {
  beforeAll(async () => {
    platform = await freshPlatform();
    paybao = await buildPlatformApp({ platform, publicUrl: () => base });
    base = await listen(paybao);
    // Another site on another port of the same host.
    evil = createServer((req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(evilPages.get(req.url ?? '/') ?? 'not found');
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    evilBase = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    context = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => evil?.close(resolve));
    await paybao?.close();
    await platform?.close();
  });

  async function newTrade(): Promise<string> {
    const { publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const { appId } = await platform.members.createApp({ name: 'Tea Shop', merchantPublicKeyPem: publicKey });
    const trade = await platform.trades.create({
      appId,
      outTradeNo: `framed-${Date.now()}`,
      totalAmount: '9.99',
      subject: 'Tea',
    });
    return trade.tradeNo;
  }

  it('does not render the cashier inside a third-party iframe', async () => {
    const tradeNo = await newTrade();
    evilPages.set(
      '/frame',
      `<!doctype html><h1>Win a prize</h1><iframe id="f" src="${base}/cashier/${tradeNo}"></iframe>`,
    );
    const page = await context.newPage();
    const cashierAnswered = page.waitForResponse((r) => r.url().endsWith(`/cashier/${tradeNo}`));
    await page.goto(`${evilBase}/frame`);
    expect((await cashierAnswered).status()).toBe(200);
    await page.waitForLoadState('load');
    for (const frame of page.frames()) {
      expect(await frame.locator('#password').count(), frame.url()).toBe(0);
    }
    // The same page opened by itself shows the form.
    await page.goto(`${base}/cashier/${tradeNo}`);
    expect(await page.locator('#password').count()).toBe(1);
    await page.close();
  });

  it("refuses a withdrawal posted by another port's page for a logged-in owner, and moves nothing", async () => {
    const phone = '13700001111';
    const password = 'browser owner 1';
    const { userId } = await platform.members.createUser({ phone, password, openingBalance: 10_000n });
    const page = await context.newPage();
    await page.goto(`${base}/wallet/withdraw`);
    await page.fill('#phone', phone);
    await page.fill('#password', password);
    await page.click('button[type=submit]');
    await page.locator('#balance').waitFor();

    evilPages.set(
      '/attack',
      `<!doctype html><form id="f" method="post" action="${base}/wallet/withdraw">
       <input name="step" value="withdraw"><input name="card_id" value="any"><input name="amount" value="50.00">
       <input name="idempotency_key" value="evil-1"></form><script>document.getElementById('f').submit()</script>`,
    );
    await page.goto(`${evilBase}/attack`);
    await page.waitForURL(`${base}/wallet/withdraw`);
    expect(await page.locator('[role=alert]').textContent()).toContain('sent from another site');
    expect(await platform.members.walletBalance(userId)).toBe(10_000n);
    const orders = await platform.db.query('select 1 from channel_orders where user_id = $1', [userId]);
    expect(orders).toHaveLength(0);

    // The owner's own page still works, token and all: a refusal for the missing card, not for the form.
    await page.goto(`${base}/wallet/withdraw`);
    expect(await page.locator('#logout').count()).toBe(1);
    await page.click('#logout');
    await page.locator('#password').waitFor();
    await page.close();
  });

  it('renders the pages and Swagger UI under their policies without a violation', async () => {
    const tradeNo = await newTrade();
    const page = await context.newPage();
    const seen = violations(page);
    for (const url of [`${base}/cashier/${tradeNo}`, `${base}/cashier/${tradeNo}/card`, `${base}/wallet/withdraw`]) {
      await page.goto(url);
      // The stylesheet applied: the page's own file, allowed by style-src 'self'.
      const background = await page.evaluate<string>('getComputedStyle(document.body).backgroundImage');
      expect(background, url).toContain('linear-gradient');
    }
    await page.goto(`${base}/docs`);
    await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(5);
    await page.locator('.opblock-summary').first().click();
    await page.locator('.opblock-body').first().waitFor();
    expect(seen).toEqual([]);
    await page.close();
  });
});
