/**
 * Alipay's signature rules, byte for byte as the official SDKs compute them (checked against
 * `alipay-sdk` v4: `util.ts` `sign()`, `alipay.ts` `getSignStr`, `#curl`, `notifyRSACheck`).
 *
 * - Legacy requests: every parameter but `sign`, empty values dropped, sorted by key, `key=value`
 *   joined by `&`, values as sent (not URL-encoded); `sign_type` IS part of the string.
 * - Legacy responses: the JSON text of the `<method>_response` value exactly as it appears in the
 *   body; the body is `{"<key>":<that text>,"sign":"…"}` with `sign` last.
 * - Notifications (async notify, return_url): like requests, but `sign_type` is left out as well.
 * - v3: see `v3.ts`.
 *
 * RSA2 is RSA-SHA256 and RSA is RSA-SHA1, both PKCS#1 v1.5 over UTF-8, signatures in base64.
 */
import {
  createPrivateKey,
  createPublicKey,
  createSign,
  createVerify,
  sign as cryptoSign,
  type KeyObject,
} from 'node:crypto';

export type SignType = 'RSA2' | 'RSA';

export const signAlgorithms: Readonly<Record<SignType, string>> = { RSA2: 'RSA-SHA256', RSA: 'RSA-SHA1' };

export const isSignType = (value: unknown): value is SignType => value === 'RSA2' || value === 'RSA';

export type PrivateKeyInput = string | KeyObject;
export type PublicKeyInput = string | KeyObject;

/** Signs `content` (UTF-8) and answers the base64 signature. A bad key is a programmer error: it throws. */
export function rsaSign(content: string, privateKey: PrivateKeyInput, signType: SignType = 'RSA2'): string {
  return createSign(signAlgorithms[signType]).update(content, 'utf8').sign(privateKey, 'base64');
}

/**
 * `rsaSign` with the RSA work on libuv's thread pool instead of the calling thread: the same
 * signature (PKCS#1 v1.5 is deterministic), while the event loop serves other requests. For
 * servers, which sign every response; a bad key rejects.
 */
export function rsaSignAsync(
  content: string,
  privateKey: PrivateKeyInput,
  signType: SignType = 'RSA2',
): Promise<string> {
  return new Promise((resolve, reject) => {
    cryptoSign(signAlgorithms[signType], Buffer.from(content, 'utf8'), privateKey, (error, signature) =>
      error ? reject(error) : resolve(signature.toString('base64')),
    );
  });
}

/**
 * Whether `signature` (base64) signs `content`. Never throws: a malformed signature or a merchant
 * key that does not parse is an operating error, answered as "does not verify".
 */
export function rsaVerify(
  content: string,
  signature: string,
  publicKey: PublicKeyInput,
  signType: SignType = 'RSA2',
): boolean {
  try {
    return createVerify(signAlgorithms[signType]).update(content, 'utf8').verify(publicKey, signature, 'base64');
  } catch {
    return false;
  }
}

/** Parses a PEM once so that each signature does not parse it again. */
export const privateKeyObject = (pem: PrivateKeyInput): KeyObject =>
  typeof pem === 'string' ? createPrivateKey(pem) : pem;
export const publicKeyObject = (pem: PublicKeyInput): KeyObject =>
  typeof pem === 'string' ? createPublicKey(pem) : pem;

export interface SignContentOptions {
  /** Keys left out besides `sign` (notifications leave out `sign_type`). */
  readonly exclude?: readonly string[];
  /**
   * Keep empty values as `key=`. Alipay drops them; `alipay-sdk` keeps them when signing a request
   * (and when checking a notification), so the gateway accepts either form of the string.
   */
  readonly keepEmpty?: boolean;
}

/** The legacy sign string of a parameter set. */
export function legacySignContent(params: Readonly<Record<string, string>>, options: SignContentOptions = {}): string {
  const exclude = new Set(['sign', ...(options.exclude ?? [])]);
  return Object.keys(params)
    .filter((key) => !exclude.has(key) && (options.keepEmpty || params[key] !== ''))
    .sort()
    .map((key) => `${key}=${params[key]}`)
    .join('&');
}

/** Adds `sign` to a legacy request's parameters (what a merchant SDK does; for clients and tests). */
export function signLegacyRequest(
  params: Readonly<Record<string, string>>,
  privateKey: PrivateKeyInput,
): Record<string, string> {
  const signType = params.sign_type ?? 'RSA2';
  if (!isSignType(signType)) throw new TypeError(`sign_type ${signType} is not RSA2 or RSA`);
  return { ...params, sign: rsaSign(legacySignContent(params), privateKey, signType) };
}

/**
 * Whether a legacy request's `sign` verifies under its `sign_type`, by Alipay's string or, when the
 * request carries empty values, by the string `alipay-sdk` signs (which keeps them).
 */
export function verifyLegacyRequest(
  params: Readonly<Record<string, string>>,
  publicKey: PublicKeyInput,
  signType: SignType,
): boolean {
  const sign = params.sign ?? '';
  if (rsaVerify(legacySignContent(params), sign, publicKey, signType)) return true;
  const hasEmpty = Object.entries(params).some(([key, value]) => value === '' && key !== 'sign');
  return hasEmpty && rsaVerify(legacySignContent(params, { keepEmpty: true }), sign, publicKey, signType);
}

/**
 * The body of a legacy response: `{"<responseKey>":<value>,"sign":"…"}`, where `sign` signs the
 * value's JSON text exactly as written. `alipay-sdk` verifies by cutting that text back out of the
 * body (from after `"<responseKey>"` to the last `}` before the last `"sign"`), so the response key
 * comes first, `sign` comes last, and nothing follows the value but `,"sign":`.
 */
export async function legacyResponseBody(
  responseKey: string,
  value: Readonly<Record<string, unknown>>,
  privateKey: PrivateKeyInput,
  signType: SignType,
): Promise<string> {
  const text = JSON.stringify(value);
  const sign = await rsaSignAsync(text, privateKey, signType);
  return `{${JSON.stringify(responseKey)}:${text},"sign":${JSON.stringify(sign)}}`;
}

/**
 * Signs a notification form (async notify or `return_url` parameters) as Alipay does: empty values
 * are dropped from the form, `sign_type` is set and left out of the string, `sign` is added. Both
 * `checkNotifySign` and `checkNotifySignV2` of `alipay-sdk` accept the result (V1 URL-decodes each
 * value first, so it fails on values holding `%` escapes; V2 does not).
 */
export function signNotification(
  params: Readonly<Record<string, string>>,
  privateKey: PrivateKeyInput,
  signType: SignType = 'RSA2',
): Record<string, string> {
  const { form, content } = notificationForm(params, signType);
  form.sign = rsaSign(content, privateKey, signType);
  return form;
}

/** `signNotification` with the RSA work on the thread pool (`rsaSignAsync`): the same form. */
export async function signNotificationAsync(
  params: Readonly<Record<string, string>>,
  privateKey: PrivateKeyInput,
  signType: SignType = 'RSA2',
): Promise<Record<string, string>> {
  const { form, content } = notificationForm(params, signType);
  form.sign = await rsaSignAsync(content, privateKey, signType);
  return form;
}

/** A notification's form without empty values, with `sign_type`, and the string its `sign` signs. */
function notificationForm(
  params: Readonly<Record<string, string>>,
  signType: SignType,
): { form: Record<string, string>; content: string } {
  const form: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value !== '' && key !== 'sign' && key !== 'sign_type') form[key] = value;
  }
  form.sign_type = signType;
  return { form, content: legacySignContent(form, { exclude: ['sign_type'] }) };
}

/** Whether a notification form verifies (the merchant's side of `signNotification`). */
export function verifyNotification(params: Readonly<Record<string, string>>, publicKey: PublicKeyInput): boolean {
  const signType = params.sign_type ?? 'RSA2';
  if (!isSignType(signType)) return false;
  const content = legacySignContent(params, { exclude: ['sign_type'] });
  return rsaVerify(content, params.sign ?? '', publicKey, signType);
}
