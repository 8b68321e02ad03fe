/**
 * The risk engine's confirmation in a real browser: at the cashier a buyer whose payment a rule
 * asks to confirm gets a code form, a wrong code asks again, the right one pays; on the friends
 * page a transfer a rule asks to confirm is posted again with the texted code and goes through
 * once; a rule that refuses shows its words on the page and moves nothing.
 *
 * Runs Debian's `/usr/bin/chromium` through `playwright-core` (see test/support/browser.ts).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/index.ts';
import type { Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { keyPair, listen } from '../gateway/support.ts';
import { browserMissing, launchBrowser } from '../support/browser.ts';
import { engine, freshPlatform } from '../support/engine.ts';

/** Where the confirmation page's screenshot goes (kept after the run, for people to look at). */
export const riskScreenshot = join(tmpdir(), `paybao-risk-confirm-${engine}.png`);

const buyer = { phone: '13944440000', password: 'risk page buyer' };
const friend = { phone: '13944440001', password: 'risk page friend' };
let platform: Platform;
let paybao: FastifyInstance;
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
let base = '';
let appId = '';
let buyerId = '';
let friendId = '';

async function codeTexted(): Promise<string> {
  const [message] = await platform.members.smsOutbox({ phone: buyer.phone, limit: 1 });
  return /Code (\d{6})/.exec(message?.text ?? '')?.[1] ?? '';
}

async function rule(path: string, action: string): Promise<void> {
  await platform.risk.createRule(
    { name: `${path} ${action}`, condition: { kind: 'amount', over: '10.00' }, paths: [path], action },
    'test',
  );
}

describe.skipIf(browserMissing)('risk confirmations in a real browser', () => {
  beforeAll(async () => {
    platform = await freshPlatform();
    appId = (await platform.members.createApp({ name: 'Tea Shop', merchantPublicKeyPem: keyPair().publicKeyPem }))
      .appId;
    buyerId = (await platform.members.createUser({ ...buyer, openingBalance: 500_00n })).userId;
    friendId = (await platform.members.createUser({ ...friend, openingBalance: 0n })).userId;
    const asked = await platform.social.friends.request(buyerId, { toUserId: friendId });
    await platform.social.friends.accept(friendId, asked.requestId);
    paybao = await buildPlatformApp({ platform, publicUrl: () => base });
    base = await listen(paybao);
    browser = await launchBrowser();
  });

  afterEach(async () => {
    for (const r of await platform.risk.rules()) await platform.risk.deleteRule(r.ruleId);
  });

  afterAll(async () => {
    await browser?.close();
    await paybao?.close();
    if (platform) {
      expect(await verifyLedger(platform.db)).toEqual([]);
      await platform.close();
    }
  });

  const newPage = async (): Promise<Page> => (browser?.context ?? (await launchBrowser()).context).newPage();

  it('pays at the cashier once the buyer types the texted code', async () => {
    await rule('cashier_pay', 'challenge');
    const trade = await platform.trades.create({
      appId,
      outTradeNo: `risk-${Date.now()}`,
      totalAmount: '88.00',
      subject: 'Tea',
    });
    const page = await newPage();
    await page.goto(`${base}/cashier/${trade.tradeNo}`);
    await page.fill('#phone', buyer.phone);
    await page.fill('#password', buyer.password);
    await page.click('#pay-balance');
    await page.waitForSelector('#confirm-note');
    expect(await platform.members.walletBalance(buyerId)).toBe(500_00n);
    const code = await codeTexted();
    await page.fill('#code', code === '000000' ? '111111' : '000000');
    await page.click('#confirm');
    await expect.poll(() => page.textContent('[role=alert]')).toContain('wrong');
    await page.fill('#code', code);
    await page.screenshot({ path: riskScreenshot, fullPage: true });
    await page.click('#confirm');
    await expect.poll(() => page.getAttribute('#status', 'data-status')).toBe('TRADE_SUCCESS');
    expect(await platform.members.walletBalance(buyerId)).toBe(500_00n - 88_00n);
  });

  it('confirms a transfer to a friend on the friends page with the texted code', async () => {
    await rule('transfer', 'challenge');
    const before = await platform.members.walletBalance(buyerId);
    const page = await newPage();
    await page.goto(`${base}/wallet/friends`);
    await page.fill('#phone', buyer.phone);
    await page.fill('#password', buyer.password);
    await page.click('button[type=submit]');
    const row = page.locator(`#friend-${friendId}`);
    await row.locator('.transfer-amount').fill('20.00');
    await row.locator('button[type=submit]').click();
    await page.waitForSelector('#confirm-note');
    expect(await platform.members.walletBalance(buyerId)).toBe(before);
    await page.fill('#challenge_code', await codeTexted());
    await page.click('#confirm');
    await expect.poll(() => page.textContent('#notice')).toContain('¥20.00');
    expect(await platform.members.walletBalance(buyerId)).toBe(before - 20_00n);
    expect(await platform.members.walletBalance(friendId)).toBe(20_00n);
  });

  it('shows a refusal on the page and moves nothing', async () => {
    await rule('transfer', 'deny');
    const before = await platform.members.walletBalance(buyerId);
    // Still logged in from the test before (the session cookie).
    const page = await newPage();
    await page.goto(`${base}/wallet/friends`);
    const row = page.locator(`#friend-${friendId}`);
    await row.locator('.transfer-amount').fill('20.00');
    await row.locator('button[type=submit]').click();
    await expect.poll(() => page.textContent('[role=alert]')).toContain('refused for your security');
    expect(await platform.members.walletBalance(buyerId)).toBe(before);
  });
});
