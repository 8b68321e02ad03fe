/**
 * The cashier pays by bound card when the balance is short: the buyer logs in, picks the card,
 * confirms with the SMS code Paybao texts; the shortfall is withheld from the card (confirmed by
 * the bank) and the trade is paid from the wallet, then the browser goes to the merchant's
 * return URL. A wrong SMS code charges nothing; a retry charges the card once.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PageSession } from '../support/page-session.ts';
import { balance, bankBalance, bindCard, li, newUser, useWorld } from './support.ts';

const world = useWorld();

async function tradeFor(amount: string): Promise<{ tradeNo: string; appId: string }> {
  const { publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const { appId } = await world().platform.members.createApp({ name: 'Tea Shop', merchantPublicKeyPem: publicKey });
  const trade = await world().platform.trades.create({
    appId,
    outTradeNo: `card-${Date.now()}`,
    totalAmount: amount,
    subject: 'Longjing tea',
    returnUrl: 'http://127.0.0.1:9/return',
  });
  return { tradeNo: trade.tradeNo, appId };
}

// The buyer's browser: its cookies and the CSRF token of the form it was shown last.
let browser = new PageSession();

async function post(tradeNo: string, form: Record<string, string>): Promise<Response> {
  return browser.post(`${world().base}/cashier/${tradeNo}/card`, form);
}

async function lastCode(phone: string): Promise<string> {
  const [message] = await world().platform.members.smsOutbox({ phone, limit: 1 });
  const code = /(\d{6})/.exec(message?.text ?? '')?.[1];
  if (!code) throw new Error(`no code for ${phone}`);
  return code;
}

describe('the cashier pays by bound card', () => {
  it('withholds the shortfall from the card, pays the trade, and returns to the merchant', async () => {
    const { platform } = world();
    const user = await newUser(world(), 5_000n);
    const cardId = await bindCard(world(), user.userId, li);
    const cardBefore = Number(await bankBalance(world(), 'ICBC', li.cardNo));
    const { tradeNo } = await tradeFor('150.00');

    browser = new PageSession();
    const cashier = await (await browser.get(`${world().base}/cashier/${tradeNo}`)).text();
    expect(cashier).toContain(`/cashier/${tradeNo}/card`);
    const login = await post(tradeNo, { step: 'login', phone: user.phone, password: user.password });
    expect(login.status).toBe(200);
    expect(await login.text()).toContain(cardId);
    const code = await lastCode(user.phone);

    const wrong = await post(tradeNo, {
      step: 'pay',
      phone: user.phone,
      card_id: cardId,
      sms_code: code === '000000' ? '111111' : '000000',
    });
    expect(wrong.status).toBe(400);
    expect(await balance(world(), user.userId)).toBe(5_000n);

    const paid = await post(tradeNo, { step: 'pay', phone: user.phone, card_id: cardId, sms_code: code });
    expect(paid.status).toBe(302);
    expect(paid.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1:9\/return\?/);
    expect((await platform.trades.byTradeNo(tradeNo)).status).toBe('TRADE_SUCCESS');
    expect(await balance(world(), user.userId)).toBe(0n);
    expect(Number(await bankBalance(world(), 'ICBC', li.cardNo))).toBeCloseTo(cardBefore - 100, 2);
    const orders = await platform.db.query<{ amount_fen: bigint; status: string }>(
      'select amount_fen, status from channel_orders where user_id = $1',
      [user.userId],
    );
    expect(orders).toEqual([{ amount_fen: 10_000n, status: 'SUCCESS' }]);
  });
});
