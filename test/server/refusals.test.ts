/**
 * The findings of a new user's trial (issue 11 §2), each answered now in the wire form of the
 * route it hits, and none writing anything:
 *
 * - a repeated form field on the cashier and the card cashier was a 500 (`input.replace is not a
 *   function`): now an HTML page naming the field;
 * - a malformed wallet cookie was a 500 (`URI malformed`): now simply no session;
 * - a NUL in `subject` reached PostgreSQL (legacy `20000 isp.unknow-error`, v3 503): now
 *   `40002 isv.invalid-parameter` naming the field, over the real alipay-sdk, on both protocols;
 * - the pages answered bad JSON, 413, 414, 415, bad URLs and unknown routes with Fastify's JSON:
 *   now an HTML page;
 * - the native API's schema misses showed the regular expression: now words;
 * - a plugin's refusal (a CSRF token, a rate limit) is put in our words too, with its status.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/index.ts';
import { type PlatformGateway, startPlatformGateway } from '../gateway/platform-support.ts';

let world: PlatformGateway;
let app: FastifyInstance;
let tradeNo: string;
const phone = '13900000002';
const password = 'refusals pays 1';

const form = { 'content-type': 'application/x-www-form-urlencoded' };

beforeAll(async () => {
  world = await startPlatformGateway();
  app = world.app;
  await world.platform.members.createUser({ phone, password, openingBalance: 10_000n });
  const trade = await world.platform.trades.create({
    appId: world.a.appId,
    outTradeNo: 'refusals-1',
    totalAmount: '1.00',
    subject: 'refusals',
  });
  tradeNo = trade.tradeNo;
}, 120_000);

afterAll(() => world?.close());

/** Asserts an HTML refusal page with `status`, carrying none of the framework's words. */
function expectPage(res: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number) {
  expect(res.statusCode).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^text\/html/);
  expect(res.body).toMatch(/^<!doctype html>/);
  expect(res.body).not.toMatch(/FST_|statusCode|Error:/);
}

const tradeCount = async () =>
  Number((await world.platform.db.query<{ n: string }>('select count(*)::text as n from trades'))[0]?.n);

describe('the pages', () => {
  it.each([['/cashier/:tradeNo'], ['/cashier/:tradeNo/card']])(
    'answer a repeated field on %s with a page naming it, and pay nothing',
    async (route) => {
      const res = await app.inject({
        method: 'POST',
        url: route.replace(':tradeNo', tradeNo),
        headers: form,
        payload: `phone=${phone}&phone=2&password=${encodeURIComponent(password)}&password=b`,
      });
      expectPage(res, 400);
      expect(res.body).toContain('phone was sent more than once');
      expect((await world.platform.trades.byTradeNo(tradeNo)).status).toBe('WAIT_BUYER_PAY');
    },
  );

  it('take a malformed wallet cookie for no session', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/wallet/withdraw',
      headers: { cookie: 'paybao_wallet=%E0%A4%A' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('name="password"');
  });

  it.each([
    ['bad JSON', { method: 'POST', url: '/wallet/withdraw', type: 'application/json', payload: '{bad' }, 415],
    ['a JSON body', { method: 'POST', url: '/cashier/:tradeNo', type: 'application/json', payload: '{}' }, 415],
    ['an unknown content type', { method: 'POST', url: '/wallet/withdraw', type: 'text/xml', payload: '<x/>' }, 415],
    [
      'a body over the limit',
      { method: 'POST', url: '/wallet/withdraw', type: form['content-type'], payload: 'a='.padEnd(1_100_000, 'x') },
      413,
    ],
    ['a path parameter too long', { method: 'GET', url: `/cashier/${'1'.repeat(200)}` }, 414],
    ['a URL that is not UTF-8', { method: 'GET', url: '/cashier/%E0%A4%A' }, 400],
    ['an unknown route', { method: 'GET', url: '/no/such/page' }, 404],
    ['a NUL in a query parameter', { method: 'GET', url: '/channels/return/ICBC?x=%00' }, 400],
  ])('answer %s with an HTML page', async (_what, request: Record<string, string>, status) => {
    const res = await app.inject({
      method: request.method as 'GET',
      url: String(request.url).replace(':tradeNo', tradeNo),
      ...(request.type ? { headers: { 'content-type': request.type } } : {}),
      ...(request.payload === undefined ? {} : { payload: request.payload }),
    });
    expectPage(res, status);
  });
});

describe('the gateway', () => {
  it.each([['legacy'], ['v3']] as const)(
    'refuses a NUL in subject over %s with isv.invalid-parameter naming the field, creating nothing',
    async (protocol) => {
      const before = await tradeCount();
      const biz = { out_trade_no: `nul-${protocol}`, total_amount: '1.00', subject: 'a\u0000b' };
      if (protocol === 'legacy') {
        const result = await world.a.sdk.exec('alipay.trade.precreate', { bizContent: biz }, { validateSign: true });
        expect(result).toMatchObject({ code: '40002', sub_code: 'isv.invalid-parameter' });
        expect(String(result.sub_msg)).toContain('subject');
      } else {
        const error = await world.a.sdk.curl('POST', '/v3/alipay/trade/precreate', { body: biz }).catch((e) => e);
        expect(error).toMatchObject({ responseHttpStatus: 400, code: 'invalid-parameter' });
        expect(String(error.message)).toContain('subject');
      }
      expect(await tradeCount()).toBe(before);
    },
  );

  it('answers an unreadable legacy body with a signed Alipay error, not Fastify’s', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/gateway.do?method=alipay.trade.query',
      headers: form,
      payload: 'a='.padEnd(2_000_000, 'x'),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().alipay_trade_query_response).toMatchObject({ code: '40002', sub_code: 'isv.request-too-large' });
  });
});

describe('the native API', () => {
  const post = (url: string, payload: string) =>
    app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });

  it('says in words what a parameter must be, never with its regular expression', async () => {
    const res = await post('/api/v1/sessions', JSON.stringify({ phone: 'x', password: 'p' }));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      type: 'invalid_request_error',
      code: 'parameter_invalid',
      message: 'phone is malformed: A mainland mobile (13800138000) or E.164 (+8613800138000).',
      param: 'phone',
    });
  });

  it.each([
    ['a NUL', '"a\\u0000b"'],
    ['an unpaired surrogate', '"a\\ud800b"'],
  ])('refuses %s in a string before anything reads it, naming the parameter', async (_what, value) => {
    const res = await post('/api/v1/sessions', `{"phone":"${phone}","password":${value}}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'parameter_invalid', param: 'password' });
    expect(res.json().message).toContain('NUL character or an unpaired surrogate');
  });

  it('refuses a query parameter sent twice', async () => {
    const res = await post('/api/v1/sms-codes?phone=1&phone=2', JSON.stringify({ phone }));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'parameter_invalid',
      param: 'phone',
      message: 'phone was sent more than once',
    });
  });

  it('answers bad JSON in its own shape', async () => {
    const res = await post('/api/v1/sessions', '{bad');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      type: 'invalid_request_error',
      code: 'body_invalid',
      message: 'the request body is not valid JSON',
      param: null,
    });
  });
});

describe('refusals of plugins (CSRF, rate limits)', () => {
  it('are answered in our words with their status, as a page or in the native shape', async () => {
    const bare = createApp();
    const refuse = (statusCode: number, code: string) => async () => {
      throw Object.assign(new Error(`${code}: plugin words`), { statusCode, code });
    };
    bare.post('/wallet/plugin', refuse(403, 'FST_CSRF_INVALID_TOKEN'));
    bare.post('/api/v1/plugin', refuse(429, 'FST_ERR_RATE_LIMITED'));
    const page = await bare.inject({ method: 'POST', url: '/wallet/plugin' });
    expectPage(page, 403);
    expect(page.body).not.toContain('plugin words');
    const native = await bare.inject({ method: 'POST', url: '/api/v1/plugin' });
    expect(native.statusCode).toBe(429);
    expect(native.json()).toEqual({
      type: 'rate_limit_error',
      code: 'too_many_requests',
      message: 'too many requests; wait a moment and retry',
      param: null,
    });
    await bare.close();
  });
});
