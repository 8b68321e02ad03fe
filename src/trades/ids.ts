import { createHash } from 'node:crypto';
import { u128Max } from '../core/ids.ts';
import { beijingTime } from '../core/time.ts';

/**
 * A ledger id derived from a business key: the same payment or refund always maps to the same
 * transfer id, so the ledger's idempotency makes a retried or concurrent attempt move money once.
 */
export function derivedId(scope: string, key: string): bigint {
  const digest = createHash('sha256').update(`${scope}\u0000${key}`).digest();
  const id = digest.readBigUInt64BE(0) * 2n ** 64n + digest.readBigUInt64BE(8);
  return id === 0n || id === u128Max ? 1n : id;
}

let sequence = 0;

/** Alipay-shaped trade number: date (Beijing), "22", then 18 digits. */
export function newTradeNo(now: Date): string {
  sequence = (sequence + 1) % 1_000_000;
  const random = Math.floor(Math.random() * 1e12)
    .toString()
    .padStart(12, '0');
  return `${beijingDate(now)}22${random}${sequence.toString().padStart(6, '0')}`;
}

/** yyyyMMdd in Beijing time. */
function beijingDate(now: Date): string {
  return beijingTime(now).slice(0, 10).replaceAll('-', '');
}
