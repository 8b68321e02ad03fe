/**
 * Yu'e Bao in a real browser: the owner logs in to the wallet's fund page, sees the confirmation
 * day before buying, buys; the injected clock moves on ten days while the fund company declares
 * its income and the fund job confirms and distributes; the page shows yesterday's and the total
 * income and the 7-day yield with its chart; then the buyer pays a trade at the cashier from
 * Yu'e Bao, and the trade reports FINANCEACCOUNT. Both books balance at the end.
 *
 * Runs Debian's `/usr/bin/chromium` through `playwright-core` (see test/support/browser.ts).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { formatAmount, parseAmount } from '../../src/core/money.ts';
import { addDays, verifyFundBooks } from '../../src/fund/index.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import type { Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { beijing, moveTo } from '../fund/support.ts';
import { keyPair, listen } from '../gateway/support.ts';
import { browserMissing, launchBrowser } from '../support/browser.ts';
import { engine, freshPlatform } from '../support/engine.ts';

const phone = '13912340000';
const password = 'fund in a browser 1';
/** Where the screenshots go (kept after the run, for people to look at). */
export const fundScreenshot = join(tmpdir(), `paybao-fund-${engine}.png`);
export const cashierScreenshot = join(tmpdir(), `paybao-fund-cashier-${engine}.png`);

const clock = new ManualClock(beijing('2026-11-02 10:00'));
/** The company's daily income per 10,000 shares: around 0.60, moving from day to day. */
const per10k = (d: number) => `0.${5800 + 40 * ((d * 7) % 11)}`;
let platform: Platform;
let paybao: FastifyInstance;
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
let base = '';
let buyerId = '';
let app: { appId: string; sellerId: string };

async function logIn(page: Page): Promise<void> {
  await page.fill('#phone', phone);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
}

describe.skipIf(browserMissing)("Yu'e Bao in a real browser", () => {
  beforeAll(async () => {
    platform = await freshPlatform({ clock });
    const { catalog } = platform.fund;
    await catalog.createCompany({ code: 'TIANHONG', name: 'Tianhong Asset Management' });
    await catalog.createProduct({ code: 'YEB', companyCode: 'TIANHONG', name: "Tianhong Yu'e Bao" });
    await catalog.refillPool('TIANHONG', '10000.00', 'initial');
    // Four weeks of income already declared before the buyer comes: the chart has a month to show.
    for (let d = 0; d < 28; d++) await platform.fund.income.declare('YEB', addDays('2026-10-06', d), per10k(d));
    await platform.fund.runDue();
    app = await platform.members.createApp({ name: 'Tea Shop', merchantPublicKeyPem: keyPair().publicKeyPem });
    buyerId = (await platform.members.createUser({ phone, password, openingBalance: 200_000n })).userId;
    paybao = await buildPlatformApp({ platform, publicUrl: () => base });
    base = await listen(paybao);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await paybao?.close();
    if (platform) {
      expect(await verifyLedger(platform.db)).toEqual([]);
      expect(await verifyFundBooks(platform.db)).toEqual([]);
      await platform.close();
    }
  });

  it('buys, sees the income and the yield as the clock moves, then pays at the cashier from the fund', async () => {
    const page = await (browser?.context ?? (await launchBrowser()).context).newPage();
    await page.goto(`${base}/wallet/fund`);
    await logIn(page);
    await page.waitForSelector('#buy');
    // The confirmation day is on the form before the user confirms.
    expect(await page.locator('#buy-when strong').textContent()).toBe('2026-11-03');
    await page.fill('#buy-amount', '1500.00');
    await page.click('#buy');
    await page.locator('#notice').waitFor();
    expect(await page.locator('#notice').textContent()).toContain('confirmed on 2026-11-03');
    expect(await page.locator('#to-be-confirmed').textContent()).toBe('1500.00');

    // Ten days pass: the company declares each day's income, the job runs each morning.
    for (let d = 3; d <= 12; d++) {
      const day = `2026-11-${String(d).padStart(2, '0')}`;
      moveTo(clock, `${day} 09:00`);
      await platform.fund.runDue();
      await platform.fund.income.declare('YEB', day, per10k(d + 28));
    }
    moveTo(clock, '2026-11-13 09:00');
    await platform.fund.runDue();

    // The session of eleven days ago is over: log in again.
    await page.goto(`${base}/wallet/fund`);
    await logIn(page);
    await page.waitForSelector('#yield-chart');
    // What the page shows is the fund's own reckoning (its numbers are checked in test/api/fund.test.ts).
    const [mine] = await platform.fund.overview(buyerId);
    expect(mine?.totalIncome).not.toBe('0.00');
    expect(await page.locator('#yesterday-income').textContent()).toBe(`+${mine?.yesterdayIncome}`);
    expect(await page.locator('#total-income').textContent()).toBe(mine?.totalIncome);
    expect(await page.locator('#fund-total').textContent()).toBe(
      formatAmount(150_000n + (parseAmount(mine?.totalIncome ?? '') ?? 0n)),
    );
    expect(await page.locator('#seven-day-yield').textContent()).toBe(`${mine?.sevenDayYield?.toFixed(4)}%`);
    expect(await page.locator('#yield-chart polyline').count()).toBe(1);
    expect((await page.locator('#yield-chart polyline').getAttribute('points'))?.split(' ')).toHaveLength(30);
    await page.screenshot({ path: fundScreenshot, fullPage: true });

    // A fast redemption from the page: the money is in the balance at once.
    await page.fill('#redeem-amount', '10.00');
    await page.click('#redeem');
    await page.locator('#notice').waitFor();
    expect(await platform.members.walletBalance(buyerId)).toBe(200_000n - 150_000n + 1_000n);

    // The cashier: a trade above the balance. Paying from the balance is refused, and since the
    // buyer's Yu'e Bao covers it the fund is offered first; paying from it moves both legs at once.
    const trade = await platform.trades.create({
      appId: app.appId,
      outTradeNo: `fund-browser-${Date.now()}`,
      totalAmount: '888.00',
      subject: 'Longjing tea, a gift box',
    });
    await page.goto(`${base}/cashier/${trade.tradeNo}`);
    await page.fill('#phone', phone);
    await page.fill('#password', password);
    await page.click('#pay-balance');
    await page.locator('[role=alert]').waitFor();
    expect(await page.locator('[role=alert]').textContent()).toContain("Yu'e Bao covers it");
    expect(await page.locator('form button').first().getAttribute('id')).toBe('pay-fund');
    await page.fill('#phone', phone);
    await page.fill('#password', password);
    await page.screenshot({ path: cashierScreenshot, fullPage: true });
    await page.click('#pay-fund');
    await page.locator('.done').waitFor();
    const paid = await platform.trades.byTradeNo(trade.tradeNo);
    expect(paid).toMatchObject({
      status: 'TRADE_SUCCESS',
      fundBills: [{ fundChannel: 'FINANCEACCOUNT', amount: '888.00' }],
    });
    expect(await platform.members.walletBalance(buyerId)).toBe(51_000n);
    expect(await platform.members.walletBalance(app.sellerId)).toBe(88_800n);
    const [holding] = await platform.fund.orders.holdings(buyerId);
    const shares = 150_000n + (parseAmount(mine?.totalIncome ?? '') ?? 0n) - 1_000n - 88_800n;
    expect(holding).toMatchObject({ shares: formatAmount(shares), redeeming: '898.00' });
  });
});
