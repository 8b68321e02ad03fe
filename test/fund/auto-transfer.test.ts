/**
 * Auto-transfer: a user who chose it has the wallet balance above the threshold moved into the
 * fund each evening (from 21:00 Beijing) by the fund job, as one purchase per user and day — run
 * again, or by a second process at once, the same evening makes no second one; the next evening
 * moves only what came in since. Bad choices are refused, writing nothing.
 */
import { describe, expect, it } from 'vitest';
import { Fund, isFundError } from '../../src/fund/index.ts';
import { moveTo, useFundWorld } from './support.ts';

const world = useFundWorld({ users: 3 });

async function autoOrders(userId: string) {
  const { platform } = world();
  return platform.db.query<{ idempotency_key: string; amount_fen: bigint; product_code: string }>(
    "select idempotency_key, amount_fen, product_code from fund_orders where user_id = $1 and idempotency_key like 'auto-%' order by idempotency_key",
    [userId],
  );
}

async function wallet(userId: string): Promise<bigint> {
  const { platform } = world();
  const account = (await platform.members.getMember(userId)).walletAccountId;
  const [a] = await platform.ledger.lookupAccounts([account]);
  return a ? a.creditsPosted - a.debitsPosted - a.debitsPending : 0n;
}

describe('fund auto-transfer', () => {
  it('moves the balance above the threshold each evening, once per user and day', async () => {
    const { platform, clock, users } = world();
    const [keen, rich, idle] = users as [string, string, string];
    const auto = platform.fund.autoTransfer;
    await auto.set(keen, { productCode: 'YEB', keepAbove: '90000.00' });
    await auto.set(rich, { productCode: 'YEB2', keepAbove: '200000.00' }); // more than it has
    expect(await auto.get(keen)).toEqual({ productCode: 'YEB', keepAbove: '90000.00' });
    expect(await auto.get(idle)).toBeNull();
    moveTo(clock, '2026-11-11 20:59');
    expect(await auto.runDue()).toBe(0);
    moveTo(clock, '2026-11-11 21:30');
    // The fund job, and a second process's at the same moment: one purchase.
    const other = new Fund(
      platform.db,
      platform.ledger,
      { walletOf: async (u) => (await platform.members.getMember(u)).walletAccountId },
      clock,
    );
    await Promise.all([platform.fund.runDue(), other.autoTransfer.runDue()]);
    expect(await auto.runDue()).toBe(0);
    expect(await autoOrders(keen)).toEqual([
      { idempotency_key: 'auto-2026-11-11', amount_fen: 1_000_000n, product_code: 'YEB' },
    ]);
    expect(await wallet(keen)).toBe(9_000_000n);
    expect(await autoOrders(rich)).toEqual([]);
    expect(await autoOrders(idle)).toEqual([]);
    // The next evening: nothing above the threshold, nothing moves; with a lower one, the difference.
    moveTo(clock, '2026-11-12 21:05');
    expect(await auto.runDue()).toBe(0);
    await auto.set(keen, { productCode: 'YEB', keepAbove: '85000.00' });
    expect(await auto.runDue()).toBe(1);
    expect((await autoOrders(keen)).map((o) => [o.idempotency_key, o.amount_fen])).toEqual([
      ['auto-2026-11-11', 1_000_000n],
      ['auto-2026-11-12', 500_000n],
    ]);
    // Stopped: nothing the evening after.
    await auto.set(keen, null);
    moveTo(clock, '2026-11-13 21:00');
    expect(await auto.runDue()).toBe(0);
    expect(await autoOrders(keen)).toHaveLength(2);
  });

  it('refuses a bad choice, writing nothing', async () => {
    const { platform, users } = world();
    const auto = platform.fund.autoTransfer;
    const user = users[2] ?? '';
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (isFundError(e) ? e.code : String(e)),
      );
    expect(await code(auto.set(user, { productCode: 'NOPE', keepAbove: '1.00' }))).toBe('unknown_product');
    expect(await code(auto.set(user, { productCode: 'YEB', keepAbove: '-1.00' }))).toBe('invalid_amount');
    expect(await code(auto.set(user, { productCode: 'YEB', keepAbove: '1.234' }))).toBe('invalid_amount');
    expect(await code(auto.set('2088000000000000', { productCode: 'YEB', keepAbove: '1.00' }))).toBe('unknown_user');
    expect(await auto.get(user)).toBeNull();
  });
});
