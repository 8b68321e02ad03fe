/**
 * Withdrawals through the risk engine, against the bank simulator: a review holds the amount in
 * the wallet and sends nothing to the bank — not on the sweep, not when asked about — until an
 * operator approves (the bank pays the card, the hold is posted) or rejects it (the hold is voided,
 * FAILED with RISK_REJECTED, and reconciliation does not look for it at the bank); a challenge
 * asks for the texted code first; a deny refuses with nothing written. Books checked after each.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { beijingOffsetMs } from '../../src/core/time.ts';
import { isRiskError } from '../../src/risk/index.ts';
import { balance, bankBalance, bindCard, key, newUser, useWorld, zhang } from './support.ts';

const world = useWorld();

afterEach(async () => {
  const risk = world().platform.risk;
  for (const rule of await risk.rules()) await risk.deleteRule(rule.ruleId);
});

async function withdrawer(fen: bigint) {
  const user = await newUser(world(), fen);
  const cardId = await bindCard(world(), user.userId, zhang);
  return { ...user, cardId };
}

async function rule(action: 'review' | 'challenge' | 'deny') {
  await world().platform.risk.createRule(
    { name: `withdrawal ${action}`, condition: { kind: 'amount', over: '100.00' }, paths: ['withdrawal'], action },
    'test',
  );
}

describe('withdrawals through the risk engine', () => {
  it('holds a reviewed withdrawal, sends it to the bank only once approved', async () => {
    const { channels, risk } = world().platform;
    const user = await withdrawer(500_00n);
    await rule('review');
    const bankBefore = await bankBalance(world(), 'ICBC', zhang.cardNo);
    const idempotencyKey = key('review');
    const order = await channels.withdraw(user.userId, { cardId: user.cardId, amount: '300.00', idempotencyKey });
    expect(order).toMatchObject({ status: 'REVIEW', kind: 'WITHDRAW' });
    expect(await balance(world(), user.userId)).toBe(200_00n);
    // Nothing reaches the bank while it waits: not the sweep, not a look at the order.
    await channels.sweep();
    expect((await channels.resolve(order.orderNo)).status).toBe('REVIEW');
    expect(await bankBalance(world(), 'ICBC', zhang.cardNo)).toBe(bankBefore);
    // A retry answers the same order.
    expect(
      (await channels.withdraw(user.userId, { cardId: user.cardId, amount: '300.00', idempotencyKey })).orderNo,
    ).toBe(order.orderNo);

    const [review] = (await risk.reviews()).filter((r) => r.userId === user.userId);
    expect(review).toMatchObject({ path: 'withdrawal', status: 'PENDING' });
    await risk.decide(review?.reviewId ?? '', 'operator:test', 'approve', 'called the customer');
    const paid = await channels.resolve(order.orderNo);
    expect(paid.status).toBe('SUCCESS');
    expect(await balance(world(), user.userId)).toBe(200_00n);
    expect(Number(await bankBalance(world(), 'ICBC', zhang.cardNo))).toBeCloseTo(Number(bankBefore) + 300, 2);
  });

  it('gives a rejected withdrawal back to the wallet and never sends it', async () => {
    const { channels, risk, reconciler } = world().platform;
    const user = await withdrawer(500_00n);
    await rule('review');
    const bankBefore = await bankBalance(world(), 'ICBC', zhang.cardNo);
    const order = await channels.withdraw(user.userId, {
      cardId: user.cardId,
      amount: '300.00',
      idempotencyKey: key('reject'),
    });
    const [review] = (await risk.reviews()).filter((r) => r.userId === user.userId);
    await risk.decide(review?.reviewId ?? '', 'operator:test', 'reject', undefined);
    expect(await channels.orderByNo(order.orderNo)).toMatchObject({ status: 'FAILED', failCode: 'RISK_REJECTED' });
    expect(await balance(world(), user.userId)).toBe(500_00n);
    expect(await bankBalance(world(), 'ICBC', zhang.cardNo)).toBe(bankBefore);
    // Applying the decision again (a crash before it was marked applied) moves nothing.
    await expect(risk.decide(review?.reviewId ?? '', 'operator:test', 'approve', undefined)).rejects.toThrow(/decided/);
    expect(await balance(world(), user.userId)).toBe(500_00n);
    // The bank never had it: reconciliation finds nothing missing.
    const date = new Date(order.createdAt.getTime() + beijingOffsetMs).toISOString().slice(0, 10);
    await reconciler.run('ICBC', date);
    expect((await reconciler.items({ bank: 'ICBC', date })).filter((i) => i.orderNo === order.orderNo)).toEqual([]);
  });

  it('asks for the texted code before a challenged withdrawal, and refuses a denied one', async () => {
    const { channels, members } = world().platform;
    const user = await withdrawer(500_00n);
    await rule('challenge');
    const idempotencyKey = key('challenge');
    const input = { cardId: user.cardId, amount: '150.00', idempotencyKey };
    const asked = await channels.withdraw(user.userId, input).catch((e: unknown) => e);
    expect(isRiskError(asked, 'challenge_required')).toBe(true);
    expect(await balance(world(), user.userId)).toBe(500_00n);
    const [sms] = await members.smsOutbox({ phone: user.phone, limit: 1 });
    const code = /Code (\d{6})/.exec(sms?.text ?? '')?.[1] ?? '';
    const challengeId = isRiskError(asked) ? (asked.challengeId ?? '') : '';
    const done = await channels.withdraw(user.userId, input, { challenge: { id: challengeId, code } });
    expect(done.status).toBe('SUCCESS');
    expect(await balance(world(), user.userId)).toBe(350_00n);

    await world().platform.risk.deleteRule((await world().platform.risk.rules())[0]?.ruleId ?? 0);
    await rule('deny');
    const refused = await channels
      .withdraw(user.userId, { cardId: user.cardId, amount: '150.00', idempotencyKey: key('deny') })
      .catch((e: unknown) => e);
    expect(isRiskError(refused, 'payment_denied')).toBe(true);
    expect(await balance(world(), user.userId)).toBe(350_00n);
  });
});
