/**
 * A customer confirms an app freeze in a real browser: the rental merchant's page links the order
 * string `alipay-sdk`'s `sdkExecute` signs for `alipay.fund.auth.order.app.freeze`; Chromium
 * opens it at the gateway, lands on the cashier's confirm page, is refused with a wrong password
 * (nothing held), logs in and confirms: the deposit is held in the ledger, not paid. The merchant
 * then settles part of it with `alipay.trade.pay` (`auth_no`, COMPLETE) and the rest is released.
 * Screenshots in test-results/preauth/, axe-core finds nothing serious or critical, the page's
 * Content-Security-Policy raises no complaint, and the confirm page's time to interactive is printed.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AlipaySdk } from 'alipay-sdk';
import type { FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/index.ts';
import type { Platform } from '../../src/platform.ts';
import { checkPreauthBooks } from '../../src/preauth/index.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { keyPair, listen } from '../gateway/support.ts';
import { browserMissing, launchBrowser } from '../support/browser.ts';
import { engine, freshPlatform } from '../support/engine.ts';

const phone = '13912340001';
const password = 'rent a scooter 1';
const openingFen = 1000_00n;
const shots = join(process.cwd(), 'test-results', 'preauth');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let platform: Platform;
let paybao: FastifyInstance;
let merchant: Server;
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
let context: BrowserContext;
let base = '';
let merchantBase = '';
let sdk: AlipaySdk;
let customerId = '';
let sellerId = '';
const outOrderNo = `scooter-${Date.now()}`;
const complaints: string[] = [];
const axeProblems: string[] = [];

async function held(userId: string): Promise<bigint> {
  const member = await platform.members.getMember(userId);
  const [a] = await platform.ledger.lookupAccounts([member.walletAccountId]);
  return a?.debitsPending ?? 0n;
}

async function look(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${engine}-${name}.png`), fullPage: true });
  await page.evaluate(axeSource);
  const violations = (await page.evaluate('axe.run().then((result) => result.violations)')) as Array<{
    id: string;
    impact: string | null;
    nodes: { target: string[] }[];
  }>;
  axeProblems.push(
    ...violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${name}: ${v.id} ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
  );
}

describe.skipIf(browserMissing)('an app freeze confirmed at the cashier in a real browser', () => {
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    platform = await freshPlatform();
    const keys = keyPair();
    const app = await platform.members.createApp({ name: 'Scooter Rental', merchantPublicKeyPem: keys.publicKeyPem });
    sellerId = app.sellerId;
    customerId = (await platform.members.createUser({ phone, password, openingBalance: openingFen })).userId;
    paybao = await buildPlatformApp({ platform, publicUrl: () => base });
    base = await listen(paybao);
    sdk = new AlipaySdk({
      appId: app.appId,
      privateKey: keys.privateKeyPem,
      alipayPublicKey: app.alipayPublicKey,
      gateway: `${base}/gateway.do`,
      endpoint: base,
    });
    // The merchant's page: the order string its server signed, handed to the customer as a link.
    merchant = createServer((_req, res) => {
      const orderString = sdk.sdkExecute('alipay.fund.auth.order.app.freeze', {
        bizContent: {
          out_order_no: outOrderNo,
          out_request_no: `${outOrderNo}-f`,
          order_title: 'Scooter deposit',
          amount: '299.00',
          product_code: 'PRE_AUTH_ONLINE',
          pay_timeout: '15m',
        },
      });
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(
        `<!doctype html><html lang="en"><head><title>Scooter Rental</title></head><body><main><h1>Scooter Rental</h1><a id="rent" href="${base}/gateway.do?${orderString.replaceAll('&', '&amp;')}">Rent with a ¥299 deposit</a></main></body></html>`,
      );
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
      expect((await checkPreauthBooks(platform.db)).violations).toEqual([]);
      await platform.close();
    }
    expect(complaints).toEqual([]);
    expect(axeProblems).toEqual([]);
  });

  it('confirms the freeze, holds the deposit, and the merchant settles part of it', async () => {
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) complaints.push(m.text());
    });
    await page.goto(`${merchantBase}/`);
    await page.click('#rent');
    await page.waitForURL(`${base}/cashier/freeze/**`);
    await page.locator('#confirm-freeze').waitFor();
    const ms = await page.evaluate(() => Math.round(performance.now()));
    console.log(`cashier: freeze confirm page interactive ${ms} ms after navigation`);
    expect(await page.locator('.amount').textContent()).toContain('299.00');
    expect(await page.locator('#status').textContent()).toContain('Waiting for you');
    await look(page, 'confirm');

    // A wrong password is refused on the page and holds nothing.
    await page.fill('#phone', phone);
    await page.fill('#password', 'not the password');
    await page.click('#confirm-freeze');
    await page.locator('[role=alert]').waitFor();
    expect(await held(customerId)).toBe(0n);
    await look(page, 'refused');

    await page.fill('#phone', phone);
    await page.fill('#password', password);
    await page.click('#confirm-freeze');
    await page.locator('.done').waitFor();
    expect(await page.locator('#status').textContent()).toContain('Frozen');
    expect(await page.locator('.done').textContent()).toContain('¥299.00 held');
    await look(page, 'frozen');
    expect(await held(customerId)).toBe(299_00n);
    // The wallet's available balance is less by the deposit; nothing was paid.
    expect(await platform.members.walletBalance(customerId)).toBe(openingFen - 299_00n);

    const detail = await sdk.exec('alipay.fund.auth.operation.detail.query', {
      bizContent: { out_order_no: outOrderNo },
    });
    expect(detail).toMatchObject({
      code: '10000',
      orderStatus: 'AUTHORIZED',
      restAmount: '299.00',
      payerUserId: customerId,
    });
    const paid = await sdk.exec(
      'alipay.trade.pay',
      {
        bizContent: {
          out_trade_no: `${outOrderNo}-ride`,
          product_code: 'PREAUTH_PAY',
          auth_no: detail.authNo,
          auth_confirm_mode: 'COMPLETE',
          total_amount: '18.00',
          subject: 'A 40-minute ride',
        },
      },
      { validateSign: true },
    );
    expect(paid).toMatchObject({ code: '10000', totalAmount: '18.00', buyerUserId: customerId });
    expect(await held(customerId)).toBe(0n);
    expect(await platform.members.walletBalance(customerId)).toBe(openingFen - 18_00n);
    expect(await platform.members.walletBalance(sellerId)).toBe(18_00n);
  });
});
