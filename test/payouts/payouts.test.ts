/**
 * Payouts at the domain level: a crash between the ledger moving the money and the row
 * recording it is finished by a retry or by the sweep, and the money moves once; many
 * concurrent identical transfers move it once too.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import { type Ledger, verifyLedger } from '../../src/ledger/index.ts';
import { type PayoutParties, Payouts } from '../../src/payouts/index.ts';
import type { Platform } from '../../src/platform.ts';
import { freshPlatform } from '../support/engine.ts';

const clock = new ManualClock();
let platform: Platform;
let appId = '';
let sellerId = '';
let payeeId = '';
let parties: PayoutParties;
const wallet = (userId: string) => platform.members.walletBalance(userId);

beforeAll(async () => {
  platform = await freshPlatform({ clock });
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const app = await platform.members.createApp({
    name: 'Payer',
    merchantPublicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  });
  appId = app.appId;
  sellerId = app.sellerId;
  const buyer = await platform.members.createUser({
    phone: '13600136000',
    password: 'correct horse 1',
    openingBalance: 100_000n,
  });
  payeeId = (await platform.members.createUser({ phone: '13600136001', password: 'correct horse 1' })).userId;
  // Fund the merchant: a buyer pays a trade.
  const trade = await platform.trades.create({ appId, outTradeNo: 'fund-1', totalAmount: '500.00', subject: 'fund' });
  await platform.trades.pay(appId, { tradeNo: trade.tradeNo }, buyer.userId);
  const seller = await platform.members.getMember(sellerId);
  const payee = await platform.members.getMember(payeeId);
  parties = {
    payerOf: async (id) => (id === appId ? { payerId: sellerId, accountId: seller.walletAccountId } : null),
    payee: async (identity) => (identity === payeeId ? { userId: payeeId, accountId: payee.walletAccountId } : null),
  };
});

afterAll(async () => {
  expect(await verifyLedger(platform.db)).toEqual([]);
  await platform.close();
});

const input = (outBizNo: string, transAmount = '10.00') => ({
  appId,
  outBizNo,
  transAmount,
  productCode: 'TRANS_ACCOUNT_NO_PWD',
  bizScene: 'DIRECT_TRANSFER',
  payeeIdentity: payeeId,
  payeeIdentityType: 'ALIPAY_USER_ID',
});

/** A process that dies right after the ledger commits, before the payout row is updated. */
function crashingPayouts(): Payouts {
  const ledger = new Proxy(platform.ledger, {
    get(target, prop, receiver) {
      if (prop === 'createTransfers') {
        return async (...args: Parameters<Ledger['createTransfers']>) => {
          await target.createTransfers(...args);
          throw new Error('process killed');
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return new Payouts(platform.db, ledger, parties, clock);
}

describe('payouts', () => {
  it('finishes a transfer cut short by a crash when the merchant retries, moving money once', async () => {
    const before = await wallet(payeeId);
    await expect(crashingPayouts().transfer(input('crash-retry'))).rejects.toThrow('process killed');
    expect(await wallet(payeeId)).toBe(before + 1000n);
    expect((await platform.payouts.query(appId, { outBizNo: 'crash-retry' })).status).toBe('DEALING');
    const retried = await platform.payouts.transfer(input('crash-retry'));
    expect(retried.status).toBe('SUCCESS');
    expect(await wallet(payeeId)).toBe(before + 1000n);
  });

  it('finishes a transfer cut short by a crash in the sweep, once it is stale', async () => {
    const before = await wallet(payeeId);
    await expect(crashingPayouts().transfer(input('crash-sweep', '2.00'))).rejects.toThrow('process killed');
    expect(await platform.payouts.sweep()).toBe(0);
    clock.advanceMs(limits.payoutProcessingStaleMs);
    expect(await platform.payouts.sweep()).toBe(1);
    const done = await platform.payouts.query(appId, { outBizNo: 'crash-sweep' });
    expect(done).toMatchObject({ status: 'SUCCESS', amount: '2.00' });
    expect(done.paidAt).toEqual(new Date(Number(clock.nowNs() / 1_000_000n)));
    expect(await wallet(payeeId)).toBe(before + 200n);
  });

  it('moves money once for 20 identical transfers at once', async () => {
    const before = await wallet(payeeId);
    const sellerBefore = await wallet(sellerId);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => platform.payouts.transfer(input('burst', '1.00'))),
    );
    expect(new Set(results.map((r) => r.orderId)).size).toBe(1);
    expect(results.every((r) => r.status === 'SUCCESS')).toBe(true);
    expect(await wallet(payeeId)).toBe(before + 100n);
    expect(await wallet(sellerId)).toBe(sellerBefore - 100n);
  });
});
