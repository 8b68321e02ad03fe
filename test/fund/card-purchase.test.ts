/**
 * Buying Yu'e Bao from a bound bank card, against the bank simulator over HTTP: the bank withholds
 * the amount by quick pay, the purchase holds it until its confirmation day like one from the
 * balance, and the same key never withholds twice. A bank that declines leaves no order; a bank
 * that has not answered leaves none either, until the same request after its answer completes it.
 * The native API takes `card_id`, and the wallet's fund page offers the bound card in Chromium.
 * The fund's books and the ledger are checked after every test (the channels' world checks the
 * ledger and the bank's books).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isFundError, verifyFundBooks } from '../../src/fund/index.ts';
import {
  balance,
  bankBalance,
  bindCard,
  key,
  li,
  newUser,
  setFaults,
  useWorld,
  wang,
  zhang,
} from '../channels/support.ts';
import { browserMissing, launchBrowser } from '../support/browser.ts';

const world = useWorld();

beforeAll(async () => {
  const { fund } = world().platform;
  await fund.catalog.createCompany({ code: 'TIANHONG', name: 'Tianhong Asset Management' });
  await fund.catalog.createProduct({ code: 'YEB', companyCode: 'TIANHONG', name: 'Tianhong Yu e Bao' });
});

async function fundBooksClean(): Promise<void> {
  expect(await verifyFundBooks(world().platform.db)).toEqual([]);
}

describe('a purchase from a bound card', () => {
  it('withholds from the card once, holds the money until confirmation, and answers a replay with the same order', async () => {
    const { platform } = world();
    const user = await newUser(world());
    const cardId = await bindCard(world(), user.userId, li);
    const cardBefore = Number(await bankBalance(world(), 'ICBC', li.cardNo));
    const input = { productCode: 'YEB', amount: '200.00', idempotencyKey: key(), cardId };

    const order = await platform.fund.orders.purchaseFromCard(user.userId, input);
    expect(order).toMatchObject({ kind: 'PURCHASE', amount: '200.00', status: 'to_be_confirmed' });
    expect(order.cardOrderNo).toMatch(/\S/);
    const channelOrder = await platform.channels.order(user.userId, order.cardOrderNo ?? '');
    expect(channelOrder).toMatchObject({ kind: 'TOPUP_WITHHOLD', status: 'SUCCESS', amount: '200.00', cardId });
    expect(Number(await bankBalance(world(), 'ICBC', li.cardNo))).toBeCloseTo(cardBefore - 200, 2);
    // The money passed through the wallet and is held for the purchase: nothing left to spend.
    expect(await balance(world(), user.userId)).toBe(0n);
    expect(await platform.fund.orders.holdings(user.userId)).toEqual([
      { productCode: 'YEB', shares: '0.00', redeeming: '0.00', toBeConfirmed: '200.00' },
    ]);

    const again = await platform.fund.orders.purchaseFromCard(user.userId, input);
    expect(again).toEqual(order);
    expect(Number(await bankBalance(world(), 'ICBC', li.cardNo))).toBeCloseTo(cardBefore - 200, 2);
    // The same key for a purchase from the balance, or for another amount, is another request.
    const fromBalance = platform.fund.orders.purchase(user.userId, { ...input, cardId: undefined } as never);
    await expect(fromBalance).rejects.toSatisfy((e) => isFundError(e, 'idempotency_key_reused'));
    const otherAmount = platform.fund.orders.purchaseFromCard(user.userId, { ...input, amount: '201.00' });
    await expect(otherAmount).rejects.toSatisfy((e) => isFundError(e, 'idempotency_key_reused'));
    const otherCard = platform.fund.orders.purchaseFromCard(user.userId, { ...input, cardId: 'another-card' });
    await expect(otherCard).rejects.toSatisfy((e) => isFundError(e, 'idempotency_key_reused'));
    expect((await platform.fund.orders.orders(user.userId)).length).toBe(1);
    await fundBooksClean();
  });

  it('makes no order when the bank declines, and refuses bad input before the bank is asked', async () => {
    const { platform } = world();
    const user = await newUser(world());
    const cardId = await bindCard(world(), user.userId, zhang);
    const cardBefore = Number(await bankBalance(world(), 'ICBC', zhang.cardNo));
    // Above what the card holds at the bank (ICBC takes up to 50,000.00 a payment).
    const declined: string[] = [];
    for (let i = 0; i < 3; i++) {
      try {
        await platform.fund.orders.purchaseFromCard(user.userId, {
          productCode: 'YEB',
          amount: '50000.00',
          idempotencyKey: key(),
          cardId,
        });
      } catch (error) {
        if (!isFundError(error, 'card_payment_failed')) throw error;
        declined.push(error.code);
      }
    }
    expect(declined.length).toBeGreaterThan(0);
    const bought = (await platform.fund.orders.orders(user.userId)).length;
    expect(bought).toBe(3 - declined.length);
    expect(Number(await bankBalance(world(), 'ICBC', zhang.cardNo))).toBeCloseTo(cardBefore - bought * 50_000, 2);
    expect(await balance(world(), user.userId)).toBe(0n);

    for (const [amount, code] of [
      ['0.99', 'amount_below_minimum'],
      ['1.001', 'invalid_amount'],
    ] as const) {
      const refused = platform.fund.orders.purchaseFromCard(user.userId, {
        productCode: 'YEB',
        amount,
        idempotencyKey: key(),
        cardId,
      });
      await expect(refused).rejects.toSatisfy((e) => isFundError(e, code));
    }
    const unknownProduct = platform.fund.orders.purchaseFromCard(user.userId, {
      productCode: 'NOPE',
      amount: '10.00',
      idempotencyKey: key(),
      cardId,
    });
    await expect(unknownProduct).rejects.toSatisfy((e) => isFundError(e, 'unknown_product'));
    const [orders] = await platform.db.query<{ n: bigint }>(
      "select count(*)::bigint n from channel_orders where user_id = $1 and status <> 'FAILED'",
      [user.userId],
    );
    expect(orders?.n).toBe(BigInt(bought));
    await fundBooksClean();
  });

  it('waits for a bank that has not answered, then completes with the same request, withholding once', async () => {
    const { platform } = world();
    const user = await newUser(world());
    const cardId = await bindCard(world(), user.userId, wang);
    const cardBefore = Number(await bankBalance(world(), 'ICBC', wang.cardNo));
    const input = { productCode: 'YEB', amount: '88.00', idempotencyKey: key(), cardId };
    await setFaults(world(), { timeoutMode: 'drop', timeoutAfterRate: 1 });
    const unanswered = await world()
      .losingCallbacks(() => platform.fund.orders.purchaseFromCard(user.userId, input))
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    await setFaults(world(), {});
    expect(isFundError(unanswered, 'card_payment_pending')).toBe(true);
    expect(await platform.fund.orders.orders(user.userId)).toEqual([]);
    // The bank took the money; the platform learns it by asking (the sweep does this by itself).
    const [open] = await platform.db.query<{ order_no: string }>(
      'select order_no from channel_orders where user_id = $1',
      [user.userId],
    );
    expect((await platform.channels.resolve(open?.order_no ?? '', { waits: [10, 10] })).status).toBe('SUCCESS');

    const order = await platform.fund.orders.purchaseFromCard(user.userId, input);
    expect(order).toMatchObject({ kind: 'PURCHASE', amount: '88.00', cardOrderNo: open?.order_no });
    expect(Number(await bankBalance(world(), 'ICBC', wang.cardNo))).toBeCloseTo(cardBefore - 88, 2);
    expect(await balance(world(), user.userId)).toBe(0n);
    await fundBooksClean();
  });
});

describe('a purchase from a bound card through the native API', () => {
  async function post(token: string, body: unknown, idempotencyKey: string) {
    const response = await fetch(`${world().base}/api/v1/fund/purchases`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'idempotency-key': idempotencyKey,
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  it('answers the order with the bank order behind it, the same order again for the same key, and a refusal as {type, code, message, param}', async () => {
    const user = await newUser(world());
    const cardId = await bindCard(world(), user.userId, li);
    const session = await fetch(`${world().base}/api/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone: user.phone, password: user.password }),
    });
    const { token } = (await session.json()) as { token: string };
    const idempotencyKey = key('api');
    const body = { product_code: 'YEB', amount: '66.60', card_id: cardId };

    const bought = await post(token, body, idempotencyKey);
    expect(bought.status).toBe(201);
    expect(bought.json).toMatchObject({ kind: 'purchase', amount: '66.60', status: 'to_be_confirmed' });
    expect(bought.json.card_order_no).toEqual(expect.any(String));
    expect(await post(token, body, idempotencyKey)).toEqual(bought);

    const declined = await post(token, { ...body, amount: '50000.00', card_id: 'no-such-card' }, key('api'));
    expect(declined.status).toBe(404);
    expect(declined.json).toMatchObject({ code: 'card_not_found' });
    const fromBalance = await post(token, { product_code: 'YEB', amount: '1.00' }, key('api'));
    expect(fromBalance.status).toBe(402);
    expect(fromBalance.json).toMatchObject({ code: 'balance_not_enough', param: 'amount' });
    await fundBooksClean();
  });
});

describe.skipIf(browserMissing)('a purchase from a bound card on the wallet page, in a real browser', () => {
  it('offers the bound card beside the balance and buys from it', async () => {
    const user = await newUser(world());
    await bindCard(world(), user.userId, li);
    const cardBefore = Number(await bankBalance(world(), 'ICBC', li.cardNo));
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${world().base}/wallet/fund`);
      await page.fill('#phone', user.phone);
      await page.fill('#password', user.password);
      await page.click('button[type=submit]');
      await page.waitForSelector('#buy');
      const options = await page.locator('#buy-pay-with option').allTextContents();
      expect(options).toHaveLength(2);
      expect(options[1]).toContain(li.cardNo.slice(-4));
      await page.fill('#buy-amount', '150.00');
      await page.selectOption('#buy-pay-with', { index: 1 });
      await page.click('#buy');
      await page.locator('#notice').waitFor();
      expect(await page.locator('#to-be-confirmed').textContent()).toBe('150.00');
      await page.screenshot({ path: join(tmpdir(), 'paybao-fund-card.png'), fullPage: true });
    } finally {
      await browser.close();
    }
    expect(Number(await bankBalance(world(), 'ICBC', li.cardNo))).toBeCloseTo(cardBefore - 150, 2);
    const [order] = await world().platform.fund.orders.orders(user.userId);
    expect(order).toMatchObject({ kind: 'PURCHASE', amount: '150.00', status: 'to_be_confirmed' });
    expect(order?.cardOrderNo).toEqual(expect.any(String));
    await fundBooksClean();
  });
});
