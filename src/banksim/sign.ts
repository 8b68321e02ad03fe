/**
 * The simulator's side of the bank protocol's signatures (`src/core/bank-protocol.ts` states the
 * rule): the headers of a signed merchant request, a callback's check, the return URL's `sign`.
 */
import {
  bankMerchantHeader,
  bankSignature,
  bankSignatureHeader,
  bankTimestampHeader,
  callbackSignString,
  paramsSignString,
  requestSignString,
  sameSignature,
} from '../core/bank-protocol.ts';

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
    [bankMerchantHeader]: merchant.id,
    [bankTimestampHeader]: timestamp,
    [bankSignatureHeader]: bankSignature(merchant.secret, requestSignString(method, path, timestamp, body)),
  };
}

/** True when a callback's headers carry the right signature of its body. */
export function verifyCallback(secret: string, headers: Record<string, string | undefined>, body: string): boolean {
  const timestamp = headers[bankTimestampHeader];
  const signature = headers[bankSignatureHeader];
  if (!timestamp || !signature) return false;
  return sameSignature(signature, bankSignature(secret, callbackSignString(timestamp, body)));
}

export function signParams(secret: string, params: Record<string, string>): Record<string, string> {
  return { ...params, sign: bankSignature(secret, paramsSignString(params)) };
}

export function verifyParams(secret: string, params: Record<string, string>): boolean {
  return typeof params.sign === 'string' && sameSignature(params.sign, bankSignature(secret, paramsSignString(params)));
}
