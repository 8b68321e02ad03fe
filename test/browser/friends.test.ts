/**
 * Friends, a transfer and a collection request (AA) in a real browser: A asks B by phone, B
 * accepts; A sends B money with a memo; A makes a group with B and asks it for a share each; B
 * pays; A sees B paid. The ledger balances at the end.
 *
 * Runs Debian's `/usr/bin/chromium` through `playwright-core` (see test/support/browser.ts).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/index.ts';
import type { User } from '../../src/members/index.ts';
import type { Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { listen } from '../gateway/support.ts';
import { browserMissing, launchBrowser } from '../support/browser.ts';
import { engine, freshPlatform } from '../support/engine.ts';

/** Where the screenshot goes (kept after the run, for people to look at). */
export const friendsScreenshot = join(tmpdir(), `paybao-friends-${engine}.png`);

const alice = { phone: '13933330000', password: 'friends page alice', name: '张三' };
const bob = { phone: '13933330001', password: 'friends page bob', name: '李四' };
let platform: Platform;
let paybao: FastifyInstance;
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
let base = '';
let users: User[] = [];

async function logIn(page: Page, who: typeof alice): Promise<void> {
  await page.goto(`${base}/wallet/friends`);
  await page.fill('#phone', who.phone);
  await page.fill('#password', who.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#ask');
}

describe.skipIf(browserMissing)('friends in a real browser', () => {
  beforeAll(async () => {
    platform = await freshPlatform();
    users = [];
    for (const [i, p] of [alice, bob].entries()) {
      const user = await platform.members.createUser({
        phone: p.phone,
        password: p.password,
        openingBalance: i === 0 ? 100_00n : 50_00n,
      });
      await platform.social.friends.updateProfile(user.userId, { nickname: p.name });
      users.push(user);
    }
    paybao = await buildPlatformApp({ platform, publicUrl: () => base });
    base = await listen(paybao);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await paybao?.close();
    if (platform) {
      expect(await verifyLedger(platform.db)).toEqual([]);
      await platform.close();
    }
  });

  it('befriends by phone, sends money, asks a group for shares, and sees who paid', async () => {
    const page = await (browser?.context ?? (await launchBrowser()).context).newPage();
    const [a, b] = users as [User, User];
    await logIn(page, alice);
    await page.fill('#ask-phone', bob.phone);
    await page.fill('#ask-message', '我是张三');
    await page.click('#ask button[type=submit]');
    await expect.poll(() => page.textContent('#notice')).toContain('Request sent');
    await page.click('#logout');

    await logIn(page, bob);
    expect(await page.textContent('.request')).toContain('我是张三');
    await page.click('.request .accept');
    await expect.poll(() => page.textContent('#notice')).toContain('friends');
    await page.click('#logout');

    await logIn(page, alice);
    const friend = page.locator(`#friend-${b.userId}`);
    await friend.locator('.transfer-amount').fill('12.30');
    await friend.locator('.transfer-memo').fill('午饭 lunch');
    await friend.locator('button[type=submit]').click();
    await expect.poll(() => page.textContent('#notice')).toContain('¥12.30');
    expect(await platform.members.walletBalance(b.userId)).toBe(62_30n);

    await page.fill('#group-name', '饭搭子');
    await page.check(`#new-group input[value="${b.userId}"]`);
    await page.click('#new-group button[type=submit]');
    await expect.poll(() => page.textContent('#notice')).toContain('饭搭子');
    await page.fill('#collect-title', '火锅 hotpot');
    await page.fill('#collect-amount', '45.00');
    await page.click('#new-collection button[type=submit]');
    await expect.poll(() => page.textContent('#notice')).toContain('¥45.00');
    await page.click('#logout');

    await logIn(page, bob);
    await page.click('.collection .pay-share');
    await expect.poll(() => page.textContent('#notice')).toContain('Paid');
    await page.click('#logout');

    await logIn(page, alice);
    const collection = page.locator('.collection').first();
    await expect.poll(() => collection.textContent()).toContain('已付 · paid');
    expect(await collection.textContent()).toContain('*四');
    await page.screenshot({ path: friendsScreenshot, fullPage: true });
    expect(await platform.members.walletBalance(a.userId)).toBe(100_00n - 12_30n + 45_00n);
    expect(await platform.members.walletBalance(b.userId)).toBe(50_00n + 12_30n - 45_00n);
  });
});
