/**
 * Unknown outcomes are resolved by asking the bank, never by guessing. A request the bank never
 * answers — after the money moved, or before — leaves the order UNKNOWN with nothing moved in
 * the ledger but a withdrawal's hold; `resolve` queries (and, when the bank has no such order,
 * sends the same order number again) until the bank confirms, and the money then moves once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openPlatform } from '../../src/platform.ts';
import { engine } from '../support/engine.ts';
import { balance, bankBalance, bindCard, key, li, newUser, setFaults, useWorld, wang, zhang } from './support.ts';

const world = useWorld({ requestTimeoutMs: 800 });
// A test that fails with faults on must not take the next tests down with it.
afterEach(() => setFaults(world(), {}));
const drop = { timeoutMode: 'drop' };

describe('unknown outcomes', () => {
  it('a batch payout whose answer is lost after the bank paid: every item held, then posted by its query', async () => {
    const { platform } = world();
    const users = [await newUser(world(), 10_000n), await newUser(world(), 10_000n), await newUser(world(), 100n)];
    const cards = [
      await bindCard(world(), users[0]?.userId ?? '', zhang),
      await bindCard(world(), users[1]?.userId ?? '', wang),
    ];
    const poorCard = await bindCard(world(), users[2]?.userId ?? '', li);
    const before = Number(await bankBalance(world(), 'ICBC', zhang.cardNo));
    await setFaults(world(), { ...drop, timeoutAfterRate: 1 });
    // The bank's callback could confirm the payouts before the platform gives up waiting: lose it.
    const sent = await world().losingCallbacks(() =>
      platform.channels.withdrawBatch([
        { userId: users[0]?.userId ?? '', cardId: cards[0] ?? '', amount: '40.00', idempotencyKey: key() },
        { userId: users[1]?.userId ?? '', cardId: cards[1] ?? '', amount: '60.00', idempotencyKey: key() },
        // Short of money: failed at once, never sent.
        { userId: users[2]?.userId ?? '', cardId: poorCard, amount: '5.00', idempotencyKey: key() },
      ]),
    );
    expect(sent.map((o) => (o instanceof Error ? o.message : o.status))).toEqual(['UNKNOWN', 'UNKNOWN', 'FAILED']);
    expect(await balance(world(), users[0]?.userId ?? '')).toBe(6_000n);
    await setFaults(world(), {});
    for (const o of sent.slice(0, 2)) {
      if (!('orderNo' in o)) throw new Error('an order');
      expect((await platform.channels.resolve(o.orderNo, { waits: [10, 10] })).status).toBe('SUCCESS');
    }
    expect(Number(await bankBalance(world(), 'ICBC', zhang.cardNo))).toBeCloseTo(before + 40, 2);
    expect(await balance(world(), users[0]?.userId ?? '')).toBe(6_000n);
    expect(await balance(world(), users[2]?.userId ?? '')).toBe(100n);
  });

  it('a withdrawal whose answer is lost after the bank paid: held, then posted once after a query', async () => {
    const { platform } = world();
    const user = await newUser(world(), 100_000n);
    const cardId = await bindCard(world(), user.userId, li);
    const before = Number(await bankBalance(world(), 'ICBC', li.cardNo));
    await setFaults(world(), { ...drop, timeoutAfterRate: 1 });
    // A callback arriving before the platform gives up waiting would confirm it: lose it, so the
    // answer is truly unknown (under load the 800 ms timeout can outlast the bank's callback).
    const order = await world().losingCallbacks(() =>
      platform.channels.withdraw(user.userId, { cardId, amount: '250.00', idempotencyKey: key() }),
    );
    expect(order.status).toBe('UNKNOWN');
    // Held, not gone: the balance shows it unavailable; the bank already paid.
    expect(await balance(world(), user.userId)).toBe(75_000n);
    expect(Number(await bankBalance(world(), 'ICBC', li.cardNo))).toBeCloseTo(before + 250, 2);
    await setFaults(world(), {});
    const resolved = await platform.channels.resolve(order.orderNo, { waits: [10, 10] });
    expect(resolved.status).toBe('SUCCESS');
    expect(await balance(world(), user.userId)).toBe(75_000n);
    const again = await platform.channels.resolve(order.orderNo);
    expect(again.status).toBe('SUCCESS');
    const [wallet] = await platform.db.query<{ n: bigint }>(
      "select count(*)::bigint n from channel_order_transitions where order_no = $1 and to_status = 'SUCCESS'",
      [order.orderNo],
    );
    expect(wallet?.n).toBe(1n);
  });

  it('a withdrawal lost before the bank saw it: the same order is sent again, paid once', async () => {
    const { platform } = world();
    const user = await newUser(world(), 100_000n);
    const cardId = await bindCard(world(), user.userId, wang);
    const before = Number(await bankBalance(world(), 'ICBC', wang.cardNo));
    await setFaults(world(), { ...drop, timeoutBeforeRate: 1 });
    const order = await platform.channels.withdraw(user.userId, { cardId, amount: '10.00', idempotencyKey: key() });
    expect(order.status).toBe('UNKNOWN');
    expect(Number(await bankBalance(world(), 'ICBC', wang.cardNo))).toBeCloseTo(before, 2);
    await setFaults(world(), {});
    expect((await platform.channels.resolve(order.orderNo, { waits: [10] })).status).toBe('SUCCESS');
    expect(Number(await bankBalance(world(), 'ICBC', wang.cardNo))).toBeCloseTo(before + 10, 2);
    expect(await balance(world(), user.userId)).toBe(99_000n);
  });

  it('a withholding lost after the money moved: credited once, only after the bank confirms', async () => {
    const { platform } = world();
    const user = await newUser(world());
    const cardId = await bindCard(world(), user.userId, li);
    await setFaults(world(), { ...drop, timeoutAfterRate: 1 });
    // The bank's callback goes nowhere (it would be a confirmation too, and could win the race
    // with the assertion below): only the query can confirm.
    const order = await world().losingCallbacks(() =>
      platform.channels.topUpByCard(user.userId, { cardId, amount: '42.00', idempotencyKey: key() }),
    );
    expect(order.status).toBe('UNKNOWN');
    expect(await balance(world(), user.userId)).toBe(0n);
    await setFaults(world(), {});
    // The bank's query (reads are never faulted) confirms what its lost answer would have said.
    expect((await platform.channels.resolve(order.orderNo, { waits: [10] })).status).toBe('SUCCESS');
    expect(await balance(world(), user.userId)).toBe(4_200n);
  });

  it('the sweep finishes open orders whose query is due', async () => {
    const { platform } = world();
    const user = await newUser(world(), 50_000n);
    const cardId = await bindCard(world(), user.userId, li);
    await setFaults(world(), { ...drop, timeoutAfterRate: 1 });
    // The bank's callback goes nowhere this time: only the sweep's query can finish the order.
    const order = await world().losingCallbacks(() =>
      platform.channels.withdraw(user.userId, { cardId, amount: '1.00', idempotencyKey: key() }),
    );
    expect(order.status).toBe('UNKNOWN');
    await setFaults(world(), {});
    await new Promise((r) => setTimeout(r, 250));
    expect(await platform.channels.sweep()).toBeGreaterThanOrEqual(1);
    expect((await platform.channels.order(user.userId, order.orderNo)).status).toBe('SUCCESS');
    expect(await balance(world(), user.userId)).toBe(49_900n);
  });

  it.skipIf(engine !== 'postgres')('two processes sweeping the same open orders at once finish each once', async () => {
    const { platform } = world();
    // A second server process: its own pool, ledger cache and bank clients, on the same database.
    const other = await openPlatform(world().platformOptions);
    try {
      const user = await newUser(world(), 50_000n);
      const cardId = await bindCard(world(), user.userId, li);
      await setFaults(world(), { ...drop, timeoutAfterRate: 1 });
      // The bank's callbacks go nowhere: only the sweeps' queries can finish the orders.
      const orders: string[] = [];
      await world().losingCallbacks(async () => {
        for (const amount of ['1.00', '2.00', '3.00']) {
          const request = { cardId, amount, idempotencyKey: key() };
          for (const order of [
            await platform.channels.withdraw(user.userId, request),
            await platform.channels.topUpByCard(user.userId, { ...request, idempotencyKey: key() }),
          ]) {
            expect(order.status).toBe('UNKNOWN');
            orders.push(order.orderNo);
          }
        }
      });
      await setFaults(world(), {});
      await new Promise((r) => setTimeout(r, 250));
      await Promise.all([platform, other, platform, other].map((p) => p.channels.sweep()));
      for (const orderNo of orders)
        expect((await platform.channels.order(user.userId, orderNo)).status).toBe('SUCCESS');
      const ends = await platform.db.query<{ order_no: string; n: bigint }>(
        `select order_no, count(*)::int8 as n from channel_order_transitions
         where order_no = any($1::text[]) and to_status = 'SUCCESS' group by order_no`,
        [orders],
      );
      expect(ends.map((e) => e.n)).toEqual(Array(orders.length).fill(1n));
      // Three withdrawals and three top-ups of the same amounts: the wallet is where it began.
      expect(await balance(world(), user.userId)).toBe(50_000n);
    } finally {
      await other.close();
    }
  });

  it('a withdrawal the bank fails releases the hold', async () => {
    const { platform } = world();
    const user = await newUser(world(), 10_000n);
    const cardId = await bindCard(world(), user.userId, li);
    // Break the card's name at the bank's side: the payout fails NAME_MISMATCH.
    await platform.db.query("update channel_cards set name = 'Not Li Si' where card_id = $1", [cardId]);
    const order = await platform.channels.withdraw(user.userId, { cardId, amount: '10.00', idempotencyKey: key() });
    expect(order).toMatchObject({ status: 'FAILED', failCode: 'NAME_MISMATCH' });
    expect(await balance(world(), user.userId)).toBe(10_000n);
  });
});
