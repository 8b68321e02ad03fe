/**
 * Payment codes as a spec: 18 digits starting with 28, redeemed once for the user who made it,
 * dead after their time-to-live, and every wrong code gets its own typed error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import type { MembersErrorCode, User } from '../../src/members/index.ts';
import type { Platform } from '../../src/platform.ts';
import { freshPlatform } from '../support/engine.ts';

let platform: Platform;
let user: User;
const clock = new ManualClock();

beforeAll(async () => {
  platform = await freshPlatform({ clock });
  user = await platform.members.createUser({ phone: '13900000001', password: 'payment code owner' });
});
afterAll(async () => {
  await platform?.close();
});

const members = () => platform.members;

async function rejects(promise: Promise<unknown>, code: MembersErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'MembersError', code });
}

describe('payment codes', () => {
  it('redeem once, for their user', async () => {
    const code = await members().newPaymentCode(user.userId);
    expect(code).toMatch(/^28\d{16}$/);
    expect(await members().redeemPaymentCode(code)).toBe(user.userId);
    await rejects(members().redeemPaymentCode(code), 'payment_code_used');
  });

  it('redeem once even when two tills race', async () => {
    const code = await members().newPaymentCode(user.userId);
    const results = await Promise.allSettled([members().redeemPaymentCode(code), members().redeemPaymentCode(code)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('expire after their time to live', async () => {
    const live = await members().newPaymentCode(user.userId);
    const dead = await members().newPaymentCode(user.userId);
    clock.advanceMs(limits.paymentCodeTtlMs - 1);
    expect(await members().redeemPaymentCode(live)).toBe(user.userId);
    clock.advanceMs(1);
    await rejects(members().redeemPaymentCode(dead), 'payment_code_expired');
  });

  it('tell malformed from unknown codes, and refuse codes for unknown users', async () => {
    for (const code of ['', '28', '281234567890123456x', '181234567890123456', '2812345678901234567']) {
      await rejects(members().redeemPaymentCode(code), 'payment_code_invalid');
    }
    await rejects(members().redeemPaymentCode('280000000000000000'), 'payment_code_not_found');
    await rejects(members().newPaymentCode('2088000000000000'), 'user_not_found');
  });

  it('come by the thousand, one per user given, each its user’s and redeemed once', async () => {
    const other = await members().createUser({ phone: '13900000002', password: 'payment code owner' });
    const owners = Array.from({ length: limits.paymentCodeBatchMax + 3 }, (_, i) =>
      i % 3 === 0 ? other.userId : user.userId,
    );
    const codes = await members().newPaymentCodes(owners);
    expect(codes).toHaveLength(owners.length);
    expect(new Set(codes).size).toBe(codes.length);
    for (const i of [0, 1, limits.paymentCodeBatchMax + 2]) {
      expect(codes[i]).toMatch(/^28\d{16}$/);
      expect(await members().redeemPaymentCode(codes[i] as string)).toBe(owners[i]);
    }
    await rejects(members().redeemPaymentCode(codes[0] as string), 'payment_code_used');
    await rejects(members().newPaymentCodes([user.userId, '2088000000000000']), 'user_not_found');
  });
});
