/**
 * Pre-authorisation on the platform: a scanned freeze holds the money (a pending transfer, the
 * payer's available balance down, nothing at the merchant yet); a payment with NOT_COMPLETE posts
 * part of the hold to the merchant as a paid trade and keeps the rest frozen; an unfreeze
 * releases part; COMPLETE pays and releases the rest; the term's end unfreezes by itself; an app
 * freeze waits for its payer and closes after pay_timeout. Replays answer the first outcome;
 * bad input is refused with its code and writes nothing.
 */
import { describe, expect, it } from 'vitest';
import { verifyBooks } from '../../src/cli/ledger.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import { checkPreauthBooks, isPreauthError, type PreauthErrorCode } from '../../src/preauth/index.ts';
import { usePlatform } from '../support/engine.ts';
import { rentalShop } from './support.ts';

const clock = new ManualClock(Date.parse('2026-12-07T02:00:00Z'));
const platformOf = usePlatform({ clock });

async function refused(promise: Promise<unknown>, code: PreauthErrorCode): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isPreauthError(error) ? error.code : error).toBe(code);
}

async function rowCounts() {
  const { db } = platformOf();
  const [r] = await db.query<{ orders: bigint; ops: bigint; trades: bigint }>(
    `select (select count(*) from preauth_orders) orders, (select count(*) from preauth_operations) ops,
            (select count(*) from trades) trades`,
  );
  return r;
}

describe('a scanned freeze, settled in parts', () => {
  it('holds, pays part, unfreezes part, completes, and the books follow every step', async () => {
    const platform = platformOf();
    const { preauth, trades } = platform;
    const shop = await rentalShop(platform);
    const alice = await shop.customer(1000_00n);
    const before = await shop.balance(shop.sellerAccount);
    const freeze = {
      appId: shop.appId,
      outOrderNo: 'RENT-1',
      outRequestNo: 'RENT-1-F',
      orderTitle: 'Power bank',
      amountFen: 300_00n,
    };
    const frozen = await preauth.freeze(freeze, alice.userId);
    expect(frozen).toMatchObject({
      status: 'SUCCESS',
      operationType: 'FREEZE',
      amount: '300.00',
      fundAmount: '300.00',
      creditAmount: '0.00',
    });
    expect(await shop.balance(alice.account)).toEqual({ available: 700_00n, held: 300_00n, posted: 1000_00n });
    // A replay answers the same freeze, and holds nothing more.
    expect((await preauth.freeze(freeze, alice.userId)).operationId).toBe(frozen.operationId);
    expect(await shop.balance(alice.account)).toMatchObject({ held: 300_00n });
    await refused(preauth.freeze({ ...freeze, amountFen: 301_00n }, alice.userId), 'out_order_no_conflict');

    const paid = await preauth.settle(shop.appId, {
      authNo: frozen.authNo,
      outTradeNo: 'RENT-1-P1',
      amountFen: 50_00n,
      subject: 'First day',
      complete: false,
    });
    expect(paid).toMatchObject({ status: 'SUCCESS', operationType: 'PAY', amount: '50.00' });
    const trade = await trades.query(shop.appId, { outTradeNo: 'RENT-1-P1' });
    expect(trade).toMatchObject({ status: 'TRADE_SUCCESS', totalAmount: '50.00', buyerId: alice.userId });
    expect(await shop.balance(alice.account)).toEqual({ available: 700_00n, held: 250_00n, posted: 950_00n });
    expect((await shop.balance(shop.sellerAccount)).posted - before.posted).toBe(50_00n);

    const unfrozen = await preauth.unfreeze(shop.appId, {
      authNo: frozen.authNo,
      outRequestNo: 'RENT-1-U1',
      amountFen: 100_00n,
    });
    expect(unfrozen).toMatchObject({ status: 'SUCCESS', operationType: 'UNFREEZE', amount: '100.00' });
    expect(await shop.balance(alice.account)).toEqual({ available: 800_00n, held: 150_00n, posted: 950_00n });
    // The same out_request_no again: the same operation, nothing released twice.
    expect(
      (await preauth.unfreeze(shop.appId, { authNo: frozen.authNo, outRequestNo: 'RENT-1-U1', amountFen: 100_00n }))
        .operationId,
    ).toBe(unfrozen.operationId);
    expect(await shop.balance(alice.account)).toMatchObject({ held: 150_00n });

    const done = await preauth.settle(shop.appId, {
      authNo: frozen.authNo,
      outTradeNo: 'RENT-1-P2',
      amountFen: 30_00n,
      subject: 'Last day',
      complete: true,
    });
    expect(done.status).toBe('SUCCESS');
    expect(await shop.balance(alice.account)).toEqual({ available: 920_00n, held: 0n, posted: 920_00n });
    const { order } = await preauth.query(shop.appId, { authNo: frozen.authNo });
    expect(order).toMatchObject({
      status: 'FINISH',
      restAmount: '0.00',
      totalPayAmount: '80.00',
      totalUnfreezeAmount: '220.00',
    });
    await refused(
      preauth.unfreeze(shop.appId, { authNo: frozen.authNo, outRequestNo: 'RENT-1-U2', amountFen: 1n }),
      'order_already_finish',
    );
    expect((await checkPreauthBooks(platform.db)).violations).toEqual([]);
    // The customer's bill says what happened, newest first: the hold's posts are the trades' payments.
    const bill = await platform.wallet.bills(await platform.members.getUser(alice.userId), { limit: 10 });
    expect(bill.entries.map((e) => [e.type, e.amount, e.tradeNo !== null])).toEqual([
      ['trade_payment', '30.00', true],
      ['preauth_freeze', '150.00', false],
      ['preauth_unfreeze', '250.00', false],
      ['preauth_freeze', '250.00', false],
      ['trade_payment', '50.00', true],
      ['preauth_freeze', '300.00', false],
      ['opening_balance', '1000.00', false],
    ]);
  });
});

describe('the books check', () => {
  it('finds an order whose amounts or hold disagree with the ledger, through `paybao ledger verify`', async () => {
    const platform = platformOf();
    const shop = await rentalShop(platform);
    const frank = await shop.customer(100_00n);
    const frozen = await platform.preauth.freeze(
      { appId: shop.appId, outOrderNo: 'R-9', outRequestNo: 'R-9-F', orderTitle: 'Tent', amountFen: 60_00n },
      frank.userId,
    );
    expect(await verifyBooks(platform.db)).toEqual([]);
    await platform.db.query('update preauth_orders set rest_fund_fen = rest_fund_fen - 1 where auth_no = $1', [
      frozen.authNo,
    ]);
    const kinds = (await verifyBooks(platform.db)).map((v) => v.kind).sort();
    expect(kinds).toEqual(['preauth_amounts_differ', 'preauth_hold_differs', 'preauth_holds_differ_from_orders']);
    await platform.db.query('update preauth_orders set rest_fund_fen = rest_fund_fen + 1 where auth_no = $1', [
      frozen.authNo,
    ]);
    expect(await verifyBooks(platform.db)).toEqual([]);
  });
});

describe('an operation a crash left in flight', () => {
  it('is finished by the next operation on its order, or by the sweep, moving its money once', async () => {
    const platform = platformOf();
    const { preauth, db } = platform;
    const shop = await rentalShop(platform);
    const gina = await shop.customer(100_00n);
    const frozen = await preauth.freeze(
      { appId: shop.appId, outOrderNo: 'R-10', outRequestNo: 'R-10-F', orderTitle: 'Kayak', amountFen: 90_00n },
      gina.userId,
    );
    const [before] = await db.query<Record<string, unknown>>('select * from preauth_orders where auth_no = $1', [
      frozen.authNo,
    ]);
    // A crash after the ledger moved the unfreeze's chain, before the order recorded it.
    const crashed = async (outRequestNo: string, fen: bigint) => {
      const op = await preauth.unfreeze(shop.appId, { authNo: frozen.authNo, outRequestNo, amountFen: fen });
      const [now] = await db.query<Record<string, unknown>>('select * from preauth_orders where auth_no = $1', [
        frozen.authNo,
      ]);
      return { op, after: now };
    };
    const first = await crashed('R-10-U1', 10_00n);
    await db.query(
      `update preauth_orders set status = 'AUTHORIZED', rest_fund_fen = $2, unfrozen_fund_fen = $3, hold_seq = $4,
         in_flight = $5, finished_at = null where auth_no = $1`,
      [frozen.authNo, before?.rest_fund_fen, before?.unfrozen_fund_fen, before?.hold_seq, first.op.operationId],
    );
    await db.query(`update preauth_operations set status = 'INIT', finished_at = null where operation_id = $1`, [
      first.op.operationId,
    ]);
    // The next unfreeze finds it in flight, finishes it (its chain answers `exists`), then goes on.
    await preauth.unfreeze(shop.appId, { authNo: frozen.authNo, outRequestNo: 'R-10-U2', amountFen: 20_00n });
    expect(await shop.balance(gina.account)).toEqual({ available: 40_00n, held: 60_00n, posted: 100_00n });
    expect(
      (await preauth.query(shop.appId, { authNo: frozen.authNo }, { outRequestNo: 'R-10-U1' })).operation,
    ).toMatchObject({ status: 'SUCCESS' });

    // Again, and this time nobody comes: the sweep finishes it once it is stale.
    const [mid] = await db.query<Record<string, unknown>>('select * from preauth_orders where auth_no = $1', [
      frozen.authNo,
    ]);
    const third = await crashed('R-10-U3', 5_00n);
    await db.query(
      `update preauth_orders set rest_fund_fen = $2, unfrozen_fund_fen = $3, hold_seq = $4, in_flight = $5 where auth_no = $1`,
      [frozen.authNo, mid?.rest_fund_fen, mid?.unfrozen_fund_fen, mid?.hold_seq, third.op.operationId],
    );
    await db.query(`update preauth_operations set status = 'INIT', finished_at = null where operation_id = $1`, [
      third.op.operationId,
    ]);
    expect((await checkPreauthBooks(db)).violations).toEqual([]); // an order in flight is not judged
    clock.advanceMs(limits.preauthSweepIntervalMs);
    await preauth.sweep();
    const { order } = await preauth.query(shop.appId, { authNo: frozen.authNo });
    expect(order).toMatchObject({ restAmount: '55.00', totalUnfreezeAmount: '35.00' });
    expect(await shop.balance(gina.account)).toEqual({ available: 45_00n, held: 55_00n, posted: 100_00n });
    expect((await checkPreauthBooks(db)).violations).toEqual([]);
  });
});

describe('refusals write nothing', () => {
  it('amount over what is frozen, unknown or foreign auth_no, a short balance', async () => {
    const platform = platformOf();
    const { preauth } = platform;
    const shop = await rentalShop(platform);
    const other = await rentalShop(platform);
    const bob = await shop.customer(100_00n);
    const frozen = await preauth.freeze(
      { appId: shop.appId, outOrderNo: 'R-2', outRequestNo: 'R-2-F', orderTitle: 'Bike', amountFen: 80_00n },
      bob.userId,
    );
    const counts = await rowCounts();
    await refused(
      preauth.unfreeze(shop.appId, { authNo: frozen.authNo, outRequestNo: 'U', amountFen: 80_01n }),
      'request_amount_exceed',
    );
    await refused(
      preauth.settle(shop.appId, {
        authNo: frozen.authNo,
        outTradeNo: 'P',
        amountFen: 80_01n,
        subject: 's',
        complete: true,
      }),
      'request_amount_exceed',
    );
    await refused(
      preauth.unfreeze(shop.appId, { authNo: '2026120721000000000000', outRequestNo: 'U', amountFen: 1n }),
      'auth_order_not_exist',
    );
    await refused(
      preauth.unfreeze(other.appId, { authNo: frozen.authNo, outRequestNo: 'U', amountFen: 1n }),
      'auth_order_not_exist',
    );
    await refused(
      preauth.settle(other.appId, {
        authNo: frozen.authNo,
        outTradeNo: 'P',
        amountFen: 1n,
        subject: 's',
        complete: true,
      }),
      'auth_order_not_exist',
    );
    await refused(
      preauth.unfreeze(shop.appId, { authNo: frozen.authNo, outRequestNo: 'bad no!', amountFen: 1n }),
      'invalid_parameter',
    );
    await refused(
      preauth.freeze(
        { appId: shop.appId, outOrderNo: 'R-3', outRequestNo: 'R-3-F', orderTitle: 'Car', amountFen: 21_00n },
        bob.userId,
      ),
      'payer_balance_not_enough',
    );
    await refused(
      preauth.createAppFreeze({
        appId: shop.appId,
        outOrderNo: 'R-4',
        outRequestNo: 'R-4-F',
        orderTitle: 'Car',
        amountFen: 1n,
        payTimeoutMs: 59_000,
      }),
      'invalid_parameter',
    );
    await refused(
      preauth.createAppFreeze({
        appId: shop.appId,
        outOrderNo: 'R-4',
        outRequestNo: 'R-4-F',
        orderTitle: 'Car',
        amountFen: 1n,
        payTimeoutMs: 15 * 86_400_000 + 1,
      }),
      'invalid_parameter',
    );
    expect(await rowCounts()).toEqual(counts);
    expect(await shop.balance(bob.account)).toEqual({ available: 20_00n, held: 80_00n, posted: 100_00n });
  });
});

describe('expiry and the app freeze', () => {
  it('a freeze past its term unfreezes by itself, and its order closes', async () => {
    const platform = platformOf();
    const { preauth } = platform;
    const shop = await rentalShop(platform);
    const carol = await shop.customer(50_00n);
    const frozen = await preauth.freeze(
      {
        appId: shop.appId,
        outOrderNo: 'R-5',
        outRequestNo: 'R-5-F',
        orderTitle: 'Umbrella',
        amountFen: 40_00n,
        termMs: 3_600_000,
      },
      carol.userId,
    );
    await preauth.unfreeze(shop.appId, { authNo: frozen.authNo, outRequestNo: 'R-5-U', amountFen: 10_00n });
    clock.advanceMs(3_600_000);
    await refused(
      preauth.settle(shop.appId, {
        authNo: frozen.authNo,
        outTradeNo: 'R-5-P',
        amountFen: 1_00n,
        subject: 'late',
        complete: true,
      }),
      'order_already_closed',
    );
    // The ledger's own timeout may come first; either way the money is back once.
    await platform.ledger.expirePendingTransfers();
    expect(await preauth.sweep()).toBeGreaterThanOrEqual(1);
    const { order } = await preauth.query(shop.appId, { authNo: frozen.authNo });
    expect(order).toMatchObject({ status: 'CLOSED', restAmount: '0.00', totalUnfreezeAmount: '40.00' });
    expect(await shop.balance(carol.account)).toEqual({ available: 50_00n, held: 0n, posted: 50_00n });
    expect((await checkPreauthBooks(platform.db)).violations).toEqual([]);
  });

  it('an app freeze holds nothing until its payer confirms; unconfirmed, it closes after pay_timeout', async () => {
    const platform = platformOf();
    const { preauth } = platform;
    const shop = await rentalShop(platform);
    const dan = await shop.customer(500_00n);
    const order = await preauth.createAppFreeze({
      appId: shop.appId,
      outOrderNo: 'R-6',
      outRequestNo: 'R-6-F',
      orderTitle: 'Scooter',
      amountFen: 200_00n,
      payTimeoutMs: 120_000,
    });
    expect(order.status).toBe('INIT');
    expect(await shop.balance(dan.account)).toMatchObject({ held: 0n });
    await refused(
      preauth.unfreeze(shop.appId, { authNo: order.authNo, outRequestNo: 'U', amountFen: 1n }),
      'order_not_authorized',
    );
    const confirmed = await preauth.confirmAppFreeze(order.authNo, dan.userId);
    expect(confirmed).toMatchObject({ status: 'SUCCESS', amount: '200.00' });
    expect(await shop.balance(dan.account)).toMatchObject({ held: 200_00n });
    // Confirming again is the same freeze.
    expect((await preauth.confirmAppFreeze(order.authNo, dan.userId)).operationId).toBe(confirmed.operationId);
    // Nobody else can take it over.
    const eve = await shop.customer(500_00n);
    await refused(preauth.confirmAppFreeze(order.authNo, eve.userId), 'payer_not_match');
    expect(await shop.balance(eve.account)).toMatchObject({ held: 0n });

    const late = await preauth.createAppFreeze({
      appId: shop.appId,
      outOrderNo: 'R-7',
      outRequestNo: 'R-7-F',
      orderTitle: 'Scooter',
      amountFen: 1_00n,
      payTimeoutMs: 60_000,
    });
    clock.advanceMs(60_000);
    await preauth.sweep();
    expect((await preauth.orderByAuthNo(late.authNo)).status).toBe('CLOSED');
    await refused(preauth.confirmAppFreeze(late.authNo, dan.userId), 'order_already_closed');
    expect((await checkPreauthBooks(platform.db)).violations).toEqual([]);
  });
});
