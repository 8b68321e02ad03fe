/**
 * The real alipay-sdk pays a bar-code trade of a buyer whose balance falls short: the shortfall
 * is paid from Yu'e Bao in the payment's own chain, and `alipay.trade.pay` and
 * `alipay.trade.query` report both channels in `fund_bill_list`, as Alipay names them
 * (`ALIPAYACCOUNT` the balance, `FINANCEACCOUNT` Yu'e Bao). A buyer whose fund cannot cover
 * the rest is refused with Alipay's BUYER_BALANCE_NOT_ENOUGH, and nothing moved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { verifyFundBooks } from '../../src/fund/index.ts';
import { beijing } from '../fund/support.ts';
import {
  expectFailure,
  newBuyer,
  ok,
  type PlatformGateway,
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
    const no = uniqueNo(protocol);
    ok(
      await call('alipay.trade.pay', {
        out_trade_no: no,
        scene: 'bar_code',
        auth_code: await buyer.paycode(),
        total_amount: '100.00',
        subject: 'tea',
      }),
    );
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
