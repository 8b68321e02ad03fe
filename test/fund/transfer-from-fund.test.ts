/**
 * A transfer to a friend paid from Yu'e Bao: the payer's shares are redeemed into the wallet and
 * the transfer made in ONE linked chain (both or neither); a replay moves nothing more; shares
 * that do not cover it are refused before anything is written. Both books balance after each test.
 */
import { describe, expect, it } from 'vitest';
import { parseAmount } from '../../src/core/money.ts';
import type { User } from '../../src/members/index.ts';
import { isWalletError } from '../../src/wallet/index.ts';
import { useFundWorld } from './support.ts';

const world = useFundWorld({ users: 0, pool: '50000.00' });
let phones = 0;

/** A user holding `shares` yuan of YEB (confirmed) and `balanceFen` in the wallet. */
async function holder(balanceFen: bigint, shares: string): Promise<User> {
  const { platform } = world();
  const user = await platform.members.createUser({
    phone: `1360013${String(7000 + phones++)}`,
    password: 'correct horse 1',
    openingBalance: balanceFen + (parseAmount(shares) ?? 0n),
  });
  if (shares !== '0.00') {
    await platform.fund.orders.purchase(user.userId, {
      productCode: 'YEB',
      amount: shares,
      idempotencyKey: `buy-${phones}`,
    });
    const { dueDay } = await platform.fund.orders.orderDays();
    await platform.fund.orders.confirmDue(dueDay);
  }
  return user;
}

const shares = async (userId: string) =>
  (await world().platform.fund.orders.holdings(userId)).find((h) => h.productCode === 'YEB')?.shares ?? '0.00';

describe('transfers from Yu e Bao', () => {
  it('redeems the shares and pays the friend in one chain; a replay moves nothing more', async () => {
    const { platform } = world();
    const [payer, payee] = [await holder(0n, '100.00'), await holder(0n, '0.00')];
    const request = { toUserId: payee.userId, amount: '30.00', memo: 'rent', source: 'fund' as const };
    const first = await platform.wallet.transfer(payer, 'from-fund-1', request);
    expect(first).toMatchObject({ replayed: false, transfer: { amount: '30.00', toUserId: payee.userId } });
    expect(await platform.members.walletBalance(payee.userId)).toBe(30_00n);
    expect(await platform.members.walletBalance(payer.userId)).toBe(0n);
    expect(await shares(payer.userId)).toBe('70.00');
    const again = await platform.wallet.transfer(payer, 'from-fund-1', request);
    expect(again.replayed).toBe(true);
    expect(await platform.members.walletBalance(payee.userId)).toBe(30_00n);
    expect(await shares(payer.userId)).toBe('70.00');
    // The same key from the balance is another request.
    await expect(
      platform.wallet.transfer(payer, 'from-fund-1', { ...request, source: 'balance' }),
    ).rejects.toMatchObject({
      code: 'idempotency_key_reused',
    });
  });

  it('refuses what the shares do not cover, before writing anything', async () => {
    const { platform } = world();
    const [payer, payee] = [await holder(500_00n, '10.00'), await holder(0n, '0.00')];
    const refused = await platform.wallet
      .transfer(payer, 'from-fund-2', { toUserId: payee.userId, amount: '20.00', source: 'fund' })
      .catch((error: unknown) => error);
    expect(isWalletError(refused, 'fund_not_enough')).toBe(true);
    expect(await platform.members.walletBalance(payee.userId)).toBe(0n);
    expect(await platform.members.walletBalance(payer.userId)).toBe(500_00n);
    expect(await shares(payer.userId)).toBe('10.00');
    // Nothing was written for the key: the same request from the balance goes through.
    const fromBalance = await platform.wallet.transfer(payer, 'from-fund-2', {
      toUserId: payee.userId,
      amount: '20.00',
    });
    expect(fromBalance.transfer.amount).toBe('20.00');
  });
});
