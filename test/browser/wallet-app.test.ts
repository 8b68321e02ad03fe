/**
 * The wallet app (`/app`, built from web/ by Vite) in a real browser, at 390 px and at desktop
 * width, against a platform and the bank simulator listening as in production: a user logs in by
 * SMS code (the code read from the development outbox) and by password, sees the balance and the
 * bills with their filters and a detail, shows a payment code that a till redeems and that
 * refreshes itself, transfers to another user once, pays a shop's QR by its content (the cashier), binds a card with the bank's SMS code, tops up
 * from it and withdraws to it, confirms receipt of an escrow trade and asks for a refund on
 * another. Every main page is screenshotted (test-results/wallet-app/), checked with axe-core (no
 * serious or critical violation) and shows no Content-Security-Policy complaint; the time from
 * navigation to the page's content is printed.
 *
 * Runs Debian's `/usr/bin/chromium` through `playwright-core`; needs the build (`npm run build`).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webBuildDir } from '../../src/server/web-apps.ts';
import { balance, newUser, smsCode, useWorld, waitFor, zhang } from '../channels/support.ts';
import { browserMissing, launchBrowser } from '../support/browser.ts';
import { engine } from '../support/engine.ts';
import { marketplace } from '../trades/escrow-support.ts';

const world = useWorld();
const shots = join(process.cwd(), 'test-results', 'wallet-app');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const phone = { width: 390, height: 844 };
const desktop = { width: 1280, height: 860 };

let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
let context: BrowserContext;
/** CSP complaints of every page the tests opened, and axe-core's serious or critical findings. */
const complaints: string[] = [];
const axeProblems: string[] = [];

async function open(path: string, size = phone): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize(size);
  page.setDefaultTimeout(10_000);
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) complaints.push(`${path}: ${m.text()}`);
  });
  await page.goto(`${world().base}/app${path}`);
  return page;
}

/** Waits for what shows that the page is ready, and prints how long that took from navigation. */
async function ready(page: Page, selector: string, name: string): Promise<void> {
  await page.locator(selector).first().waitFor();
  const ms = await page.evaluate(() => Math.round(performance.now()));
  console.log(`wallet app: ${name} interactive ${ms} ms after navigation (${page.viewportSize()?.width} px)`);
}

/** A screenshot kept for people to look at, and axe-core's verdict: nothing serious or critical. */
async function look(page: Page, name: string): Promise<void> {
  const width = page.viewportSize()?.width ?? 0;
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

/** A page at home, logged in as `user` by password (any earlier session in the browser is forgotten). */
async function homeAs(user: { phone: string; password: string }, size = phone): Promise<Page> {
  const page = await open('/', size);
  await page.evaluate('localStorage.clear()');
  await page.reload();
  await logIn(page, user);
  return page;
}

async function logIn(page: Page, user: { phone: string; password: string }): Promise<void> {
  await page.fill('#phone', user.phone);
  await page.fill('#password', user.password);
  await page.click('[data-testid="login-submit"]');
  await page.locator('#balance').waitFor();
}

describe.skipIf(browserMissing)('the wallet app in a real browser', () => {
  beforeAll(async () => {
    if (!existsSync(join(webBuildDir, 'app', 'index.html'))) {
      throw new Error('the web app is not built: run `npm run build` (npm install does it)');
    }
    mkdirSync(shots, { recursive: true });
    browser = await launchBrowser();
    context = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
    expect(complaints).toEqual([]);
    expect(axeProblems).toEqual([]);
  });

  it('logs in by SMS code in the browser’s language, switches to Chinese, shows home, bills and a detail', async () => {
    const user = await newUser(world(), 123_456n);
    const page = await open('/');
    // Not logged in: the login, in English (the browser's language).
    await ready(page, '#phone', 'login');
    expect(await page.locator('h1').textContent()).toBe('Log in to Paybao');
    await look(page, 'login');
    await page.click('#lang-switch');
    expect(await page.locator('h1').textContent()).toBe('登录 Paybao');
    expect(await page.evaluate('document.documentElement.lang')).toBe('zh-CN');

    await page.getByRole('tab', { name: '验证码登录' }).click();
    await page.fill('#phone', user.phone);
    await page.click('[data-testid="send-code"]');
    const code = await waitFor('the login code', async () => {
      const [message] = await world().platform.members.smsOutbox({ phone: user.phone, limit: 1 });
      return /\b(\d{6})\b/.exec(message?.text ?? '')?.[1];
    });
    await page.fill('#sms-code', code);
    await page.click('[data-testid="login-submit"]');
    await page.locator('#balance').waitFor();
    // The balance shows a dash until its request answers: wait for the figure, not the element.
    await expect.poll(() => page.locator('#balance').textContent()).toBe('1,234.56');
    await ready(page, '.bill-row', 'home');
    await look(page, 'home');

    await page.click('a[href="/app/bills"]');
    await ready(page, '#bill-list .bill-row', 'bills');
    expect(await page.locator('#bill-list .bill-amount').first().textContent()).toBe('+¥1,234.56');
    await look(page, 'bills');
    // Money out only: none yet.
    await page.getByText('支出', { exact: true }).click();
    await page.getByText('没有符合条件的账单').waitFor();
    await page.getByText('收入', { exact: true }).click();
    await page.locator('#bill-list .bill-row').first().click();
    await ready(page, '#bill-amount', 'bill detail');
    expect(await page.locator('#bill-amount').textContent()).toBe('+¥1,234.56');
    // A reload of the detail finds the entry through the API (GET /bills/{id}).
    await page.reload();
    await page.locator('#bill-amount').waitFor();
    expect(await page.locator('.facts').textContent()).toContain('开户余额');
    await look(page, 'bill-detail');
    await page.close();
  });

  it('shows a payment code as QR and bar code that a till redeems, and draws a fresh one', async () => {
    const user = await newUser(world(), 50_00n);
    const page = await homeAs(user);
    await page.click('#action-pay');
    await ready(page, '#qr', 'pay code');
    const first = await page.locator('#qr').getAttribute('data-code');
    expect(first).toMatch(/^28\d{16}$/);
    expect(await page.locator('#barcode').getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    await page.click('#digits');
    expect((await page.locator('#digits').textContent())?.replace(/\s/g, '')).toBe(first);
    await look(page, 'pay-code');
    // The code shown is the user's: redeeming it finds them.
    expect(await world().platform.members.redeemPaymentCode(first ?? '')).toBe(user.userId);
    await page.click('[data-testid="refresh"]');
    await waitFor('a fresh code', async () => {
      const code = await page.locator('#qr').getAttribute('data-code');
      return code !== first ? code : undefined;
    });
    await page.close();
  });

  it('transfers to another user once, at desktop width', async () => {
    const sender = await newUser(world(), 100_00n);
    const receiver = await newUser(world(), 0n);
    const page = await homeAs(sender, desktop);
    await look(page, 'home');
    await page.click('#action-transfer');
    await ready(page, '#to-phone', 'transfer');
    await page.fill('#to-phone', receiver.phone);
    await page.fill('#amount', '12.5');
    await page.fill('#memo', 'lunch');
    await look(page, 'transfer');
    await page.click('[data-testid="transfer-submit"]');
    await page.getByRole('dialog').getByText('Confirm').or(page.getByRole('dialog').getByText('确认')).click();
    await page.locator('.adm-result-success').waitFor();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await look(page, 'transfer-done');
    expect(await balance(world(), sender.userId)).toBe(87_50n);
    expect(await balance(world(), receiver.userId)).toBe(12_50n);
    await page.close();
  });

  it('binds a card with the bank’s code, tops up from it and withdraws to it', async () => {
    const user = await newUser(world(), 20_00n);
    const page = await homeAs(user);
    await page.click('#action-cards');
    await page.click('#add-card');
    await ready(page, '#card-no', 'add a card');
    await page.fill('#card-no', zhang.cardNo);
    await page.fill('#card-name', zhang.name);
    await page.fill('#card-phone', zhang.phone);
    await look(page, 'card-new');
    await page.click('[data-testid="request-code"]');
    await page.locator('#card-code').waitFor();
    await page.fill('#card-code', await smsCode(world(), zhang.phone));
    await page.click('[data-testid="bind"]');
    await page.click('#to-cards');
    await ready(page, '#card-list .bank-card', 'cards');
    await look(page, 'cards');

    await page.goto(`${world().base}/app/top-up`);
    await ready(page, '#amount', 'top up');
    await page.fill('#amount', '30.00');
    await look(page, 'top-up');
    await page.click('[data-testid="order-submit"]');
    await page.locator('#order-status[data-status="SUCCESS"]').waitFor({ timeout: 15_000 });
    await look(page, 'top-up-done');
    expect(await balance(world(), user.userId)).toBe(50_00n);

    await page.goto(`${world().base}/app/withdraw`);
    await ready(page, '#amount', 'withdraw');
    await page.fill('#amount', '8.88');
    await page.click('[data-testid="order-submit"]');
    await page.locator('#order-status[data-status="SUCCESS"]').waitFor({ timeout: 15_000 });
    expect(await balance(world(), user.userId)).toBe(41_12n);
    await page.close();
  });

  it('pays a shop’s QR code by its content on the cashier, and refuses a code of another site', async () => {
    const shop = await marketplace(world().platform);
    const user = await newUser(world(), 100_00n);
    const trade = await world().platform.trades.create({
      appId: shop.appId,
      outTradeNo: `qr-${Date.now()}`,
      totalAmount: '9.90',
      subject: 'Milk tea',
      escrow: false,
    });
    const page = await homeAs(user);
    await page.click('#action-scan');
    await ready(page, '#qr-content', 'scan');
    await page.fill('#qr-content', `http://pay.example.test/cashier/${trade.tradeNo}`);
    await page.click('[data-testid="scan-go"]');
    await page.getByRole('alert').waitFor();
    await look(page, 'scan');
    // What alipay.trade.precreate answers as qr_code: the cashier of this Paybao.
    await page.fill('#qr-content', `${world().base}/cashier/${trade.tradeNo}`);
    await page.click('[data-testid="scan-go"]');
    await page.waitForURL(`${world().base}/cashier/${trade.tradeNo}`);
    await page.fill('#phone', user.phone);
    await page.fill('#password', user.password);
    await page.click('#pay-balance');
    await page.locator('.done').waitFor();
    expect((await world().platform.trades.byTradeNo(trade.tradeNo)).status).toBe('TRADE_SUCCESS');
    expect(await balance(world(), user.userId)).toBe(100_00n - 9_90n);
    await page.close();
  });

  it('pays a shop’s QR code from a photo of it, and says so when a photo holds no code', async () => {
    const shop = await marketplace(world().platform);
    const user = await newUser(world(), 100_00n);
    const trade = await world().platform.trades.create({
      appId: shop.appId,
      outTradeNo: `qr-photo-${Date.now()}`,
      totalAmount: '12.00',
      subject: 'Noodles',
      escrow: false,
    });
    const page = await homeAs(user);
    await page.click('#action-scan');
    await ready(page, '#qr-photo', 'scan by photo');
    // A photo without a code: a clear word, nothing opened.
    const blank = await QRCode.toBuffer('x', { type: 'png', width: 8, margin: 0, scale: 1 });
    await page.setInputFiles('#qr-photo', { name: 'blank.png', mimeType: 'image/png', buffer: blank });
    await page.getByRole('alert').waitFor();
    expect(page.url()).toContain('/app/scan');
    // The shop's code as precreate answers it, photographed.
    const photo = await QRCode.toBuffer(`${world().base}/cashier/${trade.tradeNo}`, { type: 'png', width: 600 });
    await page.setInputFiles('#qr-photo', { name: 'shop-qr.png', mimeType: 'image/png', buffer: photo });
    await page.waitForURL(`${world().base}/cashier/${trade.tradeNo}`);
    await page.fill('#phone', user.phone);
    await page.fill('#password', user.password);
    await page.click('#pay-balance');
    await page.locator('.done').waitFor();
    expect((await world().platform.trades.byTradeNo(trade.tradeNo)).status).toBe('TRADE_SUCCESS');
    expect(await balance(world(), user.userId)).toBe(100_00n - 12_00n);
    await page.close();
  });

  it('confirms receipt of an escrow trade and asks for a refund on another', async () => {
    const shop = await marketplace(world().platform);
    const user = await newUser(world(), 500_00n);
    const arrived = await shop.shippedTrade(user.userId, '88.00');
    const unwanted = await shop.paidTrade(user.userId, '20.00');
    const page = await homeAs(user);
    // My orders, from the Me tab: both trades, and "to confirm" keeps the shipped one.
    await page.goto(`${world().base}/app/me`);
    await page.click('[data-testid="my-trades"]');
    await ready(page, '#trade-list', 'my orders');
    expect(await page.locator('#trade-list li').count()).toBe(2);
    await page.getByText(/^(To confirm|待收货)$/).click();
    await expect.poll(() => page.locator('#trade-list li').count()).toBe(1);
    expect(await page.locator('#trade-list').textContent()).not.toMatch(/[A-Z]{2,}_/);
    await look(page, 'trades');
    await page.click(`#trade-list a[href$="/trades/${arrived}"]`);
    await ready(page, '[data-testid="confirm-receipt"]', 'escrow trade');
    expect(await page.locator('#trade-status').textContent()).not.toMatch(/[A-Z]{2,}_/);
    await look(page, 'trade');
    await page.click('[data-testid="confirm-receipt"]');
    await page.getByRole('dialog').getByRole('button').last().click();
    await page.locator('#trade-notice').waitFor();
    await waitFor('the release', async () =>
      (await world().platform.trades.byTradeNo(arrived)).status === 'TRADE_FINISHED' ? true : undefined,
    );

    await page.goto(`${world().base}/app/trades/${unwanted}`);
    await page.click('[data-testid="request-refund"]');
    await page.fill('#after-sale-reason', 'changed my mind');
    await page.click('[data-testid="after-sale-submit"]');
    await page.locator('#trade-notice').waitFor();
    await look(page, 'trade-refund');
    // Before shipment a refund is paid at once.
    expect(await balance(world(), user.userId)).toBe(500_00n - 88_00n);
    await page.close();
  });
});
