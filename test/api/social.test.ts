/**
 * Friends, blocks, contact matching, groups and transfers to friends through the native API, as
 * a wallet app would use them; the books verify at the end.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { requestFingerprint } from '../../src/core/idempotency.ts';
import { uuidFromU128 } from '../../src/core/ids.ts';
import { cnyLedger, WalletTransferCode } from '../../src/core/ledger-codes.ts';
import { limits } from '../../src/core/limits.ts';
import { formatAmount } from '../../src/core/money.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { transferId } from '../../src/wallet/index.ts';
import { type ApiUser, type ApiWorld, apiUser, apiWorld, befriend, loginAgain } from './support.ts';

const clock = new ManualClock(Date.parse('2026-12-07T02:00:00Z'));
let world: ApiWorld;

beforeAll(async () => {
  world = await apiWorld({ clock });
});

afterAll(async () => {
  expect(await verifyLedger(world.platform.db)).toEqual([]);
  await world.close();
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let keys = 0;
const transfer = (from: ApiUser, to: ApiUser, amount: string, key = `social-${++keys}`) =>
  from.call({
    method: 'POST',
    url: '/api/v1/transfers',
    headers: { 'idempotency-key': key },
    payload: { to_user_id: to.userId, amount, memo: 'dinner' },
  });

describe('friends', () => {
  it('asks by phone, sees the request on both sides, accepts, and both list the other', async () => {
    const [a, b] = [await apiUser(world, 0n), await apiUser(world, 0n)];
    await b.call({ method: 'PUT', url: '/api/v1/profile', payload: { nickname: '王小明' } });
    const asked = await a.call({
      method: 'POST',
      url: '/api/v1/friends/requests',
      payload: { to_phone: b.phone, message: 'from the office' },
    });
    expect(asked.statusCode, asked.body).toBe(201);
    expect(asked.json()).toMatchObject({ status: 'PENDING', message: 'from the office', to: { user_id: b.userId } });
    // What a stranger sees of b: the masked phone and the masked nickname, never either in clear.
    expect(asked.json().to).toEqual({
      user_id: b.userId,
      logon_id: `${b.phone.slice(0, 3)}****${b.phone.slice(-4)}`,
      masked_name: '**明',
      avatar_initial: '明',
    });
    const incoming = (await b.call({ method: 'GET', url: '/api/v1/friends/requests' })).json().data;
    expect(incoming.map((r: { from: { user_id: string } }) => r.from.user_id)).toEqual([a.userId]);
    const outgoing = (await a.call({ method: 'GET', url: '/api/v1/friends/requests?box=outgoing' })).json().data;
    expect(outgoing).toHaveLength(1);
    // Asking again answers the same open request.
    const again = await a.call({ method: 'POST', url: '/api/v1/friends/requests', payload: { to_user_id: b.userId } });
    expect(again.json().request_id).toBe(asked.json().request_id);

    const accepted = await b.call({
      method: 'POST',
      url: `/api/v1/friends/requests/${asked.json().request_id}/accept`,
    });
    expect(accepted.json().status).toBe('ACCEPTED');
    expect(
      (await a.call({ method: 'GET', url: '/api/v1/friends' })).json().data.map((f: { user_id: string }) => f.user_id),
    ).toEqual([b.userId]);
    expect(
      (await b.call({ method: 'GET', url: '/api/v1/friends' })).json().data.map((f: { user_id: string }) => f.user_id),
    ).toEqual([a.userId]);
    const twice = await b.call({ method: 'POST', url: `/api/v1/friends/requests/${asked.json().request_id}/accept` });
    expect(twice.json()).toMatchObject({ code: 'request_not_pending' });
    expect(
      (await a.call({ method: 'POST', url: '/api/v1/friends/requests', payload: { to_user_id: b.userId } })).json(),
    ).toMatchObject({
      code: 'already_friends',
    });
  });

  it('makes two users friends at once when each asks the other', async () => {
    const [a, b] = [await apiUser(world, 0n), await apiUser(world, 0n)];
    await a.call({ method: 'POST', url: '/api/v1/friends/requests', payload: { to_user_id: b.userId } });
    const back = await b.call({ method: 'POST', url: '/api/v1/friends/requests', payload: { to_user_id: a.userId } });
    expect(back.json().status).toBe('ACCEPTED');
    expect((await a.call({ method: 'GET', url: '/api/v1/friends' })).json().data).toHaveLength(1);
    expect((await a.call({ method: 'GET', url: '/api/v1/friends/requests?box=outgoing' })).json().data).toEqual([]);
  });

  it('declines, removes, and refuses bad input with clear errors and nothing written', async () => {
    const [a, b] = [await apiUser(world, 0n), await apiUser(world, 0n)];
    const asked = await a.call({ method: 'POST', url: '/api/v1/friends/requests', payload: { to_user_id: b.userId } });
    // Only the one asked may answer.
    const byA = await a.call({ method: 'POST', url: `/api/v1/friends/requests/${asked.json().request_id}/decline` });
    expect(byA.json()).toMatchObject({ code: 'request_not_found' });
    const declined = await b.call({
      method: 'POST',
      url: `/api/v1/friends/requests/${asked.json().request_id}/decline`,
    });
    expect(declined.json().status).toBe('DECLINED');
    await befriend(a, b);
    expect((await a.call({ method: 'DELETE', url: `/api/v1/friends/${b.userId}` })).statusCode).toBe(204);
    expect((await b.call({ method: 'GET', url: '/api/v1/friends' })).json().data).toEqual([]);
    expect((await a.call({ method: 'DELETE', url: `/api/v1/friends/${b.userId}` })).json()).toMatchObject({
      code: 'not_friends',
    });

    for (const [payload, code] of [
      [{ to_user_id: a.userId }, 'user_is_self'],
      [{ to_user_id: '2088000000000000' }, 'user_not_found'],
      [{}, 'parameter_missing'],
      [{ to_user_id: b.userId, to_phone: b.phone }, 'parameter_invalid'],
      [{ to_user_id: b.userId, message: 'x'.repeat(limits.socialRequestMessageLengthMax + 1) }, 'parameter_invalid'],
      [{ to_user_id: b.userId, message: 'bell\u0007' }, 'parameter_invalid'],
    ] as const) {
      const res = await a.call({ method: 'POST', url: '/api/v1/friends/requests', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.json().code, JSON.stringify(payload)).toBe(code);
    }
    expect((await b.call({ method: 'GET', url: '/api/v1/friends/requests' })).json().data).toEqual([]);
  });
});

describe('blocks', () => {
  it('a blocked user can send no request and no transfer; lifting the block restores both', async () => {
    let [a, b] = [await apiUser(world, 500_00n), await apiUser(world, 0n)];
    await befriend(a, b);
    // a asks again after b blocks: b's open request from a is declined, a's new one refused.
    expect((await b.call({ method: 'PUT', url: `/api/v1/blocks/${a.userId}` })).statusCode).toBe(204);
    expect(
      (await b.call({ method: 'GET', url: '/api/v1/blocks' })).json().data.map((p: { user_id: string }) => p.user_id),
    ).toEqual([a.userId]);
    const money = await transfer(a, b, '1.00');
    expect(money.statusCode).toBe(403);
    expect(money.json()).toMatchObject({ code: 'recipient_unavailable' });
    await b.call({ method: 'DELETE', url: `/api/v1/friends/${a.userId}` });
    const asked = await a.call({ method: 'POST', url: '/api/v1/friends/requests', payload: { to_user_id: b.userId } });
    expect(asked.json()).toMatchObject({ code: 'user_unavailable' });
    // The blocker may still send.
    clock.advanceMs(limits.socialNewFriendshipDays * 86_400_000);
    [a, b] = [await loginAgain(world, a), await loginAgain(world, b)];
    expect((await transfer(b, a, '0.01')).statusCode).toBe(402); // b has nothing: refused for money, not the block
    expect((await a.call({ method: 'GET', url: '/api/v1/balance' })).json().available).toBe('500.00');

    await b.call({ method: 'DELETE', url: `/api/v1/blocks/${a.userId}` });
    expect((await transfer(a, b, '1.00')).statusCode).toBe(200);
    expect(
      (await a.call({ method: 'POST', url: '/api/v1/friends/requests', payload: { to_user_id: b.userId } })).statusCode,
    ).toBe(201);
  });
});

describe('transfers to friends', () => {
  it('caps what a new friendship carries a day, answers a replay the same, and lifts the cap with age', async () => {
    const capYuan = limits.socialNewFriendDailyFenMax / 100;
    let [a, b] = [await apiUser(world, BigInt(limits.socialNewFriendDailyFenMax) * 3n), await apiUser(world, 0n)];
    await befriend(a, b);
    expect((await transfer(a, b, `${capYuan - 1}.00`)).statusCode).toBe(200);
    const over = await transfer(a, b, '2.00', 'over-the-cap');
    expect(over.statusCode).toBe(429);
    expect(over.json()).toMatchObject({ code: 'new_friend_limit_exceeded' });
    // The refusal is stored: the same key answers it again, and nothing moved.
    expect((await transfer(a, b, '2.00', 'over-the-cap')).json()).toMatchObject({ code: 'new_friend_limit_exceeded' });
    expect((await b.call({ method: 'GET', url: '/api/v1/balance' })).json().available).toBe(`${capYuan - 1}.00`);
    expect((await transfer(a, b, '1.00')).statusCode).toBe(200); // exactly the cap
    // The next Beijing day, the cap starts again; once the friendship is old, no cap.
    clock.advanceMs(86_400_000);
    [a, b] = [await loginAgain(world, a), await loginAgain(world, b)];
    expect((await transfer(a, b, '1.00')).statusCode).toBe(200);
    clock.advanceMs(limits.socialNewFriendshipDays * 86_400_000);
    a = await loginAgain(world, a);
    expect((await transfer(a, b, `${capYuan + 1}.00`)).statusCode).toBe(200);
  });

  it('records as moved a request resumed after a crash whose money moved, even past the cap now', async () => {
    const { platform } = world;
    const [a, b] = [await apiUser(world, BigInt(limits.socialNewFriendDailyFenMax) * 2n), await apiUser(world, 0n)];
    await befriend(a, b);
    const share = BigInt(limits.socialNewFriendDailyFenMax) / 2n + 1n; // two of them pass the cap
    expect((await transfer(a, b, formatAmount(share))).statusCode).toBe(200);
    // A crash between the ledger and the request's row: the money moved, the row still says processing.
    const key = 'crashed-after-the-ledger';
    const [payer, payee] = [await platform.members.getMember(a.userId), await platform.members.getMember(b.userId)];
    const id = transferId(a.userId, key);
    expect(
      await platform.ledger.createTransfers([
        {
          id,
          debitAccountId: payer.walletAccountId,
          creditAccountId: payee.walletAccountId,
          amount: share,
          ledger: cnyLedger,
          code: WalletTransferCode.userToUser,
          userData64: BigInt(a.userId),
        },
      ]),
    ).toEqual(['ok']);
    await platform.db.query(
      `insert into wallet_transfers (user_id, idempotency_key, request_hash, transfer_id, to_user_id, amount_fen, memo,
         status, error_code, lease_until_ns, created_at_ns) values ($1, $2, $3, $4, $5, $6, 'dinner', 'processing', null, 0, $7)`,
      [
        a.userId,
        key,
        requestFingerprint({ to_user_id: b.userId, amount_fen: share.toString(), memo: 'dinner' }),
        uuidFromU128(id),
        b.userId,
        share,
        clock.nowNs(),
      ],
    );
    const resumed = await transfer(a, b, formatAmount(share), key);
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect((await b.call({ method: 'GET', url: '/api/v1/balance' })).json().available).toBe(formatAmount(share * 2n));
  });

  it('a stranger (no friendship) is not capped by the friendship rule', async () => {
    const capYuan = limits.socialNewFriendDailyFenMax / 100;
    const [a, b] = [await apiUser(world, BigInt(limits.socialNewFriendDailyFenMax) * 2n), await apiUser(world, 0n)];
    expect((await transfer(a, b, `${capYuan + 1}.00`)).statusCode).toBe(200);
  });
});

describe('contact matching', () => {
  it('finds users by the hashes of their phones, leaving out those who hide or blocked you', async () => {
    const [me, open, hidden, blocker] = [
      await apiUser(world, 0n),
      await apiUser(world, 0n),
      await apiUser(world, 0n),
      await apiUser(world, 0n),
    ];
    await hidden.call({ method: 'PUT', url: '/api/v1/profile', payload: { discoverable: false } });
    await blocker.call({ method: 'PUT', url: `/api/v1/blocks/${me.userId}` });
    const hashes = [open, hidden, blocker, me].map((u) => sha256(u.phone));
    const res = await me.call({
      method: 'POST',
      url: '/api/v1/contacts/match',
      payload: { phone_hashes: [...hashes, sha256('13000000000')] },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toEqual([
      expect.objectContaining({ user_id: open.userId, phone_sha256: hashes[0], friend: false }),
    ]);
    // Hidden from search by phone, too.
    const byPhone = await me.call({
      method: 'POST',
      url: '/api/v1/friends/requests',
      payload: { to_phone: hidden.phone },
    });
    expect(byPhone.json()).toMatchObject({ code: 'user_not_found' });
    const bad = await me.call({
      method: 'POST',
      url: '/api/v1/contacts/match',
      payload: { phone_hashes: ['not-a-hash'] },
    });
    expect(bad.statusCode).toBe(400);
  });
});

describe('groups', () => {
  it('gathers friends, shows members only to members, adds, removes and lets a member leave', async () => {
    const [owner, f1, f2, f3, stranger] = [
      await apiUser(world, 0n),
      await apiUser(world, 0n),
      await apiUser(world, 0n),
      await apiUser(world, 0n),
      await apiUser(world, 0n),
    ];
    for (const f of [f1, f2, f3]) await befriend(owner, f);
    const created = await owner.call({
      method: 'POST',
      url: '/api/v1/groups',
      payload: { name: ' 周末聚餐 ', member_ids: [f1.userId, f2.userId, f1.userId] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const group = created.json();
    expect(group).toMatchObject({ name: '周末聚餐', owner_id: owner.userId, members: 3 });
    expect(group.member_list[0].user_id).toBe(owner.userId);
    const url = `/api/v1/groups/${group.group_id}`;

    expect((await f1.call({ method: 'GET', url })).statusCode).toBe(200);
    expect((await stranger.call({ method: 'GET', url })).json()).toMatchObject({ code: 'group_not_found' });
    expect((await f1.call({ method: 'GET', url: '/api/v1/groups' })).json().data).toEqual([
      expect.objectContaining({ group_id: group.group_id, members: 3 }),
    ]);
    // Only friends of the owner join; only the owner adds.
    const notFriend = await owner.call({
      method: 'POST',
      url: `${url}/members`,
      payload: { user_ids: [stranger.userId] },
    });
    expect(notFriend.json()).toMatchObject({ code: 'not_friends' });
    const byMember = await f1.call({ method: 'POST', url: `${url}/members`, payload: { user_ids: [f3.userId] } });
    expect(byMember.json()).toMatchObject({ code: 'not_group_owner' });
    expect(
      (await owner.call({ method: 'POST', url: `${url}/members`, payload: { user_ids: [f3.userId] } })).json().members,
    ).toBe(4);

    expect((await f1.call({ method: 'DELETE', url: `${url}/members/${f2.userId}` })).json()).toMatchObject({
      code: 'not_group_owner',
    });
    expect((await f1.call({ method: 'DELETE', url: `${url}/members/${f1.userId}` })).statusCode).toBe(204);
    expect((await owner.call({ method: 'DELETE', url: `${url}/members/${f2.userId}` })).statusCode).toBe(204);
    expect((await owner.call({ method: 'DELETE', url: `${url}/members/${owner.userId}` })).json()).toMatchObject({
      code: 'owner_cannot_leave',
    });
    expect((await owner.call({ method: 'GET', url })).json().members).toBe(2);
  });

  it('refuses a group past its size, whole, and writes nothing', async () => {
    const owner = await apiUser(world, 0n);
    const tooMany = Array.from(
      { length: limits.socialGroupMembersMax },
      (_, i) => `2088${(900_000_000_000 + i).toString()}`,
    );
    const res = await owner.call({
      method: 'POST',
      url: '/api/v1/groups',
      payload: { name: 'big', member_ids: tooMany },
    });
    expect(res.statusCode).toBe(400);
    expect((await owner.call({ method: 'GET', url: '/api/v1/groups' })).json().data).toEqual([]);
  });
});
