/**
 * Paying a trade from Yu'e Bao: the shares' redemption and the trade's payment in ONE linked
 * ledger chain, both or neither. At the cashier the buyer chooses the fund (the whole amount);
 * a bar-code payment whose balance falls short takes the shortfall from the fund. It draws on the
 * pool as a fast redemption does, without counting against the daily fast limit; a refusal (the
 * holdings, the pool, or the trade's own leg) writes nothing and redeems nothing. A property test
 * runs random payments from the fund beside concurrent redemptions: shares are conserved and the
 * books balance (verified after every test).
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { uuidFromU128 } from '../../src/core/ids.ts';
import { limits } from '../../src/core/limits.ts';
import { parseAmount } from '../../src/core/money.ts';
import { addDays, beijingDayAndMinute, holderAccount, isFundError } from '../../src/fund/index.ts';
import { TradeError } from '../../src/trades/index.ts';
import { keyPair } from '../gateway/support.ts';
import { moveTo, useFundWorld } from './support.ts';

const world = useFundWorld({ users: 1, pool: '50000.00' });

let phones = 0;
let orders = 0;

async function buyerHolding(balanceFen: bigint, sharesYuan: string): Promise<string> {
  const { platform } = world();
  const user = await platform.members.createUser({
    phone: `1390013${String(9000 + phones++)}`,
    password: 'correct horse 1',
    // The shares are bought from the wallet, so it opens with them too.
    openingBalance: balanceFen + (parseAmount(sharesYuan) ?? 0n),
  });
  if (sharesYuan !== '0.00') {
    await platform.fund.orders.purchase(user.userId, {
      productCode: 'YEB',
      amount: sharesYuan,
      idempotencyKey: `buy-${orders++}`,
    });
    const { dueDay } = await platform.fund.orders.orderDays();
    await platform.fund.orders.confirmDue(dueDay);
  }
  return user.userId;
}

let app: { appId: string; sellerId: string } | undefined;
async function seller() {
  const { platform } = world();
  app ??= await platform.members.createApp({ name: 'Tea shop', merchantPublicKeyPem: keyPair().publicKeyPem });
  return app;
}

let tradeNos = 0;
async function newTrade(amount: string) {
  const { platform } = world();
  const { appId } = await seller();
  return platform.trades.create({ appId, outTradeNo: `fund-pay-${tradeNos++}`, totalAmount: amount, subject: 'tea' });
}

async function state(userId: string) {
  const { platform } = world();
  const [holding] = await platform.fund.orders.holdings(userId);
  const product = await platform.fund.catalog.product('YEB');
  const [pool] = await platform.ledger.lookupAccounts([product.books.pool]);
  const [counts] = await platform.db.query<{ orders: bigint; transfers: bigint; quota: bigint }>(
    `select (select count(*) from fund_orders)::bigint orders, (select count(*) from ledger_transfers)::bigint transfers,
            (select coalesce(sum(used_fen), 0) from fund_fast_quota)::bigint quota`,
  );
  return {
    shares: holding?.shares,
    redeeming: holding?.redeeming,
    wallet: await platform.members.walletBalance(userId),
    pool: (pool?.creditsPosted ?? 0n) - (pool?.debitsPosted ?? 0n) - (pool?.debitsPending ?? 0n),
    ...counts,
  };
}

describe('paying a trade from the fund', () => {
  it('pays at the cashier wholly from the fund: shares redeemed, pool drawn, no fast quota, confirmed T+1', async () => {
    const { platform, clock } = world();
    const buyer = await buyerHolding(0n, '500.00');
    const trade = await newTrade('120.00');
    const before = await state(buyer);
    const sellerBefore = await platform.members.walletBalance(trade.sellerId);
    const paid = await platform.trades.pay(trade.appId, { tradeNo: trade.tradeNo }, buyer, undefined, {
      fromFund: true,
    });
    expect(paid).toMatchObject({
      status: 'TRADE_SUCCESS',
      fundBills: [{ fundChannel: 'FINANCEACCOUNT', amount: '120.00' }],
    });
    const after = await state(buyer);
    expect(after).toMatchObject({ shares: '380.00', redeeming: '120.00', wallet: 0n, pool: before.pool - 12_000n });
    expect(after.quota).toBe(before.quota);
    expect(await platform.members.walletBalance(trade.sellerId)).toBe(sellerBefore + 12_000n);
    const [order] = (await platform.fund.orders.orders(buyer)).filter((o) => o.kind === 'PAYMENT');
    expect(order).toMatchObject({ amount: '120.00', status: 'paid' });
    // The notification names the channel as Alipay's does.
    const [note] = await platform.db.query<{ payload: Record<string, string> }>(
      'select payload from trade_notifications where trade_no = $1',
      [trade.tradeNo],
    );
    expect(JSON.parse(note?.payload.fund_bill_list ?? '[]')).toEqual([
      { fundChannel: 'FINANCEACCOUNT', amount: '120.00' },
    ]);
    // Paying again moves nothing.
    await expect(
      platform.trades.pay(trade.appId, { tradeNo: trade.tradeNo }, buyer, undefined, { fromFund: true }),
    ).rejects.toMatchObject({ code: 'TRADE_HAS_SUCCESS' });
    moveTo(clock, '2026-11-13 09:00');
    await platform.fund.orders.confirmDue();
    expect(await state(buyer)).toMatchObject({ shares: '380.00', redeeming: '0.00' });
  });

  it('refunds an escrow trade paid from the fund back to the shares, from escrow, once', async () => {
    const { platform } = world();
    const buyer = await buyerHolding(0n, '200.00');
    const { appId } = await seller();
    const trade = await platform.trades.create({
      appId,
      outTradeNo: `fund-pay-${tradeNos++}`,
      totalAmount: '50.00',
      subject: 'tea',
      escrow: true,
    });
    await platform.trades.pay(appId, { tradeNo: trade.tradeNo }, buyer, undefined, { fromFund: true });
    const before = await state(buyer);
    const refund = { refundAmount: '20.00', outRequestNo: 'escrow-r1' };
    const refunded = await platform.trades.refund(appId, { tradeNo: trade.tradeNo }, refund);
    expect(refunded.fundBills).toEqual([{ fundChannel: 'FINANCEACCOUNT', amount: '20.00' }]);
    expect(await state(buyer)).toMatchObject({ shares: '170.00', redeeming: '50.00', wallet: 0n });
    expect(await platform.trades.refund(appId, { tradeNo: trade.tradeNo }, refund)).toMatchObject({
      fundChange: false,
    });
    expect((await state(buyer)).transfers).toBe((before.transfers ?? 0n) + 2n);
  });

  it("lists a refund's shares as the buyer's order, earning from the day after the refund", async () => {
    const { platform, clock } = world();
    const buyer = await buyerHolding(0n, '200.00');
    // On the day the shares were confirmed (they earn from it), the buyer pays and is refunded.
    const { dueDay } = await platform.fund.orders.orderDays();
    moveTo(clock, `${dueDay} 10:00`);
    const trade = await newTrade('50.00');
    await platform.trades.pay(trade.appId, { tradeNo: trade.tradeNo }, buyer, undefined, { fromFund: true });
    const refunded = await platform.trades.refund(
      trade.appId,
      { tradeNo: trade.tradeNo },
      {
        refundAmount: '20.00',
        outRequestNo: 'earn-r1',
      },
    );
    expect(refunded.fundBills).toEqual([{ fundChannel: 'FINANCEACCOUNT', amount: '20.00' }]);
    const [refundOrder] = (await platform.fund.orders.orders(buyer)).filter((o) => o.kind === 'REFUND');
    expect(refundOrder).toMatchObject({ amount: '20.00', status: 'confirmed' });

    // The day of the refund is distributed the next morning: the buyer held 200.00 at its start,
    // paid 50.00 that day (not earning, as a redemption asked that day), and the 20.00 back earn
    // from the next day: 150.00 earn, not 170.00.
    const day = beijingDayAndMinute(clock.nowNs()).day;
    moveTo(clock, `${addDays(day, 1)} 09:00`);
    await platform.fund.income.declare('YEB', day, '1.0000');
    await platform.fund.income.distribute(day);
    const [line] = await platform.db.query<{ shares: bigint }>(
      'select shares from fund_income_lines where product_code = $1 and day = $2 and account_id = $3',
      ['YEB', day, uuidFromU128(holderAccount('YEB', buyer))],
    );
    expect(line?.shares).toBe(15_000n);
  });

  it('refuses, writing nothing, when the holdings or the pool do not cover it', async () => {
    const { platform } = world();
    const buyer = await buyerHolding(10_000_000n, '30000.00');
    const trade = await newTrade('30000.01');
    const before = await state(buyer);
    const refused = await platform.trades
      .pay(trade.appId, { tradeNo: trade.tradeNo }, buyer, undefined, { fromFund: true })
      .catch((e: unknown) => e);
    expect(isFundError(refused, 'fund_pay_shares_not_enough')).toBe(true);
    expect(await state(buyer)).toEqual(before);
    expect((await platform.trades.byTradeNo(trade.tradeNo)).status).toBe('WAIT_BUYER_PAY');
    // The pool: drain it below the payment by fast redemptions of others, within their limits.
    const product = await platform.fund.catalog.product('YEB');
    const [pool] = await platform.ledger.lookupAccounts([product.books.pool]);
    const left = (pool?.creditsPosted ?? 0n) - (pool?.debitsPosted ?? 0n);
    const big = await newTrade(`${(left / 100n + 1n).toString()}.00`);
    const holder = await buyerHolding(10_000_000n, '60000.00');
    const before2 = await state(holder);
    const short = await platform.trades
      .pay(big.appId, { tradeNo: big.tradeNo }, holder, undefined, { fromFund: true })
      .catch((e: unknown) => e);
    expect(isFundError(short, 'fund_pay_pool_insufficient')).toBe(true);
    expect((short as Error).message).toMatch(/liquidity pool/);
    expect(await state(holder)).toEqual(before2);
  });

  it('takes a bar-code payment short of balance from the fund: the balance and the fund each in fund_bill_list', async () => {
    const { platform } = world();
    const buyer = await buyerHolding(3_000n, '200.00');
    const { appId } = await seller();
    const paid = await platform.trades.createAndPay(
      { appId, outTradeNo: `bar-${tradeNos++}`, totalAmount: '100.00', subject: 'tea' },
      buyer,
    );
    expect(paid.fundBills).toEqual([
      { fundChannel: 'ALIPAYACCOUNT', amount: '30.00' },
      { fundChannel: 'FINANCEACCOUNT', amount: '70.00' },
    ]);
    expect(await state(buyer)).toMatchObject({ wallet: 0n, shares: '130.00', redeeming: '70.00' });
    // A balance that covers it pays alone.
    const alone = await platform.trades.createAndPay(
      { appId, outTradeNo: `bar-${tradeNos++}`, totalAmount: '0.01', subject: 'tea' },
      await buyerHolding(100n, '0.00'),
    );
    expect(alone.fundBills).toEqual([{ fundChannel: 'ALIPAYACCOUNT', amount: '0.01' }]);
  });

  it('redeems nothing when the trade leg of the chain fails', async () => {
    const { platform } = world();
    const buyer = await buyerHolding(5_000n, '200.00');
    const { appId } = await seller();
    const before = await state(buyer);
    // Between the shortfall's reckoning and the chain, the buyer's balance goes into a purchase:
    // the fund's legs are fine, the trade's own transfer is short, and the chain fails whole.
    const legs = platform.fund.payments.legs.bind(platform.fund.payments);
    const spy = vi.spyOn(platform.fund.payments, 'legs').mockImplementationOnce(async (...args) => {
      await platform.fund.orders.purchase(buyer, { productCode: 'YEB', amount: '50.00', idempotencyKey: 'drain' });
      return legs(...args);
    });
    const refused = await platform.trades
      .createAndPay({ appId, outTradeNo: `bar-${tradeNos++}`, totalAmount: '100.00', subject: 'tea' }, buyer)
      .catch((e: unknown) => e);
    spy.mockRestore();
    expect(refused).toBeInstanceOf(TradeError);
    expect(refused).toMatchObject({ code: 'BUYER_BALANCE_NOT_ENOUGH' });
    const after = await state(buyer);
    expect(after).toMatchObject({ shares: before.shares, redeeming: before.redeeming, pool: before.pool });
    const payments = (await platform.fund.orders.orders(buyer)).filter((o) => o.kind === 'PAYMENT');
    expect(payments).toEqual([]);
    expect(after.orders).toBe((before.orders ?? 0n) + 1n); // the purchase that drained the balance, alone
  });

  it('finishes a payment a crash cut short after its chain: the trade by its sweep, the order by the fund job', async () => {
    const { platform, clock } = world();
    const buyer = await buyerHolding(0n, '100.00');
    const trade = await newTrade('40.00');
    const settled = vi.spyOn(platform.fund.payments, 'settled').mockRejectedValueOnce(new Error('process killed'));
    await expect(
      platform.trades.pay(trade.appId, { tradeNo: trade.tradeNo }, buyer, undefined, { fromFund: true }),
    ).rejects.toThrow('process killed');
    settled.mockRestore();
    const [cut] = (await platform.fund.orders.orders(buyer)).filter((o) => o.kind === 'PAYMENT');
    expect(cut?.status).toBe('paid');
    clock.advanceMs(limits.tradePaymentMovedAfterMs);
    await platform.trades.sweep();
    expect(await platform.trades.byTradeNo(trade.tradeNo)).toMatchObject({
      status: 'TRADE_SUCCESS',
      fundBills: [{ fundChannel: 'FINANCEACCOUNT', amount: '40.00' }],
    });
    clock.advanceMs(limits.fundOrderSubmittedStaleMs);
    await platform.fund.runDue();
    const [row] = await platform.db.query<{ status: string }>(
      "select status from fund_orders where user_id = $1 and kind = 'PAYMENT'",
      [buyer],
    );
    expect(row?.status).toBe('PENDING');
    expect(await state(buyer)).toMatchObject({ shares: '60.00', redeeming: '40.00' });
  });

  it('finishes a payment a crash cut short before its chain, moving it once', async () => {
    const { platform, clock } = world();
    const buyer = await buyerHolding(0n, '100.00');
    const trade = await newTrade('25.00');
    const legs = platform.fund.payments.legs.bind(platform.fund.payments);
    const spy = vi.spyOn(platform.fund.payments, 'legs').mockImplementationOnce(async (...args) => {
      await legs(...args);
      throw new Error('process killed');
    });
    await expect(
      platform.trades.pay(trade.appId, { tradeNo: trade.tradeNo }, buyer, undefined, { fromFund: true }),
    ).rejects.toThrow('process killed');
    spy.mockRestore();
    expect(await state(buyer)).toMatchObject({ shares: '100.00', redeeming: '0.00' });
    clock.advanceMs(limits.tradePayingStaleMs);
    await platform.trades.sweep();
    await platform.trades.sweep();
    expect((await platform.trades.byTradeNo(trade.tradeNo)).status).toBe('TRADE_SUCCESS');
    expect(await state(buyer)).toMatchObject({ shares: '75.00', redeeming: '25.00', wallet: 0n });
    // An order whose chain the ledger never took is taken back a day later.
    const other = await buyerHolding(0n, '10.00');
    await platform.fund.payments.legs({ userId: other, productCode: 'YEB', fen: 500n, paymentKey: 'never-sent' }, 1n);
    clock.advanceMs(limits.fundPaymentAbandonedMs + 1);
    await platform.fund.runDue();
    expect((await platform.fund.orders.orders(other)).filter((o) => o.kind === 'PAYMENT')).toEqual([]);
  });

  it('conserves shares under random payments from the fund beside concurrent redemptions', async () => {
    const { platform } = world();
    const { appId } = await seller();
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            k: fc.constantFrom('pay' as const, 'fast' as const, 'standard' as const),
            fen: fc.integer({ min: 1, max: 30_000 }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        async (ops) => {
          const buyer = await buyerHolding(0n, '500.00');
          const start = await state(buyer);
          const outcomes = await Promise.allSettled(
            ops.map(async (op, i) => {
              const amount = `${Math.floor(op.fen / 100)}.${String(op.fen % 100).padStart(2, '0')}`;
              if (op.k === 'pay') {
                const t = await newTrade(amount);
                await platform.trades.pay(appId, { tradeNo: t.tradeNo }, buyer, undefined, { fromFund: true });
              } else {
                await platform.fund.orders.redeem(buyer, {
                  productCode: 'YEB',
                  amount,
                  idempotencyKey: `r-${buyer}-${i}`,
                  kind: op.k,
                });
              }
              return BigInt(op.fen);
            }),
          );
          for (const o of outcomes)
            if (o.status === 'rejected') expect(isFundError(o.reason), String(o.reason)).toBe(true);
          const spent = outcomes.reduce((sum, o) => sum + (o.status === 'fulfilled' ? o.value : 0n), 0n);
          const end = await state(buyer);
          expect(spent).toBeLessThanOrEqual(50_000n);
          expect(BigInt(Math.round(Number(end.shares) * 100))).toBe(50_000n - spent);
          expect(BigInt(Math.round(Number(end.redeeming) * 100))).toBe(spent);
          expect(start.wallet).toBe(0n);
        },
      ),
      { numRuns: 8 },
    );
  });
});
