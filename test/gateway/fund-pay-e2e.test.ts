/**
 * The real alipay-sdk pays a bar-code trade of a buyer whose balance falls short: the shortfall
 * is paid from Yu'e Bao in the payment's own chain, and `alipay.trade.pay` and
 * `alipay.trade.query` report both channels in `fund_bill_list`, as Alipay names them
 * (`ALIPAYACCOUNT` the balance, `FINANCEACCOUNT` Yu'e Bao). A buyer whose fund cannot cover
 * the rest is refused with Alipay's BUYER_BALANCE_NOT_ENOUGH, and nothing moved.
 *
 * Refunds of such trades: the fund's part goes back to the buyer's shares of the product that
 * paid, at once, in ONE chain with the balance's part, and `alipay.trade.refund` names both in
 * `refund_detail_item_list`. A partial refund splits in proportion to what each paid, rounded
 * down for the fund, so the refund that completes the trade returns each exactly what it paid. A
 * replay moves nothing twice; a refund whose fund leg is refused (the seller has spent the money)
 * moves nothing. The fund's books balance after it all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { verifyFundBooks } from '../../src/fund/index.ts';
import { beijing } from '../fund/support.ts';
import {
  expectFailure,
  type Merchant,
  newBuyer,
  ok,
  type PlatformGateway,
  type Protocol,
  protocols,
  startPlatformGateway,
  uniqueNo,
} from './platform-support.ts';

let gw: PlatformGateway;
const clock = new ManualClock(beijing('2026-11-11 10:00'));
let phones = 0;

beforeAll(async () => {
  gw = await startPlatformGateway({ clock });
  await gw.platform.fund.catalog.createCompany({ code: 'TIANHONG', name: 'Tianhong Asset Management' });
  await gw.platform.fund.catalog.createProduct({ code: 'YEB', companyCode: 'TIANHONG', name: 'Tianhong Yu e Bao' });
  await gw.platform.fund.catalog.refillPool('TIANHONG', '10000.00', 'initial');
});

afterAll(async () => {
  expect(await verifyFundBooks(gw.platform.db)).toEqual([]);
  await gw.close();
});

/** A buyer with `balance` fen left in the wallet and `shares` fen of confirmed Yu'e Bao shares. */
async function buyerWithFund(balance: bigint, shares: bigint) {
  const buyer = await newBuyer(gw.platform, `1360013${String(7000 + phones++)}`, balance + shares);
  const amount = `${shares / 100n}.${String(shares % 100n).padStart(2, '0')}`;
  await gw.platform.fund.orders.purchase(buyer.userId, { productCode: 'YEB', amount, idempotencyKey: 'buy' });
  await gw.platform.fund.orders.confirmDue((await gw.platform.fund.orders.orderDays()).dueDay);
  return buyer;
}

describe.each(protocols)('paying from Yu e Bao over %s', (protocol) => {
  const call = (method: string, biz: Record<string, unknown>) => gw.a.call(protocol, method, biz);

  it('pays the shortfall of the balance from the fund and lists both channels', async () => {
    const buyer = await buyerWithFund(2_000n, 50_000n);
    const no = uniqueNo(protocol);
    const paid = ok(
      await call('alipay.trade.pay', {
        out_trade_no: no,
        scene: 'bar_code',
        auth_code: await buyer.paycode(),
        total_amount: '88.88',
        subject: '龙井茶',
      }),
    );
    const bills = [
      { fund_channel: 'ALIPAYACCOUNT', amount: '20.00' },
      { fund_channel: 'FINANCEACCOUNT', amount: '68.88' },
    ];
    expect(paid).toMatchObject({ out_trade_no: no, total_amount: '88.88', fund_bill_list: bills });
    const queried = ok(await call('alipay.trade.query', { out_trade_no: no }));
    expect(queried).toMatchObject({ trade_status: 'TRADE_SUCCESS', fund_bill_list: bills });
    expect(await gw.platform.members.walletBalance(buyer.userId)).toBe(0n);
    expect(await gw.platform.fund.orders.holdings(buyer.userId)).toEqual([
      { productCode: 'YEB', shares: '431.12', redeeming: '68.88', toBeConfirmed: '0.00' },
    ]);
  });

  it('reports the balance alone when it covers the trade', async () => {
    const buyer = await buyerWithFund(10_000n, 10_000n);
    const no = await payByCode(gw.a, protocol, buyer, '100.00');
    const queried = ok(await call('alipay.trade.query', { out_trade_no: no }));
    expect(queried.fund_bill_list).toEqual([{ fund_channel: 'ALIPAYACCOUNT', amount: '100.00' }]);
  });

  it('refuses with BUYER_BALANCE_NOT_ENOUGH when the fund cannot cover the rest, moving nothing', async () => {
    const buyer = await buyerWithFund(1_000n, 1_000n);
    const answer = await call('alipay.trade.pay', {
      out_trade_no: uniqueNo(protocol),
      scene: 'bar_code',
      auth_code: await buyer.paycode(),
      total_amount: '20.01',
      subject: 'tea',
    });
    expectFailure(answer, protocol, 'ACQ.BUYER_BALANCE_NOT_ENOUGH');
    expect(await gw.platform.members.walletBalance(buyer.userId)).toBe(1_000n);
    expect(await gw.platform.fund.orders.holdings(buyer.userId)).toEqual([
      { productCode: 'YEB', shares: '10.00', redeeming: '0.00', toBeConfirmed: '0.00' },
    ]);
  });
});

/** A bar-code payment of `amount` by `buyer` to `merchant`; answers its out_trade_no. */
async function payByCode(
  merchant: Merchant,
  protocol: Protocol,
  buyer: { paycode(): Promise<string> },
  amount: string,
) {
  const no = uniqueNo(protocol);
  ok(
    await merchant.call(protocol, 'alipay.trade.pay', {
      out_trade_no: no,
      scene: 'bar_code',
      auth_code: await buyer.paycode(),
      total_amount: amount,
      subject: 'tea',
    }),
  );
  return no;
}

const holding = async (userId: string) => (await gw.platform.fund.orders.holdings(userId))[0];
const wallet = (userId: string) => gw.platform.members.walletBalance(userId);

describe.each(protocols)('refunding a trade paid from Yu e Bao over %s', (protocol) => {
  const call = (method: string, biz: Record<string, unknown>) => gw.a.call(protocol, method, biz);

  it('returns the fund part as shares and the balance part to the balance, in part and in full, once', async () => {
    const buyer = await buyerWithFund(2_000n, 50_000n);
    const no = await payByCode(gw.a, protocol, buyer, '88.88');
    expect(await wallet(buyer.userId)).toBe(0n);
    const sellerBefore = await wallet(gw.a.sellerId);

    // 44.44 of 88.88 paid 20.00 from the balance and 68.88 from the fund: half of each.
    const first = { out_trade_no: no, refund_amount: '44.44', out_request_no: 'r1' };
    const refunded = ok(await call('alipay.trade.refund', first));
    expect(refunded).toMatchObject({ fund_change: 'Y', refund_fee: '44.44', send_back_fee: '44.44' });
    expect(refunded.refund_detail_item_list).toEqual([
      { fund_channel: 'ALIPAYACCOUNT', amount: '10.00' },
      { fund_channel: 'FINANCEACCOUNT', amount: '34.44' },
    ]);
    expect(await wallet(buyer.userId)).toBe(1_000n);
    expect(await holding(buyer.userId)).toEqual({
      productCode: 'YEB',
      shares: '465.56',
      redeeming: '68.88',
      toBeConfirmed: '0.00',
    });
    expect(await wallet(gw.a.sellerId)).toBe(sellerBefore - 4_444n);

    // The refund query names the channels when asked to, as Alipay does (query_options).
    const queried = ok(
      await call('alipay.trade.fastpay.refund.query', {
        out_trade_no: no,
        out_request_no: 'r1',
        query_options: ['refund_detail_item_list'],
      }),
    );
    expect(queried).toMatchObject({ refund_status: 'REFUND_SUCCESS', refund_amount: '44.44' });
    expect(queried.refund_detail_item_list).toEqual(refunded.refund_detail_item_list);
    const plain = ok(await call('alipay.trade.fastpay.refund.query', { out_trade_no: no, out_request_no: 'r1' }));
    expect(plain.refund_detail_item_list).toBeUndefined();

    // A replay answers the same refund and moves nothing.
    const again = ok(await call('alipay.trade.refund', first));
    expect(again).toMatchObject({ fund_change: 'N', refund_fee: '44.44' });
    expect(again.refund_detail_item_list).toEqual(refunded.refund_detail_item_list);
    expect(await wallet(buyer.userId)).toBe(1_000n);
    expect((await holding(buyer.userId))?.shares).toBe('465.56');

    // The rest: each channel gets back exactly what it paid in all.
    const rest = ok(
      await call('alipay.trade.refund', { out_trade_no: no, refund_amount: '44.44', out_request_no: 'r2' }),
    );
    expect(rest).toMatchObject({ fund_change: 'Y', refund_fee: '88.88' });
    expect(rest.refund_detail_item_list).toEqual([
      { fund_channel: 'ALIPAYACCOUNT', amount: '10.00' },
      { fund_channel: 'FINANCEACCOUNT', amount: '34.44' },
    ]);
    expect(await wallet(buyer.userId)).toBe(2_000n);
    expect((await holding(buyer.userId))?.shares).toBe('500.00');
    expect(ok(await call('alipay.trade.query', { out_trade_no: no })).trade_status).toBe('TRADE_CLOSED');
    expect(await verifyFundBooks(gw.platform.db)).toEqual([]);
  });

  it('rounds a partial refund down for the fund and completes it on the last', async () => {
    const buyer = await buyerWithFund(1n, 10_000n);
    const no = await payByCode(gw.a, protocol, buyer, '0.03');
    // The balance paid 0.01 and the fund 0.02 (the bar-code shortfall is 0.02 when 0.01 is left).
    const before = await wallet(buyer.userId);
    const parts = [];
    for (const n of [1, 2, 3]) {
      const r = ok(
        await call('alipay.trade.refund', { out_trade_no: no, refund_amount: '0.01', out_request_no: `p${n}` }),
      );
      parts.push(r.refund_detail_item_list);
    }
    expect(parts).toEqual([
      [{ fund_channel: 'ALIPAYACCOUNT', amount: '0.01' }],
      [{ fund_channel: 'FINANCEACCOUNT', amount: '0.01' }],
      [{ fund_channel: 'FINANCEACCOUNT', amount: '0.01' }],
    ]);
    expect(await wallet(buyer.userId)).toBe(before + 1n);
    expect((await holding(buyer.userId))?.shares).toBe('100.00');
  });

  it('moves nothing when the fund leg is refused: the seller has spent the money', async () => {
    const buyer = await buyerWithFund(0n, 10_000n);
    const no = await payByCode(gw.b, protocol, buyer, '30.00');
    // Shop B pays out what it has, but 1.00, to another member.
    const spend = (await wallet(gw.b.sellerId)) - 100n;
    const payee = await newBuyer(gw.platform, `1360015${String(7000 + phones++)}`, 0n);
    ok(
      await gw.b.call(protocol, 'alipay.fund.trans.uni.transfer', {
        out_biz_no: uniqueNo('spend'),
        trans_amount: `${spend / 100n}.${String(spend % 100n).padStart(2, '0')}`,
        product_code: 'TRANS_ACCOUNT_NO_PWD',
        biz_scene: 'DIRECT_TRANSFER',
        order_title: 'spending',
        payee_info: { identity: payee.userId, identity_type: 'ALIPAY_USER_ID' },
      }),
    );
    const sellerBefore = await wallet(gw.b.sellerId);
    const answer = await gw.b.call(protocol, 'alipay.trade.refund', {
      out_trade_no: no,
      refund_amount: '30.00',
      out_request_no: 'all',
    });
    expectFailure(answer, protocol, 'ACQ.SELLER_BALANCE_NOT_ENOUGH');
    expect(await wallet(buyer.userId)).toBe(0n);
    expect(await wallet(gw.b.sellerId)).toBe(sellerBefore);
    expect(await holding(buyer.userId)).toEqual({
      productCode: 'YEB',
      shares: '70.00',
      redeeming: '30.00',
      toBeConfirmed: '0.00',
    });
    expect(await verifyFundBooks(gw.platform.db)).toEqual([]);
  });
});
