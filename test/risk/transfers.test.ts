/**
 * The risk engine on transfers between users, through the native API and the console: with no
 * rule a transfer goes through; a deny rule refuses it before anything is written but the
 * decision; a shadow rule is recorded and never blocks; a challenge texts a code and the same
 * request sent again with it goes through once; a review holds the money until an operator
 * approves (paid) or rejects it (back to the payer), never both; a rule changed in the console
 * applies to the next request without a restart. The books balance after every test.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { type ApiUser, type ApiWorld, apiUser, apiWorld, balanceOf, expectError } from '../api/support.ts';

const clock = new ManualClock();
let world: ApiWorld;
let operator: string;

beforeAll(async () => {
  world = await apiWorld({ clock });
  operator = (await world.platform.operators.create('risk-ops')).token;
});

afterEach(async () => {
  expect(await verifyLedger(world.platform.db)).toEqual([]);
  for (const rule of (await consoleCall('GET', '/risk/rules')).json().data) {
    expect((await consoleCall('DELETE', `/risk/rules/${rule.rule_id}`)).statusCode).toBe(204);
  }
});

afterAll(async () => {
  await world.close();
});

function consoleCall(method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT', url: string, payload?: object) {
  return world.app.inject({
    method,
    url: `/console/v1${url}`,
    headers: { authorization: `Bearer ${operator}` },
    payload,
  });
}

async function rule(body: object): Promise<number> {
  const res = await consoleCall('POST', '/risk/rules', body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json().rule_id;
}

let keys = 0;
function send(from: ApiUser, to: ApiUser, amount: string, extra: object = {}, key = `risk-${++keys}`) {
  return from.call({
    method: 'POST',
    url: '/api/v1/transfers',
    headers: { 'idempotency-key': key },
    payload: { to_user_id: to.userId, amount, ...extra },
  });
}

/** The newest code texted to `user`. */
async function codeSentTo(user: ApiUser): Promise<string> {
  const [message] = await world.platform.members.smsOutbox({ phone: user.phone, limit: 1 });
  const code = /Code (\d{6})/.exec(message?.text ?? '')?.[1];
  if (!code) throw new Error(`no code texted to ${user.phone}: ${message?.text}`);
  return code;
}

describe('transfers through the risk engine', () => {
  it('goes through when no rule fires, and records nothing', async () => {
    const [a, b] = [await apiUser(world, 100_00n), await apiUser(world, 0n)];
    const res = await send(a, b, '10.00');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().status).toBe('succeeded');
    expect(await world.platform.risk.decisions({ userId: a.userId })).toEqual([]);
  });

  it('refuses above a deny rule’s amount, writing nothing but the decision with its reason', async () => {
    const [a, b] = [await apiUser(world, 1_000_00n), await apiUser(world, 0n)];
    await rule({ name: 'big', condition: { kind: 'amount', over: '500.00' }, paths: ['transfer'], action: 'deny' });
    expect((await send(a, b, '500.00')).statusCode).toBe(200);
    const refused = await send(a, b, '500.01');
    expectError(refused, 403, 'payment_denied');
    expect(await balanceOf(a)).toBe('500.00');
    expect(await balanceOf(b)).toBe('500.00');
    const [decision] = (await consoleCall('GET', `/risk/decisions?user_id=${a.userId}`)).json().data;
    expect(decision).toMatchObject({
      path: 'transfer',
      decision: 'deny',
      amount: '500.01',
      fired: [{ name: 'big', kind: 'amount', action: 'deny', mode: 'enforce', reason: 'amount 500.01 above 500.00' }],
    });
    // Nothing of the refused request is kept: the same key with another amount is a new request.
    const [row] = await world.platform.db.query<{ n: bigint }>(
      'select count(*)::bigint n from wallet_transfers where user_id = $1',
      [a.userId],
    );
    expect(row?.n).toBe(1n);
  });

  it('never blocks on a shadow rule, and records what it would have done', async () => {
    const [a, b] = [await apiUser(world, 100_00n), await apiUser(world, 0n)];
    await rule({ name: 'shadow big', condition: { kind: 'amount', over: '1.00' }, action: 'deny', mode: 'shadow' });
    const res = await send(a, b, '50.00');
    expect(res.statusCode, res.body).toBe(200);
    await world.platform.risk.sync();
    const [decision] = await world.platform.risk.decisions({ userId: a.userId });
    expect(decision).toMatchObject({ decision: 'allow', fired: [{ name: 'shadow big', mode: 'shadow' }] });
    const metrics = (await world.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/paybao_risk_shadow_fired_total\{rule="shadow big"\} [1-9]/);
    expect(metrics).toMatch(/paybao_risk_decisions_total\{path="transfer",decision="allow"\} [1-9]/);
  });

  it('applies a rule changed in the console to the next request, without a restart', async () => {
    const [a, b] = [await apiUser(world, 100_00n), await apiUser(world, 0n)];
    const id = await rule({
      name: 'switch',
      condition: { kind: 'amount', over: '1.00' },
      action: 'deny',
      mode: 'shadow',
    });
    expect((await send(a, b, '2.00')).statusCode).toBe(200);
    const switched = await consoleCall('PATCH', `/risk/rules/${id}`, { mode: 'enforce' });
    expect(switched.json()).toMatchObject({ mode: 'enforce', condition: { kind: 'amount', over: '1.00' } });
    expectError(await send(a, b, '2.00'), 403, 'payment_denied');
    expect((await consoleCall('PATCH', `/risk/rules/${id}`, { enabled: false })).statusCode).toBe(200);
    expect((await send(a, b, '2.00')).statusCode).toBe(200);
  });

  it('asks for a texted code, then lets the same request through once with it', async () => {
    const [a, b] = [await apiUser(world, 100_00n), await apiUser(world, 0n)];
    await rule({ name: 'confirm', condition: { kind: 'amount', over: '10.00' }, action: 'challenge' });
    const key = `challenge-${++keys}`;
    const asked = await send(a, b, '20.00', {}, key);
    expect(asked.statusCode, asked.body).toBe(428);
    expect(asked.json()).toMatchObject({ code: 'challenge_required' });
    const challengeId = asked.json().challenge_id as string;
    expect(challengeId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await balanceOf(a)).toBe('100.00');
    const code = await codeSentTo(a);
    const wrong = code === '000000' ? '111111' : '000000';
    expectError(
      await send(a, b, '20.00', { challenge_id: challengeId, challenge_code: wrong }, key),
      401,
      'challenge_code_invalid',
    );
    // A confirmation is for one payment: another amount under it is refused.
    expectError(
      await send(a, b, '30.00', { challenge_id: challengeId, challenge_code: code }, `other-${key}`),
      409,
      'challenge_mismatch',
    );
    const passed = await send(a, b, '20.00', { challenge_id: challengeId, challenge_code: code }, key);
    expect(passed.statusCode, passed.body).toBe(200);
    expect(passed.json().status).toBe('succeeded');
    expect(await balanceOf(a)).toBe('80.00');
    // The key now answers its stored outcome; the used confirmation lets nothing else through.
    expect((await send(a, b, '20.00', {}, key)).headers['idempotent-replayed']).toBe('true');
    expectError(
      await send(a, b, '20.00', { challenge_id: challengeId, challenge_code: code }),
      404,
      'challenge_not_found',
    );
  });

  it('kills a confirmation after too many wrong codes', async () => {
    const [a, b] = [await apiUser(world, 100_00n), await apiUser(world, 0n)];
    await rule({ name: 'confirm', condition: { kind: 'amount', over: '10.00' }, action: 'challenge' });
    const key = `guess-${++keys}`;
    const challengeId = (await send(a, b, '20.00', {}, key)).json().challenge_id;
    const code = await codeSentTo(a);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i++) {
      expectError(
        await send(a, b, '20.00', { challenge_id: challengeId, challenge_code: wrong }, key),
        401,
        'challenge_code_invalid',
      );
    }
    expectError(
      await send(a, b, '20.00', { challenge_id: challengeId, challenge_code: wrong }, key),
      429,
      'challenge_attempts_exceeded',
    );
    expectError(
      await send(a, b, '20.00', { challenge_id: challengeId, challenge_code: code }, key),
      429,
      'challenge_attempts_exceeded',
    );
    expect(await balanceOf(a)).toBe('100.00');
  });

  it('refuses a confirmation past its life', async () => {
    const [a, b] = [await apiUser(world, 100_00n), await apiUser(world, 0n)];
    await rule({ name: 'confirm', condition: { kind: 'amount', over: '10.00' }, action: 'challenge' });
    const key = `late-${++keys}`;
    const challengeId = (await send(a, b, '20.00', {}, key)).json().challenge_id;
    const code = await codeSentTo(a);
    clock.advanceMs(5 * 60_000);
    expectError(
      await send(a, b, '20.00', { challenge_id: challengeId, challenge_code: code }, key),
      410,
      'challenge_expired',
    );
  });

  describe('review', () => {
    async function heldTransfer() {
      const [a, b] = [await apiUser(world, 100_00n), await apiUser(world, 0n)];
      await rule({ name: 'look', condition: { kind: 'amount', over: '10.00' }, action: 'review' });
      const key = `review-${++keys}`;
      const res = await send(a, b, '40.00', {}, key);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().status).toBe('in_review');
      // Held: gone from what the payer can spend, not yet with the payee.
      expect(await balanceOf(a)).toBe('60.00');
      expect(await balanceOf(b)).toBe('0.00');
      const queue = (await consoleCall('GET', '/risk/reviews')).json().data;
      const review = queue.find((r: { user_id: string }) => r.user_id === a.userId);
      expect(review).toMatchObject({
        path: 'transfer',
        amount: '40.00',
        status: 'PENDING',
        decision: { decision: 'review' },
      });
      return { a, b, key, reviewId: review.review_id as string };
    }

    it('pays the held money when an operator approves, once', async () => {
      const { a, b, key, reviewId } = await heldTransfer();
      const approved = await consoleCall('POST', `/risk/reviews/${reviewId}/decision`, {
        verdict: 'approve',
        note: 'known',
      });
      expect(approved.json()).toMatchObject({ status: 'APPROVED', applied: true, note: 'known' });
      expect(await balanceOf(a)).toBe('60.00');
      expect(await balanceOf(b)).toBe('40.00');
      expect((await send(a, b, '40.00', {}, key)).json().status).toBe('succeeded');
      const again = await consoleCall('POST', `/risk/reviews/${reviewId}/decision`, { verdict: 'reject' });
      expect(again.statusCode).toBe(409);
      expect(again.json().code).toBe('review_decided');
      expect(await balanceOf(b)).toBe('40.00');
    });

    it('gives the held money back when an operator rejects, and never pays it after', async () => {
      const { a, b, key, reviewId } = await heldTransfer();
      const rejected = await consoleCall('POST', `/risk/reviews/${reviewId}/decision`, { verdict: 'reject' });
      expect(rejected.json()).toMatchObject({ status: 'REJECTED', applied: true });
      expect(await balanceOf(a)).toBe('100.00');
      expect(await balanceOf(b)).toBe('0.00');
      expectError(await send(a, b, '40.00', {}, key), 403, 'risk_rejected');
      expect((await consoleCall('POST', `/risk/reviews/${reviewId}/decision`, { verdict: 'approve' })).statusCode).toBe(
        409,
      );
      expect(await balanceOf(b)).toBe('0.00');
    });

    it('lets exactly one of two operators deciding at once win', async () => {
      const { a, b, reviewId } = await heldTransfer();
      const [x, y] = await Promise.all([
        consoleCall('POST', `/risk/reviews/${reviewId}/decision`, { verdict: 'approve' }),
        consoleCall('POST', `/risk/reviews/${reviewId}/decision`, { verdict: 'reject' }),
      ]);
      expect([x.statusCode, y.statusCode].sort()).toEqual([200, 409]);
      const won = x.statusCode === 200 ? 'approve' : 'reject';
      expect(await balanceOf(a)).toBe(won === 'approve' ? '60.00' : '100.00');
      expect(await balanceOf(b)).toBe(won === 'approve' ? '40.00' : '0.00');
    });

    it('finishes a decision a crash kept from moving the money, once', async () => {
      const { a, b, reviewId } = await heldTransfer();
      // The operator's decision was written, then the process died before the money moved.
      await world.platform.db.query(
        "update risk_reviews set status = 'APPROVED', decided_at = now(), decided_by = 'operator:gone' where review_id = $1",
        [reviewId],
      );
      expect(await balanceOf(b)).toBe('0.00');
      expect(await world.platform.risk.sweepReviews()).toBeGreaterThanOrEqual(1);
      expect(await balanceOf(a)).toBe('60.00');
      expect(await balanceOf(b)).toBe('40.00');
      expect((await world.platform.risk.review(reviewId)).applied).toBe(true);
      await world.platform.risk.sweepReviews();
      expect(await balanceOf(b)).toBe('40.00');
    });

    it('drops the review of a transfer the balance could not hold', async () => {
      const [a, b] = [await apiUser(world, 5_00n), await apiUser(world, 0n)];
      await rule({ name: 'look', condition: { kind: 'amount', over: '1.00' }, action: 'review' });
      expectError(await send(a, b, '40.00'), 402, 'balance_not_enough');
      const pending = (await consoleCall('GET', '/risk/reviews')).json().data;
      expect(pending.filter((r: { user_id: string }) => r.user_id === a.userId)).toEqual([]);
    });
  });

  it('makes a fraud victim whole once, as a loss the loss rate counts', async () => {
    const victim = await apiUser(world, 0n);
    const loss = { key: `fraud-${++keys}`, user_id: victim.userId, amount: '66.00', reason: 'account taken over' };
    const recorded = await consoleCall('POST', '/risk/losses', loss);
    expect(recorded.statusCode, recorded.body).toBe(201);
    expect(recorded.json()).toMatchObject({ amount: '66.00', recorded_by: expect.stringMatching(/^operator:/) });
    expect((await consoleCall('POST', '/risk/losses', loss)).statusCode).toBe(201);
    expect(await balanceOf(victim)).toBe('66.00');
    const reused = await consoleCall('POST', '/risk/losses', { ...loss, amount: '1.00' });
    expect(reused.json().code).toBe('loss_key_reused');
    const bad = await consoleCall('POST', '/risk/losses', { ...loss, key: 'x y', amount: '0.00' });
    expect(bad.json().code).toBe('loss_invalid');
    expect(await world.platform.risk.losses()).toEqual({ lossFen: 66_00n, lossCount: 1 });
    expect(await balanceOf(victim)).toBe('66.00');
  });

  describe('bad input to the rules API', () => {
    it.each([
      [{ condition: { kind: 'amount', over: '1.00' }, action: 'deny' }, 'name'],
      [{ name: 'x', condition: { kind: 'amount' }, action: 'deny' }, 'condition.over'],
      [{ name: 'x', condition: { kind: 'amount', over: 5 }, action: 'deny' }, 'condition.over'],
      [{ name: 'x', condition: { kind: 'weather' }, action: 'deny' }, 'condition.kind'],
      [
        { name: 'x', condition: { kind: 'velocity', dimension: 'user', window_seconds: 60 }, action: 'deny' },
        'condition.max_count',
      ],
      [
        {
          name: 'x',
          condition: { kind: 'velocity', dimension: 'planet', window_seconds: 60, max_count: 1 },
          action: 'deny',
        },
        'condition.dimension',
      ],
      [
        {
          name: 'x',
          condition: { kind: 'velocity', dimension: 'user', window_seconds: 999_999, max_count: 1 },
          action: 'deny',
        },
        'condition.window_seconds',
      ],
      [{ name: 'x', condition: { kind: 'amount', over: '1.00', colour: 'red' }, action: 'deny' }, 'condition.colour'],
      [{ name: 'x', condition: { kind: 'amount', over: '1.00' }, action: 'shrug' }, 'action'],
      [{ name: 'x', condition: { kind: 'amount', over: '1.00' }, action: 'deny', paths: ['moon'] }, 'paths[0]'],
      [{ name: 'x', condition: { kind: 'amount', over: '1.00' }, action: 'deny', mode: 'loud' }, 'mode'],
    ])('refuses %j naming %s, and stores nothing', async (body, param) => {
      const res = await consoleCall('POST', '/risk/rules', body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().code).toBe('rule_invalid');
      expect(res.json().message).toContain(param);
      expect((await consoleCall('GET', '/risk/rules')).json().data).toEqual([]);
    });

    it('refuses a second rule of one name, and an unknown rule', async () => {
      await rule({ name: 'once', condition: { kind: 'region' }, action: 'challenge' });
      expect(
        (await consoleCall('POST', '/risk/rules', { name: 'once', condition: { kind: 'region' }, action: 'deny' }))
          .statusCode,
      ).toBe(409);
      expect((await consoleCall('PATCH', '/risk/rules/99999', { enabled: false })).statusCode).toBe(404);
      expect((await consoleCall('DELETE', '/risk/rules/99999')).statusCode).toBe(404);
    });

    it('refuses the console without an operator token', async () => {
      const res = await world.app.inject({ method: 'GET', url: '/console/v1/risk/rules' });
      expect(res.statusCode).toBe(401);
    });
  });
});
