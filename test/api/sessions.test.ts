/**
 * Sessions of the native API: phone and password or phone and SMS code open one (a bearer token,
 * stored only hashed), wrong credentials do not and do not say which part was wrong, a token
 * works until logout or expiry, and every route but login refuses a request without one.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { type ApiWorld, apiUser, apiWorld, expectError, nextPhone } from './support.ts';

const clock = new ManualClock();
let world: ApiWorld;

beforeAll(async () => {
  world = await apiWorld({ clock });
});

afterAll(async () => {
  expect(await verifyLedger(world.platform.db)).toEqual([]);
  await world.close();
});

const login = (payload: unknown) =>
  world.app.inject({ method: 'POST', url: '/api/v1/sessions', payload: payload as object });

describe('POST /api/v1/sessions', () => {
  it('opens a session for the right phone and password, and /me names its user', async () => {
    const phone = nextPhone();
    const { userId } = await world.platform.members.createUser({ phone, password: 'right password' });
    const res = await login({ phone, password: 'right password' });
    expect(res.statusCode).toBe(201);
    const session = res.json();
    expect(session).toEqual({
      token: expect.stringMatching(/^pbs_[A-Za-z0-9_-]{43}$/),
      token_type: 'Bearer',
      user_id: userId,
      expires_at: new Date(Number(clock.nowNs() / 1_000_000n) + limits.sessionTtlMs).toISOString(),
    });
    const me = await world.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${session.token}` },
    });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ user_id: userId, logon_id: `${phone.slice(0, 3)}****${phone.slice(-4)}` });
  });

  it('stores only a hash of the token', async () => {
    const user = await apiUser(world, 0n);
    const rows = await world.platform.db.query<{ token_hash: string }>(
      'select token_hash from wallet_sessions where user_id = $1',
      [user.userId],
    );
    expect(rows.map((r) => r.token_hash)).toEqual([createHash('sha256').update(user.token).digest('hex')]);
  });

  it('refuses a wrong password and an unknown phone alike', async () => {
    const phone = nextPhone();
    await world.platform.members.createUser({ phone, password: 'right password' });
    const wrong = await login({ phone, password: 'wrong password' });
    const unknown = await login({ phone: nextPhone(), password: 'right password' });
    expectError(wrong, 401, 'login_failed', null);
    expectError(unknown, 401, 'login_failed', null);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json().type).toBe('authentication_error');
  });

  it('logs in with an SMS code sent through POST /api/v1/sms-codes, once', async () => {
    const phone = nextPhone();
    const { userId } = await world.platform.members.createUser({ phone, password: 'right password' });
    const sent = await world.app.inject({ method: 'POST', url: '/api/v1/sms-codes', payload: { phone } });
    expect(sent.statusCode).toBe(202);
    const [message] = await world.platform.members.smsOutbox({ phone });
    const code = /\d{6}/.exec(message?.text ?? '')?.[0];
    expect(code).toBeDefined();
    const wrongCode = code === '000000' ? '000001' : '000000';
    expectError(await login({ phone, sms_code: wrongCode }), 401, 'login_failed');
    const res = await login({ phone, sms_code: code });
    expect(res.statusCode).toBe(201);
    expect(res.json().user_id).toBe(userId);
    expectError(await login({ phone, sms_code: code }), 401, 'login_failed');
    // Asking again at once is refused, in the catalog's words.
    expectError(
      await world.app.inject({ method: 'POST', url: '/api/v1/sms-codes', payload: { phone } }),
      429,
      'sms_code_too_frequent',
    );
  });

  it('answers an unregistered phone the same as a registered one when sending a code', async () => {
    const res = await world.app.inject({ method: 'POST', url: '/api/v1/sms-codes', payload: { phone: nextPhone() } });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'sent' });
  });

  it.each([
    ['no body', undefined, 'parameter_invalid', null],
    ['no phone', { password: 'x' }, 'parameter_missing', 'phone'],
    ['neither password nor code', { phone: '13800138000' }, 'parameter_missing', 'password'],
    [
      'both password and code',
      { phone: '13800138000', password: 'x', sms_code: '123456' },
      'parameter_invalid',
      'password',
    ],
    ['a phone of letters', { phone: '１３８００１３８０００', password: 'x' }, 'parameter_invalid', 'phone'],
    ['a numeric phone', { phone: 13800138000, password: 'x' }, 'parameter_invalid', 'phone'],
    ['a short code', { phone: '13800138000', sms_code: '123' }, 'parameter_invalid', 'sms_code'],
    ['an oversized password', { phone: '13800138000', password: 'x'.repeat(10_000) }, 'parameter_invalid', 'password'],
    ['an unknown field', { phone: '13800138000', password: 'x', admin: true }, 'parameter_invalid', 'admin'],
  ])('refuses %s with a 400 in the error shape', async (_name, payload, code, param) => {
    expectError(await login(payload), 400, code, param);
  });

  it('refuses malformed JSON and non-JSON bodies without a 500', async () => {
    const bad = await world.app.inject({
      method: 'POST',
      url: '/api/v1/sessions',
      headers: { 'content-type': 'application/json' },
      payload: '{"phone": ',
    });
    expectError(bad, 400, 'body_invalid', null);
    const form = await world.app.inject({
      method: 'POST',
      url: '/api/v1/sessions',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'phone=1&password=2',
    });
    expectError(form, 415, 'content_type_unsupported', null);
    const huge = await world.app.inject({
      method: 'POST',
      url: '/api/v1/sessions',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ phone: '13800138000', password: 'x'.repeat(limits.apiBodyBytesMax) }),
    });
    expectError(huge, 413, 'body_too_large', null);
  });
});

describe('bearer tokens', () => {
  it('refuses every authenticated route without a live token', async () => {
    const routes = [
      ['GET', '/api/v1/me'],
      ['GET', '/api/v1/balance'],
      ['GET', '/api/v1/bills'],
      ['POST', '/api/v1/transfers'],
      ['POST', '/api/v1/payment-codes'],
      ['GET', '/api/v1/trades/2026112622000000000000000001'],
      ['DELETE', '/api/v1/sessions/current'],
    ] as const;
    for (const [method, url] of routes) {
      for (const authorization of [undefined, 'Bearer nonsense', `Bearer pbs_${'A'.repeat(43)}`, 'Basic abc']) {
        const res = await world.app.inject({ method, url, headers: authorization ? { authorization } : {} });
        expectError(res, 401, 'session_invalid');
        expect(res.json().type).toBe('authentication_error');
      }
    }
  });

  it('stops working after logout, and logging out again is refused', async () => {
    const user = await apiUser(world, 0n);
    expect((await user.call({ method: 'GET', url: '/api/v1/me' })).statusCode).toBe(200);
    const out = await user.call({ method: 'DELETE', url: '/api/v1/sessions/current' });
    expect(out.statusCode).toBe(204);
    expect(out.body).toBe('');
    expectError(await user.call({ method: 'GET', url: '/api/v1/me' }), 401, 'session_invalid');
    expectError(await user.call({ method: 'DELETE', url: '/api/v1/sessions/current' }), 401, 'session_invalid');
  });

  it('expires after limits.sessionTtlMs', async () => {
    const user = await apiUser(world, 0n);
    clock.advanceMs(limits.sessionTtlMs - 1);
    expect((await user.call({ method: 'GET', url: '/api/v1/me' })).statusCode).toBe(200);
    clock.advanceMs(1);
    expectError(await user.call({ method: 'GET', url: '/api/v1/me' }), 401, 'session_invalid');
  });

  it('keeps at most limits.sessionsPerUserMax live sessions per user, retiring the oldest', async () => {
    const user = await apiUser(world, 0n);
    const tokens: string[] = [user.token];
    for (let i = 0; i < limits.sessionsPerUserMax; i++) {
      clock.advanceMs(1);
      const res = await login({ phone: user.phone, password: user.password });
      tokens.push(res.json().token);
    }
    const me = (token: string) =>
      world.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } });
    expect((await me(tokens[0] ?? '')).statusCode).toBe(401);
    for (const token of tokens.slice(1)) expect((await me(token)).statusCode).toBe(200);
  });
});
