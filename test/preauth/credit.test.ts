/**
 * Credit-based (deposit-free) freezes against a score double (the real score, src/credit, is not
 * wired yet): at or above the merchant's threshold a freeze is granted with only part held (up to
 * the waiver cap credit-guaranteed: `credit_amount` and `fund_amount`); below it, or with no score
 * (N/A), all of it is held. Settling takes the held funds first, then collects the credit part from
 * the payer's wallet; what the wallet cannot cover the platform advances to the merchant and
 * records as the payer's debt, collected later by the sweep. An unfreeze releases the credit part
 * first. The books check holds throughout (advances = open debts).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { id } from '../../src/core/ids.ts';
import { cnyLedger, TransferCode } from '../../src/core/ledger-codes.ts';
import type { Platform } from '../../src/platform.ts';
import { type CreditService, checkPreauthBooks, defaultCreditService, Preauths } from '../../src/preauth/index.ts';
import { usePlatform } from '../support/engine.ts';
import { rentalShop } from './support.ts';

const clock = new ManualClock(Date.parse('2026-12-07T02:00:00Z'));
const platformOf = usePlatform({ clock });

/** Preauths with a credit service: scores from a map, threshold 650 for `creditApp`, waiver cap ¥200. */
function withCredit(platform: Platform, scores: Map<string, number>, creditApp: () => string): Preauths {
  const credit: CreditService = {
    scores: { creditScore: async (userId) => scores.get(userId) ?? null },
    thresholdOf: async (appId) => (appId === creditApp() ? 650 : null),
    waiverMaxFen: 200_00n,
  };
  const { members, trades } = platform;
  return new Preauths(
    platform.db,
    platform.ledger,
    {
      payeeOf: async (appId) => {
        const app = await members.getApp(appId);
        return { userId: app.sellerId, accountId: (await members.getMember(app.sellerId)).walletAccountId };
      },
      payer: async (userId) => ({ userId, accountId: (await members.getMember(userId)).walletAccountId }),
    },
    {
      open: async (i) =>
        (
          await trades.openHoldPayment(
            { appId: i.appId, outTradeNo: i.outTradeNo, totalAmount: fmt(i.totalFen), subject: i.subject },
            i.buyerId,
          )
        ).tradeNo,
      paid: (tradeNo) => trades.recordHoldPaid(tradeNo),
      abandoned: (tradeNo) => trades.abandonHoldPayment(tradeNo),
    },
    clock,
    credit,
  );
}

const fmt = (fen: bigint) => `${fen / 100n}.${(fen % 100n).toString().padStart(2, '0')}`;

describe('a credit-based freeze', () => {
  it('waives part of the deposit at 650+, collects the credit part, advances the rest as a debt', async () => {
    const platform = platformOf();
    const shop = await rentalShop(platform);
    const scores = new Map<string, number>();
    const preauth = withCredit(platform, scores, () => shop.appId);
    const good = await shop.customer(150_00n);
    const low = await shop.customer(400_00n);
    const unknown = await shop.customer(400_00n);
    scores.set(good.userId, 700);
    scores.set(low.userId, 600);
    const freeze = (outOrderNo: string, userId: string) =>
      preauth.freeze(
        {
          appId: shop.appId,
          outOrderNo,
          outRequestNo: `${outOrderNo}-f`,
          orderTitle: 'Phone rental',
          amountFen: 300_00n,
        },
        userId,
      );

    expect(await freeze('C-low', low.userId)).toMatchObject({ creditAmount: '0.00', fundAmount: '300.00' });
    expect(await freeze('C-na', unknown.userId)).toMatchObject({ creditAmount: '0.00', fundAmount: '300.00' });
    const granted = await freeze('C-good', good.userId);
    expect(granted).toMatchObject({ amount: '300.00', creditAmount: '200.00', fundAmount: '100.00' });
    expect(await shop.balance(good.account)).toEqual({ available: 50_00n, held: 100_00n, posted: 150_00n });

    // Settle ¥250: ¥100 from the hold, ¥150 credit: ¥50 from the wallet, ¥100 advanced as a debt.
    const merchantBefore = (await shop.balance(shop.sellerAccount)).posted;
    const paid = await preauth.settle(shop.appId, {
      authNo: granted.authNo,
      outTradeNo: 'C-good-t',
      amountFen: 250_00n,
      subject: 'Lost phone',
      complete: true,
    });
    expect(paid).toMatchObject({ status: 'SUCCESS', fundAmount: '100.00', creditAmount: '150.00' });
    expect((await shop.balance(shop.sellerAccount)).posted - merchantBefore).toBe(250_00n);
    expect(await shop.balance(good.account)).toEqual({ available: 0n, held: 0n, posted: 0n });
    expect(await platform.trades.query(shop.appId, { outTradeNo: 'C-good-t' })).toMatchObject({
      status: 'TRADE_SUCCESS',
      totalAmount: '250.00',
    });
    expect(await preauth.overdueDebt(good.userId)).toMatchObject({ openFen: 100_00n, debts: 1 });
    const { order } = await preauth.query(shop.appId, { authNo: granted.authNo });
    expect(order).toMatchObject({
      status: 'FINISH',
      totalPayCreditAmount: '150.00',
      totalPayFundAmount: '100.00',
      restAmount: '0.00',
    });
    expect((await checkPreauthBooks(platform.db)).violations).toEqual([]);

    // Money arrives in the wallet: the sweep collects the debt, as far as the balance goes, then the rest.
    const topUp = async (fen: bigint) =>
      expect(
        await platform.ledger.createTransfers([
          {
            id: id(),
            debitAccountId: await platform.members.fundingAccountId(),
            creditAccountId: good.account,
            amount: fen,
            ledger: cnyLedger,
            code: TransferCode.openingBalance,
          },
        ]),
      ).toEqual(['ok']);
    await topUp(30_00n);
    expect(await preauth.collectDebts()).toBe(1);
    expect(await preauth.overdueDebt(good.userId)).toMatchObject({ openFen: 70_00n });
    expect(await preauth.collectDebts()).toBe(0);
    await topUp(100_00n);
    await preauth.sweep();
    expect(await preauth.overdueDebt(good.userId)).toEqual({ openFen: 0n, debts: 0, oldestAt: null });
    expect(await shop.balance(good.account)).toMatchObject({ posted: 30_00n });
    expect((await checkPreauthBooks(platform.db)).violations).toEqual([]);
  });

  it('unfreezes the credit part first, and a NOT_COMPLETE payment within the funds leaves the credit standing', async () => {
    const platform = platformOf();
    const shop = await rentalShop(platform);
    const scores = new Map<string, number>();
    const preauth = withCredit(platform, scores, () => shop.appId);
    const eve = await shop.customer(500_00n);
    scores.set(eve.userId, 650);
    const granted = await preauth.freeze(
      { appId: shop.appId, outOrderNo: 'C-2', outRequestNo: 'C-2-f', orderTitle: 'Camera', amountFen: 400_00n },
      eve.userId,
    );
    expect(granted).toMatchObject({ creditAmount: '200.00', fundAmount: '200.00' });
    const unfrozen = await preauth.unfreeze(shop.appId, {
      authNo: granted.authNo,
      outRequestNo: 'C-2-u',
      amountFen: 250_00n,
    });
    expect(unfrozen).toMatchObject({ creditAmount: '200.00', fundAmount: '50.00' });
    expect(await shop.balance(eve.account)).toMatchObject({ held: 150_00n });
    await preauth.settle(shop.appId, {
      authNo: granted.authNo,
      outTradeNo: 'C-2-t',
      amountFen: 100_00n,
      subject: 'Day',
      complete: false,
    });
    expect(await shop.balance(eve.account)).toMatchObject({ held: 50_00n, posted: 400_00n });
    expect(await preauth.overdueDebt(eve.userId)).toMatchObject({ openFen: 0n });
    expect((await checkPreauthBooks(platform.db)).violations).toEqual([]);
  });
});

describe('the platform’s credit service', () => {
  it('asks 650 of apps that offer credit, nothing of others, and waives at most the cap', async () => {
    const service = defaultCreditService({ creditScore: async () => 700 }, async (appId) => appId === 'renter');
    expect(await service.thresholdOf('renter')).toBe(650);
    expect(await service.thresholdOf('shop')).toBeNull();
    expect(service.waiverMaxFen).toBe(10_000_00n);
  });
});
