import { createHash, randomFillSync } from 'node:crypto';

/** The largest u128; TigerBeetle reserves it, and so do we. */
export const u128Max = (1n << 128n) - 1n;

const entropy = new Uint8Array(10);
let lastMs = 0;
let seq = 0n;

/**
 * A fresh UUIDv7 as a u128: 48 bits of milliseconds, version, 74 random bits. Ids made in the
 * same millisecond by this process stay ordered: the random part is bumped instead of redrawn.
 */
export function id(): bigint {
  const ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    randomFillSync(entropy);
    seq = 0n;
    for (const byte of entropy) seq = (seq << 8n) | BigInt(byte);
    seq &= (1n << 73n) - 1n; // leave headroom so that bumping never overflows 74 bits
  } else {
    seq += 1n;
  }
  const randA = seq >> 62n; // 12 bits
  const randB = seq & ((1n << 62n) - 1n); // 62 bits
  return (BigInt(lastMs) << 80n) | (0x7n << 76n) | (randA << 64n) | (0b10n << 62n) | randB;
}

/** u128 → canonical UUID text (how PostgreSQL stores and returns it). */
export function uuidFromU128(n: bigint): string {
  const h = n.toString(16).padStart(32, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** u128 → 32 hex digits, a form PostgreSQL's uuid input also takes; cheaper to make. */
export function uuidHexFromU128(n: bigint): string {
  return n.toString(16).padStart(32, '0');
}

/** Canonical UUID text → u128. */
/** Whether `text` is a UUID as the database answers it (lower-case hex, dashed): ids in URLs are checked with it before any query. */
export function isUuid(text: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(text);
}

export function u128FromUuid(s: string): bigint {
  return BigInt(`0x${s.slice(0, 8)}${s.slice(9, 13)}${s.slice(14, 18)}${s.slice(19, 23)}${s.slice(24)}`);
}

/** True for a bigint that fits a u128. */
export function isU128(n: unknown): n is bigint {
  return typeof n === 'bigint' && n >= 0n && n <= u128Max;
}

/**
 * A ledger id derived from a business key: the same payment or refund always maps to the same
 * transfer id, so the ledger's idempotency makes a retried or concurrent attempt move money once.
 */
export function derivedId(scope: string, key: string): bigint {
  const digest = createHash('sha256').update(`${scope}\u0000${key}`).digest();
  const id = digest.readBigUInt64BE(0) * 2n ** 64n + digest.readBigUInt64BE(8);
  return id === 0n || id === u128Max ? 1n : id;
}
