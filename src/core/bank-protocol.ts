/**
 * The bank protocol of docs/bank-sim.md, as it is published: the wire facts that the bank
 * simulator (`src/banksim`) and the platform's bank adapter (`src/channels/adapter.ts`) both
 * speak. It is here, in the shelf both may use, so that neither side imports the other: the bank
 * stays an outside system, reached only over HTTP. Signatures are HMAC-SHA256 with the secret a
 * merchant shares with its bank, in lowercase hex, over three strings:
 *
 * - a merchant request: `METHOD\nPATH\nTIMESTAMP\nBODY` (PATH with its query string, BODY the
 *   exact bytes sent, empty for GET), with headers `X-Bank-Merchant`, `X-Bank-Timestamp`
 *   (milliseconds since the epoch) and `X-Bank-Signature`;
 * - a callback to the platform: `CALLBACK\nTIMESTAMP\nBODY`, with the same headers;
 * - the return-URL parameters: every parameter but `sign`, sorted by name, as `k=v` joined by
 *   `&` (values not URL-encoded), in the parameter `sign`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What an order is: a gateway payment, a withholding from a bound card, a payout to a card. */
export const bankOrderKinds = ['GATEWAY', 'WITHHOLD', 'PAYOUT'] as const;
/** Where an order stands at the bank; PROCESSING until the bank has finished it. */
export const bankOrderStatuses = ['PROCESSING', 'SUCCESS', 'FAILED'] as const;
export type BankOrderKind = (typeof bankOrderKinds)[number];
export type BankOrderStatus = (typeof bankOrderStatuses)[number];

export const bankMerchantHeader = 'x-bank-merchant';
export const bankTimestampHeader = 'x-bank-timestamp';
export const bankSignatureHeader = 'x-bank-signature';

/** The signature of `text` with `secret`: HMAC-SHA256 in lowercase hex. */
export function bankSignature(secret: string, text: string): string {
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

export function callbackSignString(timestamp: string, body: string): string {
  return `CALLBACK\n${timestamp}\n${body}`;
}

export function paramsSignString(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((k) => k !== 'sign')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}
