/**
 * `alipay.fund.trans.uni.transfer` and `alipay.fund.trans.common.query` over both protocols with
 * the real alipay-sdk: a merchant pays a user from its wallet, by user id or by phone; a retry
 * with the same out_biz_no answers the same order and moves nothing; a reuse with other
 * parameters is PAYMENT_INFO_INCONSISTENCY; errors are Alipay's; app B sees none of app A's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectFailure,
  fundMerchant,
  newBuyer,
  ok,
  type PlatformGateway,
  protocols,
  startPlatformGateway,
  uniqueNo,
} from './platform-support.ts';

let gw: PlatformGateway;
let buyer: Awaited<ReturnType<typeof newBuyer>>;
let payee: Awaited<ReturnType<typeof newBuyer>>;
const wallet = (userId: string) => gw.platform.members.walletBalance(userId);

beforeAll(async () => {
  gw = await startPlatformGateway();
  buyer = await newBuyer(gw.platform, '13900139001', 10_000_000n);
  payee = await newBuyer(gw.platform, '13700137000', 0n);
  await fundMerchant(gw.a, buyer, '1000.00');
});

afterAll(async () => {
  await gw.close();
});

const transfer = (outBizNo: string, amount: string, payeeInfo: Record<string, string>, extra = {}) => ({
  out_biz_no: outBizNo,
  trans_amount: amount,
  product_code: 'TRANS_ACCOUNT_NO_PWD',
  biz_scene: 'DIRECT_TRANSFER',
  order_title: '佣金 commission',
  payee_info: payeeInfo,
  ...extra,
});

describe.each(protocols)('fund transfers over %s', (protocol) => {
  const call = (method: string, biz: Record<string, unknown>) => gw.a.call(protocol, method, biz);

  it('pays a user by user id, then answers a retry with the same order and no money', async () => {
    const no = uniqueNo(protocol);
    const merchantBefore = await wallet(gw.a.sellerId);
    const payeeBefore = await wallet(payee.userId);
    const biz = transfer(no, '12.50', { identity: payee.userId, identity_type: 'ALIPAY_USER_ID' });
    const paid = ok(await call('alipay.fund.trans.uni.transfer', biz));
    expect(paid).toMatchObject({ out_biz_no: no, status: 'SUCCESS' });
    expect(paid.order_id).toMatch(/^\d{32}$/);
    expect(paid.pay_fund_order_id).toMatch(/^\d{32}$/);
    expect(paid.trans_date).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(await wallet(payee.userId)).toBe(payeeBefore + 1250n);
    expect(await wallet(gw.a.sellerId)).toBe(merchantBefore - 1250n);

    const again = ok(await call('alipay.fund.trans.uni.transfer', biz));
    expect(again).toMatchObject({
      order_id: paid.order_id,
      pay_fund_order_id: paid.pay_fund_order_id,
      status: 'SUCCESS',
    });
    expect(await wallet(payee.userId)).toBe(payeeBefore + 1250n);

    for (const key of [{ out_biz_no: no }, { order_id: paid.order_id }]) {
      expect(ok(await call('alipay.fund.trans.common.query', key))).toMatchObject({
        order_id: paid.order_id,
        out_biz_no: no,
        status: 'SUCCESS',
        trans_amount: '12.50',
        pay_date: paid.trans_date,
      });
    }
  });

  it('pays a user by logon id (the phone)', async () => {
    const before = await wallet(payee.userId);
    const biz = transfer(uniqueNo(protocol), '0.10', { identity: payee.phone, identity_type: 'ALIPAY_LOGON_ID' });
    expect(ok(await call('alipay.fund.trans.uni.transfer', biz))).toMatchObject({ status: 'SUCCESS' });
    expect(await wallet(payee.userId)).toBe(before + 10n);
  });

  it('refuses a reused out_biz_no with other parameters, and moves nothing', async () => {
    const no = uniqueNo(protocol);
    const payeeInfo = { identity: payee.userId, identity_type: 'ALIPAY_USER_ID' };
    ok(await call('alipay.fund.trans.uni.transfer', transfer(no, '1.00', payeeInfo)));
    const before = await wallet(payee.userId);
    for (const changed of [
      transfer(no, '1.01', payeeInfo),
      transfer(no, '1.00', { identity: buyer.userId, identity_type: 'ALIPAY_USER_ID' }),
      transfer(no, '1.00', payeeInfo, { order_title: 'other' }),
    ]) {
      expectFailure(await call('alipay.fund.trans.uni.transfer', changed), protocol, 'PAYMENT_INFO_INCONSISTENCY');
    }
    expect(await wallet(payee.userId)).toBe(before);
  });

  it('answers PAYEE_NOT_EXIST, INVALID_PARAMETER and PAYER_BALANCE_NOT_ENOUGH', async () => {
    const merchantBefore = await wallet(gw.a.sellerId);
    const good = { identity: payee.userId, identity_type: 'ALIPAY_USER_ID' };
    const refusals: Array<[Record<string, unknown>, string]> = [
      [
        transfer(uniqueNo(protocol), '1.00', { identity: '2088000000000000', identity_type: 'ALIPAY_USER_ID' }),
        'PAYEE_NOT_EXIST',
      ],
      [
        transfer(uniqueNo(protocol), '1.00', { identity: '13000000000', identity_type: 'ALIPAY_LOGON_ID' }),
        'PAYEE_NOT_EXIST',
      ],
      [
        transfer(uniqueNo(protocol), '1.00', { identity: payee.userId, identity_type: 'ALIPAY_OPEN_ID' }),
        'INVALID_PARAMETER',
      ],
      [transfer(uniqueNo(protocol), '0.09', good), 'INVALID_PARAMETER'],
      [transfer(uniqueNo(protocol), '1e3', good), 'INVALID_PARAMETER'],
      [transfer(uniqueNo(protocol), '-1.00', good), 'INVALID_PARAMETER'],
      [transfer(uniqueNo(protocol), '100000000.01', good), 'INVALID_PARAMETER'],
      [transfer(uniqueNo(protocol), '1.00', good, { product_code: 'STD_RED_PACKET' }), 'INVALID_PARAMETER'],
      [transfer('bad out biz no!', '1.00', good), 'INVALID_PARAMETER'],
      [
        transfer(uniqueNo(protocol), '1.00', { identity: gw.a.sellerId, identity_type: 'ALIPAY_USER_ID' }),
        'PAYER_PAYEE_CANNOT_SAME',
      ],
      [transfer(uniqueNo(protocol), '99999.00', good), 'PAYER_BALANCE_NOT_ENOUGH'],
    ];
    for (const [biz, subCode] of refusals) {
      expectFailure(await call('alipay.fund.trans.uni.transfer', biz), protocol, subCode);
    }
    expect(await wallet(gw.a.sellerId)).toBe(merchantBefore);
    expectFailure(await call('alipay.fund.trans.common.query', { out_biz_no: 'nope' }), protocol, 'ORDER_NOT_EXIST');
  });

  it('lets a transfer refused for balance succeed on retry with the same out_biz_no once funded', async () => {
    const no = uniqueNo(protocol);
    const merchantBalance = await wallet(gw.b.sellerId);
    const biz = transfer(no, '3.00', { identity: payee.userId, identity_type: 'ALIPAY_USER_ID' });
    const asB = (method: string, b: Record<string, unknown>) => gw.b.call(protocol, method, b);
    if (merchantBalance < 300n) {
      expectFailure(await asB('alipay.fund.trans.uni.transfer', biz), protocol, 'PAYER_BALANCE_NOT_ENOUGH');
      expect(ok(await asB('alipay.fund.trans.common.query', { out_biz_no: no }))).toMatchObject({
        status: 'FAIL',
        error_code: 'PAYER_BALANCE_NOT_ENOUGH',
      });
    }
    await fundMerchant(gw.b, buyer, '3.00');
    const before = await wallet(payee.userId);
    expect(ok(await asB('alipay.fund.trans.uni.transfer', biz))).toMatchObject({ status: 'SUCCESS' });
    expect(ok(await asB('alipay.fund.trans.uni.transfer', biz))).toMatchObject({ status: 'SUCCESS' });
    expect(await wallet(payee.userId)).toBe(before + 300n);
  });

  it('moves money once when the same transfer arrives several times at once', async () => {
    const no = uniqueNo(protocol);
    const before = await wallet(payee.userId);
    const biz = transfer(no, '5.00', { identity: payee.userId, identity_type: 'ALIPAY_USER_ID' });
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => call('alipay.fund.trans.uni.transfer', biz)));
    const orderIds = new Set(answers.map((a) => ok(a).order_id));
    expect(orderIds.size).toBe(1);
    expect(await wallet(payee.userId)).toBe(before + 500n);
  });

  it("keeps app B away from app A's transfers", async () => {
    const no = uniqueNo(protocol);
    const paid = ok(
      await call(
        'alipay.fund.trans.uni.transfer',
        transfer(no, '1.00', { identity: payee.userId, identity_type: 'ALIPAY_USER_ID' }),
      ),
    );
    const asB = (biz: Record<string, unknown>) => gw.b.call(protocol, 'alipay.fund.trans.common.query', biz);
    expectFailure(await asB({ out_biz_no: no }), protocol, 'ORDER_NOT_EXIST');
    expectFailure(await asB({ order_id: paid.order_id }), protocol, 'ORDER_NOT_EXIST');
    // B's own out_biz_no is its own: the same string is a new order, paid from B's wallet.
    await fundMerchant(gw.b, buyer, '1.00');
    const sellerA = await wallet(gw.a.sellerId);
    const byB = ok(
      await gw.b.call(
        protocol,
        'alipay.fund.trans.uni.transfer',
        transfer(no, '1.00', { identity: payee.userId, identity_type: 'ALIPAY_USER_ID' }),
      ),
    );
    expect(byB.order_id).not.toBe(paid.order_id);
    expect(await wallet(gw.a.sellerId)).toBe(sellerA);
  });
});
