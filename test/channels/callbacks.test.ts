/**
 * Bad callbacks move nothing: a forged signature, a replayed callback, an amount that differs
 * from the order, an unknown order, a stale timestamp, an unknown bank. Each is refused, logged
 * in channel_callbacks with its verdict, and leaves the ledger as it was. The bank's own
 * duplicate deliveries are idempotent.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/banksim/index.ts';
import { balance, key, newUser, payOnPage, setFaults, useWorld, waitFor, zhang } from './support.ts';

const config = defaultConfig();
const world = useWorld({ sim: config });
const secret = 'paybao-bank-sim-dev-secret';

function signed(body: string, options: { timestampMs?: number; secret?: string } = {}): Record<string, string> {
  const timestamp = String(options.timestampMs ?? Date.now());
  return {
    'content-type': 'application/json',
    'x-bank-merchant': 'paybao',
    'x-bank-timestamp': timestamp,
    'x-bank-signature': createHmac('sha256', options.secret ?? secret)
      .update(`CALLBACK\n${timestamp}\n${body}`)
      .digest('hex'),
  };
}

async function post(bank: string, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${world().base}/channels/callbacks/${bank}`, { method: 'POST', headers, body });
}

async function verdicts(orderNo: string): Promise<string[]> {
  const rows = await world().platform.db.query<{ verdict: string }>(
    'select verdict from channel_callbacks where order_no = $1 order by id',
    [orderNo],
  );
  return rows.map((r) => r.verdict);
}

/** A gateway top-up waiting for the customer, and the callback body the bank would send for it. */
async function waitingOrder(amount = '88.00') {
  const user = await newUser(world());
  const order = await world().platform.channels.topUpByGateway(user.userId, {
    bank: 'ICBC',
    amount,
    idempotencyKey: key(),
  });
  const body = (status: string, amountText = amount) =>
    JSON.stringify({
      bank: 'ICBC',
      merchant_id: 'paybao',
      order_no: order.orderNo,
      kind: 'GATEWAY',
      amount: amountText,
      status,
      fail_code: null,
      bank_serial: 'X1',
      batch_no: null,
      created_at: '2026-11-26 12:00:00',
      finished_at: '2026-11-26 12:00:01',
    });
  return { user, order, body };
}

describe('callbacks', () => {
  it('refuses a forged signature and moves nothing', async () => {
    const { user, order, body } = await waitingOrder();
    const forged = await post('ICBC', body('SUCCESS'), signed(body('SUCCESS'), { secret: 'not-the-secret' }));
    expect(forged.status).toBe(401);
    const tampered = signed(body('FAILED'));
    expect((await post('ICBC', body('SUCCESS'), tampered)).status).toBe(401);
    expect(await balance(world(), user.userId)).toBe(0n);
    expect((await world().platform.channels.order(user.userId, order.orderNo)).status).toBe('IN_FLIGHT');
    const rows = await world().platform.db.query<{ verdict: string }>(
      "select verdict from channel_callbacks where verdict = 'forged'",
    );
    expect(rows.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses an amount that differs from the order, an unknown order, a stale timestamp, an unknown bank', async () => {
    const { user, order, body } = await waitingOrder('88.00');
    const mismatch = body('SUCCESS', '880.00');
    expect((await post('ICBC', mismatch, signed(mismatch))).status).toBe(400);
    const unknown = body('SUCCESS').replace(order.orderNo, 'PB20261126NOSUCHORDER');
    expect((await post('ICBC', unknown, signed(unknown))).status).toBe(404);
    const stale = body('SUCCESS');
    expect((await post('ICBC', stale, signed(stale, { timestampMs: Date.now() - 3_600_000 }))).status).toBe(400);
    expect((await post('NOBANK', stale, signed(stale))).status).toBe(404);
    expect(await verdicts(order.orderNo)).toEqual(['mismatch', 'stale']);
    expect(await balance(world(), user.userId)).toBe(0n);
    expect((await world().platform.channels.order(user.userId, order.orderNo)).status).toBe('IN_FLIGHT');
  });

  it('applies a genuine callback once; a replay of it is refused, a re-signed duplicate changes nothing', async () => {
    const { user, order, body } = await waitingOrder('66.60');
    // The customer really pays, so that the bank's books and the callback agree.
    await setFaults(world(), {});
    const location = await payOnPage(order.payUrl ?? '', zhang.cardNo);
    expect(location).not.toBeNull();
    await waitFor('the bank callback, applied', async () =>
      (await verdicts(order.orderNo)).includes('accepted') &&
      (await world().platform.channels.order(user.userId, order.orderNo)).status === 'SUCCESS'
        ? true
        : undefined,
    );
    expect(await balance(world(), user.userId)).toBe(6_660n);
    // Our own genuine callback for the same order: accepted (a duplicate), moves nothing more.
    const genuine = body('SUCCESS', '66.60');
    const headers = signed(genuine);
    expect((await post('ICBC', genuine, headers)).status).toBe(200);
    // The very same bytes and signature again: a replay.
    const replay = await post('ICBC', genuine, headers);
    expect(replay.status).toBe(409);
    expect(await balance(world(), user.userId)).toBe(6_660n);
    expect(await verdicts(order.orderNo)).toContain('replay');
  });

  it('delivers the bank’s duplicate callbacks idempotently', async () => {
    await setFaults(world(), { duplicateCallbackRate: 1 });
    const { user, order } = await waitingOrder('12.34');
    await payOnPage(order.payUrl ?? '', zhang.cardNo);
    // Both deliveries accepted, and the order settled (money moves before the status changes).
    await waitFor('both deliveries', async () => {
      const accepted = (await verdicts(order.orderNo)).filter((v) => v === 'accepted');
      const { status } = await world().platform.channels.order(user.userId, order.orderNo);
      return accepted.length >= 2 && status === 'SUCCESS' ? true : undefined;
    });
    expect(await balance(world(), user.userId)).toBe(1_234n);
    await setFaults(world(), {});
  });
});
