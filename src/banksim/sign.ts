/**
 * The simulator's signatures: HMAC-SHA256 with the secret a merchant shares with its bank, in
 * lowercase hex. Three strings are signed:
 *
 * - a merchant request: `METHOD\nPATH\nTIMESTAMP\nBODY` (PATH with its query string, BODY the
 *   exact bytes sent, empty for GET), with headers `X-Bank-Merchant`, `X-Bank-Timestamp`
 *   (milliseconds since the epoch) and `X-Bank-Signature`;
 * - a callback to the platform: `CALLBACK\nTIMESTAMP\nBODY`, with headers `X-Bank-Merchant`,
 *   `X-Bank-Timestamp`, `X-Bank-Signature`;
 * - the return-URL parameters: every parameter but `sign`, sorted by name, as `k=v` joined by
 *   `&` (values not URL-encoded), in the parameter `sign`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const headerMerchant = 'x-bank-merchant';
export const headerTimestamp = 'x-bank-timestamp';
export const headerSignature = 'x-bank-signature';

export function hmac(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex signatures. */
export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function requestSignString(method: string, path: string, timestamp: string, body: string): string {
  return `${method.toUpperCase()}\n${path}\n${timestamp}\n${body}`;
}

/** The headers of a signed merchant request. */
export function signRequest(
  merchant: { id: string; secret: string },
  method: string,
  path: string,
  body: string,
  nowMs = Date.now(),
): Record<string, string> {
  const timestamp = String(nowMs);
  return {
    [headerMerchant]: merchant.id,
    [headerTimestamp]: timestamp,
    [headerSignature]: hmac(merchant.secret, requestSignString(method, path, timestamp, body)),
  };
}

export function callbackSignString(timestamp: string, body: string): string {
  return `CALLBACK\n${timestamp}\n${body}`;
}

/** True when a callback's headers carry the right signature of its body. */
export function verifyCallback(secret: string, headers: Record<string, string | undefined>, body: string): boolean {
  const timestamp = headers[headerTimestamp];
  const signature = headers[headerSignature];
  if (!timestamp || !signature) return false;
  return sameSignature(signature, hmac(secret, callbackSignString(timestamp, body)));
}

export function paramsSignString(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((k) => k !== 'sign')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}

export function signParams(secret: string, params: Record<string, string>): Record<string, string> {
  return { ...params, sign: hmac(secret, paramsSignString(params)) };
}

export function verifyParams(secret: string, params: Record<string, string>): boolean {
  return typeof params.sign === 'string' && sameSignature(params.sign, hmac(secret, paramsSignString(params)));
}
