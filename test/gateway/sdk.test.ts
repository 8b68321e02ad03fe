/**
 * The real `alipay-sdk` (v4), unchanged, talks to Paybao's gateway over HTTP and accepts its
 * answers: legacy `exec()` with response signature validation (RSA2 and RSA), v3 `curl()` (POST
 * with a JSON body, GET with a query string) with its mandatory response verification, business
 * failures in both protocols' shapes, unicode both ways, and notification forms signed by
 * `signNotification` passing `checkNotifySign` and `checkNotifySignV2`. The gateway is mounted
 * through `buildApp({ platform, gateway })`, on this run's database engine.
 */
import { AlipayRequestError } from 'alipay-sdk';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signNotification } from '../../src/gateway/index.ts';
import type { Platform } from '../../src/platform.ts';
import { buildApp } from '../../src/server/index.ts';
import { freshPlatform } from '../support/engine.ts';
import { appId, gatewayOptions, keyPair, listen, sdkFor } from './support.ts';

const platformKeys = keyPair();
const merchant = keyPair();
let platform: Platform;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  platform = await freshPlatform();
  app = buildApp({ platform, gateway: gatewayOptions(platformKeys, merchant) });
  base = await listen(app);
});

afterAll(async () => {
  await app.close();
  await platform.close();
});

const sdk = (config = {}) => sdkFor(base, merchant.privateKeyPem, platformKeys.publicKeyPem, config);
const subject = '测试订单 🧧 café & a=b + 100%';

describe('legacy protocol: sdk.exec() against /gateway.do', () => {
  it('answers a signed <method>_response that the SDK validates (RSA2)', async () => {
    const result = await sdk().exec(
      'alipay.trade.query',
      { bizContent: { outTradeNo: 'T-1', subject }, notifyUrl: 'https://merchant.test/notify?x=1&y=2' },
      { validateSign: true },
    );
    expect(result).toMatchObject({
      code: '10000',
      msg: 'Success',
      tradeNo: '2026111122001400000000000001',
      outTradeNo: 'T-1',
      subject,
      seenAppId: appId,
      seenProtocol: 'legacy',
      seenMethod: 'alipay.trade.query',
      seenNotifyUrl: 'https://merchant.test/notify?x=1&y=2',
    });
  });

  it('signs and verifies with RSA (SHA-1) when the request says sign_type=RSA', async () => {
    const result = await sdk({ signType: 'RSA' }).exec(
      'alipay.trade.create',
      { bizContent: { out_trade_no: 'T-2', subject } },
      { validateSign: true },
    );
    expect(result).toMatchObject({ code: '10000', outTradeNo: 'T-2', subject });
  });

  it('writes the response key first and sign last', async () => {
    const res = await fetch(
      `${base}/gateway.do?${new URLSearchParams(sdk().sdkExecute('alipay.trade.query', { bizContent: { out_trade_no: 'T-3' } }))}`,
      { method: 'POST' },
    );
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toMatch(
      /^\{"alipay_trade_query_response":\{"code":"10000","msg":"Success",.*\},"sign":"[A-Za-z0-9+/=]+"\}$/,
    );
  });

  it('accepts a request with an empty parameter, which the SDK signs as `key=`', async () => {
    const result = await sdk().exec(
      'alipay.trade.query',
      { bizContent: { out_trade_no: 'T-4' }, notifyUrl: '' },
      { validateSign: true },
    );
    expect(result).toMatchObject({ code: '10000', outTradeNo: 'T-4', seenNotifyUrl: '' });
  });

  it('answers a business failure as 40004 with its sub_code, signed', async () => {
    const result = await sdk().exec(
      'alipay.trade.close',
      { bizContent: { out_trade_no: 'nope' } },
      { validateSign: true },
    );
    expect(result).toEqual({
      code: '40004',
      msg: 'Business Failed',
      subCode: 'ACQ.TRADE_NOT_EXIST',
      subMsg: '交易不存在',
    });
  });

  it('answers protocol errors in <method>_response, signed, so that the SDK validates them too', async () => {
    const stranger = sdkFor(base, keyPair().privateKeyPem, platformKeys.publicKeyPem);
    const bad = await stranger.exec('alipay.trade.query', { bizContent: {} }, { validateSign: true });
    expect(bad).toMatchObject({ code: '40002', msg: 'Invalid Arguments', subCode: 'isv.invalid-signature' });
    const unknown = await sdkFor(base, merchant.privateKeyPem, platformKeys.publicKeyPem, { appId: '2026999' }).exec(
      'alipay.trade.query',
      { bizContent: {} },
      { validateSign: true },
    );
    expect(unknown).toMatchObject({ code: '40002', subCode: 'isv.invalid-app-id' });
  });

  it('answers an unknown method in error_response (which the SDK reads, but cannot validate)', async () => {
    const result = await sdk().exec('alipay.no.such.method', { bizContent: {} });
    expect(result).toMatchObject({ code: '40002', msg: 'Invalid Arguments', subCode: 'isv.invalid-method' });
    await expect(sdk().exec('alipay.no.such.method', { bizContent: {} }, { validateSign: true })).rejects.toThrow();
  });
});

describe('v3 protocol: sdk.curl() against /v3/alipay/*', () => {
  it('answers POST with a JSON body, and the SDK verifies the response signature', async () => {
    const result = await sdk().curl('POST', '/v3/alipay/trade/query', { body: { out_trade_no: 'V-1', subject } });
    expect(result.responseHttpStatus).toBe(200);
    expect(result.traceId).toMatch(/^\w+$/);
    expect(result.data).toMatchObject({
      out_trade_no: 'V-1',
      subject,
      seen_app_id: appId,
      seen_protocol: 'v3',
      seen_method: 'alipay.trade.query',
    });
  });

  it('answers GET with a query string (the bill download query)', async () => {
    const result = await sdk().curl('GET', '/v3/alipay/data/dataservice/bill/downloadurl/query', {
      query: { bill_type: 'trade', bill_date: '2026-11-11' },
    });
    expect(result.data).toEqual({ bill_download_url: 'https://paybao.test/bills/2026-11-11.csv' });
  });

  it('echoes alipay-request-id as the trace id', async () => {
    const result = await sdk().curl('POST', '/v3/alipay/trade/query', { body: {}, requestId: 'req-42' });
    expect(result.traceId).toBe('req-42');
  });

  it('answers a business failure as HTTP 400 {code, message, links}', async () => {
    const error = await sdk()
      .curl('POST', '/v3/alipay/trade/close', { body: { out_trade_no: 'nope' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AlipayRequestError);
    expect(error).toMatchObject({ code: 'ACQ.TRADE_NOT_EXIST', responseHttpStatus: 400, links: [] });
    expect((error as Error).message).toMatch(/^交易不存在/);
  });

  it('answers a bad signature and an unknown app with HTTP 401', async () => {
    const stranger = sdkFor(base, keyPair().privateKeyPem, platformKeys.publicKeyPem);
    await expect(stranger.curl('POST', '/v3/alipay/trade/query', { body: {} })).rejects.toMatchObject({
      code: 'invalid-signature',
      responseHttpStatus: 401,
    });
    const unknown = sdkFor(base, merchant.privateKeyPem, platformKeys.publicKeyPem, { appId: '2026999' });
    await expect(unknown.curl('POST', '/v3/alipay/trade/query', { body: {} })).rejects.toMatchObject({
      code: 'invalid-app-id',
      responseHttpStatus: 401,
    });
  });

  it('answers an unknown method with HTTP 404', async () => {
    await expect(sdk().curl('POST', '/v3/alipay/no/such/method', { body: {} })).rejects.toMatchObject({
      code: 'invalid-method',
      responseHttpStatus: 404,
    });
  });
});

describe('notifications signed by signNotification', () => {
  const merchantSdk = () => sdkFor(base, merchant.privateKeyPem, platformKeys.publicKeyPem);
  const notification = {
    notify_time: '2026-11-11 10:00:00',
    notify_type: 'trade_status_sync',
    notify_id: 'ac05099524730693a8b330c5ecf72da9786',
    app_id: appId,
    charset: 'utf-8',
    version: '1.0',
    trade_no: '2026111122001400000000000001',
    out_trade_no: 'T-1',
    trade_status: 'TRADE_SUCCESS',
    total_amount: '88.88',
    subject: '测试订单 🧧 café',
    gmt_payment: '2026-11-11 09:59:58',
  };

  it('pass checkNotifySign and checkNotifySignV2 with RSA2 and RSA', () => {
    for (const signType of ['RSA2', 'RSA'] as const) {
      const form = signNotification(notification, platformKeys.privateKeyPem, signType);
      expect(form.sign_type).toBe(signType);
      expect(merchantSdk().checkNotifySign(form)).toBe(true);
      expect(merchantSdk().checkNotifySignV2(form)).toBe(true);
    }
  });

  it('drop empty values from the form, so that the SDK (which would sign `key=`) still agrees', () => {
    const form = signNotification({ ...notification, body: '' }, platformKeys.privateKeyPem);
    expect(form).not.toHaveProperty('body');
    expect(merchantSdk().checkNotifySignV2(form)).toBe(true);
  });

  it('fail once a value is changed or the key is not the platform’s', () => {
    const form = signNotification(notification, platformKeys.privateKeyPem);
    expect(merchantSdk().checkNotifySignV2({ ...form, total_amount: '888.88' })).toBe(false);
    const forged = signNotification(notification, keyPair().privateKeyPem);
    expect(merchantSdk().checkNotifySign(forged)).toBe(false);
  });

  it('pass checkNotifySignV2 with a `%` in a value (V1 URL-decodes values and cannot)', () => {
    const form = signNotification({ ...notification, subject: '满100%减10' }, platformKeys.privateKeyPem);
    expect(merchantSdk().checkNotifySignV2(form)).toBe(true);
    expect(() => merchantSdk().checkNotifySign(form)).toThrow(URIError);
  });
});
