/**
 * Collection requests (AA) through the native API: equal and per-member shares, paying (once),
 * who paid, the reminder to the unpaid (once), closing after 7 days, and the notices a red
 * packet's refund and a payment leave. The ledger verifies at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { verifyRedPackets } from '../../src/social/index.ts';
import { type ApiUser, type ApiWorld, apiUser, apiWorld, groupOf, loginAgain } from './support.ts';

const clock = new ManualClock(Date.parse('2026-12-07T02:00:00Z'));
let world: ApiWorld;

beforeAll(async () => {
  world = await apiWorld({ clock });
});

afterAll(async () => {
  expect(await verifyLedger(world.platform.db)).toEqual([]);
  expect(await verifyRedPackets(world.platform.db)).toEqual([]);
  await world.close();
});

let keys = 0;
const ask = (user: ApiUser, payload: Record<string, unknown>, key = `aa-${++keys}`) =>
  user.call({ method: 'POST', url: '/api/v1/collections', headers: { 'idempotency-key': key }, payload });
const balance = async (user: ApiUser) => (await user.call({ method: 'GET', url: '/api/v1/balance' })).json().available;

describe('collections (AA)', () => {
  it('asks each member the same; each pays once; the requester sees who paid and is told', async () => {
    let [host, a, b] = [await apiUser(world, 0n), await apiUser(world, 50_00n), await apiUser(world, 100_00n)];
    const groupId = await groupOf(host, [a, b]);
    const created = await ask(host, { group_id: groupId, title: 'hotpot', amount_per_person: '88.50' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ status: 'OPEN', total_amount: '177.00', paid_amount: '0.00' });
    const id = created.json().collection_id;
    // The same key answers the same request.
    expect(
      (await ask(host, { group_id: groupId, title: 'hotpot', amount_per_person: '88.50' }, `aa-${keys}`)).json()
        .collection_id,
    ).toBe(id);

    // a is short: nothing moves; b pays, twice, once.
    expect((await a.call({ method: 'POST', url: `/api/v1/collections/${id}/pay` })).json()).toMatchObject({
      code: 'balance_not_enough',
    });
    const paid = await b.call({ method: 'POST', url: `/api/v1/collections/${id}/pay` });
    expect(paid.statusCode, paid.body).toBe(200);
    expect(paid.json().paid_amount).toBe('88.50');
    expect((await b.call({ method: 'POST', url: `/api/v1/collections/${id}/pay` })).json().paid_amount).toBe('88.50');
    expect(await balance(b)).toBe('11.50');
    expect(await balance(host)).toBe('88.50');
    const owed = (await a.call({ method: 'GET', url: '/api/v1/collections?box=owed' })).json().data;
    expect(owed.map((c: { collection_id: string }) => c.collection_id)).toEqual([id]);
    const notices = (await host.call({ method: 'GET', url: '/api/v1/notices' })).json().data;
    expect(notices).toEqual([expect.objectContaining({ kind: 'collection_paid', message: 'hotpot: 88.50 received' })]);

    // A day on, the unpaid are reminded, once; after 7 days the request closes.
    clock.advanceMs(limits.collectionRemindAfterMs);
    await world.platform.social.sweep();
    await world.platform.social.sweep();
    [host, a, b] = [await loginAgain(world, host), await loginAgain(world, a), await loginAgain(world, b)];
    const reminders = (await a.call({ method: 'GET', url: '/api/v1/notices' })).json().data;
    expect(reminders).toEqual([expect.objectContaining({ kind: 'collection_reminder', ref: id })]);
    expect((await b.call({ method: 'GET', url: '/api/v1/notices' })).json().data).toEqual([]);
    clock.advanceMs(limits.collectionOpenMs);
    expect(await world.platform.social.collections.sweep()).toBeGreaterThanOrEqual(1);
    [host, a] = [await loginAgain(world, host), await loginAgain(world, a)];
    expect((await a.call({ method: 'POST', url: `/api/v1/collections/${id}/pay` })).json()).toMatchObject({
      code: 'collection_closed',
    });
    expect((await host.call({ method: 'GET', url: `/api/v1/collections/${id}` })).json().status).toBe('CLOSED');
  });

  it('asks set amounts per member, and refuses bad requests with nothing written', async () => {
    const [host, a, b, stranger] = [
      await apiUser(world, 0n),
      await apiUser(world, 10_00n),
      await apiUser(world, 0n),
      await apiUser(world, 0n),
    ];
    const groupId = await groupOf(host, [a, b]);
    const created = await ask(host, {
      group_id: groupId,
      title: 'taxi',
      shares: [
        { user_id: a.userId, amount: '3.20' },
        { user_id: b.userId, amount: '4.80' },
      ],
    });
    expect(created.json()).toMatchObject({ total_amount: '8.00' });
    expect(
      (await stranger.call({ method: 'GET', url: `/api/v1/collections/${created.json().collection_id}` })).statusCode,
    ).toBe(404);
    for (const [payload, code] of [
      [{ group_id: groupId, title: 'x', amount_per_person: '0.00' }, 'amount_invalid'],
      [{ group_id: groupId, title: 'x' }, 'parameter_invalid'],
      [{ group_id: groupId, title: 'x', shares: [{ user_id: stranger.userId, amount: '1.00' }] }, 'parameter_invalid'],
      [{ group_id: groupId, title: 'x', shares: [{ user_id: host.userId, amount: '1.00' }] }, 'parameter_invalid'],
      [{ group_id: '00000000-0000-7000-8000-000000000000', title: 'x', amount_per_person: '1.00' }, 'group_not_found'],
    ] as const) {
      const res = await ask(host, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBeGreaterThanOrEqual(400);
      expect(res.json().code, JSON.stringify(payload)).toBe(code);
    }
    expect((await host.call({ method: 'GET', url: '/api/v1/collections' })).json().data).toHaveLength(1);
  });

  it('tells a red packet’s sender what came back at expiry', async () => {
    let sender = await apiUser(world, 10_00n);
    const friend = await apiUser(world, 0n);
    const asked = await sender.call({
      method: 'POST',
      url: '/api/v1/friends/requests',
      payload: { to_user_id: friend.userId },
    });
    await friend.call({ method: 'POST', url: `/api/v1/friends/requests/${asked.json().request_id}/accept` });
    const sent = await sender.call({
      method: 'POST',
      url: '/api/v1/red-packets',
      headers: { 'idempotency-key': 'notice-packet' },
      payload: { kind: 'SINGLE', amount: '6.66', to_user_id: friend.userId },
    });
    expect(sent.statusCode, sent.body).toBe(201);
    clock.advanceMs(limits.redPacketTtlMs);
    await world.platform.social.sweep();
    sender = await loginAgain(world, sender);
    const told = (await sender.call({ method: 'GET', url: '/api/v1/notices' })).json().data;
    expect(told).toContainEqual(
      expect.objectContaining({
        kind: 'red_packet_refunded',
        ref: sent.json().packet_id,
        message: expect.stringContaining('6.66'),
      }),
    );
    expect(await balance(sender)).toBe('10.00');
  });
});
