/**
 * The ids core makes for every module: `derivedId` maps a business key to the same ledger id
 * forever (the ids are stored, so the values are pinned), and the external numbers have the
 * shapes merchants and banks see: the Beijing business day, a fixed infix, random digits.
 */
import { describe, expect, it } from 'vitest';
import { beijingDay, dailyNumber, newTradeNo, randomDigits } from '../../src/core/external-ids.ts';
import { derivedId, isU128 } from '../../src/core/ids.ts';

describe('derivedId', () => {
  it('derives the ids it always derived, distinct per scope and key', () => {
    expect(derivedId('trade.pay', '2026112022000000000000000001')).toBe(164727875192852206890491548692013134923n);
    expect(derivedId('escrow.account', 'escrow')).toBe(222507671154223530882149264425765207648n);
    expect(derivedId('trade.pay', 'a/b')).not.toBe(derivedId('trade.pay/a', 'b'));
    expect(isU128(derivedId('x', 'y'))).toBe(true);
  });
});

describe('external numbers', () => {
  // 2026-11-20 17:00 UTC is already the 21st in Beijing.
  const lateEvening = new Date('2026-11-20T17:00:00Z');

  it('date numbers by their Beijing business day', () => {
    expect(beijingDay(lateEvening)).toBe('20261121');
    expect(dailyNumber('RC', lateEvening, 12)).toMatch(/^RC20261121\d{12}$/);
    expect(dailyNumber('', lateEvening, 19, '11007')).toMatch(/^2026112111007\d{19}$/);
  });

  it('makes trade numbers in Alipay’s shape, distinct within a process', () => {
    const numbers = Array.from({ length: 1000 }, () => newTradeNo(lateEvening));
    for (const n of numbers) expect(n).toMatch(/^2026112122\d{18}$/);
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it('draws every digit, any length', () => {
    for (const length of [0, 1, 5, 6, 7, 16, 19]) expect(randomDigits(length)).toMatch(new RegExp(`^\\d{${length}}$`));
    const seen = new Set(randomDigits(2000));
    expect(seen.size).toBe(10);
  });
});
