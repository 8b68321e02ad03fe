/**
 * Whatever a client sends, the gateway answers with a clean Alipay error in the protocol's own
 * shape and status, never a 500: legacy errors are HTTP 200 with a signed `<method>_response`
 * (or `error_response` when there is no known method); v3 errors are 4xx `{code, message, links}`.
 * Covers missing and wrong signatures, unknown apps, timestamps outside the window, a replayed v3
 * request (the SDK's own request, sent again), malformed biz_content and JSON bodies, oversized
 * bodies, repeated parameters, unsupported content types and a method that throws.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import { signLegacyRequest, v3Authorization } from '../../src/gateway/index.ts';
import { appId, gatewayApp, gatewayOptions, keyPair, listen, sdkFor } from './support.ts';

const platformKeys = keyPair();
const merchant = keyPair();
let app: FastifyInstance;
let base: string;
const seen: Array<{ method: string; url: string; headers: Record<string, unknown>; body: unknown }> = [];

beforeAll(async () => {
  app = gatewayApp(gatewayOptions(platformKeys, merchant, { legacyUtcOffsetMinutes: 480 }));
  app.addHook('preHandler', async (request) => {
    seen.push({ method: request.method, url: request.url, headers: request.headers, body: request.body });
  });
  base = await listen(app);
});

afterAll(() => app.close());

const sdk = () => sdkFor(base, merchant.privateKeyPem, platformKeys.publicKeyPem);

/** "yyyy-MM-dd HH:mm:ss" in Beijing time, `offsetMs` from now. */
function beijing(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

function legacyParams(extra: Record<string, string> = {}): Record<string, string> {
  return {
    app_id: appId,
    method: 'alipay.trade.query',
    charset: 'utf-8',
    sign_type: 'RSA2',
    timestamp: beijing(),
    version: '1.0',
    biz_content: '{"out_trade_no":"B-1"}',
    ...extra,
  };
}

/** Posts a legacy form and answers the parsed response value, after checking the envelope. */
async function postLegacy(form: Record<string, string>, responseKey = 'alipay_trade_query_response') {
  const res = await app.inject({
    method: 'POST',
    url: '/gateway.do',
    payload: new URLSearchParams(form).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  expect(res.statusCode).toBe(200);
  const body = res.json();
  expect(Object.keys(body)).toEqual([responseKey, 'sign']);
  // The SDK's own check of the response signature: it throws when the signature does not verify.
  sdk().checkResponseSign(res.body, responseKey, body.sign, '');
  return body[responseKey];
}

function v3Request(options: { body?: string; timestampMs?: number; nonce?: string; url?: string; key?: string } = {}) {
  const url = options.url ?? '/v3/alipay/trade/query';
  const body = options.body ?? '{"out_trade_no":"B-1"}';
  const authorization = v3Authorization(
    {
      appId,
      httpMethod: 'POST',
      url,
      body,
      nonce: options.nonce ?? randomUUID(),
      timestampMs: options.timestampMs ?? Date.now(),
    },
    options.key ?? merchant.privateKeyPem,
  );
  return {
    method: 'POST' as const,
    url,
    payload: body,
    headers: { authorization, 'content-type': 'application/json' },
  };
}

describe('legacy protocol refusals', () => {
  it('accepts a well-formed request signed by hand (the baseline for the rest)', async () => {
    const value = await postLegacy(signLegacyRequest(legacyParams(), merchant.privateKeyPem));
    expect(value).toMatchObject({ code: '10000', out_trade_no: 'B-1' });
  });

  it.each([
    ['sign', 'isv.missing-signature'],
    ['app_id', 'isv.missing-app-id'],
    ['sign_type', 'isv.missing-signature-type'],
    ['timestamp', 'isv.missing-timestamp'],
    ['version', 'isv.missing-version'],
  ])('answers 40001 when %s is missing', async (key, subCode) => {
    const form = signLegacyRequest(legacyParams(), merchant.privateKeyPem);
    delete form[key];
    expect(await postLegacy(form)).toMatchObject({
      code: '40001',
      msg: 'Missing Required Arguments',
      sub_code: subCode,
    });
  });

  it('answers error_response when method is missing', async () => {
    const { method: _, ...rest } = legacyParams();
    const value = await postLegacy(signLegacyRequest(rest, merchant.privateKeyPem), 'error_response');
    expect(value).toMatchObject({ code: '40001', sub_code: 'isv.missing-method' });
  });

  it.each([
    ['a tampered parameter', { biz_content: '{"out_trade_no":"B-2"}' }, 'isv.invalid-signature'],
    ['an unknown sign_type', { sign_type: 'MD5' }, 'isv.invalid-signature-type'],
    ['a timestamp 20 minutes old', { timestamp: beijing(-20 * 60_000) }, 'isv.invalid-timestamp'],
    ['a timestamp 20 minutes ahead', { timestamp: beijing(20 * 60_000) }, 'isv.invalid-timestamp'],
    ['a timestamp that is no date', { timestamp: '2026-02-31 10:00:00' }, 'isv.invalid-timestamp'],
    ['a charset other than utf-8', { charset: 'gbk' }, 'isv.invalid-charset'],
    ['an unknown app', { app_id: '2026999' }, 'isv.invalid-app-id'],
    ['an app auth token', { app_auth_token: 'x' }, 'aop.invalid-app-auth-token'],
  ])('refuses %s', async (_what, change: Record<string, string>, subCode) => {
    // A tampered request changes a signed one; every other case is signed after the change, so
    // that the change is the only thing wrong with it.
    const form =
      subCode === 'isv.invalid-signature'
        ? { ...signLegacyRequest(legacyParams(), merchant.privateKeyPem), ...change }
        : signLegacyRequestSafe({ ...legacyParams(), ...change });
    expect(await postLegacy(form)).toMatchObject({ sub_code: subCode });
  });

  it('refuses malformed biz_content after the signature verifies', async () => {
    for (const bizContent of ['{"out_trade_no":', '[1,2]', '"text"', 'null']) {
      const form = signLegacyRequest(legacyParams({ biz_content: bizContent }), merchant.privateKeyPem);
      expect(await postLegacy(form)).toMatchObject({ code: '40002', sub_code: 'isv.invalid-parameter' });
    }
  });

  it('refuses a parameter sent twice (query and form)', async () => {
    const form = signLegacyRequest(legacyParams(), merchant.privateKeyPem);
    const res = await app.inject({
      method: 'POST',
      url: `/gateway.do?app_id=${appId}`,
      payload: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.json().alipay_trade_query_response).toMatchObject({ sub_code: 'isv.invalid-parameter' });
  });

  it('refuses an oversized body with a signed error, over real HTTP too', async () => {
    const form = signLegacyRequest(legacyParams(), merchant.privateKeyPem);
    const { method, sign_type, ...bodyParams } = form;
    const query = new URLSearchParams({ method: method ?? '', sign_type: sign_type ?? '' });
    const payload = `${new URLSearchParams(bodyParams)}&pad=${'x'.repeat(limits.gatewayBodyBytesMax)}`;
    const res = await app.inject({
      method: 'POST',
      url: `/gateway.do?${query}`,
      payload,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().alipay_trade_query_response).toMatchObject({ code: '40002', sub_code: 'isv.request-too-large' });
    sdk().checkResponseSign(res.body, 'alipay_trade_query_response', res.json().sign, '');
    const big = await sdk().exec(
      'alipay.trade.query',
      { bizContent: { pad: 'x'.repeat(limits.gatewayBodyBytesMax) } },
      { validateSign: true },
    );
    expect(big).toMatchObject({ code: '40002', subCode: 'isv.request-too-large' });
  });

  it('refuses a body that is not a form', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/gateway.do?method=alipay.trade.query',
      payload: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().alipay_trade_query_response).toMatchObject({ sub_code: 'isv.invalid-content-type' });
  });

  it('answers 20000 when the method throws', async () => {
    const form = signLegacyRequest(legacyParams({ method: 'alipay.trade.cancel' }), merchant.privateKeyPem);
    expect(await postLegacy(form, 'alipay_trade_cancel_response')).toMatchObject({
      code: '20000',
      sub_code: 'isp.unknow-error',
    });
  });

  it('carries unicode and reserved characters intact through sign and parse', async () => {
    const bizContent = JSON.stringify({ out_trade_no: 'B-ü-中文-🧧-&=+%' });
    const form = signLegacyRequest(legacyParams({ biz_content: bizContent }), merchant.privateKeyPem);
    expect(await postLegacy(form)).toMatchObject({ code: '10000', out_trade_no: 'B-ü-中文-🧧-&=+%' });
  });
});

/** Signs a parameter set that may hold an invalid sign_type (which `signLegacyRequest` refuses). */
function signLegacyRequestSafe(params: Record<string, string>): Record<string, string> {
  if (params.sign_type === 'RSA2' || params.sign_type === 'RSA')
    return signLegacyRequest(params, merchant.privateKeyPem);
  return {
    ...signLegacyRequest({ ...params, sign_type: 'RSA2' }, merchant.privateKeyPem),
    sign_type: params.sign_type ?? '',
  };
}

describe('v3 protocol refusals', () => {
  it('accepts a request signed by hand (the baseline for the rest)', async () => {
    const res = await app.inject(v3Request());
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ out_trade_no: 'B-1' });
  });

  it('refuses the SDK’s own request sent a second time (same nonce)', async () => {
    seen.length = 0;
    await sdk().curl('POST', '/v3/alipay/trade/query', { body: { out_trade_no: 'R-1' } });
    const first = seen.at(-1);
    expect(first?.url).toBe('/v3/alipay/trade/query');
    const headers = { authorization: String(first?.headers.authorization), 'content-type': 'application/json' };
    const replay = await app.inject({ method: 'POST', url: first?.url ?? '', headers, payload: String(first?.body) });
    expect(replay.statusCode).toBe(401);
    expect(replay.json()).toEqual({ code: 'invalid-nonce', message: expect.any(String), links: [] });
  });

  it.each([
    ['no authorization', { authorization: undefined }, 401, 'missing-signature'],
    ['another scheme', { authorization: 'Bearer abc' }, 401, 'invalid-signature'],
    ['an app auth token', { 'alipay-app-auth-token': 'x' }, 401, 'invalid-app-auth-token'],
    ['an encrypted body', { 'alipay-encrypt-type': 'AES' }, 400, 'encrypt-not-supported'],
  ])('refuses %s', async (_what, headers: Record<string, string | undefined>, status, code) => {
    const request = v3Request();
    const merged = Object.entries({ ...request.headers, ...headers }).filter(([, value]) => value !== undefined);
    const res = await app.inject({ ...request, headers: Object.fromEntries(merged) });
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ code, links: [] });
  });

  it.each([
    ['a timestamp 20 minutes old', { timestampMs: Date.now() - 20 * 60_000 }, 401, 'invalid-timestamp'],
    ['a timestamp 20 minutes ahead', { timestampMs: Date.now() + 20 * 60_000 }, 401, 'invalid-timestamp'],
    ['a signature by another key', { key: keyPair().privateKeyPem }, 401, 'invalid-signature'],
    ['malformed JSON', { body: '{"out_trade_no":' }, 400, 'invalid-parameter'],
    ['a JSON array', { body: '[1]' }, 400, 'invalid-parameter'],
    ['an unknown path', { url: '/v3/alipay/trade/nothing' }, 404, 'invalid-method'],
    ['a path outside the method space', { url: '/v3/alipay/Trade/../query' }, 404, 'invalid-method'],
  ])('refuses %s', async (_what, options, status, code) => {
    const res = await app.inject(v3Request(options));
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ code, links: [] });
  });

  it('refuses a tampered body (the signature covers its exact text)', async () => {
    const request = v3Request();
    const res = await app.inject({ ...request, payload: '{"out_trade_no":"B-2"}' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'invalid-signature' });
  });

  it('refuses an oversized body with 413, and a form body with 415', async () => {
    const big = v3Request({ body: JSON.stringify({ pad: 'x'.repeat(limits.gatewayBodyBytesMax) }) });
    const res = await app.inject(big);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'request-too-large' });
    const form = v3Request({ body: 'a=1' });
    const res2 = await app.inject({
      ...form,
      headers: { ...form.headers, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res2.statusCode).toBe(415);
  });

  it('answers 503 when the method throws', async () => {
    const res = await app.inject(v3Request({ url: '/v3/alipay/trade/cancel' }));
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'unknow-error' });
  });
});

describe('the clock decides the window', () => {
  it('refuses requests that were fresh when signed once the platform clock has moved past the window', async () => {
    const clock = new ManualClock(Date.now() + limits.gatewayTimestampSkewMs + 60_000);
    const late = gatewayApp(gatewayOptions(platformKeys, merchant, { clock }));
    const lateBase = await listen(late);
    try {
      const client = sdkFor(lateBase, merchant.privateKeyPem, platformKeys.publicKeyPem);
      const legacy = await client.exec('alipay.trade.query', { bizContent: {} }, { validateSign: true });
      expect(legacy).toMatchObject({ code: '40002', subCode: 'isv.invalid-timestamp' });
      await expect(client.curl('POST', '/v3/alipay/trade/query', { body: {} })).rejects.toMatchObject({
        code: 'invalid-timestamp',
        responseHttpStatus: 401,
      });
    } finally {
      await late.close();
    }
  });
});
