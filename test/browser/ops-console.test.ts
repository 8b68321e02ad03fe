/**
 * The operations console (`/console`, built from web/ by Vite, Ant Design) in a real browser at
 * desktop width, against a platform and the bank simulator listening as in production: an
 * administrator logs in by name and password (the login in the browser's language, switched to
 * Chinese and back), rules a dispute, reconciles a bank's day whose statement disagrees (the
 * simulator's amount fault) and settles the line, decides a risk review of a held transfer, sees
 * the live figures and the reserves, freezes a user with a reason, and finds all of it in the
 * audit log; a dispute reviewer sees only the pages of that role. Every main page is
 * screenshotted (test-results/ops-console/), checked with axe-core (no serious or critical
 * violation) and shows no Content-Security-Policy complaint; the time from navigation to the
 * page's content is printed.
 *
 * Runs Debian's `/usr/bin/chromium` through `playwright-core`; needs the build (`npm run build`).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beijingTime } from '../../src/core/time.ts';
import { webBuildDir } from '../../src/server/web-apps.ts';
import { bindCard, key, newUser, setFaults, useWorld, zhang } from '../channels/support.ts';
import { browserMissing, launchBrowser } from '../support/browser.ts';
import { engine } from '../support/engine.ts';
import { marketplace } from '../trades/escrow-support.ts';

const world = useWorld();
const shots = join(process.cwd(), 'test-results', 'ops-console');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const desktop = { width: 1366, height: 900 };
const admin = { name: 'Chen Jing', password: 'console password 1' };
const reviewer = { name: 'Li Na', password: 'console password 2' };

let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
let context: BrowserContext;
let page: Page;
const complaints: string[] = [];
const axeProblems: string[] = [];

async function open(path: string): Promise<Page> {
  const opened = await context.newPage();
  await opened.setViewportSize(desktop);
  opened.setDefaultTimeout(15_000);
  opened.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) complaints.push(`${path}: ${m.text()}`);
  });
  await opened.goto(`${world().base}/console${path}`);
  return opened;
}

/** Goes to a console page by its path and waits for what shows it is ready, printing how long that took. */
async function visit(path: string, selector: string, name: string): Promise<void> {
  await page.goto(`${world().base}/console${path}`);
  await ready(page, selector, name);
}

async function ready(on: Page, selector: string, name: string): Promise<void> {
  await on.locator(selector).first().waitFor();
  const ms = await on.evaluate(() => Math.round(performance.now()));
  console.log(`ops console: ${name} interactive ${ms} ms after navigation (${on.viewportSize()?.width} px)`);
}

/** A screenshot kept for people to look at, and axe-core's verdict: nothing serious or critical. */
async function look(on: Page, name: string): Promise<void> {
  // A table fades its rows while it loads, and back over a few hundred ms: shoot what people read.
  await on.locator('.ant-spin-blur').waitFor({ state: 'detached' });
  await on.waitForTimeout(400);
  await on.screenshot({ path: join(shots, `${engine}-${name}.png`), fullPage: true });
  await on.evaluate(axeSource);
  const violations = (await on.evaluate('axe.run().then((result) => result.violations)')) as AxeViolation[];
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

async function logIn(on: Page, who: { name: string; password: string }): Promise<void> {
  await on.fill('#name', who.name);
  await on.fill('#password', who.password);
  await on.click('[data-testid="login-submit"]');
  await on.locator('#operator-name').waitFor();
}

/** The Ant Design modal's confirm button, then the modal gone. */
async function confirmModal(on: Page, button: string): Promise<void> {
  await on.click(button);
  await on.locator('.ant-modal-wrap').waitFor({ state: 'hidden' });
}

const beijingToday = () => beijingTime(new Date()).slice(0, 10);

/** An escrow trade of ¥200.00 whose refund the seller refused, disputed by the buyer, answered by the seller. */
async function disputeWaitingForRuling() {
  const { platform } = world();
  const shop = await marketplace(platform);
  const buyer = await shop.buyer('500.00');
  const tradeNo = await shop.shippedTrade(buyer.userId, '200.00');
  const refund = await platform.afterSale.requestRefund(
    buyer.actor,
    { tradeNo },
    { amount: '200.00', reason: 'arrived broken' },
  );
  await platform.afterSale.refuse(shop.seller, refund.caseNo, 'it left intact');
  const dispute = await platform.afterSale.openDispute(buyer.actor, { tradeNo }, { reason: 'photos of the box' });
  await platform.afterSale.answer(shop.seller, dispute.disputeNo, 'photo at packing');
  return { shop, buyer, dispute };
}

describe.skipIf(browserMissing)('the operations console in a real browser', () => {
  beforeAll(async () => {
    if (!existsSync(join(webBuildDir, 'console', 'index.html'))) {
      throw new Error('the web app is not built: run `npm run build` (npm install does it)');
    }
    mkdirSync(shots, { recursive: true });
    const { operators } = world().platform;
    await operators.create(admin.name, { roles: ['administrator'], password: admin.password });
    await operators.create(reviewer.name, { roles: ['dispute_reviewer'], password: reviewer.password });
    browser = await launchBrowser();
    context = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
    expect(complaints).toEqual([]);
    expect(axeProblems).toEqual([]);
  });

  it('logs an administrator in, in the browser’s language with a switch to Chinese', async () => {
    page = await open('/');
    await ready(page, '#name', 'login');
    expect(await page.locator('h1').textContent()).toBe('Paybao operations console');
    await look(page, 'login');
    await page.click('#lang-switch');
    expect(await page.locator('h1').textContent()).toBe('Paybao 运营后台');
    expect(await page.evaluate('document.documentElement.lang')).toBe('zh-CN');
    await page.fill('#name', admin.name);
    await page.fill('#password', 'not the password');
    await page.click('[data-testid="login-submit"]');
    await page.getByText('名称或密码不正确。').waitFor();
    await page.click('#lang-switch');
    await logIn(page, admin);
    await ready(page, '#live-figures', 'live figures (first page)');
    expect(await page.locator('#operator-name').textContent()).toBe(admin.name);
  });

  it('rules a dispute for the buyer', async () => {
    const { platform } = world();
    const { shop, buyer, dispute } = await disputeWaitingForRuling();

    await visit('/disputes', `[data-testid="rule-${dispute.disputeNo}"]`, 'disputes');
    expect(await page.locator('#dispute-table').textContent()).toContain('¥200.00');
    expect(await page.locator('#dispute-table').textContent()).not.toContain('WAIT_RULING');
    await look(page, 'disputes');
    await page.click(`[data-testid="rule-${dispute.disputeNo}"]`);
    await page.fill('#award', '150.00');
    await page.fill('#note', 'box damaged in transit');
    await look(page, 'dispute-ruling');
    await confirmModal(page, '#ruling-submit');
    await page.getByText(`Dispute ${dispute.disputeNo} ruled.`).waitFor();
    const ruled = await platform.afterSale.getDispute(shop.operator, dispute.disputeNo);
    expect(ruled).toMatchObject({ status: 'RULED_FOR_BUYER', awardAmount: '150.00' });
    expect(await platform.members.walletBalance(buyer.userId)).toBe(30_000n + 15_000n);
  });

  it('reconciles a bank’s day whose statement disagrees, and settles the line', async () => {
    const { platform } = world();
    const user = await newUser(world(), 0n);
    const cardId = await bindCard(world(), user.userId, zhang);
    const topUp = await platform.channels.topUpByCard(user.userId, { cardId, amount: '10.00', idempotencyKey: key() });
    expect(topUp.status).toBe('SUCCESS');
    await setFaults(world(), { statementAmountRate: 1 });

    await visit('/reconciliation', '#run-recon', 'reconciliation');
    await page.fill('#bank', 'ICBC');
    await page.fill('#date', beijingToday());
    await page.click('#run-recon');
    await page.getByText(/ICBC .*queued\./).waitFor();
    await setFaults(world(), {});
    const [item] = await platform.reconciler.items({ bank: 'ICBC', state: 'OPEN' });
    if (!item) throw new Error('no reconciliation item was queued');
    await page.locator(`[data-testid="settle-${item.id}"]`).waitFor();
    expect(await page.locator('#recon-table').textContent()).toContain('Amounts differ');
    await look(page, 'reconciliation');
    await page.click(`[data-testid="settle-${item.id}"]`);
    await page.fill('#note', 'the bank corrected its statement');
    await confirmModal(page, '#resolve-submit');
    await page.getByText(`Line ${item.id} resolved.`).waitFor();
    const [resolved] = await platform.reconciler.items({ bank: 'ICBC', state: 'RESOLVED' });
    expect(resolved).toMatchObject({
      id: item.id,
      state: 'RESOLVED',
      resolution: 'dismiss: the bank corrected its statement',
    });
  });

  it('approves a transfer the risk engine held for review', async () => {
    const { platform, app } = world();
    await platform.risk.createRule(
      {
        name: 'look at big transfers',
        condition: { kind: 'amount', over: '50.00' },
        paths: ['transfer'],
        action: 'review',
      },
      'test',
    );
    const payer = await newUser(world(), 100_000n);
    const payee = await newUser(world(), 0n);
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/sessions',
      payload: { phone: payer.phone, password: payer.password },
    });
    const held = await app.inject({
      method: 'POST',
      url: '/api/v1/transfers',
      headers: { authorization: `Bearer ${login.json().token}`, 'idempotency-key': key() },
      payload: { to_phone: payee.phone, amount: '88.00' },
    });
    expect(held.json(), held.body).toMatchObject({ status: 'in_review' });
    const [review] = await platform.risk.reviews({ status: 'PENDING' });
    if (!review) throw new Error('no review was opened');

    await visit('/risk', `[data-testid="approve-${review.reviewId}"]`, 'risk reviews');
    expect(await page.locator('#review-table').textContent()).toContain('look at big transfers');
    await look(page, 'risk-reviews');
    await page.click(`[data-testid="approve-${review.reviewId}"]`);
    await page.fill('#note', 'known payee, called the payer');
    await confirmModal(page, '#decide-submit');
    await page.getByText('Review decided.').waitFor();
    expect((await platform.risk.review(review.reviewId)).status).toBe('APPROVED');
    await page.getByRole('tab', { name: 'Rules' }).click();
    await page.getByText('look at big transfers').first().waitFor();
    await look(page, 'risk-rules');
    await platform.risk.deleteRule((await platform.risk.rules())[0]?.ruleId ?? 0);
  });

  it('shows the live figures and the reserves with their history', async () => {
    await visit('/live', '#chart-payments canvas', 'live figures');
    // The page reads every 2 s: a second reading gives rates over a window.
    await expect.poll(() => page.locator('#live-figures .ant-statistic').count()).toBe(6);
    expect(await page.locator('#live-figures').textContent()).toContain('Notification backlog');
    // A few readings, so that the charts draw lines rather than a first point.
    await page.waitForTimeout(5000);
    await look(page, 'live');

    await visit('/reserves', '#reserve-figures', 'reserves');
    await page.click('#snapshot');
    await page.locator('#reserve-history canvas').waitFor();
    // The test's users were given their money by the platform, not through a bank: not covered.
    expect(await page.locator('#reserve-figures').textContent()).toMatch(/Coverage.*%/);
    await look(page, 'reserves');
    await visit('/loss-rate', '#loss-rate', 'loss rate');
    await look(page, 'loss-rate');
    await visit('/fund', '.ant-table', "Yu'e Bao");
    await look(page, 'fund');
  });

  it('finds a user and freezes the account with a reason; the audit log has every action', async () => {
    const { platform } = world();
    const user = await newUser(world(), 12_345n);
    await visit('/members', '#member-search', 'users and merchants');
    await page.fill('#member-search', user.phone);
    await page.keyboard.press('Enter');
    await page.locator(`[data-testid="freeze-${user.userId}"]`).waitFor();
    expect(await page.locator('#member-table').textContent()).toContain('¥123.45');
    await page.click(`[data-testid="freeze-${user.userId}"]`);
    await page.fill('#reason', 'reported stolen phone');
    await look(page, 'member-freeze');
    await confirmModal(page, '#freeze-submit');
    await page.locator(`[data-testid="frozen-${user.userId}"]`).waitFor();
    await look(page, 'members');
    expect(await platform.members.freezes.get(user.userId)).toMatchObject({ reason: 'reported stolen phone' });
    expect(await platform.members.freezes.isFrozen(user.userId)).toBe(true);

    await visit('/audit', '#audit-table .ant-table-row', 'audit log');
    const log = await page.locator('#audit-table').textContent();
    for (const action of ['member.freeze', 'risk.review.decide', 'reconciliation.resolve', 'dispute.rule'])
      expect(log).toContain(action);
    expect(log).toContain('reported stolen phone');
    await look(page, 'audit');
    await visit('/operators', '.ant-table-row', 'operators');
    await look(page, 'operators');
  });

  it('shows a dispute reviewer only the pages of that role, in Chinese, and lets it rule at 390 px', async () => {
    await page.click('#logout');
    await page.locator('#name').waitFor();
    await page.click('#lang-switch');
    await logIn(page, reviewer);
    const menu = await page.locator('nav').textContent();
    expect(menu).toContain('争议处理');
    expect(menu).not.toContain('对账差错');
    expect(menu).not.toContain('操作日志');
    await visit('/disputes', '#dispute-table', 'disputes (reviewer, zh)');
    await look(page, 'reviewer-disputes-zh');

    // On a phone: the menu folds away, the queue scrolls sideways, the ruling still works.
    const { shop, dispute } = await disputeWaitingForRuling();
    await page.setViewportSize({ width: 390, height: 844 });
    await visit('/disputes', `[data-testid="rule-${dispute.disputeNo}"]`, 'disputes (reviewer, zh)');
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await look(page, 'reviewer-disputes-zh-390');
    await page.click(`[data-testid="rule-${dispute.disputeNo}"]`);
    await page.click('#decision-seller');
    await look(page, 'reviewer-ruling-zh-390');
    await confirmModal(page, '#ruling-submit');
    await page.getByText(`争议 ${dispute.disputeNo} 已裁决。`).waitFor();
    const ruled = await world().platform.afterSale.getDispute(shop.operator, dispute.disputeNo);
    expect(ruled.status).toBe('RULED_FOR_SELLER');
    await page.setViewportSize(desktop);
    // A page the role does not open leads back to the reviewer's own.
    await page.goto(`${world().base}/console/audit`);
    await page.locator('#live-figures').waitFor();
  });
});
