/**
 * The merchant portal (`/merchant`, built from web/ by Vite, Ant Design) in a real browser, at
 * desktop width and at 390 px, against a platform listening as in production: the owner logs in
 * with password and the texted code (read from the development outbox), sees the dashboard with
 * its charts, searches trades, opens one (every post of its notifications) and refunds part of it, ships an escrow trade, agrees to
 * a refund case, answers a dispute with evidence, downloads a day's bill, makes a test payment and finds each of
 * these under its staff's name in the activity log; support logs in on a phone and is offered no refund. Every main page is screenshotted (test-results/merchant-portal/),
 * checked with axe-core (no serious or critical violation) and shows no Content-Security-Policy
 * complaint; the time from navigation to the page's content is printed.
 *
 * Runs Debian's `/usr/bin/chromium` through `playwright-core`; needs the build (`npm run build`).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/index.ts';
import { NotificationDispatcher } from '../../src/notifications/index.ts';
import type { Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { webBuildDir } from '../../src/server/web-apps.ts';
import { keyPair, listen } from '../gateway/support.ts';
import { browserMissing, launchBrowser } from '../support/browser.ts';
import { engine, freshPlatform } from '../support/engine.ts';

const shots = join(process.cwd(), 'test-results', 'merchant-portal');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const phone = { width: 390, height: 844 };
const desktop = { width: 1280, height: 860 };
const password = 'portal-pass-1';

let platform: Platform;
let server: FastifyInstance;
let base = '';
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
let context: BrowserContext;
const complaints: string[] = [];
const axeProblems: string[] = [];

let phones = 0;
const nextPhone = () => `136${(10_000_000 + ++phones + Math.floor(Math.random() * 1000) * 1000).toString().slice(-8)}`;

/** What the test seeds: a merchant with an escrow app and a plain one, its staff, a buyer and trades in each state. */
const seed = {
  ownerPhone: '',
  supportPhone: '',
  plainTrade: { tradeNo: '', outTradeNo: '' },
  toShip: '',
  caseNo: '',
  disputeNo: '',
  plainApp: '',
};

async function open(path: string, size = desktop): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize(size);
  page.setDefaultTimeout(15_000);
  // Where a refusal comes from (file, line, what was refused), in the complaint itself.
  await page.addInitScript({
    content:
      "document.addEventListener('securitypolicyviolation', (e) => console.log(" +
      "['Content Security Policy:', e.violatedDirective, e.sourceFile + ':' + e.lineNumber, e.sample].join(' ')))",
  });
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) complaints.push(`${path}: ${m.text()}`);
  });
  await page.goto(`${base}/merchant${path}`);
  return page;
}

/**
 * Waits for what shows that the page is ready, and prints how long that took: from the navigation,
 * or, for a move inside the app, from `since` (the page's clock when the click was made).
 */
async function ready(page: Page, selector: string, name: string, since?: number): Promise<void> {
  await page.locator(selector).first().waitFor();
  const ms = await page.evaluate((start) => Math.round(performance.now() - start), since ?? 0);
  const from = since === undefined ? 'navigation' : 'the click';
  console.log(`merchant portal: ${name} shown ${ms} ms after ${from} (${page.viewportSize()?.width} px)`);
}

/** The page's clock, read just before a click that moves inside the app. */
const clock = (page: Page): Promise<number> => page.evaluate(() => performance.now());

async function look(page: Page, name: string): Promise<void> {
  const width = page.viewportSize()?.width ?? 0;
  // Ant Design's opening animations end before the picture and the audit.
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(shots, `${engine}-${width}-${name}.png`), fullPage: true });
  await page.evaluate(axeSource);
  const violations = (await page.evaluate('axe.run().then((result) => result.violations)')) as AxeViolation[];
  const bad = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${name}: ${v.id} ${v.nodes.map((n) => `${n.target.join(' ')} ${n.html}`).join(', ')}`);
  axeProblems.push(...bad);
}

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: { target: string[]; html: string }[];
}

/** Logs in through the page: the password sends a code, the code from the outbox opens the portal. */
async function logIn(page: Page, who: string): Promise<number> {
  await page.fill('#phone', who);
  await page.fill('#password', password);
  await page.getByRole('button', { name: /Send code|获取验证码/ }).click();
  let code: string | undefined;
  await expect
    .poll(async () => {
      const [message] = await platform.members.smsOutbox({ phone: who, limit: 1 });
      code = /\b(\d{6})\b/.exec(message?.text ?? '')?.[1];
      return code;
    })
    .toMatch(/^\d{6}$/);
  await page.fill('#code', code ?? '');
  const since = await clock(page);
  await page.getByRole('button', { name: /^(Log in|登 ?录)$/ }).click();
  return since;
}

describe.skipIf(browserMissing)('the merchant portal in a real browser', () => {
  beforeAll(async () => {
    if (!existsSync(join(webBuildDir, 'merchant', 'index.html'))) {
      throw new Error('the web app is not built: run `npm run build` (npm install does it)');
    }
    mkdirSync(shots, { recursive: true });
    platform = await freshPlatform();
    const key = keyPair();
    const shop = await platform.members.createApp({ name: 'Tea House', merchantPublicKeyPem: key.publicKeyPem });
    await platform.trades.saveContract(shop.appId, {
      escrowDefault: true,
      feeBps: 100,
      confirmPeriodMs: 10 * 86_400_000,
    });
    const plain = await platform.members.createApp({
      name: 'Tea House counter',
      merchantPublicKeyPem: key.publicKeyPem,
      sellerId: shop.sellerId,
      notifyUrl: 'http://127.0.0.1:9/notify',
    });
    seed.plainApp = plain.appId;
    // The platform granted the counter app a credit service for deposit-free freezes: the portal shows it.
    await platform.preauth.creditServices.grant(
      plain.appId,
      { category: 'RENT_TEAWARE', waiverMaxFen: 500_00n },
      'test',
    );
    const buyerPhone = nextPhone();
    const buyer = await platform.members.createUser({ phone: buyerPhone, password, openingBalance: 1_000_000n });
    let n = 0;
    const paid = async (appId: string, amount: string, subject: string) => {
      const outTradeNo = `order-${Date.now()}-${++n}`;
      const t = await platform.trades.create({ appId, outTradeNo, totalAmount: amount, subject });
      await platform.trades.pay(appId, { tradeNo: t.tradeNo }, buyer.userId);
      return { tradeNo: t.tradeNo, outTradeNo };
    };
    seed.plainTrade = await paid(plain.appId, '128.00', 'Longjing tea, 250 g');
    await paid(plain.appId, '36.50', 'Tea cups');
    await platform.trades.create({
      appId: plain.appId,
      outTradeNo: `order-open-${Date.now()}`,
      totalAmount: '9.90',
      subject: 'Sampler',
    });
    seed.toShip = (await paid(shop.appId, '299.00', 'Tea set')).tradeNo;
    const seller = { kind: 'seller', appId: shop.appId } as const;
    const asBuyer = { kind: 'buyer', userId: buyer.userId } as const;
    const withCase = (await paid(shop.appId, '88.00', 'Puer cake')).tradeNo;
    await platform.escrow.ship(seller, { tradeNo: withCase }, { company: 'SF Express', trackingNo: 'SF2001' });
    seed.caseNo = (
      await platform.afterSale.requestRefund(
        asBuyer,
        { tradeNo: withCase },
        { amount: '20.00', reason: 'The box arrived crushed' },
      )
    ).caseNo;
    const disputed = (await paid(shop.appId, '520.00', 'Clay teapot')).tradeNo;
    await platform.escrow.ship(seller, { tradeNo: disputed }, { company: 'SF Express', trackingNo: 'SF2002' });
    seed.disputeNo = (
      await platform.afterSale.openDispute(asBuyer, { tradeNo: disputed }, { reason: 'Not the teapot in the photos' })
    ).disputeNo;
    seed.ownerPhone = nextPhone();
    seed.supportPhone = nextPhone();
    const owner = await platform.merchantPortal.createOwner(shop.sellerId, {
      phone: seed.ownerPhone,
      password,
      name: 'Li Mei',
    });
    await platform.merchantPortal.addStaff(owner, {
      phone: seed.supportPhone,
      password,
      name: 'Wang Fang',
      role: 'support',
    });
    server = await buildPlatformApp({ platform, publicUrl: () => base });
    base = await listen(server);
    browser = await launchBrowser();
    context = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (platform) expect(await verifyLedger(platform.db)).toEqual([]);
    await platform?.close();
    expect(complaints).toEqual([]);
    expect(axeProblems).toEqual([]);
  });

  it('logs the owner in, shows the dashboard, finds a trade and refunds part of it', async () => {
    const page = await open('/');
    await ready(page, '#phone', 'login');
    await look(page, 'login');
    const loggedIn = await logIn(page, seed.ownerPhone);
    await ready(page, '.chart canvas', 'dashboard', loggedIn);
    // Today: three paid trades and two escrow trades paid, of six created.
    await page.getByText('¥1,071.50').first().waitFor();
    await look(page, 'dashboard');
    await page.getByRole('button', { name: /^中 ?文$/ }).click();
    await page.getByText('今日分时交易额').waitFor();
    await look(page, 'dashboard-zh');
    await page.getByRole('button', { name: 'English' }).click();

    let since = await clock(page);
    await page.getByRole('menuitem', { name: 'Trades' }).click();
    await ready(page, '.ant-table-row', 'trades', since);
    expect(await page.locator('.ant-table-row').count()).toBe(6);
    await look(page, 'trades');
    await page.fill('#out_trade_no', seed.plainTrade.outTradeNo);
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('.ant-table-row').count()).toBe(1);
    // One round of the notification outbox: the counter app's notify URL answers nothing.
    const channel = { notifyUrlOf: async () => 'http://127.0.0.1:9/notify', sign: (f: Record<string, string>) => f };
    await new NotificationDispatcher(platform.db, platform.clock, channel).dispatchDue();
    since = await clock(page);
    await page.getByRole('link', { name: seed.plainTrade.tradeNo }).click();
    await ready(page, '.ant-descriptions', 'trade detail', since);
    await page.getByText('Longjing tea, 250 g').waitFor();
    await page.locator('.ant-table-row-expand-icon').first().click();
    await page.getByText('no answer').first().waitFor();
    await look(page, 'trade-detail');

    await page.getByRole('button', { name: 'Refund' }).click();
    await page.fill('#amount', '28.00');
    await page.fill('#reason', 'One bag was open');
    await page.locator('.ant-modal').getByRole('button', { name: 'Refund' }).click();
    await page.getByText('Refunded ¥28.00.').waitFor();
    await expect.poll(() => page.locator('.ant-descriptions').getByText('¥28.00').count()).toBe(1);
    await page.locator('.ant-table-cell', { hasText: 'One bag was open' }).waitFor();
    const [refund] = await platform.db.query<{ refund_fen: bigint; status: string }>(
      'select refund_fen, status from trade_refunds where trade_no = $1',
      [seed.plainTrade.tradeNo],
    );
    expect(refund).toEqual({ refund_fen: 2800n, status: 'SUCCESS' });
    await look(page, 'trade-refunded');
    await page.close();
  });

  it('ships an escrow trade, agrees to a refund case, answers a dispute and downloads the bill', async () => {
    const page = await open(`/trades/${seed.toShip}`);
    await ready(page, '.ant-descriptions', 'escrow trade');
    await page.getByRole('button', { name: 'Ship', exact: true }).click();
    await page.fill('#company', 'SF Express');
    await page.fill('#trackingNo', 'SF3001');
    await page.locator('.ant-modal').getByRole('button', { name: 'Ship' }).click();
    await page.getByText('Shipped · awaiting the buyer').first().waitFor();
    expect((await platform.trades.byTradeNo(seed.toShip)).escrow?.logisticsNo).toBe('SF3001');

    let since = await clock(page);
    await page.getByRole('menuitem', { name: 'Refunds & disputes' }).click();
    await ready(page, '.ant-table-row', 'after-sale', since);
    await look(page, 'after-sale');
    await page
      .getByRole('row', { name: new RegExp(seed.caseNo) })
      .getByRole('button', { name: 'Agree' })
      .click();
    await page.getByText('Your answer was recorded.').waitFor();
    expect((await platform.afterSale.getCase({ kind: 'operator', operatorId: 'test' }, seed.caseNo)).status).toBe(
      'REFUND_SUCCESS',
    );

    await page.getByRole('tab', { name: 'Disputes' }).click();
    await page
      .getByRole('row', { name: new RegExp(seed.disputeNo) })
      .getByRole('button', { name: 'Give evidence' })
      .click();
    await page.fill('#evidence', 'The photos of the teapot we shipped, and the courier receipt SF2002.');
    await look(page, 'dispute-evidence');
    await page.locator('.ant-modal').getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Your evidence was sent; Paybao reviews the dispute.').waitFor();
    const dispute = await platform.afterSale.getDispute({ kind: 'operator', operatorId: 'test' }, seed.disputeNo);
    expect(dispute).toMatchObject({ status: 'WAIT_RULING', evidence: expect.stringContaining('SF2002') });

    since = await clock(page);
    await page.getByRole('menuitem', { name: 'Bills' }).click();
    await ready(page, '#app_id', 'bills', since);
    await page.locator('#app_id').click();
    await page.getByTitle(`Tea House counter · ${seed.plainApp}`).click();
    await page.getByRole('button', { name: 'Get the bill' }).click();
    const link = page.getByRole('link', { name: /^Download / });
    await link.waitFor();
    await look(page, 'bills');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const csv = readFileSync((await download.path()) ?? '', 'utf8');
    expect(csv.split('\r\n')[0]).toBe(
      'trade_no,out_trade_no,subject,total_amount,status,buyer_id,gmt_create,gmt_payment,refunded_amount',
    );
    expect(csv).toContain(seed.plainTrade.tradeNo);
    expect(csv).toContain('28.00');

    for (const [item, selector, name] of [
      ['Notifications', '.ant-table-row', 'notifications'],
      ['Apps', 'pre.key', 'apps'],
      ['Staff', '.ant-table-row', 'staff'],
      ['Settlement account', '#card_no', 'settlement'],
    ] as const) {
      since = await clock(page);
      await page.getByRole('menuitem', { name: item }).click();
      await ready(page, selector, name, since);
      await look(page, name);
    }

    // A test payment against the counter app: a direct trade waiting at the cashier.
    await page.getByRole('menuitem', { name: 'Apps' }).click();
    // Its credit service, read only: the terms and the service id its freezes name.
    expect(await page.locator(`#credit-${seed.plainApp}`).textContent()).toBe(
      'Score 650+ waives up to ¥500.00 of a freeze · RENT_TEAWARE',
    );
    await page.getByRole('button', { name: 'Test payment' }).nth(1).click();
    await page.locator('.ant-modal').getByRole('button', { name: 'Create' }).click();
    await page.getByText(/waits for payment/).waitFor();
    const cashier = await page.getByRole('link', { name: 'Open the cashier' }).getAttribute('href');
    const tradeNo = /^\/cashier\/(\d+)$/.exec(cashier ?? '')?.[1] ?? '';
    expect(await platform.trades.byTradeNo(tradeNo)).toMatchObject({ appId: seed.plainApp, totalAmount: '0.01' });
    await look(page, 'test-payment');

    // The owner's activity log names who did each of these, the newest first.
    await page.keyboard.press('Escape');
    await page.locator('.ant-modal').waitFor({ state: 'hidden' });
    since = await clock(page);
    await page.getByRole('menuitem', { name: 'Activity' }).click();
    await ready(page, '.ant-table-row', 'activity', since);
    const first = page.locator('.ant-table-row').first();
    await expect.poll(() => first.textContent()).toMatch(/Test payment made/);
    await page
      .getByRole('row', { name: /Shipped/ })
      .getByRole('link', { name: seed.toShip })
      .waitFor();
    await page
      .getByRole('row', { name: /Dispute evidence sent/ })
      .getByText(seed.disputeNo)
      .waitFor();
    await look(page, 'activity');
    await page.close();
  });

  it('at 390 px: support logs in, sees the dashboard and a trade, and is offered no refund', async () => {
    const page = await open('/', phone);
    await page.evaluate('localStorage.clear()');
    await page.reload();
    await ready(page, '#phone', 'login');
    await look(page, 'login');
    const loggedIn = await logIn(page, seed.supportPhone);
    await ready(page, '.chart canvas', 'dashboard', loggedIn);
    await look(page, 'dashboard');
    await page.goto(`${base}/merchant/trades`);
    await ready(page, '.ant-table-row', 'trades');
    await look(page, 'trades');
    await page.goto(`${base}/merchant/trades/${seed.plainTrade.tradeNo}`);
    await ready(page, '.ant-descriptions', 'trade detail');
    await look(page, 'trade-detail');
    expect(await page.getByRole('button', { name: 'Refund' }).count()).toBe(0);
    await page.goto(`${base}/merchant/after-sale`);
    await ready(page, '.ant-tabs', 'after-sale');
    await look(page, 'after-sale');
    // The activity log is the owner's: support has no menu item for it.
    expect(await page.getByRole('menuitem', { name: 'Activity' }).count()).toBe(0);
    await page.close();
  });
});
