/**
 * The reserve report: customer balances against the reserves at the banks, from the ledger,
 * at any moment. Money that came in through a bank is covered one for one; a balance the
 * platform funded itself (an opening balance) is not, and the report says so.
 */
import { describe, expect, it } from 'vitest';
import { bindCard, key, li, newUser, useWorld } from './support.ts';

const world = useWorld();

describe('the reserve report', () => {
  it('covers bank money one for one and shows what is not covered', async () => {
    const { platform } = world();
    const empty = await platform.reserves.position();
    expect(empty).toMatchObject({
      customerBalances: '0.00',
      reserves: '0.00',
      covered: true,
      coveragePercent: '100.00',
    });

    const user = await newUser(world());
    const cardId = await bindCard(world(), user.userId, li);
    await platform.channels.topUpByCard(user.userId, { cardId, amount: '100.00', idempotencyKey: key() });
    await platform.channels.withdraw(user.userId, { cardId, amount: '30.00', idempotencyKey: key() });
    const covered = await platform.reserves.position();
    expect(covered).toMatchObject({
      customerBalances: '70.00',
      withdrawalsInFlight: '0.00',
      reserves: '70.00',
      surplus: '0.00',
      covered: true,
      coveragePercent: '100.00',
    });
    expect(covered.banks).toEqual([
      { bank: 'ICBC', reserve: '70.00', pendingOut: '0.00' },
      { bank: 'CMB', reserve: '0.00', pendingOut: '0.00' },
      { bank: 'ABC', reserve: '0.00', pendingOut: '0.00' },
    ]);

    // Ten yuan the platform put in itself: owed to a customer, held at no bank.
    await newUser(world(), 1_000n);
    const short = await platform.reserves.position();
    expect(short).toMatchObject({
      customerBalances: '80.00',
      surplus: '-10.00',
      covered: false,
      coveragePercent: '87.50',
    });

    // The daily report keeps a copy.
    await platform.reserves.snapshot();
    const [row] = await platform.db.query<{ report: string }>(
      'select report from reserve_reports order by id desc limit 1',
    );
    expect(JSON.parse(row?.report ?? '{}')).toMatchObject({ customerBalances: '80.00', covered: false });
  });
});
