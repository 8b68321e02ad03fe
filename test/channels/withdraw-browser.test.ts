/**
 * A user withdraws in a real browser: Chromium opens `/wallet/withdraw`, logs in with phone and
 * password, withdraws 12.34 to a bound ICBC card and sees the bank's confirmation; the wallet
 * holds 12.34 less and the card's account at the bank (the simulator, over HTTP) 12.34 more.
 * Submitting the same form again (a reload of the result) moves nothing more; an amount above
 * the balance is refused on the page.
 *
 * Runs Debian's `/usr/bin/chromium` through `playwright-core`.
 */

import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAmount } from '../../src/core/money.ts';
import { browserMissing, launchBrowser } from '../support/browser.ts';
import { balance, bankBalance, bindCard, newUser, useWorld, zhang } from './support.ts';

const world = useWorld();
let context: BrowserContext;
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;

/** Zhang's ICBC account at the bank, in fen. */
async function zhangAtBank(): Promise<bigint> {
  const text = await bankBalance(world(), 'ICBC', zhang.cardNo);
  const fen = parseAmount(text ?? '');
  if (fen === undefined) throw new Error(`no balance at the bank: ${text}`);
  return fen;
}

describe.skipIf(browserMissing)('a withdrawal on the wallet page in a real browser', () => {
  beforeAll(async () => {
    browser = await launchBrowser();
    context = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('logs in, withdraws to a bound card once, and refuses more than the balance', async () => {
    const { base, platform } = world();
    const user = await newUser(world(), 10_000n);
    const cardId = await bindCard(world(), user.userId, zhang);
    const bankBefore = await zhangAtBank();

    const page = await context.newPage();
    await page.goto(`${base}/wallet/withdraw`);
    await page.fill('#phone', user.phone);
    await page.fill('#password', 'wrong-password');
    await page.click('button[type=submit]');
    expect(await page.locator('[role=alert]').textContent()).toContain('Wrong phone or password');

    await page.fill('#password', user.password);
    await page.click('button[type=submit]');
    await page.locator('#amount').waitFor();
    expect(await page.locator('#balance').textContent()).toBe('100.00');
    expect(await page.locator('#card_id').inputValue()).toBe(cardId);
    expect(await page.locator('#card_id option').textContent()).toBe('ICBC •••• 0001');
    const cookies = await context.cookies(`${base}/wallet/withdraw`);
    expect(cookies.find((c) => c.name === 'paybao_wallet')?.httpOnly).toBe(true);

    await page.fill('#amount', '12.34');
    await page.screenshot({ path: '/tmp/withdraw-form.png', fullPage: true });
    await page.click('button[type=submit]');
    await page.locator('#status').waitFor();
    expect(await page.locator('#status').getAttribute('data-status')).toBe('SUCCESS');
    expect(await page.locator('#balance').textContent()).toBe('87.66');
    const orderNo = await page.locator('#order-no').textContent();
    await page.screenshot({ path: '/tmp/withdraw.png', fullPage: true });
    expect(await balance(world(), user.userId)).toBe(8_766n);
    expect(await zhangAtBank()).toBe(bankBefore + 1_234n);

    // A reload of the result submits the same form (same idempotency key) again: same order, no money.
    const resubmitted = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/wallet/withdraw'));
    await page.reload();
    await resubmitted;
    await page.locator('#status').waitFor();
    expect(await page.locator('#order-no').textContent()).toBe(orderNo);
    expect(await page.locator('#status').getAttribute('data-status')).toBe('SUCCESS');
    expect(await balance(world(), user.userId)).toBe(8_766n);
    expect(await zhangAtBank()).toBe(bankBefore + 1_234n);
    const orders = await platform.db.query<{ n: string }>(
      `select count(*)::text as n from channel_orders where user_id = $1 and kind = 'WITHDRAW'`,
      [user.userId],
    );
    expect(orders[0]?.n).toBe('1');

    // More than the balance: a clear message on the form, nothing moves.
    await page.click('#again');
    await page.fill('#amount', '500.00');
    await page.click('button[type=submit]');
    expect(await page.locator('[role=alert]').textContent()).toContain('balance is not enough');
    expect(await page.locator('#balance').textContent()).toBe('87.66');
    // A malformed amount too.
    await page.fill('#amount', '1.234');
    await page.click('button[type=submit]');
    expect(await page.locator('[role=alert]').textContent()).toContain('at most 2 decimals');
    expect(await balance(world(), user.userId)).toBe(8_766n);
    expect(await zhangAtBank()).toBe(bankBefore + 1_234n);

    // Logged out, the page asks for the password again.
    await page.click('#logout');
    await page.locator('#password').waitFor();
    await page.close();
  });
});
