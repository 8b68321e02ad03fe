/**
 * A customer confirms an app freeze in a real browser: the rental merchant's page links the order
 * string `alipay-sdk`'s `sdkExecute` signs for `alipay.fund.auth.order.app.freeze`; Chromium
 * opens it at the gateway, lands on the cashier's confirm page, is refused with a wrong password
 * (nothing held), logs in and confirms: the deposit is held in the ledger, not paid. The merchant
 * then settles part of it with `alipay.trade.pay` (`auth_no`, COMPLETE) and the rest is released.
 * On the same pages, a deposit-free freeze: the merchant's app has a credit service, its order
 * asks for credit (`extra_param`), and a customer whose real score is 650 or more confirms it at
 * the cashier and sees that nothing is held; the ledger agrees (her account's age and three small
 * payments are a fixture: the score's own paths have their tests).
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
import { idCheckCharacter } from '../../src/credit/index.ts';
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
const creditOrderNo = `scooter-credit-${Date.now()}`;
const creditPhone = '13912340002';
let creditCustomerId = '';
let creditAsk = '';
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

/** A page whose console complaints about the Content-Security-Policy are kept. */
async function newPage(): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) complaints.push(m.text());
  });
  return page;
}

/** Logs in at the confirm page and confirms the freeze: what the page then says was done. */
async function confirmAs(page: Page, as: string): Promise<string | null> {
  await page.fill('#phone', as);
  await page.fill('#password', password);
  await page.click('#confirm-freeze');
  await page.locator('.done').waitFor();
  expect(await page.locator('#status').textContent()).toContain('Frozen');
  return page.locator('.done').textContent();
}

describe.skipIf(browserMissing)('an app freeze confirmed at the cashier in a real browser', () => {
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    platform = await freshPlatform();
    const keys = keyPair();
    const app = await platform.members.createApp({ name: 'Scooter Rental', merchantPublicKeyPem: keys.publicKeyPem });
    sellerId = app.sellerId;
    customerId = (await platform.members.createUser({ phone, password, openingBalance: openingFen })).userId;
    // The deposit-free part: the app's credit service, and a customer the real score puts at 650+.
    const service = await platform.preauth.creditServices.grant(app.appId, { category: 'RENT_SCOOTER' }, 'test');
    creditAsk = JSON.stringify({ category: service.category, serviceId: service.serviceId });
    creditCustomerId = (await platform.members.createUser({ phone: creditPhone, password, openingBalance: openingFen }))
      .userId;
    await platform.db.query('update members set created_at_ns = created_at_ns - $2::bigint where user_id = $1', [
      creditCustomerId,
      (31n * 86_400_000_000_000n).toString(),
    ]);
    const idBase = '11010519900101077';
    await platform.credit.realNames.verify(creditCustomerId, {
      name: '李四',
      idNumber: idBase + idCheckCharacter(idBase),
    });
    const shop = await platform.members.createApp({ name: 'Helmet Shop', merchantPublicKeyPem: keys.publicKeyPem });
    for (let i = 0; i < 3; i++) {
      const trade = await platform.trades.create({
        appId: shop.appId,
        outTradeNo: `${creditOrderNo}-tea-${i}`,
        totalAmount: '1.00',
        subject: 'Helmet wipe',
      });
      await platform.trades.pay(shop.appId, { tradeNo: trade.tradeNo }, creditCustomerId);
    }
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
    // `/credit` asks for credit as Alipay's rental merchants do: extra_param names the service.
    merchant = createServer((req, res) => {
      const credit = req.url === '/credit';
      const order = credit ? creditOrderNo : outOrderNo;
      const orderString = sdk.sdkExecute('alipay.fund.auth.order.app.freeze', {
        bizContent: {
          out_order_no: order,
          out_request_no: `${order}-f`,
          order_title: 'Scooter deposit',
          amount: '299.00',
          product_code: 'PRE_AUTH_ONLINE',
          pay_timeout: '15m',
          ...(credit ? { extra_param: creditAsk } : {}),
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
    const page = await newPage();
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

    expect(await confirmAs(page, phone)).toContain('¥299.00 held');
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

  it('confirms a deposit-free freeze: the customer sees nothing held, and nothing is', async () => {
    expect((await platform.credit.score(creditCustomerId)).score).toBeGreaterThanOrEqual(650);
    const before = await platform.members.walletBalance(creditCustomerId);
    const page = await newPage();
    await page.goto(`${merchantBase}/credit`);
    await page.click('#rent');
    await page.waitForURL(`${base}/cashier/freeze/**`);
    await page.locator('#confirm-freeze').waitFor();
    expect(await page.locator('#credit-note').textContent()).toContain('Deposit-free by credit');
    await look(page, 'credit-confirm');
    expect(await confirmAs(page, creditPhone)).toContain('¥0.00 held, ¥299.00 waived by your credit');
    await look(page, 'credit-frozen');
    expect(await held(creditCustomerId)).toBe(0n);
    expect(await platform.members.walletBalance(creditCustomerId)).toBe(before);
    const detail = await sdk.exec('alipay.fund.auth.operation.detail.query', {
      bizContent: { out_order_no: creditOrderNo },
    });
    expect(detail).toMatchObject({
      code: '10000',
      orderStatus: 'AUTHORIZED',
      totalFreezeCreditAmount: '299.00',
      totalFreezeFundAmount: '0.00',
      payerUserId: creditCustomerId,
    });
  });
});
