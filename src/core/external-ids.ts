import { randomInt } from 'node:crypto';
import { beijingTime } from './time.ts';

/**
 * External numbers: what merchants, buyers and banks see (trade numbers, case numbers, order
 * numbers), in Alipay's shapes. They are unique by a primary key or unique index; a collision of
 * the random part is retried by the caller.
 */

/** `length` random decimal digits, drawn from the system's cryptographic source. */
export function randomDigits(length: number): string {
  let out = '';
  // Six digits a draw: randomInt's range must stay below 2^48.
  while (out.length < length) out += randomInt(0, 1_000_000).toString().padStart(6, '0');
  return out.slice(0, length);
}

/** yyyyMMdd in Beijing time: the business day numbers are dated by. */
export function beijingDay(now: Date): string {
  return beijingTime(now).slice(0, 10).replaceAll('-', '');
}

/**
 * A number dated by its Beijing business day: `prefix`, yyyyMMdd, `infix`, then `digits` random
 * digits (`RC2026112012345678901`, or Alipay's fund order `20261120` `11007` + 19 digits).
 */
export function dailyNumber(prefix: string, now: Date, digits: number, infix = ''): string {
  return `${prefix}${beijingDay(now)}${infix}${randomDigits(digits)}`;
}

let sequence = 0;

/**
 * Alipay-shaped trade number: date (Beijing), "22", 12 random digits, then a 6-digit sequence
 * of this process, so that two trades of one process in one day differ even if the draw repeats.
 */
export function newTradeNo(now: Date): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${dailyNumber('', now, 12, '22')}${sequence.toString().padStart(6, '0')}`;
}
