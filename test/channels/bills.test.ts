/**
 * A wallet's bill names the bank's movements: a top-up from a bound card is `topup` (in), a
 * withdrawal to it is `withdrawal` (out); and a merchant's transfer to the member
 * (`alipay.fund.trans.uni.transfer`) is `payout` (in). Read over the native API as a client
 * reads them, never `other`.
 */
import { describe, expect, it } from 'vitest';
import { keyPair } from '../gateway/support.ts';
import { bindCard, key, li, newUser, useWorld } from './support.ts';

const world = useWorld();

interface Bill {
  type: string;
  direction: string;
  amount: string;
}

describe('bills of bank movements', () => {
  it("shows a card top-up as topup, a withdrawal as withdrawal, a merchant's transfer as payout", async () => {
    const user = await newUser(world());
    const cardId = await bindCard(world(), user.userId, li);
    const topUp = await world().platform.channels.topUpByCard(user.userId, {
      cardId,
      amount: '200.00',
      idempotencyKey: key('bill-topup'),
    });
    expect(topUp.status).toBe('SUCCESS');
    const out = await world().platform.channels.withdraw(user.userId, {
      cardId,
      amount: '50.00',
      idempotencyKey: key('bill-withdraw'),
    });
    expect(out.status).toBe('SUCCESS');
    // A merchant, paid by another buyer, transfers 3.00 to the member.
    const shop = await world().platform.members.createApp({
      name: 'Bill Shop',
      merchantPublicKeyPem: keyPair().publicKeyPem,
    });
    const payer = await newUser(world(), 10_000n);
    await world().platform.trades.createAndPay(
      { appId: shop.appId, outTradeNo: key('bill-trade'), totalAmount: '10.00', subject: 'funding' },
      payer.userId,
    );
    const payout = await world().platform.payouts.transfer({
      appId: shop.appId,
      outBizNo: key('bill-payout'),
      transAmount: '3.00',
      productCode: 'TRANS_ACCOUNT_NO_PWD',
      bizScene: 'DIRECT_TRANSFER',
      payeeIdentity: user.userId,
      payeeIdentityType: 'ALIPAY_USER_ID',
    });
    expect(payout.status).toBe('SUCCESS');

    const session = await fetch(`${world().base}/api/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone: user.phone, password: user.password }),
    });
    const { token } = (await session.json()) as { token: string };
    const response = await fetch(`${world().base}/api/v1/bills`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const bills = ((await response.json()) as { data: Bill[] }).data;
    expect(bills.map((b) => b.type)).not.toContain('other');
    expect(bills).toContainEqual(expect.objectContaining({ type: 'topup', direction: 'in', amount: '200.00' }));
    expect(bills).toContainEqual(expect.objectContaining({ type: 'withdrawal', direction: 'out', amount: '50.00' }));
    expect(bills).toContainEqual(expect.objectContaining({ type: 'payout', direction: 'in', amount: '3.00' }));
    expect(bills.every((b) => ['topup', 'withdrawal', 'payout'].includes(b.type))).toBe(true);
  });
});
