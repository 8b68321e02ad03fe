/**
 * Fund authorisation over both protocols with the real alipay-sdk: a rental merchant scans the
 * customer's payment code to freeze a deposit (`alipay.fund.auth.order.freeze`), charges part of
 * it as a trade (`alipay.trade.pay` with `auth_no`, NOT_COMPLETE), unfreezes part
 * (`alipay.fund.auth.order.unfreeze`), charges the last part with COMPLETE (the rest unfrozen),
 * and reads it all back (`alipay.fund.auth.operation.detail.query`, `alipay.trade.query`). An app
 * freeze's order string, opened at the gateway, sends the payer to the cashier's confirm page.
 * Replays answer the first outcome; bad input answers Alipay's code and writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPreauthBooks } from '../../src/preauth/index.ts';
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
let customer: Awaited<ReturnType<typeof newBuyer>>;

beforeAll(async () => {
  gw = await startPlatformGateway();
  customer = await newBuyer(gw.platform, '13900139301', 10_000_00n);
});

afterAll(async () => {
  expect((await checkPreauthBooks(gw.platform.db)).violations).toEqual([]);
  await gw.close();
});

const wallet = (userId: string) => gw.platform.members.walletBalance(userId);
async function held(userId: string): Promise<bigint> {
  const member = await gw.platform.members.getMember(userId);
  const [a] = await gw.platform.ledger.lookupAccounts([member.walletAccountId]);
  return a?.debitsPending ?? 0n;
}
async function rows() {
  const [r] = await gw.platform.db.query<{ n: bigint }>(
    `select (select count(*) from preauth_orders) + (select count(*) from preauth_operations)
          + (select count(*) from trades) n`,
  );
  return r?.n;
}

describe.each(protocols)('fund authorisation over %s', (protocol) => {
  const call = (method: string, biz: Record<string, unknown>) => gw.a.call(protocol, method, biz);

  it('freezes, charges in parts, unfreezes, completes, and every answer is Alipay’s', async () => {
    const order = uniqueNo(`deposit-${protocol}`);
    const heldBefore = await held(customer.userId);
    const freeze = {
      out_order_no: order,
      out_request_no: `${order}-f`,
      order_title: '共享充电宝押金',
      amount: '99.00',
      product_code: 'PRE_AUTH',
      auth_code: await customer.paycode(),
      auth_code_type: 'bar_code',
    };
    const frozen = ok(await call('alipay.fund.auth.order.freeze', freeze));
    expect(frozen).toMatchObject({
      out_order_no: order,
      out_request_no: `${order}-f`,
      amount: '99.00',
      status: 'SUCCESS',
      payer_user_id: customer.userId,
      fund_amount: '99.00',
      credit_amount: '0.00',
      trans_currency: 'CNY',
    });
    expect(frozen.auth_no).toMatch(/^\d{24}$/);
    expect(frozen.gmt_trans).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(await held(customer.userId)).toBe(heldBefore + 99_00n);
    // A retry with the same numbers (and the spent code) is the same freeze.
    expect(ok(await call('alipay.fund.auth.order.freeze', freeze)).operation_id).toBe(frozen.operation_id);
    expect(await held(customer.userId)).toBe(heldBefore + 99_00n);

    const merchantBefore = await wallet(gw.a.sellerId);
    const charge = {
      out_trade_no: `${order}-t1`,
      product_code: 'PREAUTH_PAY',
      auth_no: frozen.auth_no,
      auth_confirm_mode: 'NOT_COMPLETE',
      total_amount: '12.50',
      subject: 'Two hours',
    };
    const paid = ok(await call('alipay.trade.pay', charge));
    expect(paid).toMatchObject({ out_trade_no: `${order}-t1`, total_amount: '12.50', buyer_user_id: customer.userId });
    expect(ok(await call('alipay.trade.pay', charge)).trade_no).toBe(paid.trade_no);
    expect(ok(await call('alipay.trade.query', { out_trade_no: `${order}-t1` }))).toMatchObject({
      trade_status: 'TRADE_SUCCESS',
      total_amount: '12.50',
    });
    expect(await wallet(gw.a.sellerId)).toBe(merchantBefore + 12_50n);
    expect(await held(customer.userId)).toBe(heldBefore + 86_50n);

    const unfreeze = {
      auth_no: frozen.auth_no,
      out_request_no: `${order}-u1`,
      amount: '50.00',
      remark: 'returned early',
    };
    const unfrozen = ok(await call('alipay.fund.auth.order.unfreeze', unfreeze));
    expect(unfrozen).toMatchObject({
      auth_no: frozen.auth_no,
      amount: '50.00',
      status: 'SUCCESS',
      fund_amount: '50.00',
    });
    expect(ok(await call('alipay.fund.auth.order.unfreeze', unfreeze)).operation_id).toBe(unfrozen.operation_id);
    expect(await held(customer.userId)).toBe(heldBefore + 36_50n);

    ok(
      await call('alipay.trade.pay', {
        ...charge,
        out_trade_no: `${order}-t2`,
        auth_confirm_mode: 'COMPLETE',
        total_amount: '6.50',
      }),
    );
    expect(await held(customer.userId)).toBe(heldBefore);
    const detail = ok(await call('alipay.fund.auth.operation.detail.query', { auth_no: frozen.auth_no }));
    expect(detail).toMatchObject({
      auth_no: frozen.auth_no,
      out_order_no: order,
      order_status: 'FINISH',
      total_freeze_amount: '99.00',
      rest_amount: '0.00',
      total_pay_amount: '19.00',
      operation_type: 'PAY',
      status: 'SUCCESS',
      amount: '6.50',
    });
    const first = ok(
      await call('alipay.fund.auth.operation.detail.query', { out_order_no: order, out_request_no: `${order}-u1` }),
    );
    expect(first).toMatchObject({ operation_type: 'UNFREEZE', amount: '50.00', remark: 'returned early' });
  });

  it('refuses bad input with Alipay’s codes and writes nothing', async () => {
    const order = uniqueNo(`bad-${protocol}`);
    const frozen = ok(
      await call('alipay.fund.auth.order.freeze', {
        out_order_no: order,
        out_request_no: `${order}-f`,
        order_title: 'Bike',
        amount: '10.00',
        auth_code: await customer.paycode(),
        auth_code_type: 'bar_code',
      }),
    );
    const before = await rows();
    const heldNow = await held(customer.userId);
    const unfreeze = (biz: Record<string, unknown>) =>
      call('alipay.fund.auth.order.unfreeze', {
        auth_no: frozen.auth_no,
        out_request_no: `${order}-u`,
        amount: '1.00',
        remark: 'r',
        ...biz,
      });
    expectFailure(await unfreeze({ amount: '10.01' }), protocol, 'REQUEST_AMOUNT_EXCEED');
    expectFailure(await unfreeze({ auth_no: '2026120721999999999999' }), protocol, 'AUTH_ORDER_NOT_EXIST');
    expectFailure(
      await gw.b.call(protocol, 'alipay.fund.auth.order.unfreeze', {
        auth_no: frozen.auth_no,
        out_request_no: 'x',
        amount: '1.00',
        remark: 'r',
      }),
      protocol,
      'AUTH_ORDER_NOT_EXIST',
    );
    expectFailure(await unfreeze({ amount: '-1' }), protocol, 'INVALID_PARAMETER');
    const pay = (biz: Record<string, unknown>) =>
      call('alipay.trade.pay', {
        out_trade_no: `${order}-t`,
        product_code: 'PREAUTH_PAY',
        auth_no: frozen.auth_no,
        total_amount: '1.00',
        subject: 's',
        ...biz,
      });
    expectFailure(await pay({ total_amount: '10.01' }), protocol, 'ACQ.REQUEST_AMOUNT_EXCEED');
    expectFailure(
      await gw.b.call(protocol, 'alipay.trade.pay', {
        out_trade_no: `${order}-t`,
        auth_no: frozen.auth_no,
        total_amount: '1.00',
        subject: 's',
      }),
      protocol,
      'ACQ.AUTH_ORDER_NOT_EXIST',
    );
    expectFailure(await pay({ auth_no: '', auth_code: '' }), protocol, 'ACQ.INVALID_PARAMETER');
    expectFailure(
      await pay({ auth_no: '', auth_code: '', product_code: '' }),
      protocol,
      'ACQ.PAYMENT_AUTH_CODE_INVALID',
    );
    const appFreeze = (payTimeout: string) =>
      call('alipay.fund.auth.order.app.freeze', {
        out_order_no: `${order}-app-${payTimeout}`,
        out_request_no: 'f',
        order_title: 'Car',
        amount: '1.00',
        pay_timeout: payTimeout,
      });
    expectFailure(await appFreeze('16d'), protocol, 'INVALID_PARAMETER');
    expectFailure(await appFreeze('59s'), protocol, 'INVALID_PARAMETER');
    expectFailure(await appFreeze('0m'), protocol, 'INVALID_PARAMETER');
    expectFailure(
      await call('alipay.fund.auth.order.freeze', {
        out_order_no: `${order}-2`,
        out_request_no: 'f',
        order_title: 'Car',
        amount: '1.00',
        auth_code: '280000000000000000',
        auth_code_type: 'bar_code',
      }),
      protocol,
      'AUTH_CODE_INVALID',
    );
    expect(await rows()).toBe(before);
    expect(await held(customer.userId)).toBe(heldNow);
  });
});

describe('an app freeze', () => {
  it('opens from the signed order string at the gateway and waits at the cashier', async () => {
    const order = uniqueNo('app');
    const orderString = gw.a.sdk.sdkExecute('alipay.fund.auth.order.app.freeze', {
      bizContent: {
        out_order_no: order,
        out_request_no: `${order}-f`,
        order_title: 'Scooter deposit',
        amount: '300.00',
        product_code: 'PRE_AUTH_ONLINE',
        pay_timeout: '30m',
      },
    });
    const res = await fetch(`${gw.base}/gateway.do?${orderString}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = res.headers.get('location') ?? '';
    expect(location).toMatch(/^\/cashier\/freeze\/\d{24}$/);
    const authNo = location.split('/').at(-1);
    const detail = ok(await gw.a.call('legacy', 'alipay.fund.auth.operation.detail.query', { auth_no: authNo }));
    expect(detail).toMatchObject({
      order_status: 'INIT',
      total_freeze_amount: '300.00',
      rest_amount: '0.00',
      operation_type: 'FREEZE',
      status: 'INIT',
    });
    const page = await fetch(`${gw.base}${location}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Scooter deposit');
    expect(html).toContain('id="confirm-freeze"');
  });
});
