/**
 * A user tops up in a real browser: the native API opens a gateway top-up, Chromium goes to the
 * bank's payment page (the simulator, its own HTTP service), a wrong card password is refused
 * there, the right one pays, and the bank sends the browser back to Paybao's return page, which
 * shows the top-up confirmed (by asking the bank). The wallet holds the money once.
 *
 * Runs Debian's `/usr/bin/chromium` through `playwright-core`.
 */

import { generateKeyPairSync } from 'node:crypto';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserMissing, launchBrowser } from '../support/browser.ts';
import { balance, bindCard, li, newUser, useWorld, zhang } from './support.ts';

const world = useWorld();
let context: BrowserContext;
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;

describe.skipIf(browserMissing)('a top-up on the bank page in a real browser', () => {
  beforeAll(async () => {
    browser = await launchBrowser();
    context = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('pays on the bank page and comes back to a confirmed top-up', async () => {
    const { base } = world();
    const user = await newUser(world());
    const session = await fetch(`${base}/api/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone: user.phone, password: user.password }),
    });
    const { token } = (await session.json()) as { token: string };
    const created = await fetch(`${base}/api/v1/topups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': 'browser-1' },
      body: JSON.stringify({ method: 'gateway', bank: 'ICBC', amount: '88.80' }),
    });
    expect(created.status).toBe(201);
    const order = (await created.json()) as { order_no: string; pay_url: string };

    const page = await context.newPage();
    await page.goto(order.pay_url);
    await page.fill('#card_no', zhang.cardNo);
    await page.fill('#password', '000000');
    await page.click('button[type=submit]');
    await page.locator('[role=alert]').waitFor();
    expect(await balance(world(), user.userId)).toBe(0n);

    await page.fill('#card_no', zhang.cardNo);
    await page.fill('#password', '123456');
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/channels/return/ICBC?**`);
    expect(await page.locator('#title').textContent()).toBe('充值成功 · Top-up successful');
    expect(await page.locator('#status').getAttribute('data-status')).toBe('SUCCESS');
    // A way back to the wallet app, and no raw status code on the page.
    expect(await page.locator('#back').getAttribute('href')).toBe('/app');
    expect(await page.locator('body').textContent()).not.toContain('SUCCESS');
    await page.screenshot({ path: '/tmp/paybao-topup-return.png', fullPage: true });
    expect(await balance(world(), user.userId)).toBe(8_880n);
    await page.close();
  });

  it('pays a trade at the cashier with a bound card and an SMS code when the balance is short', async () => {
    const { base, platform } = world();
    const user = await newUser(world(), 1_000n);
    await bindCard(world(), user.userId, li);
    const { publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const { appId } = await platform.members.createApp({ name: 'Tea Shop', merchantPublicKeyPem: publicKey });
    const trade = await platform.trades.create({
      appId,
      outTradeNo: `b-${Date.now()}`,
      totalAmount: '30.00',
      subject: 'Tea',
    });

    const page = await context.newPage();
    await page.goto(`${base}/cashier/${trade.tradeNo}`);
    await page.click('#pay-by-card');
    await page.fill('#phone', user.phone);
    await page.fill('#password', user.password);
    await page.click('button[type=submit]');
    await page.locator('#sms_code').waitFor();
    const [message] = await platform.members.smsOutbox({ phone: user.phone, limit: 1 });
    await page.fill('#sms_code', /(\d{6})/.exec(message?.text ?? '')?.[1] ?? '');
    await page.click('button[type=submit]');
    await page.locator('#done').waitFor();
    expect((await platform.trades.byTradeNo(trade.tradeNo)).status).toBe('TRADE_SUCCESS');
    expect(await balance(world(), user.userId)).toBe(0n);
    await page.close();
  });
});
