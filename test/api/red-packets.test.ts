/**
 * Red packets through the native API, as a wallet app sends and grabs them: to a friend, lucky
 * and equal shares in a group, the list of who got how much, expiry with the rest refunded, and
 * bad input refused with nothing written. The ledger and every packet's books verify at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { verifyRedPackets } from '../../src/social/index.ts';
import { type ApiUser, type ApiWorld, apiUser, apiWorld, befriend, groupOf, loginAgain } from './support.ts';

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
const send = (from: ApiUser, payload: Record<string, unknown>, key = `packet-${++keys}`) =>
  from.call({ method: 'POST', url: '/api/v1/red-packets', headers: { 'idempotency-key': key }, payload });
const grab = (user: ApiUser, packetId: string) =>
  user.call({ method: 'POST', url: `/api/v1/red-packets/${packetId}/grab` });
const balance = async (user: ApiUser) => (await user.call({ method: 'GET', url: '/api/v1/balance' })).json().available;

describe('red packets', () => {
  it('sends a lucky packet to a group; members grab once each; shares sum to the packet; the luckiest shows', async () => {
    const [sender, m1, m2, m3, outsider] = [
      await apiUser(world, 100_00n),
      await apiUser(world, 0n),
      await apiUser(world, 0n),
      await apiUser(world, 0n),
      await apiUser(world, 0n),
    ];
    const groupId = await groupOf(sender, [m1, m2, m3]);
    const sent = await send(sender, {
      kind: 'LUCKY',
      amount: '10.00',
      shares: 3,
      greeting: '恭喜发财',
      group_id: groupId,
    });
    expect(sent.statusCode, sent.body).toBe(201);
    const packet = sent.json();
    expect(packet).toMatchObject({
      status: 'OPEN',
      amount: '10.00',
      shares: 3,
      remaining_shares: 3,
      greeting: '恭喜发财',
    });
    expect(await balance(sender)).toBe('90.00');

    expect((await grab(outsider, packet.packet_id)).json()).toMatchObject({ code: 'packet_not_found' });
    const grabs = [
      await grab(m1, packet.packet_id),
      await grab(m2, packet.packet_id),
      await grab(m3, packet.packet_id),
    ];
    for (const g of grabs) expect(g.statusCode, g.body).toBe(200);
    expect(grabs.map((g) => g.json().seq)).toEqual([1, 2, 3]);
    const amounts = grabs.map((g) => Math.round(Number(g.json().amount) * 100));
    expect(amounts.reduce((a, b) => a + b, 0)).toBe(10_00);
    for (const a of amounts) expect(a).toBeGreaterThanOrEqual(1);
    // The money is in each wallet when the grab answers; grabbing again shows the same share.
    expect(await balance(m1)).toBe(grabs[0]?.json().amount);
    expect((await grab(m1, packet.packet_id)).json().amount).toBe(grabs[0]?.json().amount);
    expect((await grab(sender, packet.packet_id)).json()).toMatchObject({ code: 'all_grabbed' });

    const seen = (await m2.call({ method: 'GET', url: `/api/v1/red-packets/${packet.packet_id}` })).json();
    expect(seen).toMatchObject({ status: 'FINISHED', remaining_amount: '0.00', remaining_shares: 0 });
    expect(seen.grabs.map((g: { user_id: string }) => g.user_id)).toEqual([m1.userId, m2.userId, m3.userId]);
    const best = Math.max(...amounts);
    expect(seen.luckiest_user_id).toBe([m1, m2, m3][amounts.indexOf(best)]?.userId);
    expect((await outsider.call({ method: 'GET', url: `/api/v1/red-packets/${packet.packet_id}` })).statusCode).toBe(
      404,
    );
    const received = (await m3.call({ method: 'GET', url: '/api/v1/red-packets?box=received' })).json().data;
    expect(received.map((p: { packet_id: string }) => p.packet_id)).toEqual([packet.packet_id]);
    const sentList = (await sender.call({ method: 'GET', url: '/api/v1/red-packets' })).json().data;
    expect(sentList.map((p: { packet_id: string }) => p.packet_id)).toEqual([packet.packet_id]);
  });

  it('sends to one friend; a replay answers the same packet and moves nothing more', async () => {
    const [sender, friend, stranger] = [
      await apiUser(world, 50_00n),
      await apiUser(world, 0n),
      await apiUser(world, 0n),
    ];
    await befriend(sender, friend);
    const first = await send(sender, { kind: 'SINGLE', amount: '8.88', to_user_id: friend.userId }, 'single-1');
    expect(first.statusCode, first.body).toBe(201);
    const again = await send(sender, { kind: 'SINGLE', amount: '8.88', to_user_id: friend.userId }, 'single-1');
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().packet_id).toBe(first.json().packet_id);
    const reused = await send(sender, { kind: 'SINGLE', amount: '9.99', to_user_id: friend.userId }, 'single-1');
    expect(reused.json()).toMatchObject({ code: 'idempotency_key_reused' });
    expect(await balance(sender)).toBe('41.12');
    expect((await grab(stranger, first.json().packet_id)).json()).toMatchObject({ code: 'packet_not_found' });
    expect((await grab(sender, first.json().packet_id)).json()).toMatchObject({ code: 'packet_not_found' });
    expect((await grab(friend, first.json().packet_id)).json()).toMatchObject({ amount: '8.88', seq: 1 });
    expect(await balance(friend)).toBe('8.88');
    // Only to friends, and never to one who blocked you.
    expect((await send(sender, { kind: 'SINGLE', amount: '1.00', to_user_id: stranger.userId })).json()).toMatchObject({
      code: 'not_friends',
    });
    await friend.call({ method: 'PUT', url: `/api/v1/blocks/${sender.userId}` });
    expect((await send(sender, { kind: 'SINGLE', amount: '1.00', to_user_id: friend.userId })).json()).toMatchObject({
      code: 'user_unavailable',
    });
  });

  it('gives back what is not grabbed 24 hours after sending, and refuses grabs after that', async () => {
    let sender = await apiUser(world, 30_00n);
    let [m1, m2] = [await apiUser(world, 0n), await apiUser(world, 0n)];
    const groupId = await groupOf(sender, [m1, m2]);
    const packet = (await send(sender, { kind: 'EQUAL', amount: '20.00', shares: 4, group_id: groupId })).json();
    expect((await grab(m1, packet.packet_id)).json().amount).toBe('5.00');
    clock.advanceMs(limits.redPacketTtlMs);
    // The sessions lapsed meanwhile: log in again.
    [sender, m1, m2] = [await loginAgain(world, sender), await loginAgain(world, m1), await loginAgain(world, m2)];
    expect((await grab(m2, packet.packet_id)).json()).toMatchObject({ code: 'packet_expired' });
    expect(await world.platform.social.redPackets.sweep()).toBeGreaterThanOrEqual(1);
    const closed = (await sender.call({ method: 'GET', url: `/api/v1/red-packets/${packet.packet_id}` })).json();
    expect(closed).toMatchObject({ status: 'EXPIRED', refunded_amount: '15.00' });
    expect(await balance(sender)).toBe('25.00');
    expect(await world.platform.social.redPackets.sweep()).toBe(0); // once
    expect(await balance(sender)).toBe('25.00');
  });

  it('a campaign packet (a red packet rain): anyone but its sender grabs once, beyond a group’s share limit', async () => {
    const [merchant, a, b] = [await apiUser(world, 1_000_00n), await apiUser(world, 0n), await apiUser(world, 0n)];
    const shares = limits.redPacketSharesMax + 50;
    const { packet } = await world.platform.social.redPackets.send(merchant.userId, 'rain-1', {
      kind: 'LUCKY',
      amount: '300.00',
      shares,
      campaign: true,
    });
    expect(packet.target).toEqual({ kind: 'CAMPAIGN', id: '*' });
    const first = await grab(a, packet.packetId);
    expect(first.statusCode, first.body).toBe(200);
    expect((await grab(a, packet.packetId)).json().amount).toBe(first.json().amount);
    expect((await grab(b, packet.packetId)).json().seq).toBe(2);
    expect((await grab(merchant, packet.packetId)).json()).toMatchObject({ code: 'packet_not_found' });
    await expect(
      world.platform.social.redPackets.send(merchant.userId, 'rain-2', {
        kind: 'SINGLE',
        amount: '1.00',
        campaign: true,
      }),
    ).rejects.toMatchObject({ code: 'parameter_invalid' });
  });

  it('refuses bad packets with clear errors and writes nothing', async () => {
    const sender = await apiUser(world, 5_00n);
    const member = await apiUser(world, 0n);
    const groupId = await groupOf(sender, [member]);
    for (const [payload, code] of [
      [{ kind: 'LUCKY', amount: '0.02', shares: 3, group_id: groupId }, 'share_out_of_bounds'],
      [{ kind: 'LUCKY', amount: '600.01', shares: 3, group_id: groupId }, 'share_out_of_bounds'],
      [{ kind: 'EQUAL', amount: '1.00', shares: 3, group_id: groupId }, 'not_divisible'],
      [
        { kind: 'LUCKY', amount: '1.00', shares: limits.redPacketSharesMax + 1, group_id: groupId },
        'parameter_invalid',
      ],
      [{ kind: 'LUCKY', amount: '1.001', shares: 2, group_id: groupId }, 'amount_invalid'],
      [
        { kind: 'LUCKY', amount: '1.00', shares: 2, group_id: '00000000-0000-7000-8000-000000000000' },
        'group_not_found',
      ],
      [{ kind: 'LUCKY', amount: '1.00', shares: 2, to_user_id: member.userId }, 'parameter_invalid'],
      [{ kind: 'LUCKY', amount: '6.00', shares: 2, group_id: groupId }, 'balance_not_enough'],
    ] as const) {
      const res = await send(sender, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.json().code, JSON.stringify(payload)).toBe(code);
    }
    expect(await balance(sender)).toBe('5.00');
    expect((await sender.call({ method: 'GET', url: '/api/v1/red-packets' })).json().data).toEqual([]);
  });
});
