/**
 * A buyer pays a `page.pay` trade in a real browser: a merchant page renders the form that
 * `alipay-sdk`'s `pageExecute` builds, Chromium submits it to the gateway, lands on Paybao's
 * cashier, logs in with phone and password, pays, and is sent back to the merchant's return URL
 * with parameters that pass the SDK's `checkNotifySignV2`. The wallets moved.
 *
 * Runs Debian's `/usr/bin/chromium` through `playwright-core` (CI installs it; see .ci/run).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlipaySdk } from 'alipay-sdk';
import type { FastifyInstance } from 'fastify';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/index.ts';
import type { Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { keyPair, listen } from '../gateway/support.ts';
import { browserMissing, launchBrowser } from '../support/browser.ts';
import { engine, freshPlatform } from '../support/engine.ts';

const phone = '13912345678';
const password = 'browser pays 1';
const openingFen = 50_000n;

/** Where the cashier's screenshot goes (kept after the run, for people to look at). */
export const screenshotPath = join(tmpdir(), `paybao-cashier-${engine}.png`);

let platform: Platform;
let paybao: FastifyInstance;
let merchant: Server;
let context: BrowserContext;
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
let base = '';
let merchantBase = '';
let sdk: AlipaySdk;
let buyerId = '';
let sellerId = '';
const returns: Array<{ params: Record<string, string>; verified: boolean }> = [];
const outTradeNo = `browser-${Date.now()}`;

describe.skipIf(browserMissing)('the cashier in a real browser', () => {
  beforeAll(async () => {
    platform = await freshPlatform();
    const keys = keyPair();
    const app = await platform.members.createApp({ name: 'Tea Shop', merchantPublicKeyPem: keys.publicKeyPem });
    sellerId = app.sellerId;
    buyerId = (await platform.members.createUser({ phone, password, openingBalance: openingFen })).userId;
    paybao = await buildPlatformApp({ platform, publicUrl: () => base });
    base = await listen(paybao);
    sdk = new AlipaySdk({
      appId: app.appId,
      privateKey: keys.privateKeyPem,
      alipayPublicKey: app.alipayPublicKey,
      gateway: `${base}/gateway.do`,
      endpoint: base,
    });

    // The merchant's site: a checkout page holding the SDK's form, and the return page.
    merchant = createServer((req, res) => {
      const url = new URL(req.url ?? '/', merchantBase);
      res.setHeader('content-type', 'text/html; charset=utf-8');
      if (url.pathname === '/checkout') {
        const form = sdk.pageExecute('alipay.trade.page.pay', 'POST', {
          bizContent: {
            out_trade_no: outTradeNo,
            total_amount: '123.45',
            subject: 'Longjing tea, 250 g',
            product_code: 'FAST_INSTANT_TRADE_PAY',
          },
          returnUrl: `${merchantBase}/return`,
        });
        res.end(`<!doctype html><html><body><h1>Tea Shop checkout</h1>${form}</body></html>`);
        return;
      }
      if (url.pathname === '/return') {
        const params = Object.fromEntries(url.searchParams);
        const verified = sdk.checkNotifySignV2({ ...params });
        returns.push({ params, verified });
        res.end(
          `<!doctype html><html><body><h1 id="thanks">Thank you for order ${params.out_trade_no}</h1></body></html>`,
        );
        return;
      }
      res.statusCode = 404;
      res.end('not found');
    });
    await new Promise<void>((resolve) => merchant.listen(0, '127.0.0.1', resolve));
    merchantBase = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}`;

    browser = await launchBrowser();
    context = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => merchant?.close(resolve));
    await paybao?.close();
    if (platform) {
      expect(await verifyLedger(platform.db)).toEqual([]);
      await platform.close();
    }
  });

  it('pays a page.pay trade in the cashier and returns to the merchant with signed parameters', async () => {
    const page = await context.newPage();
    // The SDK's form submits itself: the browser posts it to the gateway and follows it to the cashier.
    await page.goto(`${merchantBase}/checkout`);
    await page.waitForURL(`${base}/cashier/**`);
    expect(await page.locator('.amount').textContent()).toContain('123.45');
    expect(await page.locator('#status').getAttribute('data-status')).toBe('WAIT_BUYER_PAY');
    expect(await page.locator('#status').textContent()).toBe('等待付款 · Awaiting payment');
    expect(await page.locator('#payee').textContent()).toBe('Tea Shop');
    await page.screenshot({ path: screenshotPath, fullPage: true });
    // On a phone the 28-digit trade number stays on one line: no lone digit wrapped below it.
    await page.setViewportSize({ width: 390, height: 844 });
    const tradeNo = page.locator('dd.num').first();
    const lines = await tradeNo.evaluate((el) => {
      const range = el.ownerDocument.createRange();
      range.selectNodeContents(el);
      return new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size;
    });
    expect(lines).toBe(1);
    await page.setViewportSize({ width: 1280, height: 860 });

    // A wrong password is refused on the page and moves nothing.
    await page.fill('#phone', phone);
    await page.fill('#password', 'not the password');
    await page.click('button[type=submit]');
    await page.locator('[role=alert]').waitFor();
    expect(await platform.members.walletBalance(buyerId)).toBe(openingFen);

    await page.fill('#phone', phone);
    await page.fill('#password', password);
    await page.click('button[type=submit]');
    await page.waitForURL(`${merchantBase}/return**`);
    expect(await page.locator('#thanks').textContent()).toBe(`Thank you for order ${outTradeNo}`);

    expect(returns).toHaveLength(1);
    const back = returns[0];
    expect(back?.verified).toBe(true);
    expect(back?.params).toMatchObject({
      out_trade_no: outTradeNo,
      total_amount: '123.45',
      method: 'alipay.trade.page.pay.return',
      seller_id: sellerId,
    });
    expect(await platform.members.walletBalance(buyerId)).toBe(openingFen - 12_345n);
    expect(await platform.members.walletBalance(sellerId)).toBe(12_345n);
    const queried = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: outTradeNo } });
    expect(queried).toMatchObject({ tradeStatus: 'TRADE_SUCCESS', buyerUserId: buyerId, totalAmount: '123.45' });
  });
});
