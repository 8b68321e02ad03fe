/**
 * One Idempotency-Key rule for the native API's money-moving POSTs, the same on /transfers and
 * on /topups and /withdrawals: the header is required, a key is 1 to
 * `limits.idempotencyKeyLengthMax` printable ASCII characters without spaces, the same key with
 * the same body answers the first answer again (and moves nothing again), and the same key with
 * another body is a 409 `idempotency_key_reused` that writes nothing.
 */
import { describe, expect, it } from 'vitest';
import { limits } from '../../src/core/limits.ts';
import { balance, key, newUser, useWorld } from './support.ts';

const world = useWorld();

async function login(phone: string, password: string): Promise<string> {
  const response = await fetch(`${world().base}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phone, password }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { token: string }).token;
}

async function post(token: string, path: string, body: unknown, idempotencyKey: string | null) {
  const response = await fetch(`${world().base}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(idempotencyKey === null ? {} : { 'idempotency-key': idempotencyKey }),
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const routes = ['/api/v1/transfers', '/api/v1/topups', '/api/v1/withdrawals'] as const;

describe('the Idempotency-Key rule of the native API', () => {
  it('requires a well-formed key on every money-moving POST, named in the refusal', async () => {
    const user = await newUser(world(), 10_000n);
    const token = await login(user.phone, user.password);
    const bodies = {
      '/api/v1/transfers': { to_user_id: user.userId, amount: '1.00' },
      '/api/v1/topups': { method: 'gateway', amount: '1.00' },
      '/api/v1/withdrawals': { card_id: 'CDNOPE', amount: '1.00' },
    };
    for (const route of routes) {
      const cases: Array<[string | null, string]> = [
        [null, 'parameter_missing'],
        ['', 'parameter_invalid'],
        ['has space', 'parameter_invalid'],
        ['clé', 'parameter_invalid'],
        ['k'.repeat(limits.idempotencyKeyLengthMax + 1), 'parameter_invalid'],
      ];
      for (const [badKey, code] of cases) {
        const refused = await post(token, route, bodies[route], badKey);
        expect([route, badKey, refused.status, refused.json]).toMatchObject([
          route,
          badKey,
          400,
          { type: 'invalid_request_error', code, param: 'Idempotency-Key' },
        ]);
      }
    }
    const orders = await world().platform.db.query('select 1 from channel_orders where user_id = $1', [user.userId]);
    const transfers = await world().platform.db.query('select 1 from wallet_transfers where user_id = $1', [
      user.userId,
    ]);
    expect([orders, transfers]).toEqual([[], []]);
    expect(await balance(world(), user.userId)).toBe(10_000n);
  });

  it('answers the same key and body with the first answer on /transfers, and refuses another body with 409', async () => {
    const payer = await newUser(world(), 10_000n);
    const payee = await newUser(world());
    const token = await login(payer.phone, payer.password);
    const k = key('transfer');
    const body = { to_user_id: payee.userId, amount: '1.50' };
    const first = await post(token, '/api/v1/transfers', body, k);
    expect(first.status).toBe(200);
    const again = await post(token, '/api/v1/transfers', { ...body, amount: '1.5' }, k);
    expect(again.json).toEqual(first.json);
    const other = await post(token, '/api/v1/transfers', { ...body, amount: '2.00' }, k);
    expect([other.status, other.json]).toMatchObject([
      409,
      { type: 'idempotency_error', code: 'idempotency_key_reused', param: 'Idempotency-Key' },
    ]);
    expect(await balance(world(), payee.userId)).toBe(150n);
    expect(await balance(world(), payer.userId)).toBe(10_000n - 150n);
  });

  it('answers the same key and body with the first order on /topups, and refuses another body with 409', async () => {
    const user = await newUser(world());
    const token = await login(user.phone, user.password);
    const k = key('topup');
    const body = { method: 'gateway', bank: 'CMB', amount: '3.00' };
    const first = await post(token, '/api/v1/topups', body, k);
    expect(first.status).toBe(201);
    const again = await post(token, '/api/v1/topups', { ...body, amount: '3' }, k);
    expect(again.json.order_no).toBe(first.json.order_no);
    const other = await post(token, '/api/v1/topups', { ...body, amount: '4.00' }, k);
    expect([other.status, other.json]).toMatchObject([
      409,
      { type: 'idempotency_error', code: 'idempotency_key_reused', param: 'Idempotency-Key' },
    ]);
    const orders = await world().platform.db.query('select 1 from channel_orders where user_id = $1', [user.userId]);
    expect(orders).toHaveLength(1);
  });

  it('keeps keys per user: the same key from two users is two requests', async () => {
    const [a, b] = [await newUser(world()), await newUser(world())];
    const k = key('shared');
    const body = { method: 'gateway', bank: 'CMB', amount: '1.00' };
    const first = await post(await login(a.phone, a.password), '/api/v1/topups', body, k);
    const second = await post(await login(b.phone, b.password), '/api/v1/topups', { ...body, amount: '2.00' }, k);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.json.order_no).not.toBe(first.json.order_no);
  });
});
