/**
 * The v3 protocol's signatures (https://opendocs.alipay.com/open-v3/054q58), as `alipay-sdk`'s
 * `curl()` computes them:
 *
 *   authorization: ALIPAY-SHA256withRSA <authString>,sign=<base64>
 *   authString:    app_id=…[,app_cert_sn=…],nonce=…,timestamp=<ms>[,<more key=value>]
 *   request sign:  <authString>\n<METHOD>\n<path and query as sent>\n<body>\n[<app auth token>\n]
 *   response sign: <alipay-timestamp>\n<alipay-nonce>\n<body>\n   (always RSA-SHA256)
 *
 * The gateway verifies against the authString exactly as received rather than rebuilding it, so
 * extra fields (`expired_seconds`, the SDK's `additionalAuthInfo`) are covered by the signature.
 */
import { type PrivateKeyInput, rsaSign } from './sign.ts';

export const v3AuthScheme = 'ALIPAY-SHA256withRSA';

export interface V3Authorization {
  /** The signed part of the header, between the scheme and `,sign=`. */
  readonly authString: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly sign: string;
}

/** Splits an `authorization` header; undefined when it is not of the v3 form. */
export function parseV3Authorization(header: string): V3Authorization | undefined {
  if (!header.startsWith(`${v3AuthScheme} `)) return undefined;
  const rest = header.slice(v3AuthScheme.length + 1).trim();
  const at = rest.lastIndexOf(',sign=');
  if (at < 0) return undefined;
  const authString = rest.slice(0, at);
  const fields: Record<string, string> = {};
  for (const part of authString.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq);
    if (Object.hasOwn(fields, key)) return undefined;
    fields[key] = part.slice(eq + 1);
  }
  return { authString, fields, sign: rest.slice(at + ',sign='.length) };
}

export interface V3RequestToSign {
  readonly authString: string;
  /** Upper case, as sent. */
  readonly httpMethod: string;
  /** The request target: path and query string exactly as on the request line. */
  readonly url: string;
  /** The body text; '' for none. */
  readonly body: string;
  /** The `alipay-app-auth-token` header, when sent. */
  readonly appAuthToken?: string | undefined;
}

export function v3RequestSignContent(request: V3RequestToSign): string {
  const head = `${request.authString}\n${request.httpMethod}\n${request.url}\n${request.body}\n`;
  return request.appAuthToken === undefined ? head : `${head}${request.appAuthToken}\n`;
}

export function v3ResponseSignContent(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

/** An `authorization` header for a v3 request (what a merchant SDK sends; for clients and tests). */
export function v3Authorization(
  request: Omit<V3RequestToSign, 'authString'> & { appId: string; nonce: string; timestampMs: number },
  privateKey: PrivateKeyInput,
): string {
  const authString = `app_id=${request.appId},nonce=${request.nonce},timestamp=${request.timestampMs}`;
  const sign = rsaSign(v3RequestSignContent({ ...request, authString }), privateKey, 'RSA2');
  return `${v3AuthScheme} ${authString},sign=${sign}`;
}
