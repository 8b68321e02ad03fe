import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { Scope } from './scopes.ts';

/**
 * The bearer secrets of user authorisation, in Alipay's shapes: codes of 32 hex digits, tokens
 * of 40 characters (a prefix naming the kind, as Alipay's `authusrB…` and `authbseB…`, then 32
 * hex digits), open ids of 46 letters and digits after a 0. Each carries 128 random bits or more
 * from the system's cryptographic source; only their SHA-256 is stored.
 */

/** A fresh `auth_code`. */
export const newCode = (): string => randomBytes(16).toString('hex');

/** A fresh access or refresh token for a grant of `scopes`. */
export function newToken(scopes: readonly Scope[]): string {
  const prefix = scopes.includes('auth_user') ? 'authusrB' : 'authbseB';
  return prefix + randomBytes(16).toString('hex');
}

const openIdAlphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A fresh open id: `0` and 45 letters or digits (about 268 random bits). */
export function newOpenId(): string {
  let out = '0';
  while (out.length < 46) out += openIdAlphabet[randomInt(openIdAlphabet.length)];
  return out;
}

/** What is stored of a code or token: its SHA-256, hex. */
export const digest = (secret: string): string => createHash('sha256').update(secret).digest('hex');
