/**
 * A marketplace on a whole platform, for the escrow tests: one app (the seller) with an escrow
 * contract, buyers with money, receivers for splits, and a look at every balance that matters.
 */
import { expect } from 'vitest';
import type { ManualClock } from '../../src/core/clock.ts';
import { formatAmount } from '../../src/core/money.ts';
import type { Platform } from '../../src/platform.ts';
import { type Actor, escrowAccounts, TradeError, unsettledAccountOf } from '../../src/trades/index.ts';
import { keyPair } from '../gateway/support.ts';

const merchantKey = keyPair();
let phones = 0;

export interface Marketplace {
  appId: string;
  sellerId: string;
  seller: Actor;
  operator: Actor;
  buyer(balance?: string): Promise<{ userId: string; actor: Actor }>;
  /** Creates and pays an escrow trade; returns its trade_no. */
  paidTrade(buyerId: string, amount: string): Promise<string>;
  /** Creates, pays and ships an escrow trade. */
  shippedTrade(buyerId: string, amount: string): Promise<string>;
  balance(userIdOrAccount: string | bigint): Promise<string>;
  escrowBalance(): Promise<string>;
  feeBalance(): Promise<string>;
  fundBalance(): Promise<string>;
  unsettled(): Promise<string>;
}

export async function marketplace(
  platform: Platform,
  options: { feeBps?: number; confirmDays?: number } = {},
): Promise<Marketplace> {
  const app = await platform.members.createApp({
    name: `shop-${++phones}`,
    merchantPublicKeyPem: merchantKey.publicKeyPem,
  });
  await platform.trades.saveContract(app.appId, {
    escrowDefault: true,
    feeBps: options.feeBps ?? 100,
    confirmPeriodMs: (options.confirmDays ?? 10) * 86_400_000,
  });
  const operator = await platform.operators.create('ops');
  const balanceOf = async (id: bigint): Promise<bigint> => {
    const [a] = await platform.ledger.lookupAccounts([id]);
    return (a?.creditsPosted ?? 0n) - (a?.debitsPosted ?? 0n);
  };
  let n = 0;
  const m: Marketplace = {
    appId: app.appId,
    sellerId: app.sellerId,
    seller: { kind: 'seller', appId: app.appId },
    operator: { kind: 'operator', operatorId: operator.operatorId },
    async buyer(balance = '1000.00') {
      const phone = `139${String(Date.now() % 1e4).padStart(4, '0')}${String(++phones).padStart(4, '0')}`;
      const user = await platform.members.createUser({
        phone,
        password: 'secret-123',
        openingBalance: BigInt(Math.round(Number(balance) * 100)),
      });
      return { userId: user.userId, actor: { kind: 'buyer', userId: user.userId } };
    },
    async paidTrade(buyerId, amount) {
      const t = await platform.trades.create({
        appId: app.appId,
        outTradeNo: `o-${Date.now()}-${++n}`,
        totalAmount: amount,
        subject: 'goods',
      });
      const paid = await platform.trades.pay(app.appId, { tradeNo: t.tradeNo }, buyerId);
      expect(paid.status).toBe('WAIT_SELLER_SEND_GOODS');
      return t.tradeNo;
    },
    async shippedTrade(buyerId, amount) {
      const tradeNo = await m.paidTrade(buyerId, amount);
      await platform.escrow.ship(m.seller, { tradeNo }, { company: 'SF', trackingNo: `SF${++n}` });
      return tradeNo;
    },
    async balance(who) {
      if (typeof who === 'bigint') return formatAmount(await balanceOf(who));
      return formatAmount(await balanceOf((await platform.members.getMember(who)).walletAccountId));
    },
    escrowBalance: async () => formatAmount(await balanceOf(escrowAccounts.escrow)),
    feeBalance: async () => formatAmount(await balanceOf(escrowAccounts.feeIncome)),
    fundBalance: async () => formatAmount(await balanceOf(escrowAccounts.compensationFund)),
    unsettled: async () => formatAmount(await balanceOf(unsettledAccountOf(app.sellerId))),
  };
  return m;
}

export async function rejects(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(TradeError);
  expect((error as TradeError).code).toBe(code);
}

export const day = 86_400_000;

export function advanceDays(clock: ManualClock, days: number): void {
  clock.advanceMs(Math.round(days * day));
}
