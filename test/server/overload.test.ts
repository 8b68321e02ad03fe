/**
 * Overload protection at the HTTP edge (src/server/overload.ts):
 *
 * - every request is classed from its path (and the gateway's `method`, from the query string,
 *   the form, or the v3 path) before anything is read;
 * - a server with a small capacity (4 in flight) keeps paying — every trade.pay of two payers
 *   succeeds — while a storm of trade.query is shed with Alipay's busy answer, which the real
 *   alipay-sdk reads as a normal, signed error response;
 * - past the queueing bound, the lower classes are refused first, each in its wire's own form:
 *   the gateway's signed `20000 isp.unknow-error` over both protocols, 503 with `Retry-After`
 *   on the native API (before the session is looked up), a page, the console's `SYSTEM_BUSY`;
 *   health and metrics never; a shed request writes nothing;
 * - one app's storm spends its own token bucket, not another app's; one user's likewise, over
 *   all of the user's sessions;
 * - background rounds yield to requests; the metrics show every class.
 */
import { AlipayRequestError } from 'alipay-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Load } from '../../src/core/concurrency-limit.ts';
import { limits } from '../../src/core/limits.ts';
import { overloadOf } from '../../src/server/app.ts';
import { requestClassOf } from '../../src/server/overload.ts';
import { newBuyer, ok, type PlatformGateway, startPlatformGateway, uniqueNo } from '../gateway/platform-support.ts';

describe('request classes', () => {
  it.each([
    ['POST', '/gateway.do?method=alipay.trade.pay&app_id=1', 'payment'],
    ['POST', '/gateway.do?app_id=1&method=alipay.trade.precreate', 'payment'],
    ['POST', '/gateway.do?method=alipay.trade.refund', 'refund'],
    ['POST', '/gateway.do?method=alipay.fund.trans.uni.transfer', 'refund'],
    ['GET', '/gateway.do?method=alipay.trade.query', 'query'],
    ['POST', '/gateway.do?method=alipay.data.dataservice.bill.downloadurl.query', 'report'],
    ['POST', '/gateway.do?method=no.such.method', 'query'],
    ['POST', '/gateway.do', 'form'],
    ['POST', '/v3/alipay/trade/pay', 'payment'],
    ['GET', '/v3/alipay/trade/query?out_trade_no=1', 'query'],
    ['POST', '/v3/alipay/fund/trans/uni/transfer', 'refund'],
    ['POST', '/api/v1/transfers', 'payment'],
    ['POST', '/api/v1/red-packets/RP1/grab', 'payment'],
    ['POST', '/api/v1/withdrawals', 'refund'],
    ['POST', '/api/v1/trades/T1/refund-requests', 'refund'],
    ['GET', '/api/v1/balance', 'query'],
    ['GET', '/api/v1/bills?limit=5', 'report'],
    ['POST', '/api/v1/sessions', 'query'],
    ['GET', '/cashier/T1', 'payment'],
    ['POST', '/cashier/T1/card', 'payment'],
    ['POST', '/wallet/withdraw', 'refund'],
    ['GET', '/wallet/fund', 'query'],
    ['POST', '/channels/callbacks/ICBC', 'refund'],
    ['GET', '/console/v1/disputes', 'report'],
    ['GET', '/ops/v1/reserves', 'report'],
    ['GET', '/docs/json', 'report'],
    ['GET', '/bills/abc.csv', 'report'],
    ['GET', '/health', 'exempt'],
    ['GET', '/metrics', 'exempt'],
  ])('%s %s is %s', (method, url, expected) => {
    expect(requestClassOf(method, url)).toBe(expected);
  });
});

describe('a server with a small capacity', () => {
  let world: PlatformGateway;
  beforeAll(async () => {
    // Four in flight: queries (60%) may hold two, so two places are always the payments'. The
    // load is measured as the server measures it, the queueing bound out of the way: this is
    // about concurrency.
    world = await startPlatformGateway({ overload: { concurrencyMax: 4, queueWaitMs: 60_000, measureLoad: true } });
  }, 120_000);
  afterAll(() => world?.close());

  it('keeps paying while it sheds a storm of queries with the busy answer the SDK reads', async () => {
    const { a, platform } = world;
    const buyers = await Promise.all(['13900000301', '13900000302'].map((p) => newBuyer(platform, p, 1_000_000n)));
    const seed = ok(
      await a.call('legacy', 'alipay.trade.pay', {
        out_trade_no: uniqueNo('seed'),
        scene: 'bar_code',
        auth_code: await buyers[0]?.paycode(),
        total_amount: '1.00',
        subject: 'seed',
      }),
    );
    let paying = true;
    const queries: Array<Record<string, unknown>> = [];
    const storm = Array.from({ length: 12 }, async () => {
      while (paying) {
        queries.push(
          await a.sdk.exec(
            'alipay.trade.query',
            { bizContent: { out_trade_no: seed.out_trade_no } },
            { validateSign: true },
          ),
        );
      }
    });
    const paid: string[] = [];
    await Promise.all(
      buyers.map(async (buyer) => {
        for (let i = 0; i < 15; i++) {
          const answer = ok(
            await a.call('legacy', 'alipay.trade.pay', {
              out_trade_no: uniqueNo('storm'),
              scene: 'bar_code',
              auth_code: await buyer.paycode(),
              total_amount: '0.01',
              subject: 'paid in a storm',
            }),
          );
          paid.push(String(answer.trade_no));
        }
      }),
    );
    paying = false;
    await Promise.all(storm);

    expect(paid).toHaveLength(30);
    const busy = queries.filter((q) => q.code === '20000');
    const answered = queries.filter((q) => q.code === '10000');
    expect(busy.length).toBeGreaterThan(0);
    expect(answered.length + busy.length).toBe(queries.length);
    // Alipay's system-busy answer, signed (exec validated it) under the method's own response key.
    expect(busy[0]).toMatchObject({
      code: '20000',
      msg: 'Service Currently Unavailable',
      sub_code: 'isp.unknow-error',
    });
    const paidCount = await platform.db.query<{ n: string }>(
      "select count(*)::text as n from trades where status = 'TRADE_SUCCESS'",
    );
    expect(Number(paidCount[0]?.n)).toBe(31);

    const metrics = (await world.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/paybao_requests_shed_total\{class="query",reason="concurrency"\} [1-9]/);
    expect(metrics).not.toMatch(/paybao_requests_shed_total\{class="payment"/);
    expect(metrics).toMatch(/paybao_requests_admitted_total\{class="payment"\} 3[12]/);
    expect(metrics).toContain('paybao_concurrency_limit{class="payment"} 4');
    expect(metrics).toContain('paybao_concurrency_limit{class="query"} 2');
    expect(metrics).toMatch(/paybao_request_queue_seconds_count\{class="payment"\} 3[12]/);
    expect(metrics).toContain('paybao_bank_breaker_state{bank="ICBC"} 0');
    // @fastify/under-pressure's measurement of the event loop is what the checks read.
    const { waitMs } = overloadOf(world.app).load();
    expect(Number.isFinite(waitMs) && waitMs >= 0).toBe(true);
  }, 120_000);
});

describe('a gateway request admitted before Fastify', () => {
  let world: PlatformGateway;
  beforeAll(async () => {
    world = await startPlatformGateway({ overload: { concurrencyMax: 4, queueWaitMs: 60_000 } });
  }, 120_000);
  afterAll(() => world?.close());

  it('gives its place back when Fastify answers it without its hooks (a path it cannot decode)', async () => {
    // Admitted on the raw request (a v3 method path), then refused by Fastify's router before any hook.
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${world.base}/v3/alipay/trade/%zz`, { method: 'POST', body: '{}' });
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
    const metrics = (await world.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/paybao_requests_in_flight 0/);
    // Four places, twelve such requests: had each kept its place, this query would be refused.
    const answer = await world.a.sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: 'none' } });
    expect(answer).toMatchObject({ code: '40004', sub_code: 'ACQ.TRADE_NOT_EXIST' });
  });
});

describe('past the queueing bound, and past a rate', () => {
  let world: PlatformGateway;
  // The event loop's delay as the test sets it: 0 until a test says otherwise.
  let load: Load = { pressured: false, waitMs: 0 };
  beforeAll(async () => {
    world = await startPlatformGateway({
      overload: { load: () => load, appRequestsPerSecond: 5, userRequestsPerSecond: 2 },
    });
  }, 120_000);
  afterAll(() => world?.close());

  const tradeCount = async () =>
    Number((await world.platform.db.query<{ n: string }>('select count(*)::text as n from trades'))[0]?.n);

  it('refuses the lower classes first, each in its own wire form, and writes nothing', async () => {
    const { a, app } = world;
    // 350 ms to wait: within the payments' 500 and the refunds' 400, past the queries' 300.
    load = { pressured: true, waitMs: 350 };
    try {
      const legacy = await a.sdk.exec(
        'alipay.trade.query',
        { bizContent: { out_trade_no: 'Q-1' } },
        { validateSign: true },
      );
      expect(legacy).toMatchObject({
        code: '20000',
        msg: 'Service Currently Unavailable',
        sub_code: 'isp.unknow-error',
      });
      const v3 = await a.sdk.curl('GET', '/v3/alipay/trade/query', { query: { out_trade_no: 'Q-1' } }).catch((e) => e);
      expect(v3).toBeInstanceOf(AlipayRequestError);
      expect(v3).toMatchObject({ code: 'unknow-error', responseHttpStatus: 503 });

      // The native API refuses before the session is looked up: 503, not 401.
      const api = await app.inject({ url: '/api/v1/balance', headers: { authorization: 'Bearer nobody' } });
      expect(api.statusCode).toBe(503);
      expect(api.headers['retry-after']).toBe('1');
      expect(api.json()).toEqual({
        type: 'api_error',
        code: 'server_busy',
        message: 'the platform is busy; nothing was done, retry in a moment',
        param: null,
      });
      const page = await app.inject({ url: '/wallet/fund' });
      expect(page.statusCode).toBe(503);
      expect(page.headers['retry-after']).toBe('1');
      expect(page.body).toContain('系统繁忙 · Busy right now');
      expect(page.headers['content-security-policy']).toBeDefined();
      const console = await app.inject({ url: '/console/v1/disputes' });
      expect(console.statusCode).toBe(503);
      expect(console.json()).toMatchObject({ code: 'SYSTEM_BUSY' });
      expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
      expect((await app.inject({ url: '/metrics' })).statusCode).toBe(200);

      // A payment still gets through, and so does a refund.
      const created = ok(
        await a.call('legacy', 'alipay.trade.create', {
          out_trade_no: uniqueNo('q'),
          total_amount: '1.00',
          subject: 'q',
        }),
      );
      expect(created.trade_no).toBeDefined();
      const refund = await a.call('legacy', 'alipay.trade.refund', { out_trade_no: 'nope', refund_amount: '1.00' });
      expect(refund).toMatchObject({ code: '40004', sub_code: 'ACQ.TRADE_NOT_EXIST' });

      // 600 ms: past every class's bound. A shed trade.create writes nothing.
      load = { pressured: true, waitMs: 600 };
      const before = await tradeCount();
      const biz = () => ({ out_trade_no: uniqueNo('shed'), total_amount: '1.00', subject: 's' });
      expect(await a.sdk.exec('alipay.trade.create', { bizContent: biz() }, { validateSign: true })).toMatchObject({
        code: '20000',
        sub_code: 'isp.unknow-error',
      });
      const shedV3 = await a.call('v3', 'alipay.trade.create', biz()).catch((e: unknown) => e);
      expect(shedV3).toMatchObject({ code: 'unknow-error', responseHttpStatus: 503 });
      expect(await tradeCount()).toBe(before);
    } finally {
      load = { pressured: false, waitMs: 0 };
    }
  });

  it('decides a legacy request whose method is only in its form once the form is read', async () => {
    load = { pressured: true, waitMs: 350 };
    try {
      const form = new URLSearchParams({ method: 'alipay.trade.query', app_id: world.b.appId, biz_content: '{}' });
      const res = await world.app.inject({
        method: 'POST',
        url: '/gateway.do',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form.toString(),
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        alipay_trade_query_response: { code: '20000', sub_code: 'isp.unknow-error' },
      });
    } finally {
      load = { pressured: false, waitMs: 0 };
    }
  });

  it("lets one app's storm spend only its own rate", async () => {
    const { a, b } = world;
    // Five a second with a burst of ten: of thirty at once, at most a dozen get through.
    const storm = await Promise.all(
      Array.from({ length: 30 }, () =>
        a.sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: 'S-1' } }, { validateSign: true }),
      ),
    );
    const limited = storm.filter((r) => r.code === '20000');
    expect(limited.length).toBeGreaterThanOrEqual(18);
    expect(limited[0]).toMatchObject({
      sub_code: 'isp.unknow-error',
      sub_msg: '服务暂不可用（业务系统不可用）：调用频率超限，请稍后重试',
    });
    // B, at its own pace, is served.
    for (let i = 0; i < 3; i++) {
      const answer = await b.sdk.exec(
        'alipay.trade.query',
        { bizContent: { out_trade_no: 'S-1' } },
        { validateSign: true },
      );
      expect(answer).toMatchObject({ code: '40004', sub_code: 'ACQ.TRADE_NOT_EXIST' });
    }
  });

  it('refuses a gateway request past its rate before Fastify reads it, with the signed busy answer, Retry-After and the security headers', async () => {
    const { a } = world;
    // Unsigned, and a form that is not one: refused before the body or the signature is looked at.
    const url = `${world.base}/gateway.do?method=alipay.trade.query&app_id=${a.appId}&sign_type=RSA2`;
    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(100) }),
      ),
    );
    const refused = answers.filter((r) => r.headers.get('retry-after') !== null);
    expect(refused.length).toBeGreaterThanOrEqual(18);
    const first = refused[0] as Response;
    expect(first.status).toBe(200);
    expect(first.headers.get('x-content-type-options')).toBe('nosniff');
    const body = (await first.json()) as { alipay_trade_query_response: Record<string, string>; sign: string };
    expect(body.alipay_trade_query_response).toMatchObject({ code: '20000', sub_code: 'isp.unknow-error' });
    expect(body.sign.length).toBeGreaterThan(0);
  });

  it("lets one user's storm, over all of the user's sessions, spend only that user's rate", async () => {
    const { app, platform } = world;
    // Past the cool-down of the earlier tests' refusals: the storm meets only the rate here.
    await new Promise((r) => setTimeout(r, limits.overloadCooldownMs));
    const login = async (phone: string) => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/sessions',
        payload: { phone, password: 'correct horse 1' },
      });
      return `Bearer ${res.json().token}`;
    };
    await newBuyer(platform, '13900000401', 0n);
    await newBuyer(platform, '13900000402', 0n);
    const first = await login('13900000401');
    const second = await login('13900000401');
    const other = await login('13900000402');
    const balance = (authorization: string) => app.inject({ url: '/api/v1/balance', headers: { authorization } });
    // Each session's first answer tells the platform whose it is; from then on both draw on the
    // user's one bucket: two a second, a burst of eight.
    expect((await balance(first)).statusCode).toBe(200);
    expect((await balance(second)).statusCode).toBe(200);
    const storm = await Promise.all(Array.from({ length: 30 }, (_, i) => balance(i % 2 ? first : second)));
    const refused = storm.filter((r) => r.statusCode === 429);
    expect(refused.length).toBeGreaterThanOrEqual(20);
    expect(refused[0]?.headers['retry-after']).toBe('1');
    expect(refused[0]?.json()).toMatchObject({ type: 'rate_limit_error', code: 'too_many_requests' });
    expect(storm.filter((r) => r.statusCode !== 200 && r.statusCode !== 429).map((r) => r.body)).toEqual([]);
    // Another user is served.
    expect((await balance(other)).statusCode).toBe(200);
  });

  it('lets a background round run only while requests leave it room', async () => {
    const overload = overloadOf(world.app);
    expect(overload.admitsBackground()).toBe(true);
    // Background work waits at most a fifth of the bound (100 ms).
    load = { pressured: true, waitMs: 150 };
    try {
      expect(overload.admitsBackground()).toBe(false);
    } finally {
      load = { pressured: false, waitMs: 0 };
    }
    const metrics = (await world.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/paybao_requests_shed_total\{class="background",reason="concurrency"\} 1/);
    expect(metrics).toMatch(/paybao_requests_shed_total\{class="query",reason="queue"\} [1-9]/);
    expect(metrics).toMatch(/paybao_requests_shed_total\{class="query",reason="rate"\} [1-9]/);
  });
});
