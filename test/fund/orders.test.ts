/**
 * Purchases and redemptions of Yu'e Bao: the money is held and "to be confirmed" until T+1
 * (15:00 Beijing cut-off, weekends and holidays), confirmation issues the shares, standard
 * redemption pays on the next trading day and fast redemption at once, within the daily limit
 * and the pool; bad input is refused with the catalog's errors and writes nothing.
 */
import { describe, expect, it } from 'vitest';
import { isFundError } from '../../src/fund/index.ts';
import { dyingFund, moveTo, useFundWorld } from './support.ts';

const world = useFundWorld();

async function counts() {
  const { platform } = world();
  const [orders] = await platform.db.query<{ n: bigint }>('select count(*)::bigint n from fund_orders');
  const [transfers] = await platform.db.query<{ n: bigint }>('select count(*)::bigint n from ledger_transfers');
  const [quota] = await platform.db.query<{ n: bigint }>(
    'select coalesce(sum(used_fen), 0)::bigint n from fund_fast_quota',
  );
  return { orders: orders?.n, transfers: transfers?.n, quota: quota?.n };
}

describe('fund orders', () => {
  it('holds a purchase before 15:00 until T+1, then issues its shares', async () => {
    const { platform, clock, users } = world();
    const user = users[0] ?? '';
    moveTo(clock, '2026-11-11 14:59');
    const order = await platform.fund.orders.purchase(user, {
      productCode: 'YEB',
      amount: '100.00',
      idempotencyKey: 'p1',
    });
    expect(order).toMatchObject({ status: 'to_be_confirmed', tradeDay: '2026-11-11', dueDay: '2026-11-12' });
    expect(await platform.fund.orders.holdings(user)).toEqual([
      { productCode: 'YEB', shares: '0.00', redeeming: '0.00', toBeConfirmed: '100.00' },
    ]);
    // The same key answers the same order and moves nothing more.
    expect(
      await platform.fund.orders.purchase(user, { productCode: 'YEB', amount: '100.00', idempotencyKey: 'p1' }),
    ).toEqual(order);
    expect(await platform.fund.orders.confirmDue('2026-11-11')).toBe(0);
    expect(await platform.fund.orders.confirmDue('2026-11-12')).toBe(1);
    expect(await platform.fund.orders.holdings(user)).toEqual([
      { productCode: 'YEB', shares: '100.00', redeeming: '0.00', toBeConfirmed: '0.00' },
    ]);
    expect(await platform.fund.orders.confirmDue('2026-11-12')).toBe(0);
  });

  it('puts a purchase at 15:00 or on a weekend one trading day later, and skips holidays', async () => {
    const { platform, clock, users } = world();
    moveTo(clock, '2026-11-12 15:00');
    expect(await platform.fund.orders.orderDays()).toMatchObject({ tradeDay: '2026-11-13', dueDay: '2026-11-16' });
    moveTo(clock, '2026-11-14 10:00'); // Saturday
    expect(await platform.fund.orders.orderDays()).toMatchObject({ tradeDay: '2026-11-16', dueDay: '2026-11-17' });
    await platform.fund.orders.calendar.addHoliday('2026-11-17', 'a test holiday');
    expect(await platform.fund.orders.orderDays()).toMatchObject({ tradeDay: '2026-11-16', dueDay: '2026-11-18' });
    const order = await platform.fund.orders.purchase(users[1] ?? '', {
      productCode: 'YEB2',
      amount: '1.00',
      idempotencyKey: 'p2',
    });
    expect(order.dueDay).toBe('2026-11-18');
  });

  it('redeems standard on the next trading day and fast at once', async () => {
    const { platform, clock, users } = world();
    const user = users[0] ?? '';
    moveTo(clock, '2026-11-16 09:00');
    const before = await platform.members.walletBalance(user);
    const standard = await platform.fund.orders.redeem(user, {
      productCode: 'YEB',
      amount: '30.00',
      idempotencyKey: 'r1',
      kind: 'standard',
    });
    expect(standard).toMatchObject({ status: 'to_be_confirmed', dueDay: '2026-11-18' });
    const fast = await platform.fund.orders.redeem(user, {
      productCode: 'YEB',
      amount: '20.00',
      idempotencyKey: 'r2',
      kind: 'fast',
    });
    expect(fast.status).toBe('paid');
    expect(await platform.members.walletBalance(user)).toBe(before + 2000n);
    expect(await platform.fund.orders.holdings(user)).toEqual([
      { productCode: 'YEB', shares: '50.00', redeeming: '50.00', toBeConfirmed: '0.00' },
    ]);
    await platform.fund.orders.confirmDue('2026-11-18');
    expect(await platform.members.walletBalance(user)).toBe(before + 5000n);
  });

  it('refuses bad input with the catalog and writes nothing', async () => {
    const { platform, users } = world();
    const user = users[2] ?? '';
    const before = await counts();
    const refusal = async (p: Promise<unknown>, code: string) => {
      const error = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isFundError(error) && error.code).toBe(code);
    };
    const orders = platform.fund.orders;
    const cases = [
      ['YEB', '0.99', 'purchase', 'amount_below_minimum'],
      ['YEB', '1.001', 'purchase', 'invalid_amount'],
      ['NOPE', '5.00', 'purchase', 'unknown_product'],
      ['YEB', '200000.00', 'purchase', 'balance_not_enough'],
      ['YEB', '1.00', 'standard', 'shares_not_enough'],
      ['YEB', '1.00', 'fast', 'shares_not_enough'],
    ] as const;
    for (const [productCode, amount, kind, code] of cases) {
      const input = { productCode, amount, idempotencyKey: `bad-${code}` };
      await refusal(kind === 'purchase' ? orders.purchase(user, input) : orders.redeem(user, { ...input, kind }), code);
    }
    // More shares than held: the first user holds 50.00 after the redemptions above.
    await refusal(
      orders.redeem(users[0] ?? '', { productCode: 'YEB', amount: '50.01', idempotencyKey: 'b3', kind: 'fast' }),
      'shares_not_enough',
    );
    expect(await counts()).toEqual(before);
    await orders.purchase(user, { productCode: 'YEB', amount: '5.00', idempotencyKey: 'b4' });
    await refusal(
      orders.purchase(user, { productCode: 'YEB', amount: '6.00', idempotencyKey: 'b4' }),
      'idempotency_key_reused',
    );
  });

  it('finishes an order a crash left between the ledger and its row, moving the money once', async () => {
    const { platform, clock, users } = world();
    const user = users[1] ?? '';
    const crashing = dyingFund(world(), () => true);
    const before = await platform.members.walletBalance(user);
    await expect(
      crashing.orders.purchase(user, { productCode: 'YEB', amount: '10.00', idempotencyKey: 'crash' }),
    ).rejects.toThrow('process killed');
    expect(await platform.fund.orders.finishSubmitted()).toBe(0); // not stale yet: it may still be running
    clock.advanceSeconds(61);
    expect(await platform.fund.orders.finishSubmitted()).toBe(1);
    expect(await platform.members.walletBalance(user)).toBe(before - 1000n);
    const [order] = (await platform.fund.orders.orders(user)).filter((o) => o.amount === '10.00');
    expect(order?.status).toBe('to_be_confirmed');
    // The user's retry answers the same order.
    expect(
      await platform.fund.orders.purchase(user, { productCode: 'YEB', amount: '10.00', idempotencyKey: 'crash' }),
    ).toEqual(order);
    expect(await platform.members.walletBalance(user)).toBe(before - 1000n);
  });

  it('moves the money once when the same key arrives many times at once', async () => {
    const { platform, users } = world();
    const user = users[2] ?? '';
    const before = await platform.members.walletBalance(user);
    const input = { productCode: 'YEB2', amount: '3.00', idempotencyKey: 'same-key' };
    const views = await Promise.all(Array.from({ length: 8 }, () => platform.fund.orders.purchase(user, input)));
    expect(new Set(views.map((v) => v.orderId)).size).toBe(1);
    expect(await platform.members.walletBalance(user)).toBe(before - 300n);
  });
});
