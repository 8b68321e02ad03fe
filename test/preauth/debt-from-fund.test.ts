/**
 * A deposit-free freeze's debt collected from Yu'e Bao, on the platform as wired: a customer at
 * 650+ (real score) has a ¥500 deposit waived, puts her wallet into Yu'e Bao, and the merchant
 * settles ¥500. Her wallet pays nothing, so the platform advances it and records her debt; the
 * sweep (the server's job) then redeems her ¥300 of shares at once (a fast redemption) and
 * collects them; the ¥200 still owed stays her debt (she has no card bound) until money comes
 * back. Her account's age and three small payments are a fixture: the score has its own tests.
 * The ledger, fund and pre-authorisation books hold after it.
 */
import { describe, expect, it } from 'vitest';
import { idCheckCharacter } from '../../src/credit/index.ts';
import { checkPreauthBooks } from '../../src/preauth/index.ts';
import { useFundWorld } from '../fund/support.ts';
import { keyPair } from '../gateway/support.ts';
import { moneyBack } from './support.ts';

const world = useFundWorld({ users: 0 });

describe('a debt collected from Yu’e Bao', () => {
  it('redeems the shares into the wallet and repays from it; the rest stays owed', async () => {
    const { platform } = world();
    const { members, trades, fund, preauth } = platform;
    const rental = await members.createApp({ name: 'Bike Rental', merchantPublicKeyPem: keyPair().publicKeyPem });
    const cafe = await members.createApp({ name: 'Cafe', merchantPublicKeyPem: keyPair().publicKeyPem });
    const service = await preauth.creditServices.grant(rental.appId, { category: 'RENT_BIKE' }, 'test');
    const { userId } = await members.createUser({
      phone: '13800139001',
      password: 'correct horse 1',
      openingBalance: 5_003_00n,
    });
    await platform.db.query('update members set created_at_ns = created_at_ns - $2::bigint where user_id = $1', [
      userId,
      (31n * 86_400_000_000_000n).toString(),
    ]);
    const idBase = '11010519900101088';
    await platform.credit.realNames.verify(userId, { name: '王五', idNumber: idBase + idCheckCharacter(idBase) });
    for (let i = 0; i < 3; i++) {
      const t = await trades.create({ appId: cafe.appId, outTradeNo: `tea-${i}`, totalAmount: '1.00', subject: 'Tea' });
      await trades.pay(cafe.appId, { tradeNo: t.tradeNo }, userId);
    }
    expect((await platform.credit.score(userId)).score).toBeGreaterThanOrEqual(650);

    const frozen = await preauth.freeze(
      {
        appId: rental.appId,
        outOrderNo: 'B-1',
        outRequestNo: 'B-1-f',
        orderTitle: 'Bike deposit',
        amountFen: 500_00n,
        credit: { serviceId: service.serviceId, category: 'RENT_BIKE' },
      },
      userId,
    );
    expect(frozen).toMatchObject({ creditAmount: '500.00', fundAmount: '0.00' });
    // Her wallet goes into Yu'e Bao: ¥300 of shares, confirmed; ¥4,700 spent at the cafe.
    await fund.orders.purchase(userId, { productCode: 'YEB', amount: '300.00', idempotencyKey: 'buy-1' });
    await fund.orders.confirmDue((await fund.orders.orderDays()).dueDay);
    const spend = await trades.create({ appId: cafe.appId, outTradeNo: 'bike', totalAmount: '4700.00', subject: 'x' });
    await trades.pay(cafe.appId, { tradeNo: spend.tradeNo }, userId);
    expect(await members.walletBalance(userId)).toBe(0n);

    await preauth.settle(rental.appId, {
      authNo: frozen.authNo,
      outTradeNo: 'B-1-t',
      amountFen: 500_00n,
      subject: 'Bike not returned',
      complete: true,
    });
    expect(await members.walletBalance(rental.sellerId)).toBe(500_00n);
    expect(await preauth.overdueDebt(userId)).toMatchObject({ openFen: 500_00n });

    await preauth.sweep();
    expect(await preauth.overdueDebt(userId)).toMatchObject({ openFen: 200_00n, debts: 1 });
    expect(await fund.orders.holdings(userId)).toMatchObject([{ productCode: 'YEB', shares: '0.00' }]);
    expect(await members.walletBalance(userId)).toBe(0n);
    // A second round with nothing anywhere moves nothing and asks the fund for nothing new.
    await preauth.sweep();
    expect(await preauth.overdueDebt(userId)).toMatchObject({ openFen: 200_00n });

    await moneyBack(platform, userId, 250_00n);
    await preauth.sweep();
    expect(await preauth.overdueDebt(userId)).toMatchObject({ openFen: 0n, debts: 0 });
    expect(await members.walletBalance(userId)).toBe(50_00n);
    expect((await checkPreauthBooks(platform.db)).violations).toEqual([]);
  });
});
