/**
 * The web security of the pages, through `app.inject()` on the test engine: every response carries
 * the security headers (a CSP that forbids framing and inline code, X-Frame-Options, nosniff,
 * Referrer-Policy), the pages' state-changing posts need the CSRF token of their form and the
 * platform's own Origin, and a refused post writes nothing; cookies are HttpOnly and SameSite,
 * Secure under an https public URL; wrong passwords are throttled per phone and per client address
 * in the database (every process on it refuses alike), until the window has passed; login and
 * SMS-code requests are rate limited per address.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import { Members } from '../../src/members/index.ts';
import type { Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { freshPlatform } from '../support/engine.ts';

const host = '127.0.0.1:8080';
const clock = new ManualClock();
let platform: Platform;
let app: FastifyInstance;
let httpsApp: FastifyInstance;
let appId = '';
let phones = 0;

const nextPhone = () => `137${(10_000_000 + ++phones).toString().slice(-8)}`;

/** A browser's worth of state: its cookies, and the CSRF token of the last form it was shown. */
class Client {
  readonly cookies = new Map<string, string>();
  token = '';
  constructor(
    readonly server: () => FastifyInstance,
    readonly headers: Record<string, string> = { host },
    readonly remoteAddress = '203.0.113.7',
  ) {}

  async send(options: InjectOptions): Promise<LightMyRequestResponse> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await this.server().inject({
      remoteAddress: this.remoteAddress,
      ...options,
      headers: { ...this.headers, ...(cookie ? { cookie } : {}), ...options.headers },
    });
    for (const c of res.cookies as Array<{ name: string; value: string; maxAge?: number }>) {
      if (c.value === '' || c.maxAge === 0) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1];
    if (token) this.token = token;
    return res;
  }

  get(url: string) {
    return this.send({ method: 'GET', url });
  }

  /** A form post as the page's own form sends it: with the token, from the platform's origin. */
  post(url: string, form: Record<string, string>, headers: Record<string, string | undefined> = {}) {
    const all = { 'content-type': 'application/x-www-form-urlencoded', origin: `http://${host}`, ...headers };
    return this.send({
      method: 'POST',
      url,
      headers: Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined)),
      payload: new URLSearchParams({ _csrf: this.token, ...form }).toString(),
    });
  }
}

async function newUser(fen = 10_000n) {
  const phone = nextPhone();
  const password = `password-${phone}`;
  const user = await platform.members.createUser({ phone, password, openingBalance: fen });
  return { ...user, password };
}

async function newTrade(amount = '5.00') {
  const trade = await platform.trades.create({
    appId,
    outTradeNo: `web-${Date.now()}-${Math.random()}`,
    totalAmount: amount,
    subject: 'Longjing tea',
    returnUrl: 'https://merchant.example/return',
  });
  return trade.tradeNo;
}

const status = async (tradeNo: string) => (await platform.trades.byTradeNo(tradeNo)).status;
const withdrawals = async (userId: string) =>
  (await platform.db.query('select 1 from channel_orders where user_id = $1', [userId])).length;

beforeAll(async () => {
  platform = await freshPlatform({ clock });
  app = await buildPlatformApp({ platform, publicUrl: () => `http://${host}` });
  httpsApp = await buildPlatformApp({
    platform,
    publicUrl: () => 'https://pay.example.com',
    configuredPublicUrl: 'https://pay.example.com',
  });
  const { publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  appId = (await platform.members.createApp({ name: 'Tea Shop', merchantPublicKeyPem: publicKey })).appId;
});

afterAll(async () => {
  await app?.close();
  await httpsApp?.close();
  await platform?.close();
});

describe('security headers', () => {
  it('puts a framing-proof CSP, X-Frame-Options, nosniff and a Referrer-Policy on every page and answer', async () => {
    const tradeNo = await newTrade();
    const client = new Client(() => app);
    for (const url of [
      `/cashier/${tradeNo}`,
      `/cashier/${tradeNo}/card`,
      '/wallet/withdraw',
      '/wallet/red-packets',
      '/wallet/friends',
      '/health',
      '/api/v1/me',
    ]) {
      const res = await client.get(url);
      const csp = String(res.headers['content-security-policy']);
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(csp, url).toContain("default-src 'none'");
      expect(csp, url).not.toContain('unsafe-inline');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['referrer-policy'], url).toBe('same-origin');
      expect(res.headers['strict-transport-security'], url).toBeUndefined();
    }
  });

  it('serves pages without inline styles or scripts, and their stylesheet under the same policy', async () => {
    const tradeNo = await newTrade();
    const client = new Client(() => app);
    for (const url of [
      `/cashier/${tradeNo}`,
      `/cashier/${tradeNo}/card`,
      '/wallet/withdraw',
      '/wallet/red-packets',
      '/wallet/friends',
    ]) {
      const html = (await client.get(url)).body;
      expect(html, url).not.toMatch(/<style|<script|\sstyle=|\son[a-z]+=/i);
      const href = /<link rel="stylesheet" href="([^"]+)">/.exec(html)?.[1] ?? '';
      const css = await client.get(href);
      expect(css.statusCode).toBe(200);
      expect(css.headers['content-type']).toMatch(/^text\/css/);
      expect(css.body).toContain('.card');
    }
  });

  it("lets the cashier's form send the browser on to the trade's return_url, and nowhere else", async () => {
    const res = await new Client(() => app).get(`/cashier/${await newTrade()}`);
    expect(res.headers['content-security-policy']).toContain("form-action 'self' https://merchant.example;");
  });

  it('gives Swagger UI at /docs a policy of its own, still unframeable', async () => {
    const res = await new Client(() => app).get('/docs/');
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('adds HSTS and upgrade-insecure-requests when the public URL is https', async () => {
    const res = await new Client(() => httpsApp, { host: 'pay.example.com' }).get('/wallet/withdraw');
    expect(res.headers['strict-transport-security']).toContain('max-age=31536000');
    expect(res.headers['content-security-policy']).toContain('upgrade-insecure-requests');
  });
});

describe('CSRF tokens and the Origin check', () => {
  it('refuses a cashier payment without the token, with a wrong one, or without its cookie, and pays with both', async () => {
    const buyer = await newUser();
    const tradeNo = await newTrade();
    const client = new Client(() => app);
    await client.get(`/cashier/${tradeNo}`);
    const form = { phone: buyer.phone, password: buyer.password };

    const attempts = [{ _csrf: '' }, { _csrf: `${client.token.slice(0, -2)}xx` }, { _csrf: 'not-a-token' }];
    for (const attempt of attempts) {
      const res = await client.post(`/cashier/${tradeNo}`, { ...form, ...attempt });
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('This form has expired');
    }
    const cookieless = new Client(() => app);
    cookieless.token = client.token;
    expect((await cookieless.post(`/cashier/${tradeNo}`, form)).statusCode).toBe(403);
    expect(await status(tradeNo)).toBe('WAIT_BUYER_PAY');
    expect(await platform.members.walletBalance(buyer.userId)).toBe(10_000n);

    const paid = await client.post(`/cashier/${tradeNo}`, form);
    expect(paid.statusCode).toBe(302);
    expect(paid.headers.location).toMatch(/^https:\/\/merchant\.example\/return\?/);
    expect(await status(tradeNo)).toBe('TRADE_SUCCESS');
  });

  it('refuses posts from another origin, another port of the same host, a foreign Referer or an opaque origin, writing nothing', async () => {
    const buyer = await newUser();
    const tradeNo = await newTrade();
    const client = new Client(() => app);
    await client.get(`/cashier/${tradeNo}`);
    const form = { phone: buyer.phone, password: buyer.password };
    const foreign = [
      { origin: 'http://evil.example' },
      { origin: 'http://127.0.0.1:9999' },
      { origin: 'null' },
      { origin: undefined, referer: 'http://evil.example/page' },
    ];
    for (const headers of foreign) {
      const res = await client.post(`/cashier/${tradeNo}`, form, headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.body).toContain('sent from another site');
    }
    // The same from the card cashier and the wallet page (a logged-in owner's withdrawal).
    expect((await client.post(`/cashier/${tradeNo}/card`, form, foreign[0])).statusCode).toBe(403);
    const owner = new Client(() => app);
    await owner.get('/wallet/withdraw');
    expect((await owner.post('/wallet/withdraw', { step: 'login', ...form })).statusCode).toBe(303);
    await owner.get('/wallet/withdraw');
    const withdraw = { step: 'withdraw', card_id: 'card', amount: '1.00', idempotency_key: 'k1' };
    for (const headers of foreign) {
      expect((await owner.post('/wallet/withdraw', withdraw, headers)).statusCode).toBe(403);
    }
    expect(await status(tradeNo)).toBe('WAIT_BUYER_PAY');
    expect(await platform.members.walletBalance(buyer.userId)).toBe(10_000n);
    expect(await withdrawals(buyer.userId)).toBe(0);
    // The owner is still logged in: the foreign logout was refused too.
    expect((await owner.post('/wallet/withdraw', { step: 'logout' }, foreign[1])).statusCode).toBe(403);
    expect((await owner.get('/wallet/withdraw')).body).toContain('id="balance"');
  });

  it('takes the public URL as the only own origin when one is configured', async () => {
    const buyer = await newUser();
    const client = new Client(() => httpsApp, { host: 'pay.example.com' });
    await client.get('/wallet/withdraw');
    const form = { step: 'login', phone: buyer.phone, password: buyer.password };
    expect((await client.post('/wallet/withdraw', form, { origin: 'http://pay.example.com' })).statusCode).toBe(403);
    expect((await client.post('/wallet/withdraw', form, { origin: 'https://pay.example.com' })).statusCode).toBe(303);
  });
});

describe('cookies', () => {
  type Cookie = { name: string; httpOnly?: boolean; secure?: boolean; sameSite?: string; path?: string };
  const named = (res: LightMyRequestResponse, name: string) => (res.cookies as Cookie[]).find((c) => c.name === name);

  it('sets the CSRF secret and the wallet session HttpOnly and SameSite, not Secure over plain http', async () => {
    const buyer = await newUser();
    const client = new Client(() => app);
    const shown = await client.get('/wallet/withdraw');
    expect(named(shown, 'paybao_csrf')).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(named(shown, 'paybao_csrf')?.secure).toBeFalsy();
    const login = await client.post('/wallet/withdraw', {
      step: 'login',
      phone: buyer.phone,
      password: buyer.password,
    });
    expect(named(login, 'paybao_wallet')).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/wallet' });
    expect(named(login, 'paybao_wallet')?.secure).toBeFalsy();
  });

  it('marks both Secure when the public URL is https', async () => {
    const buyer = await newUser();
    const client = new Client(() => httpsApp, { host: 'pay.example.com' });
    const shown = await client.get('/wallet/withdraw');
    expect(named(shown, 'paybao_csrf')).toMatchObject({ httpOnly: true, secure: true });
    const login = await client.post(
      '/wallet/withdraw',
      { step: 'login', phone: buyer.phone, password: buyer.password },
      { origin: 'https://pay.example.com' },
    );
    expect(named(login, 'paybao_wallet')).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
  });

  it('reads a malformed session cookie as no session', async () => {
    const client = new Client(() => app);
    const res = await client.send({
      method: 'GET',
      url: '/wallet/withdraw',
      headers: { cookie: 'paybao_wallet=%E0%A4%A' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('id="password"');
  });
});

describe('the wrong-password throttle', () => {
  const login = (body: object, remoteAddress = '198.51.100.1') =>
    app.inject({ method: 'POST', url: '/api/v1/sessions', payload: body, remoteAddress, headers: { host } });

  it('refuses the right password after 12 wrong ones on the native API, until the window has passed', async () => {
    const user = await newUser();
    for (let i = 0; i < 12; i++) {
      const res = await login({ phone: user.phone, password: `wrong-${i}` });
      expect(res.statusCode).toBe(i < limits.loginFailuresPerPhoneMax ? 401 : 429);
    }
    const refused = await login({ phone: user.phone, password: user.password });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({
      type: 'rate_limit_error',
      code: 'login_throttled',
      message: expect.stringContaining('try again in'),
      param: null,
    });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(limits.loginFailureWindowMs / 1000);
    // Another address does not help: the phone's count is full.
    expect((await login({ phone: user.phone, password: user.password }, '198.51.100.99')).statusCode).toBe(429);

    clock.advanceMs(limits.loginFailureWindowMs);
    expect((await login({ phone: user.phone, password: user.password })).statusCode).toBe(201);
  });

  it('refuses the right password at the cashier after 12 wrong ones, paying nothing, until the window has passed', async () => {
    const buyer = await newUser();
    const tradeNo = await newTrade();
    const client = new Client(() => app, { host }, '198.51.100.2');
    await client.get(`/cashier/${tradeNo}`);
    for (let i = 0; i < 12; i++) {
      const res = await client.post(`/cashier/${tradeNo}`, { phone: buyer.phone, password: `wrong-${i}` });
      expect(res.statusCode).toBe(i < limits.loginFailuresPerPhoneMax ? 400 : 429);
    }
    const refused = await client.post(`/cashier/${tradeNo}`, { phone: buyer.phone, password: buyer.password });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^text\/html/);
    expect(refused.body).toContain('too many wrong passwords');
    expect(await status(tradeNo)).toBe('WAIT_BUYER_PAY');

    clock.advanceMs(limits.loginFailureWindowMs);
    const paid = await client.post(`/cashier/${tradeNo}`, { phone: buyer.phone, password: buyer.password });
    expect(paid.statusCode).toBe(302);
    expect(await status(tradeNo)).toBe('TRADE_SUCCESS');
  });

  it('refuses a throttled phone on the card cashier and the wallet page too, with the reason on the form', async () => {
    const user = await newUser();
    for (let i = 0; i < limits.loginFailuresPerPhoneMax; i++) {
      expect((await login({ phone: user.phone, password: `wrong-${i}` })).statusCode).toBe(401);
    }
    const client = new Client(() => app, { host }, '198.51.100.5');
    const tradeNo = await newTrade();
    await client.get(`/cashier/${tradeNo}/card`);
    const card = await client.post(`/cashier/${tradeNo}/card`, {
      step: 'login',
      phone: user.phone,
      password: user.password,
    });
    expect(card.statusCode).toBe(429);
    expect(card.body).toContain('too many wrong passwords');
    await client.get('/wallet/withdraw');
    const wallet = await client.post('/wallet/withdraw', { step: 'login', phone: user.phone, password: user.password });
    expect(wallet.statusCode).toBe(429);
    expect(wallet.body).toContain('too many wrong passwords');
    expect(wallet.cookies.some((c: { name: string }) => c.name === 'paybao_wallet')).toBe(false);
    clock.advanceMs(limits.loginFailureWindowMs);
  });

  it('refuses an address that tried too many phones, whatever phone it tries next', async () => {
    const address = '198.51.100.3';
    for (let i = 0; i < limits.loginFailuresPerAddressMax; i++) {
      expect((await login({ phone: nextPhone(), password: 'guess-password' }, address)).statusCode).toBe(401);
    }
    const user = await newUser();
    expect((await login({ phone: user.phone, password: user.password }, address)).statusCode).toBe(429);
    expect((await login({ phone: user.phone, password: user.password }, '198.51.100.4')).statusCode).toBe(201);
    clock.advanceMs(limits.loginFailureWindowMs);
  });

  it('counts in the database: wrong passwords through one process are refused through another', async () => {
    const user = await newUser();
    // A second Members on the same database stands for a second server process.
    const other = new Members(platform.db, platform.ledger, { clock });
    for (let i = 0; i < limits.loginFailuresPerPhoneMax; i++) {
      await expect(platform.members.loginWithPassword(user.phone, 'wrong password')).rejects.toMatchObject({
        code: 'login_failed',
      });
    }
    await expect(other.loginWithPassword(user.phone, user.password)).rejects.toMatchObject({
      code: 'login_throttled',
      retryAfterMs: limits.loginFailureWindowMs,
    });
    clock.advanceMs(limits.loginFailureWindowMs);
    expect((await other.loginWithPassword(user.phone, user.password)).userId).toBe(user.userId);
  });

  it('counts each of many concurrent guesses, so no more than the limit reach the password check', async () => {
    const user = await newUser();
    const guesses = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => platform.members.loginWithPassword(user.phone, `wrong-${i}`)),
    );
    const codes = guesses.map((g) => (g.status === 'rejected' ? (g.reason as { code: string }).code : 'ok'));
    expect(codes.filter((c) => c === 'login_failed')).toHaveLength(limits.loginFailuresPerPhoneMax);
    expect(codes.filter((c) => c === 'login_throttled')).toHaveLength(12 - limits.loginFailuresPerPhoneMax);
    clock.advanceMs(limits.loginFailureWindowMs);
  });

  it('does not count right passwords', async () => {
    const user = await newUser();
    for (let i = 0; i < limits.loginFailuresPerPhoneMax * 2; i++) {
      expect((await platform.members.loginWithPassword(user.phone, user.password)).userId).toBe(user.userId);
    }
  });
});

describe('the login rate limit per address (@fastify/rate-limit)', () => {
  it('answers 429 in the native shape once an address has sent too many SMS-code requests', async () => {
    const address = '192.0.2.10';
    const send = (remoteAddress: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/sms-codes',
        payload: { phone: 'x' },
        remoteAddress,
        headers: { host },
      });
    for (let i = 0; i < limits.loginRequestsPerAddressMax; i++) expect((await send(address)).statusCode).toBe(400);
    const refused = await send(address);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({
      type: 'rate_limit_error',
      code: 'too_many_requests',
      message: expect.any(String),
      param: null,
    });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await send('192.0.2.11')).statusCode).toBe(400);
  });

  it('answers 429 with an HTML page on the pages', async () => {
    const client = new Client(() => app, { host }, '192.0.2.20');
    await client.get('/wallet/withdraw');
    for (let i = 0; i < limits.loginRequestsPerAddressMax; i++) {
      expect((await client.post('/wallet/withdraw', { step: 'nothing' })).statusCode).toBe(401);
    }
    const refused = await client.post('/wallet/withdraw', { step: 'nothing' });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^text\/html/);
    expect(refused.body).toContain('Too many attempts');
  });
});

describe('the PAYBAO_PUBLIC_URL setting', () => {
  it('is the origin of the URL given, absent when unset, and refused with its name when malformed', () => {
    expect(loadConfig({}).configuredPublicUrl).toBeUndefined();
    expect(loadConfig({ PAYBAO_PUBLIC_URL: 'https://pay.example.com/' }).configuredPublicUrl).toBe(
      'https://pay.example.com',
    );
    expect(loadConfig({ PAYBAO_PUBLIC_URL: 'http://10.0.0.5:8080/paybao' }).configuredPublicUrl).toBe(
      'http://10.0.0.5:8080',
    );
    for (const bad of [
      'pay.example.com',
      'ftp://pay.example.com',
      'https://pay.example.com/?a=1',
      'https://u:p@x.cn',
    ]) {
      expect(() => loadConfig({ PAYBAO_PUBLIC_URL: bad }), bad).toThrow(/PAYBAO_PUBLIC_URL/);
    }
  });
});
