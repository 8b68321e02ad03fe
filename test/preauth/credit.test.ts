/**
 * Credit-based (deposit-free) freezes against a score double (the platform's real score is in the
 * gateway tests): a freeze that asks for credit on an app whose credit service the platform
 * granted is, at or above the service's threshold, granted with only part held (up to the waiver
 * cap credit-guaranteed: `credit_amount` and `fund_amount`); below it, or with no score (N/A), all
 * of it is held. A freeze that does not ask is a plain fund freeze; one that asks without an open
 * service, or naming another, is refused; a restricted payer (the dishonest-debtor list, here a
 * stub) is refused a credit-based freeze; every refusal writes nothing. Settling takes the held funds first, then collects the credit part from
 * the payer's wallet; what the wallet cannot cover the platform advances to the merchant and
 * records as the payer's debt, collected later by the sweep. An unfreeze releases the credit part
 * first. The books check holds throughout (advances = open debts).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { checkPreauthBooks, isPreauthError, type PreauthErrorCode, type Preauths } from '../../src/preauth/index.ts';
import { usePlatform } from '../support/engine.ts';
import { moneyBack, rentalShop, withCredit, written } from './support.ts';

const clock = new ManualClock(Date.parse('2026-12-07T02:00:00Z'));
const platformOf = usePlatform({ clock });

/** The rental shop's credit service: RENT_PHONE, 650 by default, waiver cap ¥200. */
async function grant(preauth: Preauths, appId: string) {
  const service = await preauth.creditServices.grant(appId, { category: 'RENT_PHONE', waiverMaxFen: 200_00n }, 'test');
  expect(service).toMatchObject({ status: 'ACTIVE', scoreThreshold: 650, category: 'RENT_PHONE' });
  return { serviceId: service.serviceId, category: service.category };
}

/** A refusal's code. */
async function refusal(promise: Promise<unknown>): Promise<PreauthErrorCode> {
  try {
    await promise;
  } catch (error) {
    if (isPreauthError(error)) return error.code;
    throw error;
  }
  throw new Error('not refused');
}

describe('a credit-based freeze', () => {
  it('waives part of the deposit at 650+, collects the credit part, advances the rest as a debt', async () => {
    const platform = platformOf();
    const shop = await rentalShop(platform);
    const scores = new Map<string, number>();
    const preauth = withCredit(platform, clock, scores);
    const credit = await grant(preauth, shop.appId);
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
          credit,
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
    const topUp = (fen: bigint) => moneyBack(platform, good.userId, fen);
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
    const preauth = withCredit(platform, clock, scores);
    const credit = await grant(preauth, shop.appId);
    const eve = await shop.customer(500_00n);
    scores.set(eve.userId, 650);
    const granted = await preauth.freeze(
      { appId: shop.appId, outOrderNo: 'C-2', outRequestNo: 'C-2-f', orderTitle: 'Camera', amountFen: 400_00n, credit },
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

describe('asking for credit', () => {
  it('is a plain fund freeze when not asked, refused without an open service or naming another, writing nothing', async () => {
    const platform = platformOf();
    const shop = await rentalShop(platform);
    const other = await rentalShop(platform);
    const scores = new Map<string, number>();
    const preauth = withCredit(platform, clock, scores);
    const credit = await grant(preauth, shop.appId);
    const ann = await shop.customer(500_00n);
    scores.set(ann.userId, 800);
    const input = (outOrderNo: string, appId = shop.appId) => ({
      appId,
      outOrderNo,
      outRequestNo: `${outOrderNo}-f`,
      orderTitle: 'Drone',
      amountFen: 100_00n,
    });
    // Not asked: held in full, whatever the score.
    expect(await preauth.freeze(input('P-1'), ann.userId)).toMatchObject({
      creditAmount: '0.00',
      fundAmount: '100.00',
    });
    const asked = await preauth.freeze({ ...input('P-0'), credit }, ann.userId);
    expect(asked).toMatchObject({ creditAmount: '100.00' });
    const before = await written(platform);
    expect(await refusal(preauth.freeze({ ...input('P-2', other.appId), credit }, ann.userId))).toBe(
      'credit_service_not_open',
    );
    expect(await refusal(preauth.createAppFreeze({ ...input('P-3', other.appId), credit }))).toBe(
      'credit_service_not_open',
    );
    expect(
      await refusal(preauth.freeze({ ...input('P-4'), credit: { ...credit, serviceId: '2'.repeat(28) } }, ann.userId)),
    ).toBe('credit_service_mismatch');
    expect(
      await refusal(preauth.freeze({ ...input('P-5'), credit: { ...credit, category: 'RENT_CAR' } }, ann.userId)),
    ).toBe('credit_service_mismatch');
    // Withdrawn: asked no more; granted again: the same service id.
    const withdrawn = await preauth.creditServices.withdraw(shop.appId, 'test');
    expect(withdrawn).toMatchObject({ status: 'WITHDRAWN', withdrawnBy: 'test' });
    expect(await refusal(preauth.freeze({ ...input('P-6'), credit }, ann.userId))).toBe('credit_service_not_open');
    // A freeze made before is answered as it was.
    await preauth.checkCreditAsk({ ...input('P-0'), credit }, ann.userId);
    expect(await preauth.freeze({ ...input('P-0'), credit }, ann.userId)).toEqual(asked);
    expect(await refusal(preauth.creditServices.withdraw(shop.appId, 'test'))).toBe('credit_service_not_open');
    expect(await written(platform)).toBe(before);
    expect((await grant(preauth, shop.appId)).serviceId).toBe(credit.serviceId);
    expect(await preauth.freeze({ ...input('P-7'), credit }, ann.userId)).toMatchObject({
      creditAmount: '100.00',
      fundAmount: '0.00',
    });
    // A replay must ask as the first request did.
    expect(await refusal(preauth.freeze(input('P-7'), ann.userId))).toBe('out_order_no_conflict');
    expect((await checkPreauthBooks(platform.db)).violations).toEqual([]);
  });

  it('refuses a restricted payer a credit-based freeze, scanned or confirmed at the cashier, writing nothing', async () => {
    const platform = platformOf();
    const shop = await rentalShop(platform);
    const scores = new Map<string, number>();
    const restricted = new Set<string>();
    const preauth = withCredit(platform, clock, scores, restricted);
    const credit = await grant(preauth, shop.appId);
    const bob = await shop.customer(500_00n);
    scores.set(bob.userId, 900);
    restricted.add(bob.userId);
    const input = (outOrderNo: string) => ({
      appId: shop.appId,
      outOrderNo,
      outRequestNo: `${outOrderNo}-f`,
      orderTitle: 'Power bank',
      amountFen: 99_00n,
    });
    const app = await preauth.createAppFreeze({ ...input('R-app'), credit });
    const before = await written(platform);
    expect(await refusal(preauth.checkCreditAsk({ ...input('R-1'), credit }, bob.userId))).toBe('buyer_restricted');
    expect(await refusal(preauth.freeze({ ...input('R-1'), credit }, bob.userId))).toBe('buyer_restricted');
    expect(await refusal(preauth.confirmAppFreeze(app.authNo, bob.userId))).toBe('buyer_restricted');
    expect(await written(platform)).toBe(before);
    expect(await preauth.orderByAuthNo(app.authNo)).toMatchObject({ status: 'INIT', payerId: null });
    expect(await shop.balance(bob.account)).toMatchObject({ held: 0n, posted: 500_00n });
    // Their plain fund freezes go on; off the list, credit again.
    expect(await preauth.freeze(input('R-2'), bob.userId)).toMatchObject({ fundAmount: '99.00' });
    restricted.delete(bob.userId);
    expect(await preauth.confirmAppFreeze(app.authNo, bob.userId)).toMatchObject({
      creditAmount: '99.00',
      fundAmount: '0.00',
    });
    expect((await checkPreauthBooks(platform.db)).violations).toEqual([]);
  });
});

describe('collecting a debt', () => {
  it('takes what the wallet lacks from the fund, then a card, under keys that name the debt, and repays', async () => {
    const platform = platformOf();
    const shop = await rentalShop(platform);
    const scores = new Map<string, number>();
    const asked: string[] = [];
    // Sources that move money into the wallet as the fund's fast redemption and quick pay would:
    // the fund has ¥30, the card whatever is asked.
    const into = (userId: string, fen: bigint) => moneyBack(platform, userId, fen);
    let fundLeft = 30_00n;
    const preauth = withCredit(platform, clock, scores, new Set(), {
      async fromFund(userId, fen, key) {
        asked.push(`fund ${fen} ${key}`);
        const moved = fen < fundLeft ? fen : fundLeft;
        fundLeft -= moved;
        if (moved > 0n) await into(userId, moved);
        return moved;
      },
      async fromCard(userId, fen, key) {
        asked.push(`card ${fen} ${key}`);
        await into(userId, fen);
        return fen;
      },
    });
    const credit = await grant(preauth, shop.appId);
    const cat = await shop.customer(0n);
    scores.set(cat.userId, 700);
    const frozen = await preauth.freeze(
      { appId: shop.appId, outOrderNo: 'D-1', outRequestNo: 'D-1-f', orderTitle: 'Bike', amountFen: 100_00n, credit },
      cat.userId,
    );
    expect(frozen).toMatchObject({ creditAmount: '100.00', fundAmount: '0.00' });
    const paid = await preauth.settle(shop.appId, {
      authNo: frozen.authNo,
      outTradeNo: 'D-1-t',
      amountFen: 80_00n,
      subject: 'Lost bike lock',
      complete: true,
    });
    expect(await preauth.overdueDebt(cat.userId)).toMatchObject({ openFen: 80_00n });
    expect(await preauth.collectDebts()).toBe(1);
    expect(await preauth.overdueDebt(cat.userId)).toEqual({ openFen: 0n, debts: 0, oldestAt: null });
    expect(asked).toEqual([`fund 8000 pdf-${paid.operationId}-0-8000`, `card 5000 pdc-${paid.operationId}-0-5000`]);
    expect(await shop.balance(cat.account)).toMatchObject({ posted: 0n });
    expect((await checkPreauthBooks(platform.db)).violations).toEqual([]);
  });
});

describe('the platform’s credit services', () => {
  it('grant 650 and the limit’s cap by default, check the terms and the app, and keep the service id', async () => {
    const platform = platformOf();
    const shop = await rentalShop(platform);
    const services = platform.preauth.creditServices;
    expect(await services.of(shop.appId)).toBeNull();
    const granted = await services.grant(shop.appId, { category: 'RENT_PHONE' }, 'operator:1');
    expect(granted).toMatchObject({ scoreThreshold: 650, waiverMaxFen: 10_000_00n, status: 'ACTIVE' });
    expect(granted.serviceId).toMatch(/^[0-9]{28}$/);
    const changed = await services.grant(shop.appId, { category: 'RENT_CAR', scoreThreshold: 700 }, 'operator:2');
    expect(changed).toMatchObject({ serviceId: granted.serviceId, scoreThreshold: 700, grantedBy: 'operator:2' });
    for (const bad of [
      { category: 'rent' },
      { category: 'RENT_PHONE', scoreThreshold: 349 },
      { category: 'RENT_PHONE', waiverMaxFen: 0n },
      { category: 'RENT_PHONE', waiverMaxFen: 10_000_01n },
    ])
      expect(await refusal(services.grant(shop.appId, bad, 'x'))).toBe('invalid_parameter');
    expect(await refusal(services.grant('2021000000000000', { category: 'RENT_PHONE' }, 'x'))).toBe(
      'invalid_parameter',
    );
    expect(await services.of(shop.appId)).toMatchObject({ scoreThreshold: 700, category: 'RENT_CAR' });
  });
});
