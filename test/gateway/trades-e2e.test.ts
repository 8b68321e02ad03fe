/**
 * A merchant written against the official `alipay-sdk` runs unchanged against Paybao: trade
 * create, pay (bar code), precreate, query, refund (partial, replayed), refund query, close,
 * cancel, over the legacy protocol with response signatures checked, and over v3; the async
 * notifications pass the SDK's checks; page.pay lands on the cashier and returns signed.
 */
import { AlipaySdk } from 'alipay-sdk';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/index.ts';
import { NotificationDispatcher } from '../../src/notifications/index.ts';
import type { Platform } from '../../src/platform.ts';
import { buildPlatformApp, notificationChannel } from '../../src/server/platform-app.ts';
import { freshPlatform } from '../support/engine.ts';
import { PageSession } from '../support/page-session.ts';
import { keyPair, listen, startNotifySink } from './support.ts';

let platform: Platform;
let app: FastifyInstance;
let base = '';
let sdk: AlipaySdk;
let notifySink: Awaited<ReturnType<typeof startNotifySink>>;
const notifications = () => notifySink.received;
const phone = '13800138000';
const password = 'correct horse 1';
let buyerId = '';
let n = 0;
const outTradeNo = () => `e2e-${Date.now()}-${++n}`;

beforeAll(async () => {
  notifySink = await startNotifySink();
  const notifyUrl = notifySink.url;

  platform = await freshPlatform();
  const merchant = keyPair();
  const created = await platform.members.createApp({
    name: 'Tea Shop',
    merchantPublicKeyPem: merchant.publicKeyPem,
    notifyUrl,
  });
  buyerId = (await platform.members.createUser({ phone, password, openingBalance: 100_000n })).userId;
  app = await buildPlatformApp({ platform, publicUrl: () => base });
  base = await listen(app);
  sdk = new AlipaySdk({
    appId: created.appId,
    privateKey: merchant.privateKeyPem,
    alipayPublicKey: created.alipayPublicKey,
    gateway: `${base}/gateway.do`,
    endpoint: base,
  });
});

afterAll(async () => {
  await app.close();
  expect(await verifyLedger(platform.db)).toEqual([]);
  await platform.close();
  await notifySink?.close();
});

describe('alipay-sdk against Paybao', () => {
  it('pays a bar-code trade, queries it, refunds in part (idempotently) and queries the refund', async () => {
    const no = outTradeNo();
    const authCode = await platform.members.newPaymentCode(buyerId);
    const paid = await sdk.exec('alipay.trade.pay', {
      bizContent: {
        out_trade_no: no,
        scene: 'bar_code',
        auth_code: authCode,
        total_amount: '88.88',
        subject: '龙井茶',
      },
    });
    expect(paid).toMatchObject({ code: '10000', outTradeNo: no, totalAmount: '88.88', buyerUserId: buyerId });
    expect(await platform.members.walletBalance(buyerId)).toBe(100_000n - 8888n);

    const queried = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: no } });
    expect(queried).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', tradeNo: paid.tradeNo });

    const refund = { out_trade_no: no, refund_amount: '8.88', out_request_no: 'r-1' };
    expect(await sdk.exec('alipay.trade.refund', { bizContent: refund })).toMatchObject({
      code: '10000',
      fundChange: 'Y',
      refundFee: '8.88',
    });
    expect(await sdk.exec('alipay.trade.refund', { bizContent: refund })).toMatchObject({
      code: '10000',
      fundChange: 'N',
    });
    const tooMuch = await sdk.exec('alipay.trade.refund', {
      bizContent: { out_trade_no: no, refund_amount: '80.01', out_request_no: 'r-2' },
    });
    expect(tooMuch).toMatchObject({ code: '40004', subCode: 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL' });
    expect(
      await sdk.exec('alipay.trade.fastpay.refund.query', { bizContent: { out_trade_no: no, out_request_no: 'r-1' } }),
    ).toMatchObject({ code: '10000', refundAmount: '8.88', refundStatus: 'REFUND_SUCCESS' });
    expect(await platform.members.walletBalance(buyerId)).toBe(100_000n - 8000n);
  });

  it('creates, precreates, closes and cancels', async () => {
    const created = await sdk.exec('alipay.trade.create', {
      bizContent: { out_trade_no: outTradeNo(), total_amount: '1.00', subject: 's' },
    });
    expect(created).toMatchObject({ code: '10000' });
    expect(created.tradeNo).toMatch(/^\d{28}$/);
    expect(await sdk.exec('alipay.trade.close', { bizContent: { trade_no: created.tradeNo } })).toMatchObject({
      code: '10000',
    });
    const pre = await sdk.exec('alipay.trade.precreate', {
      bizContent: { out_trade_no: outTradeNo(), total_amount: '2.00', subject: 's' },
    });
    expect(pre.qrCode).toMatch(new RegExp(`^${base}/cashier/\\d{28}$`));
    const cancelled = await sdk.exec('alipay.trade.cancel', { bizContent: { out_trade_no: pre.outTradeNo } });
    expect(cancelled).toMatchObject({ code: '10000', action: 'close' });
    const missing = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: 'no-such-trade' } });
    expect(missing).toMatchObject({ code: '40004', subCode: 'ACQ.TRADE_NOT_EXIST' });
  });

  it('refuses bad amounts and payment codes with Alipay errors and moves nothing', async () => {
    const before = await platform.members.walletBalance(buyerId);
    for (const amount of ['1e3', '-1', '0.001', '100000000.01']) {
      const r = await sdk.exec('alipay.trade.create', {
        bizContent: { out_trade_no: outTradeNo(), total_amount: amount, subject: 's' },
      });
      expect(r).toMatchObject({ code: '40004', subCode: 'ACQ.INVALID_PARAMETER' });
    }
    const r = await sdk.exec('alipay.trade.pay', {
      bizContent: {
        out_trade_no: outTradeNo(),
        scene: 'bar_code',
        auth_code: '280000000000000000',
        total_amount: '1.00',
        subject: 's',
      },
    });
    expect(r).toMatchObject({ code: '40004', subCode: 'ACQ.PAYMENT_AUTH_CODE_INVALID' });
    expect(await platform.members.walletBalance(buyerId)).toBe(before);
  });

  it('answers the retry of a paid payment (its code spent) with TRADE_HAS_SUCCESS, moving nothing again', async () => {
    const biz = {
      out_trade_no: outTradeNo(),
      scene: 'bar_code',
      auth_code: await platform.members.newPaymentCode(buyerId),
      total_amount: '1.00',
      subject: 'once',
    };
    expect(await sdk.exec('alipay.trade.pay', { bizContent: biz })).toMatchObject({ code: '10000' });
    const before = await platform.members.walletBalance(buyerId);
    // The merchant never got that answer (a lost connection) and asks again, as it was.
    expect(await sdk.exec('alipay.trade.pay', { bizContent: biz })).toMatchObject({
      code: '40004',
      subCode: 'ACQ.TRADE_HAS_SUCCESS',
    });
    // A spent code on a trade it did not pay is still the caller's error.
    expect(await sdk.exec('alipay.trade.pay', { bizContent: { ...biz, out_trade_no: outTradeNo() } })).toMatchObject({
      code: '40004',
      subCode: 'ACQ.PAYMENT_AUTH_CODE_INVALID',
    });
    expect(await platform.members.walletBalance(buyerId)).toBe(before);
  });

  it('pays the retry of a payment cut off after its code was spent, with that code, once', async () => {
    const no = outTradeNo();
    const code = await platform.members.newPaymentCode(buyerId);
    // The first try spent the code for this payment, then lost its database before the trade.
    await platform.members.redeemPaymentCode(code, `${sdk.config.appId}/${no}`);
    const before = await platform.members.walletBalance(buyerId);
    const biz = { out_trade_no: no, scene: 'bar_code', auth_code: code, total_amount: '2.00', subject: 'retry' };
    expect(await sdk.exec('alipay.trade.pay', { bizContent: biz })).toMatchObject({ code: '10000' });
    expect(await sdk.exec('alipay.trade.pay', { bizContent: biz })).toMatchObject({
      subCode: 'ACQ.TRADE_HAS_SUCCESS',
    });
    expect(await platform.members.walletBalance(buyerId)).toBe(before - 200n);
  });

  it('answers over v3 with signed responses', async () => {
    const no = outTradeNo();
    await sdk.exec('alipay.trade.create', { bizContent: { out_trade_no: no, total_amount: '3.00', subject: 'v3' } });
    const { data } = await sdk.curl<{ trade_status: string; out_trade_no: string }>('POST', '/v3/alipay/trade/query', {
      body: { out_trade_no: no },
    });
    expect(data).toMatchObject({ out_trade_no: no, trade_status: 'WAIT_BUYER_PAY' });
  });

  it('sends notifications that pass checkNotifySign and checkNotifySignV2', async () => {
    const key = (await platform.members.platformKeys()).active;
    const dispatcher = new NotificationDispatcher(
      platform.db,
      platform.clock,
      notificationChannel(platform, key.privateKey),
    );
    while ((await dispatcher.dispatchDue()) > 0) {}
    const success = notifications().find((x) => x.trade_status === 'TRADE_SUCCESS');
    expect(success).toMatchObject({ notify_type: 'trade_status_sync', buyer_id: buyerId, total_amount: '88.88' });
    for (const form of notifications()) {
      expect(sdk.checkNotifySignV2({ ...form })).toBe(true);
      expect(sdk.checkNotifySign({ ...form })).toBe(true);
    }
    expect(notifications().some((x) => x.refund_fee === '8.88')).toBe(true);
    expect(notifications().some((x) => x.trade_status === 'TRADE_CLOSED')).toBe(true);
  });

  it('takes a page.pay form to the cashier, pays there, and returns signed to return_url', async () => {
    const no = outTradeNo();
    const html = sdk.pageExecute('alipay.trade.page.pay', 'POST', {
      bizContent: { out_trade_no: no, total_amount: '5.00', subject: 'page', product_code: 'FAST_INSTANT_TRADE_PAY' },
      returnUrl: 'https://merchant.example/return',
    });
    const action = /action="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&') ?? '';
    const fields = Object.fromEntries(
      [...html.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], decodeHtml(m[2] ?? '')]),
    );
    const landed = await fetch(action, {
      method: 'POST',
      body: new URLSearchParams(fields as Record<string, string>),
      redirect: 'manual',
    });
    expect(landed.status).toBe(302);
    const cashier = new URL(landed.headers.get('location') ?? '', base);
    const browser = new PageSession();
    const pageHtml = await (await browser.get(cashier)).text();
    expect(pageHtml).toContain('5.00');
    const paid = await browser.post(cashier, { phone, password });
    expect(paid.status).toBe(302);
    const back = new URL(paid.headers.get('location') ?? '');
    expect(back.origin + back.pathname).toBe('https://merchant.example/return');
    const params = Object.fromEntries(back.searchParams);
    expect(params).toMatchObject({ out_trade_no: no, total_amount: '5.00', method: 'alipay.trade.page.pay.return' });
    expect(sdk.checkNotifySignV2(params)).toBe(true);
    const queried = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: no } });
    expect(queried).toMatchObject({ tradeStatus: 'TRADE_SUCCESS', buyerUserId: buyerId });
  });
});

function decodeHtml(s: string): string {
  return s
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
