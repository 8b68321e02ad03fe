/**
 * POST /api/v1/transfers moves money between two users' wallets exactly once per Idempotency-Key:
 * the same key with the same body answers the first result again (no second movement, even when
 * the requests race or a crash cut the first one short), the same key with another body is a
 * 409, an empty wallet is a 402 that nothing moves past, and malformed input is a 400 in the
 * error shape that moves nothing. The books balance at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { uuidFromU128 } from '../../src/core/ids.ts';
import { limits } from '../../src/core/limits.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { transferId } from '../../src/wallet/index.ts';
import { type ApiUser, type ApiWorld, apiUser, apiWorld, balanceOf, expectError } from './support.ts';

const clock = new ManualClock();
let world: ApiWorld;

beforeAll(async () => {
  world = await apiWorld({ clock });
});

afterAll(async () => {
  expect(await verifyLedger(world.platform.db)).toEqual([]);
  await world.close();
});

let keys = 0;
const newKey = () => `key-${++keys}`;

/** Posts a transfer under `key` (a fresh one by default; null sends no key). */
function send(from: ApiUser, body: unknown, key: string | null = newKey()) {
  return from.call({
    method: 'POST',
    url: '/api/v1/transfers',
    headers: key === null ? {} : { 'idempotency-key': key },
    payload: body as object,
  });
}

/** How many user-to-user transfers the ledger holds out of `user`'s wallet. */
async function movementsFrom(user: ApiUser): Promise<number> {
  const member = await world.platform.members.getMember(user.userId);
  const transfers = await world.platform.ledger.getAccountTransfers({
    accountId: member.walletAccountId,
    limit: 1000,
    credits: false,
  });
  return transfers.filter((t) => t.code === 200).length;
}

describe('a transfer', () => {
  it('moves the amount to a user named by id or by phone, and says so', async () => {
    const alice = await apiUser(world, 100_00n);
    const bob = await apiUser(world, 0n);
    const key = newKey();
    const res = await send(alice, { to_user_id: bob.userId, amount: '12.34', memo: '午饭 🍜' }, key);
    expect(res.statusCode).toBe(200);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(res.json()).toEqual({
      id: uuidFromU128(transferId(alice.userId, key)),
      status: 'succeeded',
      from_user_id: alice.userId,
      to_user_id: bob.userId,
      amount: '12.34',
      memo: '午饭 🍜',
      created_at: new Date(Number(clock.nowNs() / 1_000_000n)).toISOString(),
    });
    const byPhone = await send(alice, { to_phone: `+86 ${bob.phone}`, amount: '0.66' });
    expect(byPhone.statusCode).toBe(200);
    expect(byPhone.json()).toMatchObject({ to_user_id: bob.userId, memo: '' });
    expect(await balanceOf(alice)).toBe('87.00');
    expect(await balanceOf(bob)).toBe('13.00');
  });

  it('refuses an unknown recipient and oneself, moving nothing', async () => {
    const alice = await apiUser(world, 10_00n);
    expectError(
      await send(alice, { to_user_id: '2088000000000000', amount: '1' }),
      404,
      'recipient_not_found',
      'to_user_id',
    );
    expectError(await send(alice, { to_phone: '13000000000', amount: '1' }), 404, 'recipient_not_found', 'to_phone');
    expectError(await send(alice, { to_user_id: alice.userId, amount: '1' }), 400, 'recipient_is_sender');
    expect(await balanceOf(alice)).toBe('10.00');
  });

  it('is refused with balance_not_enough past the balance, and the refusal is replayed for its key', async () => {
    const alice = await apiUser(world, 5_00n);
    const bob = await apiUser(world, 0n);
    const key = newKey();
    const refused = await send(alice, { to_user_id: bob.userId, amount: '5.01' }, key);
    expectError(refused, 402, 'balance_not_enough', null);
    expect(await balanceOf(alice)).toBe('5.00');
    // Topped up, the same key still answers what it answered: a key names one request, one outcome.
    const carol = await apiUser(world, 1_00n);
    expect((await send(carol, { to_user_id: alice.userId, amount: '1.00' })).statusCode).toBe(200);
    expectError(await send(alice, { to_user_id: bob.userId, amount: '5.01' }, key), 402, 'balance_not_enough');
    expect(await balanceOf(alice)).toBe('6.00');
    const fresh = await send(alice, { to_user_id: bob.userId, amount: '5.01' });
    expect(fresh.statusCode).toBe(200);
    expect(await balanceOf(alice)).toBe('0.99');
    expect(await balanceOf(bob)).toBe('5.01');
  });
});

describe('Idempotency-Key', () => {
  it('is required, and must be printable ASCII of limited length', async () => {
    const alice = await apiUser(world, 10_00n);
    const bob = await apiUser(world, 0n);
    const body = { to_user_id: bob.userId, amount: '1.00' };
    expectError(await send(alice, body, null), 400, 'parameter_missing', 'Idempotency-Key');
    expectError(await send(alice, body, ''), 400, 'parameter_invalid', 'Idempotency-Key');
    expectError(
      await send(alice, body, 'k'.repeat(limits.idempotencyKeyLengthMax + 1)),
      400,
      'parameter_invalid',
      'Idempotency-Key',
    );
    expect(await balanceOf(alice)).toBe('10.00');
  });

  it('answers the same result for the same key and body, moving the money once', async () => {
    const alice = await apiUser(world, 10_00n);
    const bob = await apiUser(world, 0n);
    const key = newKey();
    const body = { to_user_id: bob.userId, amount: '3.00', memo: 'rent' };
    const first = await send(alice, body, key);
    clock.advanceMs(1000);
    const second = await send(alice, { memo: 'rent', amount: '3', to_user_id: bob.userId }, key);
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual(first.json());
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await balanceOf(alice)).toBe('7.00');
    expect(await balanceOf(bob)).toBe('3.00');
    expect(await movementsFrom(alice)).toBe(1);
  });

  it('refuses the same key with another body with a 409, moving nothing more', async () => {
    const alice = await apiUser(world, 10_00n);
    const bob = await apiUser(world, 0n);
    const carol = await apiUser(world, 0n);
    const key = newKey();
    expect((await send(alice, { to_user_id: bob.userId, amount: '1.00' }, key)).statusCode).toBe(200);
    for (const other of [
      { to_user_id: bob.userId, amount: '2.00' },
      { to_user_id: carol.userId, amount: '1.00' },
      { to_user_id: bob.userId, amount: '1.00', memo: 'changed' },
    ]) {
      const res = await send(alice, other, key);
      expectError(res, 409, 'idempotency_key_reused', 'Idempotency-Key');
      expect(res.json().type).toBe('idempotency_error');
    }
    expect(await balanceOf(alice)).toBe('9.00');
    expect(await balanceOf(carol)).toBe('0.00');
  });

  it('belongs to its user: two users may use the same key', async () => {
    const alice = await apiUser(world, 10_00n);
    const bob = await apiUser(world, 10_00n);
    const carol = await apiUser(world, 0n);
    const key = newKey();
    expect((await send(alice, { to_user_id: carol.userId, amount: '1.00' }, key)).statusCode).toBe(200);
    expect((await send(bob, { to_user_id: carol.userId, amount: '2.00' }, key)).statusCode).toBe(200);
    expect(await balanceOf(carol)).toBe('3.00');
  });

  it('moves money once when identical requests race', async () => {
    const alice = await apiUser(world, 10_00n);
    const bob = await apiUser(world, 0n);
    const key = newKey();
    const body = { to_user_id: bob.userId, amount: '4.00' };
    const answers = await Promise.all(Array.from({ length: 12 }, () => send(alice, body, key)));
    for (const res of answers) expect(res.statusCode).toBe(200);
    expect(new Set(answers.map((r) => r.body)).size).toBe(1);
    expect(answers.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
    expect(await balanceOf(alice)).toBe('6.00');
    expect(await balanceOf(bob)).toBe('4.00');
    expect(await movementsFrom(alice)).toBe(1);
  });

  it('moves each of many different keys racing on one wallet at most as far as the balance goes', async () => {
    const alice = await apiUser(world, 10_00n);
    const bob = await apiUser(world, 0n);
    const answers = await Promise.all(
      Array.from({ length: 15 }, () => send(alice, { to_user_id: bob.userId, amount: '1.00' })),
    );
    expect(answers.filter((r) => r.statusCode === 200)).toHaveLength(10);
    for (const r of answers.filter((r) => r.statusCode !== 200)) expectError(r, 402, 'balance_not_enough');
    expect(await balanceOf(alice)).toBe('0.00');
    expect(await balanceOf(bob)).toBe('10.00');
  });

  it('finishes a request a crash cut short between the ledger and its record, without moving money twice', async () => {
    const alice = await apiUser(world, 10_00n);
    const bob = await apiUser(world, 0n);
    const key = newKey();
    const body = { to_user_id: bob.userId, amount: '2.50' };
    expect((await send(alice, body, key)).statusCode).toBe(200);
    // Rewind the record to how a crash right after the ledger's commit leaves it.
    await world.platform.db.query(
      `update wallet_transfers set status = 'processing', completed_at_ns = null, lease_until_ns = $3
       where user_id = $1 and idempotency_key = $2`,
      [alice.userId, key, (clock.nowNs() + BigInt(limits.idempotencyLeaseMs) * 1_000_000n).toString()],
    );
    // While the lease lasts, a retry waits for the (dead) holder and then says "in progress".
    const early = await send(alice, body, key);
    expectError(early, 409, 'idempotency_request_in_progress', 'Idempotency-Key');
    clock.advanceMs(limits.idempotencyLeaseMs);
    const retried = await send(alice, body, key);
    expect(retried.statusCode).toBe(200);
    expect(retried.json().amount).toBe('2.50');
    expect(await balanceOf(alice)).toBe('7.50');
    expect(await movementsFrom(alice)).toBe(1);
  }, 30_000);
});

describe('malformed transfers', () => {
  let alice: ApiUser;
  let bob: ApiUser;
  beforeAll(async () => {
    alice = await apiUser(world, 100_00n);
    bob = await apiUser(world, 0n);
  });

  const cases: Array<[string, (to: string) => unknown, string, string | null]> = [
    ['amount 1e3', (to) => ({ to_user_id: to, amount: '1e3' }), 'parameter_invalid', 'amount'],
    ['amount -1', (to) => ({ to_user_id: to, amount: '-1' }), 'parameter_invalid', 'amount'],
    ['amount 0.001', (to) => ({ to_user_id: to, amount: '0.001' }), 'parameter_invalid', 'amount'],
    ['amount 0', (to) => ({ to_user_id: to, amount: '0' }), 'amount_invalid', 'amount'],
    ['amount 0.00', (to) => ({ to_user_id: to, amount: '0.00' }), 'amount_invalid', 'amount'],
    ['a huge amount', (to) => ({ to_user_id: to, amount: '100000000.01' }), 'amount_invalid', 'amount'],
    ['a very huge amount', (to) => ({ to_user_id: to, amount: '9'.repeat(400) }), 'parameter_invalid', 'amount'],
    ['amount as a number', (to) => ({ to_user_id: to, amount: 1 }), 'parameter_invalid', 'amount'],
    ['amount with spaces', (to) => ({ to_user_id: to, amount: ' 1.00' }), 'parameter_invalid', 'amount'],
    ['amount in full-width digits', (to) => ({ to_user_id: to, amount: '１.００' }), 'parameter_invalid', 'amount'],
    ['amount NaN', (to) => ({ to_user_id: to, amount: 'NaN' }), 'parameter_invalid', 'amount'],
    ['no amount', (to) => ({ to_user_id: to }), 'parameter_missing', 'amount'],
    ['no recipient', () => ({ amount: '1.00' }), 'parameter_missing', 'to_user_id'],
    [
      'two recipients',
      (to) => ({ to_user_id: to, to_phone: '13800138000', amount: '1.00' }),
      'parameter_invalid',
      'to_phone',
    ],
    ['a user id of the wrong form', () => ({ to_user_id: '2088', amount: '1.00' }), 'parameter_invalid', 'to_user_id'],
    ['a user id as a number', (to) => ({ to_user_id: Number(to), amount: '1.00' }), 'parameter_invalid', 'to_user_id'],
    [
      'a phone in Arabic-Indic digits',
      () => ({ to_phone: '١٣٨٠٠١٣٨٠٠٠', amount: '1.00' }),
      'parameter_invalid',
      'to_phone',
    ],
    ['a memo as an object', (to) => ({ to_user_id: to, amount: '1.00', memo: { a: 1 } }), 'parameter_invalid', 'memo'],
    [
      'a memo too long',
      (to) => ({ to_user_id: to, amount: '1.00', memo: '字'.repeat(257) }),
      'parameter_invalid',
      'memo',
    ],
    ['a memo with NUL', (to) => ({ to_user_id: to, amount: '1.00', memo: 'a\u0000b' }), 'parameter_invalid', 'memo'],
    [
      'a memo with a lone surrogate',
      (to) => ({ to_user_id: to, amount: '1.00', memo: 'a\ud800b' }),
      'parameter_invalid',
      'memo',
    ],
    [
      'an unknown field',
      (to) => ({ to_user_id: to, amount: '1.00', currency: 'USD' }),
      'parameter_invalid',
      'currency',
    ],
    ['an array body', (to) => [{ to_user_id: to, amount: '1.00' }], 'parameter_invalid', null],
    ['a string body', () => 'hello', 'parameter_invalid', null],
    ['a null body', () => null, 'parameter_invalid', null],
  ];

  it.each(cases)('refuses %s with a 400 and moves nothing', async (_name, body, code, param) => {
    const res = await alice.call({
      method: 'POST',
      url: '/api/v1/transfers',
      headers: { 'idempotency-key': newKey(), 'content-type': 'application/json' },
      payload: JSON.stringify(body(bob.userId)),
    });
    expectError(res, 400, code, param);
    expect(res.json().type).toBe('invalid_request_error');
    expect(await balanceOf(alice)).toBe('100.00');
    expect(await balanceOf(bob)).toBe('0.00');
  });

  it('refuses prototype-poisoning JSON', async () => {
    const res = await alice.call({
      method: 'POST',
      url: '/api/v1/transfers',
      headers: { 'idempotency-key': newKey(), 'content-type': 'application/json' },
      payload: `{"to_user_id":"${bob.userId}","amount":"1.00","__proto__":{"admin":true}}`,
    });
    expect(res.statusCode).toBe(400);
    expectError(res, 400, 'body_invalid');
    expect(await balanceOf(alice)).toBe('100.00');
  });

  it('writes no idempotency record for a refused request', async () => {
    const rows = await world.platform.db.query('select 1 from wallet_transfers where user_id = $1', [alice.userId]);
    expect(rows).toEqual([]);
  });
});
