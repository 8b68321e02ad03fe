/**
 * TRADE_FINISHED: when a paid trade's refund period (limits.tradeRefundPeriodMs) ends, the
 * sweep moves it from TRADE_SUCCESS to TRADE_FINISHED with a notification; refunds and cancels
 * then answer ACQ.TRADE_HAS_FINISHED (Alipay's sub code for a trade past its refund period),
 * over both protocols. A refund that arrives before the sweep finishes the trade itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import {
  expectFailure,
  newBuyer,
  ok,
  type PlatformGateway,
  protocols,
  startPlatformGateway,
  uniqueNo,
} from './platform-support.ts';

const clock = new ManualClock();
let gw: PlatformGateway;
let buyer: Awaited<ReturnType<typeof newBuyer>>;

beforeAll(async () => {
  gw = await startPlatformGateway({ clock });
  buyer = await newBuyer(gw.platform, '13900139003', 1_000_000n);
});

afterAll(async () => {
  await gw.close();
});

const notificationsOf = (tradeNo: string) =>
  gw.platform.db.query<{ event: string; payload: Record<string, string> }>(
    'select event, payload from trade_notifications where trade_no = $1 order by id',
    [tradeNo],
  );

describe.each(protocols)('TRADE_FINISHED over %s', (protocol) => {
  const call = (method: string, biz: Record<string, unknown>) => gw.a.call(protocol, method, biz);
  const pay = async (amount: string) => {
    const no = uniqueNo(protocol);
    const paid = ok(
      await call('alipay.trade.pay', {
        out_trade_no: no,
        scene: 'bar_code',
        auth_code: await buyer.paycode(),
        total_amount: amount,
        subject: 'finish',
      }),
    );
    return { no, tradeNo: paid.trade_no ?? '' };
  };

  it('finishes a paid trade when its refund period ends, notifies, and refuses refunds after', async () => {
    const { no, tradeNo } = await pay('10.00');
    ok(await call('alipay.trade.refund', { out_trade_no: no, refund_amount: '1.00', out_request_no: 'early' }));
    clock.advanceMs(limits.tradeRefundPeriodMs - 1);
    await gw.platform.trades.sweep();
    expect(ok(await call('alipay.trade.query', { out_trade_no: no }))).toMatchObject({ trade_status: 'TRADE_SUCCESS' });

    clock.advanceMs(1);
    expect(await gw.platform.trades.sweep()).toBeGreaterThanOrEqual(1);
    expect(ok(await call('alipay.trade.query', { out_trade_no: no }))).toMatchObject({
      trade_status: 'TRADE_FINISHED',
    });
    const finished = (await notificationsOf(tradeNo)).filter((n) => n.event === 'TRADE_FINISHED');
    expect(finished).toHaveLength(1);
    expect(finished[0]?.payload).toMatchObject({
      notify_type: 'trade_status_sync',
      trade_status: 'TRADE_FINISHED',
      out_trade_no: no,
      gmt_close: expect.any(String),
    });

    const before = await gw.platform.members.walletBalance(buyer.userId);
    expectFailure(
      await call('alipay.trade.refund', { out_trade_no: no, refund_amount: '1.00', out_request_no: 'late' }),
      protocol,
      'ACQ.TRADE_HAS_FINISHED',
    );
    expectFailure(await call('alipay.trade.cancel', { out_trade_no: no }), protocol, 'ACQ.TRADE_HAS_FINISHED');
    // The refund made in time is still answered for what it was.
    expect(
      ok(await call('alipay.trade.refund', { out_trade_no: no, refund_amount: '1.00', out_request_no: 'early' })),
    ).toMatchObject({ fund_change: 'N', refund_fee: '1.00' });
    expect(await gw.platform.members.walletBalance(buyer.userId)).toBe(before);
    // Finished once: a second sweep writes nothing more.
    await gw.platform.trades.sweep();
    expect((await notificationsOf(tradeNo)).filter((n) => n.event === 'TRADE_FINISHED')).toHaveLength(1);
  });

  it('refuses a refund that arrives after the period but before the sweep, finishing the trade', async () => {
    const { no, tradeNo } = await pay('5.00');
    clock.advanceMs(limits.tradeRefundPeriodMs);
    expectFailure(
      await call('alipay.trade.refund', { out_trade_no: no, refund_amount: '5.00' }),
      protocol,
      'ACQ.TRADE_HAS_FINISHED',
    );
    expect(ok(await call('alipay.trade.query', { trade_no: tradeNo }))).toMatchObject({
      trade_status: 'TRADE_FINISHED',
    });
    expect((await notificationsOf(tradeNo)).map((n) => n.event)).toEqual(['TRADE_SUCCESS', 'TRADE_FINISHED']);
  });

  it('leaves unpaid and closed trades alone', async () => {
    const waiting = ok(
      await call('alipay.trade.create', { out_trade_no: uniqueNo(protocol), total_amount: '1.00', subject: 'w' }),
    );
    const { no } = await pay('2.00');
    ok(await call('alipay.trade.refund', { out_trade_no: no, refund_amount: '2.00' }));
    clock.advanceMs(limits.tradeRefundPeriodMs + 1);
    await gw.platform.trades.sweep();
    expect(ok(await call('alipay.trade.query', { out_trade_no: no }))).toMatchObject({ trade_status: 'TRADE_CLOSED' });
    // The unpaid one timed out long ago: closed, never finished.
    expect(ok(await call('alipay.trade.query', { trade_no: waiting.trade_no }))).toMatchObject({
      trade_status: 'TRADE_CLOSED',
    });
  });
});
