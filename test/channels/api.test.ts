/**
 * The channels through the native API over HTTP, as a client would use them: log in, bind a card
 * with the bank's SMS code, top up from it, withdraw to it, open a gateway top-up; refusals
 * answer `{type, code, message, param}`. The regulator's read-only API needs its own token.
 */
import { describe, expect, it } from 'vitest';
import { formatAmount } from '../../src/core/money.ts';
import { li, newUser, operatorToken, regulatorToken, smsCode, useWorld } from './support.ts';

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

async function api(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${world().base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('the channels in the native API', () => {
  it('binds a card, tops up from it, withdraws to it, and shows the orders', async () => {
    const user = await newUser(world());
    const token = await login(user.phone, user.password);
    const banks = await api(token, 'GET', '/api/v1/banks');
    expect(banks.status).toBe(200);
    expect((banks.json.data as { code: string }[]).map((b) => b.code)).toEqual(['ICBC', 'CMB', 'ABC']);
    // The limits are the configured fen as decimal strings, exact (no float on the way).
    expect(banks.json.data).toEqual(
      world()
        .platform.channels.banks()
        .map((b) =>
          expect.objectContaining({
            payment_max: formatAmount(b.paymentMaxFen),
            daily_max: formatAmount(b.dailyMaxFen),
            payout_max: formatAmount(b.payoutMaxFen),
          }),
        ),
    );

    const bound = await api(token, 'POST', '/api/v1/cards', {
      bank: 'ICBC',
      card_no: li.cardNo,
      name: li.name,
      phone: li.phone,
    });
    expect(bound.status).toBe(201);
    expect(bound.json).toMatchObject({ status: 'PENDING', card_no: '************0002' });
    const cardId = String(bound.json.card_id);
    const confirmed = await api(token, 'POST', `/api/v1/cards/${cardId}/confirm`, {
      sms_code: await smsCode(world(), li.phone),
    });
    expect(confirmed.json).toMatchObject({ status: 'ACTIVE' });

    const topUp = await api(
      token,
      'POST',
      '/api/v1/topups',
      { method: 'card', card_id: cardId, amount: '200.00' },
      {
        'idempotency-key': 'api-topup-1',
      },
    );
    expect(topUp.status).toBe(201);
    expect(topUp.json).toMatchObject({ kind: 'TOPUP_WITHHOLD', status: 'SUCCESS', amount: '200.00' });
    const replay = await api(
      token,
      'POST',
      '/api/v1/topups',
      { method: 'card', card_id: cardId, amount: '200.00' },
      {
        'idempotency-key': 'api-topup-1',
      },
    );
    expect(replay.json.order_no).toBe(topUp.json.order_no);

    const out = await api(
      token,
      'POST',
      '/api/v1/withdrawals',
      { card_id: cardId, amount: '50.00' },
      {
        'idempotency-key': 'api-withdraw-1',
      },
    );
    expect(out.json).toMatchObject({ kind: 'WITHDRAW', status: 'SUCCESS' });
    const balance = await api(token, 'GET', '/api/v1/balance');
    expect(balance.json.available).toBe('150.00');

    const gateway = await api(
      token,
      'POST',
      '/api/v1/topups',
      { method: 'gateway', bank: 'CMB', amount: '10.00' },
      {
        'idempotency-key': 'api-topup-2',
      },
    );
    expect(gateway.json).toMatchObject({ kind: 'TOPUP_GATEWAY', bank: 'CMB', status: 'IN_FLIGHT' });
    expect(String(gateway.json.pay_url)).toContain('/banks/CMB/gateway/pay/');
    const shown = await api(token, 'GET', `/api/v1/channel-orders/${gateway.json.order_no}`);
    expect(shown.json).toMatchObject({ order_no: gateway.json.order_no, status: 'IN_FLIGHT' });
  });

  it('refuses bad input with the error shape and writes nothing', async () => {
    const user = await newUser(world(), 1_000n);
    const token = await login(user.phone, user.password);
    const noKey = await api(token, 'POST', '/api/v1/topups', { method: 'gateway', amount: '1.00' });
    expect(noKey.status).toBe(400);
    // The whole native API answers a missing header as /transfers does: parameter_missing, named.
    expect(noKey.json).toMatchObject({
      type: 'invalid_request_error',
      code: 'parameter_missing',
      param: 'Idempotency-Key',
    });
    const badAmount = await api(
      token,
      'POST',
      '/api/v1/topups',
      { method: 'gateway', amount: '1.001' },
      {
        'idempotency-key': 'k1',
      },
    );
    expect(badAmount.json).toMatchObject({ code: 'parameter_invalid', param: 'amount' });
    const noCard = await api(
      token,
      'POST',
      '/api/v1/withdrawals',
      { card_id: 'CDNOPE', amount: '1.00' },
      {
        'idempotency-key': 'k2',
      },
    );
    expect(noCard.status).toBe(404);
    expect(noCard.json).toMatchObject({ code: 'card_not_found', param: 'card_id' });
    const noSession = await api('nope', 'GET', '/api/v1/cards');
    expect(noSession.status).toBe(401);
    expect(noSession.json).toMatchObject({ code: 'session_invalid' });
    const orders = await world().platform.db.query('select 1 from channel_orders where user_id = $1', [user.userId]);
    expect(orders).toEqual([]);
  });

  it('serves the reserve position to the regulator with its own token, and to no one else', async () => {
    const ok = await fetch(`${world().base}/regulator/v1/reserves`, {
      headers: { authorization: `Bearer ${regulatorToken}` },
    });
    expect(ok.status).toBe(200);
    const position = (await ok.json()) as Record<string, unknown>;
    expect(position).toMatchObject({ currency: 'CNY' });
    expect((position.banks as { bank: string }[]).map((b) => b.bank)).toEqual(['ICBC', 'CMB', 'ABC']);
    for (const token of [operatorToken, 'wrong', '']) {
      const refused = await fetch(`${world().base}/regulator/v1/reserves`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(refused.status).toBe(401);
    }
    // Read-only: nothing but GET is served.
    const post = await fetch(`${world().base}/regulator/v1/reserves`, {
      method: 'POST',
      headers: { authorization: `Bearer ${regulatorToken}` },
    });
    expect(post.status).toBe(404);
  });
});
