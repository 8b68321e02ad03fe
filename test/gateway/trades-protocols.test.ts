/**
 * Every trade method over both protocols with the real alipay-sdk (legacy with validateSign, v3
 * whose response signature the SDK always checks), against the whole platform: the answers,
 * the money (wallet balances), concurrency (one trade paid at once by several requests), and
 * authorization (app B never reaches app A's trades).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
let buyer: Awaited<ReturnType<typeof newBuyer>>;
const balance = () => gw.platform.members.walletBalance(buyer.userId);
const sellerBalance = (sellerId: string) => gw.platform.members.walletBalance(sellerId);

beforeAll(async () => {
  gw = await startPlatformGateway();
  buyer = await newBuyer(gw.platform, '13900139000', 1_000_000n);
});

afterAll(async () => {
  await gw.close();
});

describe.each(protocols)('trade methods over %s', (protocol) => {
  const call = (method: string, biz: Record<string, unknown>) => gw.a.call(protocol, method, biz);

  it('creates, queries and closes a trade; a repeated out_trade_no answers the same trade', async () => {
    const no = uniqueNo(protocol);
    const biz = { out_trade_no: no, total_amount: '12.34', subject: '茶叶 tea' };
    const created = ok(await call('alipay.trade.create', biz));
    expect(created.trade_no).toMatch(/^\d{28}$/);
    expect(ok(await call('alipay.trade.create', biz)).trade_no).toBe(created.trade_no);
    expectFailure(
      await call('alipay.trade.create', { ...biz, total_amount: '12.35' }),
      protocol,
      'ACQ.CONTEXT_INCONSISTENT',
    );
    expect(ok(await call('alipay.trade.query', { trade_no: created.trade_no }))).toMatchObject({
      out_trade_no: no,
      trade_status: 'WAIT_BUYER_PAY',
      total_amount: '12.34',
    });
    expect(ok(await call('alipay.trade.close', { out_trade_no: no }))).toMatchObject({ trade_no: created.trade_no });
    expect(ok(await call('alipay.trade.query', { out_trade_no: no }))).toMatchObject({ trade_status: 'TRADE_CLOSED' });
    expectFailure(await call('alipay.trade.query', { out_trade_no: 'nope' }), protocol, 'ACQ.TRADE_NOT_EXIST');
  });

  it('pays by bar code, refunds in part (idempotently), queries the refund, refuses too much', async () => {
    const no = uniqueNo(protocol);
    const before = await balance();
    const paid = ok(
      await call('alipay.trade.pay', {
        out_trade_no: no,
        scene: 'bar_code',
        auth_code: await buyer.paycode(),
        total_amount: '50.00',
        subject: 'pay',
      }),
    );
    expect(paid).toMatchObject({ out_trade_no: no, total_amount: '50.00', buyer_user_id: buyer.userId });
    expect(await balance()).toBe(before - 5000n);
    expect(ok(await call('alipay.trade.query', { out_trade_no: no }))).toMatchObject({
      trade_status: 'TRADE_SUCCESS',
      buyer_user_id: buyer.userId,
    });
    expectFailure(
      await call('alipay.trade.pay', {
        out_trade_no: no,
        scene: 'bar_code',
        auth_code: await buyer.paycode(),
        total_amount: '50.00',
        subject: 'pay',
      }),
      protocol,
      'ACQ.TRADE_HAS_SUCCESS',
    );

    const refund = { out_trade_no: no, refund_amount: '20.00', out_request_no: 'r1' };
    expect(ok(await call('alipay.trade.refund', refund))).toMatchObject({ fund_change: 'Y', refund_fee: '20.00' });
    expect(ok(await call('alipay.trade.refund', refund))).toMatchObject({ fund_change: 'N', refund_fee: '20.00' });
    expectFailure(
      await call('alipay.trade.refund', { ...refund, refund_amount: '21.00' }),
      protocol,
      'ACQ.CONTEXT_INCONSISTENT',
    );
    expectFailure(
      await call('alipay.trade.refund', { out_trade_no: no, refund_amount: '30.01', out_request_no: 'r2' }),
      protocol,
      'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL',
    );
    expect(
      ok(await call('alipay.trade.fastpay.refund.query', { trade_no: paid.trade_no, out_request_no: 'r1' })),
    ).toMatchObject({
      out_request_no: 'r1',
      refund_amount: '20.00',
      total_amount: '50.00',
      refund_status: 'REFUND_SUCCESS',
    });
    expect(await balance()).toBe(before - 3000n);
  });

  it('precreates a QR trade and cancels it (close); cancels a paid trade (refund in full)', async () => {
    const pre = ok(
      await call('alipay.trade.precreate', { out_trade_no: uniqueNo(protocol), total_amount: '2.00', subject: 'qr' }),
    );
    expect(pre.qr_code).toMatch(new RegExp(`^${gw.base}/cashier/\\d{28}$`));
    expect(ok(await call('alipay.trade.cancel', { out_trade_no: pre.out_trade_no }))).toMatchObject({
      action: 'close',
      retry_flag: 'N',
    });

    const no = uniqueNo(protocol);
    const before = await balance();
    ok(
      await call('alipay.trade.pay', {
        out_trade_no: no,
        scene: 'bar_code',
        auth_code: await buyer.paycode(),
        total_amount: '7.77',
        subject: 'cancel me',
      }),
    );
    expect(ok(await call('alipay.trade.cancel', { out_trade_no: no }))).toMatchObject({ action: 'refund' });
    expect(ok(await call('alipay.trade.query', { out_trade_no: no }))).toMatchObject({ trade_status: 'TRADE_CLOSED' });
    expect(await balance()).toBe(before);
  });

  it('sends page.pay and wap.pay to the cashier', async () => {
    for (const method of ['alipay.trade.page.pay', 'alipay.trade.wap.pay']) {
      const biz = { out_trade_no: uniqueNo(protocol), total_amount: '3.00', subject: 'page' };
      if (protocol === 'v3') {
        const answer = ok(await call(method, { ...biz, product_code: 'FAST_INSTANT_TRADE_PAY' }));
        expect(answer.page_redirection_data).toMatch(/^\/cashier\/\d{28}$/);
      } else {
        const url = gw.a.sdk.pageExecute(method, 'GET', { bizContent: biz, returnUrl: 'https://shop.example/r' });
        const landed = await fetch(url, { redirect: 'manual' });
        expect(landed.status).toBe(302);
        expect(landed.headers.get('location')).toMatch(/^\/cashier\/\d{28}$/);
      }
      expect(ok(await call('alipay.trade.query', { out_trade_no: biz.out_trade_no }))).toMatchObject({
        trade_status: 'WAIT_BUYER_PAY',
      });
    }
  });

  it('moves money once when the same trade is paid by several requests at once', async () => {
    const no = uniqueNo(protocol);
    const before = await balance();
    const sellerBefore = await sellerBalance(gw.a.sellerId);
    const codes = await Promise.all([1, 2, 3, 4].map(() => buyer.paycode()));
    const answers = await Promise.all(
      codes.map((auth_code) =>
        call('alipay.trade.pay', {
          out_trade_no: no,
          scene: 'bar_code',
          auth_code,
          total_amount: '9.99',
          subject: 'x',
        }),
      ),
    );
    expect(answers.filter((a) => a.code === '10000')).toHaveLength(1);
    for (const a of answers.filter((x) => x.code !== '10000')) {
      expect(['ACQ.TRADE_HAS_SUCCESS', 'ACQ.TRADE_STATUS_ERROR']).toContain((a as { sub_code: string }).sub_code);
    }
    expect(await balance()).toBe(before - 999n);
    expect(await sellerBalance(gw.a.sellerId)).toBe(sellerBefore + 999n);
  });

  it("keeps app B away from app A's trades: query, refund, refund query, close, cancel", async () => {
    const no = uniqueNo(protocol);
    const paid = ok(
      await call('alipay.trade.pay', {
        out_trade_no: no,
        scene: 'bar_code',
        auth_code: await buyer.paycode(),
        total_amount: '4.00',
        subject: 'mine',
      }),
    );
    const before = await balance();
    const asB = (method: string, biz: Record<string, unknown>) => gw.b.call(protocol, method, biz);
    for (const key of [{ trade_no: paid.trade_no }, { out_trade_no: no }]) {
      expectFailure(await asB('alipay.trade.query', key), protocol, 'ACQ.TRADE_NOT_EXIST');
      expectFailure(
        await asB('alipay.trade.refund', { ...key, refund_amount: '4.00', out_request_no: 'steal' }),
        protocol,
        'ACQ.TRADE_NOT_EXIST',
      );
      expectFailure(await asB('alipay.trade.fastpay.refund.query', key), protocol, 'ACQ.TRADE_NOT_EXIST');
      expectFailure(await asB('alipay.trade.close', key), protocol, 'ACQ.TRADE_NOT_EXIST');
      expectFailure(await asB('alipay.trade.cancel', key), protocol, 'ACQ.TRADE_NOT_EXIST');
    }
    expect(await balance()).toBe(before);
    expect(ok(await call('alipay.trade.query', { out_trade_no: no }))).toMatchObject({ trade_status: 'TRADE_SUCCESS' });
  });
});
