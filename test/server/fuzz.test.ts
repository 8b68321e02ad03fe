/**
 * Whatever arrives, on every route the platform serves (taken from Fastify's own `onRoute` hook,
 * so a route added tomorrow is fuzzed tomorrow), the answer is a refusal a client or a person can
 * read, and nothing is written:
 *
 * - never a 5xx;
 * - no stack, framework code, JavaScript error name or database message in any refusal;
 * - a refusal in the wire form of its scope: `{type, code, message, param}` (message in words,
 *   no regular expression) on the native API, `{code, message}` on the console, Alipay's JSON on
 *   the gateway, an HTML page on the pages;
 * - the ledger and the key tables unchanged, and `verifyLedger` clean.
 *
 * The requests are fast-check's: forms, JSON, query strings, path parameters, headers and
 * cookies, with repeated fields, NUL, unpaired surrogates, huge and negative numbers, malformed
 * percent-encoding and wrong content types; some carry a live session, an operator's token or the
 * wallet cookie, so that the checks behind authentication are reached too. The number of runs is
 * `PAYBAO_FUZZ_RUNS` (spread over the routes, at least 3 each; 800 by default, about ten a route,
 * which keeps CI within a minute); set it higher for a longer local run.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signLegacyRequest } from '../../src/gateway/index.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { openPlatform, type Platform } from '../../src/platform.ts';
import { tradeMethods } from '../../src/server/alipay-methods.ts';
import { escrowMethods } from '../../src/server/escrow-methods.ts';
import { buildPlatformApp, servedRoutes } from '../../src/server/index.ts';
import { preauthMethods } from '../../src/server/preauth-methods.ts';
import { wireFormOf } from '../../src/server/refusals.ts';
import { keyPair } from '../gateway/support.ts';
import { databaseUrl, freshSchema } from '../support/engine.ts';

const totalRuns = Number(process.env.PAYBAO_FUZZ_RUNS ?? 800);
const operatorToken = 'fuzz-operator-token';
const phone = '13900000001';

let platform: Platform;
let app: FastifyInstance;
let tradeNo: string;
let session: string;
let operator: string;
let appId = '';
const merchantKeys = keyPair();

/** Tables a refused request must leave as they were. */
const keyTables = [
  'ledger_accounts',
  'ledger_transfers',
  'ledger_pending',
  'members',
  'members_apps',
  'trades',
  'trade_transitions',
  'trade_refunds',
  'refund_cases',
  'disputes',
  'channel_orders',
  'channel_cards',
  'wallet_transfers',
  'payouts',
  'settlements',
  'recon_runs',
  'escrow_contracts',
  'operators',
];

async function counts(): Promise<Record<string, number>> {
  const entries = await Promise.all(
    keyTables.map(async (table) => {
      const rows = await platform.db.query<{ n: string }>(`select count(*)::text as n from ${table}`);
      return [table, Number(rows[0]?.n)] as const;
    }),
  );
  return Object.fromEntries(entries);
}

let before: Record<string, number>;

beforeAll(async () => {
  // No banks: nothing a fuzzed request does can reach a bank simulator another test runs.
  platform = await openPlatform({ databaseUrl, databaseSchema: freshSchema(), channelBanks: [] });
  app = await buildPlatformApp({ platform, publicUrl: () => 'http://127.0.0.1:9', operatorToken });
  await app.ready();
  const password = randomBytes(12).toString('hex');
  await platform.members.createUser({ phone, password, openingBalance: 10_000n });
  const merchant = await platform.members.createApp({
    name: 'Fuzz shop',
    merchantPublicKeyPem: merchantKeys.publicKeyPem,
  });
  appId = merchant.appId;
  const trade = await platform.trades.create({
    appId: merchant.appId,
    outTradeNo: 'fuzz-1',
    totalAmount: '1.00',
    subject: 'fuzz',
  });
  tradeNo = trade.tradeNo;
  session = (await platform.wallet.login({ phone, password })).token;
  operator = (await platform.operators.create('fuzz')).token;
  before = await counts();
}, 120_000);

afterAll(async () => {
  await app?.close();
  await platform?.close();
});

// ---- What a client may send -----------------------------------------------------------------

const nasty = fc.constantFrom(
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udc00y',
  '',
  ' ',
  '-1',
  '0',
  '-0.01',
  '0.001',
  '1e309',
  '9'.repeat(400),
  '99999999999999999999.99',
  '9999999999999999.99',
  'NaN',
  'Infinity',
  '1.00',
  phone,
  '2088000000000001',
  'login',
  'pay',
  'withdraw',
  'logout',
  'true',
  '__proto__',
  'constructor',
  '<script>alert(1)</script>',
  "' or 1=1 --",
  '%00',
  '%E0%A4%A',
  'x'.repeat(5_000),
);
const text = fc.oneof(
  { arbitrary: nasty, weight: 3 },
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const anyFieldName = fc.oneof(
  fc.constantFrom(
    'phone',
    'password',
    'sms_code',
    'step',
    'card_id',
    'amount',
    'idempotency_key',
    'to_user_id',
    'to_phone',
    'memo',
    'reason',
    'need_return',
    'bank',
    'method',
    'card_no',
    'name',
    'logistics_company',
    'logistics_no',
    'claim_amount',
    'decision',
    'award_amount',
    'note',
    'escrow_default',
    'fee_bps',
    'confirm_days',
    'reference',
    'action',
    'date',
    'state',
    'format',
    'limit',
    'cursor',
    'app_id',
    'biz_content',
    'sign',
    'sign_type',
    'timestamp',
    'version',
    'charset',
    'subject',
    'total_amount',
    'out_trade_no',
  ),
  text,
);
const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -1, 2 ** 64, Number.MAX_SAFE_INTEGER + 2, -0, 0, 10_001),
);
const jsonOf = (names: fc.Arbitrary<string>) =>
  fc.letrec((tie) => ({
    json: fc.oneof(
      { depthSize: 'small' },
      text,
      number,
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('json'), { maxLength: 4 }),
      fc.dictionary(names, tie('json'), { maxKeys: 6 }),
    ),
  })).json;

/** Percent-encodes every byte of the UTF-8 form (an unpaired surrogate becomes U+FFFD's bytes). */
const percent = (s: string) =>
  [...Buffer.from(s, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`,
    )
    .join('');
const rawEncoded = fc.constantFrom('%E0%A4%A', '%', '%zz', '%00', '%ED%A0%80', '..', '1'.repeat(300));
const encoded = fc.oneof({ arbitrary: text.map(percent), weight: 4 }, rawEncoded);
/** Pairs of fields and values, a field repeated now and then: the cashier's 500 came from `phone=1&phone=2`. */
const pairsOf = (names: fc.Arbitrary<string>) =>
  fc.array(fc.tuple(names, text), { maxLength: 6 }).chain((list) =>
    fc.option(fc.nat(), { freq: 2 }).map((i) => {
      const again = i === null ? undefined : list[i % list.length];
      return again ? [...list, again] : list;
    }),
  );
const formOf = (list: Array<[string, string]>) => list.map(([k, v]) => `${percent(k)}=${percent(v)}`).join('&');

const contentTypes = fc.constantFrom(
  'application/json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json; charset=latin1',
  'application/x-www-form-urlencoded; charset=gbk',
  '*/*',
  'nonsense',
);
/** A body; `repeat` stands for a payload of that many `x` (kept short in a counterexample). */
type Body = { payload?: string; type?: string; repeat?: number };
const bodyOf = (names: fc.Arbitrary<string>): fc.Arbitrary<Body> =>
  fc.oneof(
    fc.constant({}),
    pairsOf(names).map((list) => ({ payload: formOf(list), type: 'application/x-www-form-urlencoded' })),
    jsonOf(names).map((value) => ({ payload: JSON.stringify(value) ?? 'null', type: 'application/json' })),
    fc
      .dictionary(names, fc.oneof(text, number, fc.boolean()), { maxKeys: 6 })
      .map((value) => ({ payload: JSON.stringify(value), type: 'application/json' })),
    fc
      .constantFrom('{bad', '', 'null', '[]', '{"__proto__":{"x":1}}', '{"a":1,"a":2}', '\u0000', 'a=1&a=2')
      .map((payload) => ({ payload, type: 'application/json' })),
    fc
      .tuple(fc.oneof(pairsOf(names).map(formOf), fc.string()), contentTypes)
      .map(([payload, type]) => ({ payload, type })),
    fc.constant({ repeat: 1_100_000, type: 'application/x-www-form-urlencoded' }),
  );

/** Header values a real client can put on the wire (printable ASCII). */
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
type Lazy = () => string;

/** Credentials, mostly the ones the route takes, so that what lies behind authentication is fuzzed too. */
function authorization(url: string): fc.Arbitrary<Lazy> {
  const own: Lazy = url.startsWith('/console/')
    ? () => `Bearer ${operator}`
    : url.startsWith('/ops/') || url.startsWith('/regulator/')
      ? () => `Bearer ${operatorToken}`
      : () => `Bearer ${session}`;
  return fc.oneof(
    { arbitrary: fc.constant(own), weight: 4 },
    fc.constant(() => `Bearer ${operator}`),
    headerText.map((h) => () => h),
  );
}

const cookie: fc.Arbitrary<Lazy> = fc.oneof(
  { arbitrary: fc.constant(() => `paybao_wallet=${session}`), weight: 3 },
  fc.constant(() => 'paybao_wallet=%E0%A4%A'),
  headerText.map((h) => () => `paybao_wallet=${h}`),
  headerText.map((h) => () => h),
);

const headersFor = (url: string) =>
  fc.record(
    {
      authorization: authorization(url),
      cookie,
      'idempotency-key': fc.oneof(
        headerText.map((h) => () => h),
        fc.constant(() => `fuzz-${randomBytes(6).toString('hex')}`),
      ),
    },
    { requiredKeys: [] },
  );

interface Fuzzed {
  url: string;
  body: Body;
  headers: Record<string, string>;
}

/** A request to `route`: its parameters filled (the seeded trade now and then), query, headers, body. */
function requestFor(url: string, fields: readonly string[]): fc.Arbitrary<Fuzzed> {
  const names = fields.length
    ? fc.oneof({ arbitrary: fc.constantFrom(...fields), weight: 4 }, anyFieldName)
    : anyFieldName;
  const params = url.split('/').filter((segment) => segment.startsWith(':') || segment === '*');
  const values = params.map((p) =>
    p === ':tradeNo'
      ? fc.oneof(
          fc.constant(() => tradeNo),
          encoded.map((e) => () => e),
        )
      : p === '*'
        ? fc.oneof(
            fc.constant(() => 'trade/query'),
            fc.array(encoded, { maxLength: 3 }).map((list) => () => list.join('/')),
          )
        : encoded.map((e) => () => e),
  );
  const query = fc.oneof(
    fc.constant(''),
    pairsOf(names).map((list) => `?${formOf(list)}`),
    rawEncoded.map((raw) => `?x=${raw}`),
  );
  return fc.record({ values: fc.tuple(...values), query, body: bodyOf(names), headers: headersFor(url) }).map((r) => {
    let i = 0;
    const path = url.replace(/:[A-Za-z]+|\*/g, () => r.values[i++]?.() ?? '');
    const sent: Record<string, string> = {};
    for (const [name, value] of Object.entries(r.headers)) if (value) sent[name] = value();
    if (r.body.type) sent['content-type'] = r.body.type;
    return { url: `${path}${r.query}`, body: r.body, headers: sent };
  });
}

/**
 * The fields a route asks for, so that most fuzzed values land where the route reads: the
 * properties of its schemas, and the names of the form fields its page shows (the pages have no
 * schema).
 */
async function fieldsOf(route: { method: string; url: string; schema: unknown }): Promise<string[]> {
  const names = new Set<string>();
  const schema = (route.schema ?? {}) as Record<string, { properties?: Record<string, unknown> } | undefined>;
  for (const part of ['body', 'querystring', 'headers'])
    for (const n of Object.keys(schema[part]?.properties ?? {})) names.add(n);
  if (wireFormOf(route.url) === 'page' && !route.url.includes('*')) {
    const page = await app.inject({
      method: 'GET',
      url: route.url.replace(':tradeNo', tradeNo),
      headers: { cookie: `paybao_wallet=${session}` },
    });
    for (const match of page.body.matchAll(/name="([^"]+)"/g)) if (match[1] !== 'viewport') names.add(match[1] ?? '');
  }
  return [...names].filter(Boolean);
}

// ---- What must hold of every answer ---------------------------------------------------------

const internals =
  /\n\s+at |FST_[A-Z_]+|TypeError|ReferenceError|RangeError|SyntaxError|URIError|is not a function|Cannot read prop|invalid byte sequence|"statusCode"|node_modules|\.ts:\d/;
/** A message that shows a pattern instead of saying what is wanted. */
const regexLike = /\^|\$"|\\d|\[0-9|\{\d+,\d*\}/;
/** Routes whose own handlers answer a refusal in a protocol of their own (the bank's plain text, a CSV link's 404). */
const ownAnswers = new Set(['/channels/callbacks/:bank', '/bills/*']);

/** The query parameters' names of a request path, as the server decoded them. */
function queryNames(path: string): string[] {
  try {
    return [...new URL(path, 'http://fuzz.invalid').searchParams.keys()];
  } catch {
    return [];
  }
}

function checkAnswer(
  route: string,
  url: string,
  path: string,
  method: string,
  status: number,
  type: string,
  text: string,
): void {
  const at = `${method} ${route} → ${status} ${text.slice(0, 300)}`;
  expect(status, at).toBeLessThan(500);
  if (status < 400 || method === 'HEAD') return;
  expect(text, at).not.toMatch(internals);
  if (ownAnswers.has(route) && !type.startsWith('application/json')) return;
  const form = wireFormOf(path);
  if (form === 'page') {
    expect(type, at).toMatch(/^text\/html/);
    return;
  }
  expect(type, at).toMatch(/^application\/json/);
  const parsed = JSON.parse(text) as Record<string, unknown>;
  if (form === 'native') {
    expect(Object.keys(parsed).sort(), at).toEqual(['code', 'message', 'param', 'type']);
    // The parameter's own name (whatever the client called it) may be anything; the words may not.
    const words = String(parsed.message).replaceAll(String(parsed.param), '');
    expect(words, at).not.toMatch(regexLike);
  } else if (form === 'console') {
    expect(Object.keys(parsed).sort(), at).toEqual(['code', 'message']);
    // The console's shape names no param, so strip every name the request itself chose.
    let words = String(parsed.message);
    for (const name of queryNames(url)) if (name !== '') words = words.replaceAll(name, '');
    expect(words, at).not.toMatch(regexLike);
  } else {
    expect(parsed, at).toHaveProperty('code');
  }
}

describe('every route, fuzzed', () => {
  it('answers every request without a 5xx or an internal message, in its wire form, writing nothing', async () => {
    // HEAD runs GET's handler: fuzzing it again would only halve the runs each route gets.
    const routes = servedRoutes(app).flatMap((r) =>
      r.methods.filter((m) => m !== 'HEAD').map((method) => ({ method, url: r.url, schema: r.schema })),
    );
    expect(routes.length).toBeGreaterThan(40);
    const runsEach = Math.max(3, Math.ceil(totalRuns / routes.length));
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(requestFor(route.url, await fieldsOf(route)), async (request) => {
          const { payload, repeat } = request.body;
          const res = await app.inject({
            method: route.method as 'GET',
            url: request.url,
            headers: request.headers,
            ...(repeat ? { payload: 'x'.repeat(repeat) } : payload === undefined ? {} : { payload }),
          });
          // Where the request really went: the client resolves `..` before it sends.
          const path = new URL(request.url, 'http://fuzz.invalid').pathname;
          checkAnswer(
            route.url,
            request.url,
            path,
            route.method,
            res.statusCode,
            String(res.headers['content-type'] ?? ''),
            res.body,
          );
        }),
        { numRuns: runsEach },
      );
    }
    expect(await counts()).toEqual(before);
    expect(await verifyLedger(platform.db)).toEqual([]);
  }, 600_000);
});

/**
 * Signed gateway calls with fuzzed `biz_content`, which only a merchant holding its key can send:
 * these may legitimately create trades, so the property is no 5xx and no `20000
 * isp.unknow-error` (what a NUL in `subject` answered), with the books still balancing.
 */
describe('every gateway method, signed, with fuzzed biz_content', () => {
  /** A value each method would take, so that a call gets past its first check and deeper in. */
  const plausible: Record<string, fc.Arbitrary<unknown>> = {
    out_trade_no: fc.nat().map((n) => `fz-${n}`),
    trade_no: fc.constant(null).map(() => tradeNo),
    total_amount: fc.constantFrom('1.00', '0.01'),
    subject: fc.constant('fuzz'),
    auth_code: fc.constant('280000000000000000'),
    scene: fc.constant('bar_code'),
    product_code: fc.constantFrom('FAST_INSTANT_TRADE_PAY', 'QUICK_WAP_WAY'),
    timeout_express: fc.constant('90m'),
    refund_amount: fc.constant('0.01'),
    refund_reason: fc.constant('fuzz'),
    out_request_no: fc.nat().map((n) => `rq-${n}`),
    bill_type: fc.constant('trade'),
    bill_date: fc.constant('2026-01-01'),
    out_biz_no: fc.nat().map((n) => `bz-${n}`),
    trans_amount: fc.constant('0.01'),
    order_title: fc.constant('fuzz'),
    biz_scene: fc.constant('DIRECT_TRANSFER'),
    product_code_transfer: fc.constant('TRANS_ACCOUNT_NO_PWD'),
    payee_info: fc.constant({ identity: phone, identity_type: 'ALIPAY_LOGON_ID' }),
    logistics_company: fc.constant('SF'),
    logistics_no: fc.constant('SF123'),
    remark: fc.constant('fuzz'),
    amount: fc.constantFrom('0.01', '1.00'),
    out_order_no: fc.nat().map((n) => `oo-${n}`),
    auth_no: fc.constantFrom('2026120721000000000001', ''),
    auth_code_type: fc.constant('bar_code'),
    auth_confirm_mode: fc.constantFrom('COMPLETE', 'NOT_COMPLETE'),
    pay_timeout: fc.constantFrom('15m', '16d', '0m'),
  };
  /** A plausible value now and then spoilt: NUL or an unpaired surrogate added, or replaced outright. */
  const spoilt = (value: fc.Arbitrary<unknown>) =>
    fc.oneof(
      { arbitrary: value, weight: 4 },
      value.map((v) => `${v}\u0000`),
      value.map((v) => `${v}\ud800`),
      jsonOf(anyFieldName),
    );
  const biz = fc.record(Object.fromEntries(Object.entries(plausible).map(([k, v]) => [k, spoilt(v)])), {
    requiredKeys: [],
  });
  /** "yyyy-MM-dd HH:mm:ss" in the server's local time, as alipay-sdk writes it and the gateway reads it. */
  const localTime = () => {
    const now = new Date();
    return new Date(now.getTime() - now.getTimezoneOffset() * 60_000).toISOString().slice(0, 19).replace('T', ' ');
  };

  it('answers every call with Alipay JSON, never a 5xx or an unknown error', async () => {
    const deps = { ...platform, publicUrl: () => 'http://127.0.0.1:9' };
    const methods = Object.keys({ ...tradeMethods(deps), ...escrowMethods(platform), ...preauthMethods(platform) });
    expect(methods.length).toBeGreaterThan(10);
    const runsEach = Math.max(3, Math.ceil(totalRuns / 2 / methods.length));
    for (const method of methods) {
      await fc.assert(
        fc.asyncProperty(biz, async (content) => {
          const form = signLegacyRequest(
            {
              app_id: appId,
              method,
              charset: 'utf-8',
              sign_type: 'RSA2',
              timestamp: localTime(),
              version: '1.0',
              biz_content: JSON.stringify(content),
            },
            merchantKeys.privateKeyPem,
          );
          const res = await app.inject({
            method: 'POST',
            url: '/gateway.do',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            payload: new URLSearchParams(form).toString(),
          });
          const at = `${method} ${JSON.stringify(content).slice(0, 300)} → ${res.statusCode} ${res.body.slice(0, 300)}`;
          expect(res.statusCode, at).toBeLessThan(500);
          if (res.statusCode === 302) return;
          const answer = Object.values(res.json() as Record<string, { code?: string; sub_code?: string }>)[0];
          expect(answer?.code, at).not.toBe('20000');
          // Every call passes authentication, so that the methods themselves are what is fuzzed.
          expect(answer?.sub_code ?? '', at).not.toMatch(
            /^isv\.(missing|invalid-signature|invalid-timestamp|invalid-app-id)/,
          );
        }),
        { numRuns: runsEach },
      );
    }
    expect(await verifyLedger(platform.db)).toEqual([]);
  }, 600_000);
});
