/**
 * The one `Idempotency-Key` rule of the native API, for every POST that moves money (a wallet
 * transfer, a top-up, a withdrawal):
 *
 * - the header is required; a key is 1 to `limits.idempotencyKeyLengthMax` printable ASCII
 *   characters without spaces (it travels in a header), and belongs to the user who sends it;
 * - the first request with a key is stored with its fingerprint: a hash of what it means
 *   ("1.5" and "1.50" yuan are one request), not of its bytes;
 * - the same key with the same fingerprint answers what the first request answered, and moves
 *   nothing again; with another fingerprint it is refused (409 `idempotency_key_reused`) and
 *   nothing is written.
 *
 * The modules keep their own stores (`wallet_transfers`, `channel_orders`) and their own
 * catalog's codes; the checks are these, the same for both.
 */
import { createHash } from 'node:crypto';
import { limits } from './limits.ts';

/** Printable ASCII without spaces, as a regular expression's source (the HTTP schemas use it too). */
export const idempotencyKeyPattern = '^[\\x21-\\x7e]+$';
const keyRegExp = new RegExp(idempotencyKeyPattern);

/** True when `key` is a well-formed Idempotency-Key. */
export function isIdempotencyKey(key: unknown): key is string {
  return (
    typeof key === 'string' &&
    key.length >= limits.idempotencyKeyLengthMin &&
    key.length <= limits.idempotencyKeyLengthMax &&
    keyRegExp.test(key)
  );
}

/** The fingerprint of a request's meaning (plain JSON: strings, numbers, arrays, objects). */
export function requestFingerprint(meaning: unknown): string {
  return createHash('sha256').update(JSON.stringify(meaning)).digest('hex');
}

/**
 * A request under a key seen before: passes when it is the same request (the caller answers the
 * first outcome), throws `reused()` when it is another one.
 */
export function refuseReusedKey(storedFingerprint: string, fingerprint: string, reused: () => Error): void {
  if (storedFingerprint !== fingerprint) throw reused();
}
