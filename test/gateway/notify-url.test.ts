/**
 * Where a trade's notifications go. The request's own `notify_url` (page.pay, wap.pay,
 * precreate, create, pay) is taken over the app's, as Alipay does, and checked as the app's is;
 * without one the app's URL is used. And a notification is dropped as delivered only when there
 * really is no URL: a lookup of the app's URL that fails (here the database refuses the query) is a
 * failed attempt, retried on Alipay's schedule, and delivered once the lookup works again. Driven
 * by the real alipay-sdk, delivered over real HTTP by the platform's own notification channel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import { NotificationDispatcher } from '../../src/notifications/index.ts';
import { notificationChannel } from '../../src/server/platform-app.ts';
import {
  expectFailure,
  newBuyer,
  ok,
  type PlatformGateway,
  type Protocol,
  startPlatformGateway,
  uniqueNo,
} from './platform-support.ts';
import { startNotifySink } from './support.ts';

// The dispatcher's schedule runs on this clock; the gateway checks timestamps against real time.
const clock = new ManualClock(Date.now());
let gw: PlatformGateway;
let appSink: Awaited<ReturnType<typeof startNotifySink>>;
let requestSink: Awaited<ReturnType<typeof startNotifySink>>;
let dispatcher: NotificationDispatcher;
let buyer: Awaited<ReturnType<typeof newBuyer>>;

beforeAll(async () => {
  appSink = await startNotifySink();
  requestSink = await startNotifySink();
  gw = await startPlatformGateway({ clock, notifyUrl: appSink.url });
  const key = (await gw.platform.members.platformKeys()).active;
  dispatcher = new NotificationDispatcher(gw.platform.db, clock, notificationChannel(gw.platform, key.privateKey));
  buyer = await newBuyer(gw.platform, '13700137000', 100_000n);
});

afterAll(async () => {
  await gw?.close();
  await appSink?.close();
  await requestSink?.close();
});

/** Delivers what is due now and returns the forms each sink got for this trade. */
async function deliveredFor(outTradeNo: string) {
  while ((await dispatcher.dispatchDue()) > 0) {}
  const mine = (forms: Array<Record<string, string>>) => forms.filter((f) => f.out_trade_no === outTradeNo);
  return { request: mine(requestSink.received), app: mine(appSink.received) };
}

/** The buyer pays a waiting trade from the wallet (what the cashier page does). */
async function payWaiting(outTradeNo: string) {
  await gw.platform.trades.pay(gw.a.appId, { outTradeNo }, buyer.userId);
}

/** A legacy call with public parameters beside biz_content (notify_url travels there). */
async function legacy(method: string, biz: Record<string, unknown>, notifyUrl: string) {
  return gw.a.sdk.exec(method, { bizContent: biz, notify_url: notifyUrl }, { validateSign: true });
}

describe("the request's notify_url", () => {
  it('alipay.trade.pay (legacy): the payment is notified to the request URL, signed, and not to the app', async () => {
    const no = uniqueNo('pay');
    const answer = await legacy(
      'alipay.trade.pay',
      { out_trade_no: no, scene: 'bar_code', auth_code: await buyer.paycode(), total_amount: '3.00', subject: 's' },
      `${requestSink.url}?shop=pay`,
    );
    expect(answer).toMatchObject({ code: '10000', out_trade_no: no });
    const got = await deliveredFor(no);
    expect(got.app).toEqual([]);
    expect(got.request).toHaveLength(1);
    expect(got.request[0]).toMatchObject({ trade_status: 'TRADE_SUCCESS', total_amount: '3.00' });
    expect(gw.a.sdk.checkNotifySign(got.request[0] as Record<string, string>)).toBe(true);
  });

  for (const protocol of ['legacy', 'v3'] as Protocol[]) {
    it(`alipay.trade.precreate and .create (${protocol}): the later payment goes to the request URL`, async () => {
      for (const method of ['alipay.trade.precreate', 'alipay.trade.create']) {
        const no = uniqueNo(`${protocol}-${method}`);
        const biz = { out_trade_no: no, total_amount: '2.00', subject: 'qr' };
        if (protocol === 'legacy') {
          expect(await legacy(method, biz, requestSink.url)).toMatchObject({ code: '10000' });
        } else {
          // v3 carries it as a field of the JSON body.
          ok(await gw.a.call('v3', method, { ...biz, notify_url: requestSink.url }));
        }
        await payWaiting(no);
        const got = await deliveredFor(no);
        expect(got.app, method).toEqual([]);
        expect(got.request, method).toHaveLength(1);
      }
    });
  }

  it('alipay.trade.page.pay and .wap.pay: the form carries it, and the payment is notified there', async () => {
    for (const method of ['alipay.trade.page.pay', 'alipay.trade.wap.pay']) {
      const no = uniqueNo('page');
      const url = gw.a.sdk.pageExecute(method, 'GET', {
        bizContent: { out_trade_no: no, total_amount: '4.00', subject: 'page', product_code: 'FAST_INSTANT_TRADE_PAY' },
        returnUrl: 'https://shop.example/return',
        notifyUrl: requestSink.url,
      });
      const landed = await fetch(url, { redirect: 'manual' });
      expect(landed.status).toBe(302);
      await payWaiting(no);
      const got = await deliveredFor(no);
      expect(got.app, method).toEqual([]);
      expect(got.request, method).toHaveLength(1);
    }
  });

  it("alipay.trade.pay of a trade created without one: the paying request's URL takes over", async () => {
    const no = uniqueNo('create-then-pay');
    const terms = { out_trade_no: no, total_amount: '2.50', subject: 'later' };
    ok(await gw.a.call('legacy', 'alipay.trade.create', terms));
    const paid = await legacy(
      'alipay.trade.pay',
      { ...terms, scene: 'bar_code', auth_code: await buyer.paycode() },
      requestSink.url,
    );
    expect(paid).toMatchObject({ code: '10000', out_trade_no: no });
    const got = await deliveredFor(no);
    expect(got.app).toEqual([]);
    expect(got.request).toHaveLength(1);
  });

  it("without one, the app's notify URL is used", async () => {
    const no = uniqueNo('plain');
    ok(
      await gw.a.call('legacy', 'alipay.trade.pay', {
        out_trade_no: no,
        scene: 'bar_code',
        auth_code: await buyer.paycode(),
        total_amount: '1.00',
        subject: 's',
      }),
    );
    const got = await deliveredFor(no);
    expect(got.request).toEqual([]);
    expect(got.app).toHaveLength(1);
  });

  it("is refused as the app's is (not http(s), too long), and the refused request writes nothing", async () => {
    const tooLong = `https://shop.example/${'x'.repeat(limits.notifyUrlLengthMax)}`;
    for (const bad of ['ftp://shop.example/notify', 'not a url', tooLong]) {
      const no = uniqueNo('bad');
      const code = await buyer.paycode();
      const payAnswer = await legacy(
        'alipay.trade.pay',
        { out_trade_no: no, scene: 'bar_code', auth_code: code, total_amount: '1.00', subject: 's' },
        bad,
      );
      expect(payAnswer).toMatchObject({ code: '40004', sub_code: 'ACQ.INVALID_PARAMETER' });
      expectFailure(
        await gw.a.call('v3', 'alipay.trade.precreate', {
          out_trade_no: no,
          total_amount: '1.00',
          subject: 's',
          notify_url: bad,
        }),
        'v3',
        'ACQ.INVALID_PARAMETER',
      );
      const rows = await gw.platform.db.query('select 1 from trades where out_trade_no = $1', [no]);
      expect(rows).toEqual([]);
      // The payment code was not spent on the refused request: it still pays.
      const paid = await gw.a.call('legacy', 'alipay.trade.pay', {
        out_trade_no: no,
        scene: 'bar_code',
        auth_code: code,
        total_amount: '1.00',
        subject: 's',
      });
      ok(paid);
    }
  });
});

describe("a failing lookup of the app's notify URL", () => {
  it('is a failed attempt retried on the schedule, never a delivery; delivered once the lookup works', async () => {
    const no = uniqueNo('lookup');
    ok(
      await gw.a.call('legacy', 'alipay.trade.pay', {
        out_trade_no: no,
        scene: 'bar_code',
        auth_code: await buyer.paycode(),
        total_amount: '1.50',
        subject: 's',
      }),
    );
    const notification = async () => {
      const [row] = await gw.platform.db.query<{ attempts: number; delivered_at: Date | null; next_attempt_at: Date }>(
        `select n.attempts, n.delivered_at, n.next_attempt_at from trade_notifications n
         join trades t on t.trade_no = n.trade_no where t.out_trade_no = $1`,
        [no],
      );
      return row;
    };
    // A real database error on the lookup: the apps' table is away for a moment.
    await gw.platform.db.exec('alter table members_apps rename to members_apps_away');
    try {
      expect(await dispatcher.dispatchDue()).toBe(0);
    } finally {
      await gw.platform.db.exec('alter table members_apps_away rename to members_apps');
    }
    const nowMs = Number(clock.nowNs() / 1_000_000n);
    expect(await notification()).toMatchObject({ attempts: 1, delivered_at: null });
    expect((await notification())?.next_attempt_at.getTime()).toBe(nowMs + (limits.notifyRetryDelaysMs[0] as number));
    expect(appSink.received.filter((f) => f.out_trade_no === no)).toEqual([]);

    clock.advanceMs(limits.notifyRetryDelaysMs[0] as number);
    const got = await deliveredFor(no);
    expect(got.app).toHaveLength(1);
    expect(await notification()).toMatchObject({ attempts: 2 });
    expect((await notification())?.delivered_at).not.toBeNull();
  });
});
