/**
 * Red packets in a real browser: the sender logs in to the wallet's red packet page and sends a
 * lucky packet to a group; two members log in in turn and open it, each seeing the amount they
 * got; the sender sees who got how much. The ledger and the packets' books balance at the end.
 *
 * Runs Debian's `/usr/bin/chromium` through `playwright-core` (see test/support/browser.ts).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAmount } from '../../src/core/money.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import type { User } from '../../src/members/index.ts';
import type { Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { verifyRedPackets } from '../../src/social/index.ts';
import { listen } from '../gateway/support.ts';
import { browserMissing, launchBrowser } from '../support/browser.ts';
import { engine, freshPlatform } from '../support/engine.ts';

/** Where the screenshot goes (kept after the run, for people to look at). */
export const redPacketScreenshot = join(tmpdir(), `paybao-red-packets-${engine}.png`);

const people = [
  { phone: '13922220000', password: 'red packet sender', name: '王小明' },
  { phone: '13922220001', password: 'red packet member 1', name: '李雷' },
  { phone: '13922220002', password: 'red packet member 2', name: '韩梅梅' },
];
let platform: Platform;
let paybao: FastifyInstance;
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
let base = '';
let users: User[] = [];

async function logIn(page: Page, who: (typeof people)[number]): Promise<void> {
  await page.goto(`${base}/wallet/red-packets`);
  await page.fill('#phone', who.phone);
  await page.fill('#password', who.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#send');
}

describe.skipIf(browserMissing)('red packets in a real browser', () => {
  beforeAll(async () => {
    platform = await freshPlatform();
    const { friends, groups } = platform.social;
    users = [];
    for (const [i, p] of people.entries()) {
      const user = await platform.members.createUser({
        phone: p.phone,
        password: p.password,
        openingBalance: i === 0 ? 100_00n : 0n,
      });
      await friends.updateProfile(user.userId, { nickname: p.name });
      users.push(user);
    }
    const [sender, ...members] = users as [User, User, User];
    for (const m of members)
      await friends.accept(m.userId, (await friends.request(sender.userId, { toUserId: m.userId })).requestId);
    await groups.create(sender.userId, { name: '周末聚餐', memberIds: members.map((m) => m.userId) });
    paybao = await buildPlatformApp({ platform, publicUrl: () => base });
    base = await listen(paybao);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await paybao?.close();
    if (platform) {
      expect(await verifyLedger(platform.db)).toEqual([]);
      expect(await verifyRedPackets(platform.db)).toEqual([]);
      await platform.close();
    }
  });

  it('sends a lucky packet to a group; two members open it; the sender sees who got how much', async () => {
    const page = await (browser?.context ?? (await launchBrowser()).context).newPage();
    const [sender, first, second] = people as [(typeof people)[0], (typeof people)[0], (typeof people)[0]];
    await logIn(page, sender);
    await page.selectOption('#to', { label: '群 · 周末聚餐 (3)' });
    await page.selectOption('#kind', 'LUCKY');
    await page.fill('#amount', '20.00');
    await page.fill('#shares', '2');
    await page.fill('#greeting', '周末快乐');
    await page.click('#send button[type=submit]');
    await expect.poll(() => page.textContent('#notice')).toContain('¥20.00');
    await page.click('#logout');

    const got: bigint[] = [];
    for (const member of [first, second]) {
      await logIn(page, member);
      await page.click('.waiting .grab-button');
      const notice = (await page.textContent('#notice')) ?? '';
      const amount = /¥([0-9]+\.[0-9]{2})/.exec(notice)?.[1];
      expect(amount, notice).toBeDefined();
      got.push(parseAmount(amount ?? '') ?? 0n);
      // Opened: it waits no more, and the page lists the packet with this member's share.
      expect(await page.locator('.waiting').count()).toBe(0);
      await page.click('#logout');
    }
    expect(got[0] ?? 0n).toBeGreaterThan(0n);
    expect((got[0] ?? 0n) + (got[1] ?? 0n)).toBe(20_00n);

    await logIn(page, sender);
    const packet = page.locator('.packet').first();
    await expect.poll(() => packet.locator('.grab').count()).toBe(2);
    const text = (await packet.textContent()) ?? '';
    expect(text).toContain('周末快乐');
    expect(text).toContain('已抢完 · all grabbed');
    expect(text).toContain('手气最佳 · luckiest');
    expect(text).toContain('*雷'); // 李雷, masked
    await page.screenshot({ path: redPacketScreenshot, fullPage: true });
    const [, m1, m2] = users as [User, User, User];
    expect(await platform.members.walletBalance(m1.userId)).toBe(got[0]);
    expect(await platform.members.walletBalance(m2.userId)).toBe(got[1]);
  });
});
