/**
 * The credit score in the wallet app, in a real browser: a user with a few months of payments
 * opens Me → Credit score and sees the score, its band, what would raise it (verifying the real
 * name among them) and the nightly history drawn as a chart; verifies the real name (a wrong
 * identity number is refused in words first) and comes back to a higher score without that
 * reason. Every page is screenshotted (test-results/credit/), checked with axe-core (no serious
 * or critical violation) and shows no Content-Security-Policy complaint (ECharts draws on a
 * canvas, in the page's own chunk).
 *
 * Runs Debian's `/usr/bin/chromium` through `playwright-core`; needs the build (`npm run build`).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { idCheckCharacter } from '../../src/credit/index.ts';
import type { Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { webBuildDir } from '../../src/server/web-apps.ts';
import { keyPair, listen } from '../gateway/support.ts';
import { browserMissing, launchBrowser } from '../support/browser.ts';
import { engine, freshPlatform } from '../support/engine.ts';

const shots = join(process.cwd(), 'test-results', 'credit');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const user = { phone: '13912348888', password: 'my credit score 1' };
const first17 = '11010819880808123';
const clock = new ManualClock(Date.parse('2026-10-01T20:00:00Z'));

let platform: Platform;
let app: FastifyInstance;
let base = '';
let userId = '';
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
const complaints: string[] = [];
const axeProblems: string[] = [];

async function look(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${engine}-${name}.png`), fullPage: true });
  await page.evaluate(axeSource);
  const violations = (await page.evaluate('axe.run().then((result) => result.violations)')) as Array<{
    id: string;
    impact: string | null;
    nodes: { target: string[]; html: string }[];
  }>;
  axeProblems.push(
    ...violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${name}: ${v.id} ${v.nodes.map((n) => `${n.target.join(' ')} ${n.html}`).join(', ')}`),
  );
}

let trades = 0;
async function pay(appId: string, amount: string): Promise<void> {
  const trade = await platform.trades.create({
    appId,
    outTradeNo: `credit-b-${++trades}`,
    totalAmount: amount,
    subject: 'Tea',
  });
  await platform.trades.pay(appId, { tradeNo: trade.tradeNo }, userId);
}

describe.skipIf(browserMissing)('the credit score in the wallet app', () => {
  beforeAll(async () => {
    if (!existsSync(join(webBuildDir, 'app', 'index.html'))) {
      throw new Error('the web app is not built: run `npm run build` (npm install does it)');
    }
    mkdirSync(shots, { recursive: true });
    platform = await freshPlatform({ clock });
    app = await buildPlatformApp({ platform, publicUrl: () => base });
    base = await listen(app);
    ({ userId } = await platform.members.createUser({ ...user, openingBalance: 3_000_00n }));
    const { appId } = await platform.members.createApp({
      name: 'Tea Shop',
      merchantPublicKeyPem: keyPair().publicKeyPem,
    });
    // Payments over three months, a nightly score after each, so the chart has a line.
    for (let month = 0; month < 3; month++) {
      for (let i = 0; i < 2; i++) await pay(appId, '18.00');
      clock.advanceMs(30 * 86_400_000);
      await platform.credit.run();
    }
    for (let day = 0; day < 4; day++) {
      clock.advanceMs(86_400_000);
      await pay(appId, '6.00');
      await platform.credit.run();
    }
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await platform?.close();
    expect(complaints).toEqual([]);
    expect(axeProblems).toEqual([]);
  });

  it('shows the score, its band, what would raise it and the history; verifying the name raises it', async () => {
    if (!browser) throw new Error('no browser');
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) complaints.push(m.text());
    });
    await page.goto(`${base}/app/me`);
    await page.evaluate('localStorage.clear()');
    await page.reload();
    await page.fill('#phone', user.phone);
    await page.fill('#password', user.password);
    await page.click('[data-testid="login-submit"]');
    // Back to Me, where the login was asked from.
    await page.locator('#logon-id').waitFor();
    await page.getByText('Not verified').waitFor();
    await page.getByText('Credit score', { exact: true }).click();

    const before = await platform.credit.score(userId);
    expect(before.score).not.toBeNull();
    await page.locator('#credit-score').waitFor();
    expect(await page.locator('#credit-score').textContent()).toBe(String(before.score));
    const bandWords = { POOR: 'Poor', FAIR: 'Fair', GOOD: 'Good', VERY_GOOD: 'Very good', EXCELLENT: 'Excellent' };
    expect(await page.locator('#credit-band').textContent()).toBe(bandWords[before.band ?? 'POOR']);
    const reasons = await page
      .locator('#credit-reasons li')
      .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-reason')));
    expect(reasons).toEqual(before.reasons);
    expect(reasons).toContain('REAL_NAME_MISSING');
    await page.getByText('Verify your real name').waitFor();
    // The chart: a canvas drawn inside the labelled box, one point a night.
    await page.locator('#credit-chart canvas').waitFor();
    expect(await page.locator('#credit-chart').getAttribute('aria-label')).toBe('Your credit score by day');
    expect((await platform.credit.history(userId)).length).toBe(7);
    await look(page, 'score');

    await page.click('#verify-real-name');
    await page.fill('#real-name', '赵明');
    const wrong = first17 + (idCheckCharacter(first17) === '1' ? '2' : '1');
    await page.fill('#id-number', wrong);
    await page.click('[data-testid="real-name-submit"]');
    await page.getByRole('alert').getByText('This is not a valid 18-character identity number').waitFor();
    await look(page, 'real-name-refused');
    expect(await platform.db.query('select 1 from credit_real_names')).toEqual([]);
    await page.fill('#id-number', first17 + idCheckCharacter(first17));
    await page.click('[data-testid="real-name-submit"]');
    await page.getByText('Verified as *明').waitFor();
    await look(page, 'real-name-done');

    await page.click('#to-credit');
    await page.locator('#credit-reasons').waitFor();
    const after = await platform.credit.score(userId);
    expect(after.score).toBeGreaterThan(before.score ?? 0);
    await page.getByText(String(after.score), { exact: true }).waitFor();
    const now = await page
      .locator('#credit-reasons li')
      .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-reason')));
    expect(now).not.toContain('REAL_NAME_MISSING');
    await look(page, 'score-after');
  });
});
