/**
 * Merged seller payouts leave for the bank: the settlement job pays a seller's released escrow
 * money into its wallet in one transfer, then on to the seller's bound card in the bank's batch
 * payout (a withdrawal order per seller, idempotent by the settlement number); a seller without a
 * card keeps it in the wallet. The merchant's owner binds that card in the portal
 * (`/api/v1/merchant/settlement-accounts`) with the code the bank texts; no other role may.
 */
import { describe, expect, it } from 'vitest';
import { keyPair } from '../gateway/support.ts';
import { bankBalance, bindCard, li, newUser, smsCode, useWorld, wang } from './support.ts';

const world = useWorld();

describe('settlement payouts to the bank', () => {
  it("sends a settlement to the seller's card as one payout; sellers without a card keep it in the wallet", async () => {
    const { platform } = world();
    const key = keyPair();
    const shop = await platform.members.createApp({ name: 'Card shop', merchantPublicKeyPem: key.publicKeyPem });
    const bare = await platform.members.createApp({ name: 'No card shop', merchantPublicKeyPem: key.publicKeyPem });
    for (const app of [shop, bare])
      await platform.trades.saveContract(app.appId, { escrowDefault: true, feeBps: 0, confirmPeriodMs: 86_400_000 });
    await bindCard(world(), shop.sellerId, li);
    const bankBefore = await bankBalance(world(), 'ICBC', li.cardNo);
    const buyer = await newUser(world(), 100_000n);
    for (const [app, amount] of [
      [shop, '120.00'],
      [shop, '30.00'],
      [bare, '10.00'],
    ] as const) {
      const t = await platform.trades.create({
        appId: app.appId,
        outTradeNo: `o-${amount}`,
        totalAmount: amount,
        subject: 's',
      });
      await platform.trades.pay(app.appId, { tradeNo: t.tradeNo }, buyer.userId);
      await platform.escrow.ship(
        { kind: 'seller', appId: app.appId },
        { tradeNo: t.tradeNo },
        { company: 'SF', trackingNo: 'S1' },
      );
      await platform.escrow.confirmReceipt({ kind: 'buyer', userId: buyer.userId }, { tradeNo: t.tradeNo });
    }
    const made = await platform.settlements.run();
    const mine = made.find((s) => s.sellerId === shop.sellerId);
    expect(mine).toMatchObject({ payoutAmount: '150.00', tradeCount: 2 });
    const [row] = await platform.db.query<{ payout_destination: string }>(
      'select payout_destination from settlements where settlement_no = $1',
      [mine?.settlementNo],
    );
    const order = await platform.channels.resolve(row?.payout_destination ?? '');
    expect(order).toMatchObject({ kind: 'WITHDRAW', status: 'SUCCESS', amount: '150.00' });
    // It left as a bank batch payout.
    const [atBank] = await world().sim.db.query<{ batch_no: string | null; kind: string }>(
      'select batch_no, kind from banksim_orders where order_no = $1',
      [order.orderNo],
    );
    expect(atBank).toMatchObject({ kind: 'PAYOUT', batch_no: expect.stringMatching(/^B/) });
    expect(await platform.members.walletBalance(shop.sellerId)).toBe(0n);
    expect(Number(await bankBalance(world(), 'ICBC', li.cardNo)) - Number(bankBefore)).toBe(150);
    // The seller without a card keeps its payout in the wallet.
    expect(await platform.members.walletBalance(bare.sellerId)).toBe(1_000n);
    const [bareRow] = await platform.db.query<{ payout_destination: string }>(
      'select payout_destination from settlements where seller_id = $1',
      [bare.sellerId],
    );
    expect(bareRow?.payout_destination).toBe('wallet');
    // Another run sends nothing twice.
    await platform.settlements.run();
    expect(Number(await bankBalance(world(), 'ICBC', li.cardNo)) - Number(bankBefore)).toBe(150);
  });

  it('lets the owner bind the settlement account in the portal with the bank’s code, and no other role', async () => {
    const { platform, app } = world();
    const shop = await platform.members.createApp({
      name: 'Portal shop',
      merchantPublicKeyPem: keyPair().publicKeyPem,
    });
    const password = 'portal-pass-1';
    await platform.merchantPortal.createOwner(shop.sellerId, { phone: '13900000101', password, name: 'Owner' });
    await platform.members.staff.add(shop.sellerId, {
      phone: '13900000102',
      password,
      name: 'Finance',
      role: 'finance',
    });
    const login = async (phone: string) => {
      await app.inject({ method: 'POST', url: '/api/v1/merchant/sessions/code', payload: { phone, password } });
      const [message] = await platform.members.smsOutbox({ phone, limit: 1 });
      const code = /(\d{6})/.exec(message?.text ?? '')?.[1];
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/merchant/sessions',
        payload: { phone, password, sms_code: code },
      });
      const token = res.json().token as string;
      return (method: 'GET' | 'POST', url: string, payload?: Record<string, string>) =>
        app.inject({ method, url: `/api/v1/merchant${url}`, payload, headers: { authorization: `Bearer ${token}` } });
    };
    const [owner, finance] = [await login('13900000101'), await login('13900000102')];
    const account = { bank: 'ICBC', card_no: wang.cardNo, name: wang.name, phone: wang.phone };

    // Finance may look, not bind: refused, nothing asked of the bank, nothing written.
    const refused = await finance('POST', '/settlement-accounts', account);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'role_forbidden' });
    expect((await finance('GET', '/settlement-accounts')).json()).toEqual({ data: [] });

    const pending = await owner('POST', '/settlement-accounts', account);
    expect(pending.statusCode, pending.body).toBe(201);
    expect(pending.json()).toMatchObject({ bank: 'ICBC', status: 'PENDING', card_no: expect.stringMatching(/0003$/) });
    const cardId = pending.json().card_id as string;
    const wrong = await owner('POST', `/settlement-accounts/${cardId}/confirm`, { sms_code: '000000' });
    expect(wrong.statusCode).toBe(400);
    const active = await owner('POST', `/settlement-accounts/${cardId}/confirm`, {
      sms_code: await smsCode(world(), wang.phone),
    });
    expect(active.statusCode, active.body).toBe(200);
    expect(active.json()).toMatchObject({ card_id: cardId, status: 'ACTIVE' });
    expect((await finance('GET', '/settlement-accounts')).json().data).toMatchObject([
      { card_id: cardId, status: 'ACTIVE' },
    ]);
    // It is the card the settlement payouts go to.
    expect((await platform.channels.cards.list(shop.sellerId)).find((c) => c.status === 'ACTIVE')?.cardId).toBe(cardId);
  });
});
