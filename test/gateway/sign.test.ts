/**
 * The signing rules on their own: the legacy sign string (sorted, `sign` out, `sign_type` in,
 * empty values out, values raw), the response body's exact shape, notifications leaving
 * `sign_type` out, the v3 authorization header's parse and sign string, method names from v3
 * paths, and the nonce store's bound (it fails closed when full of live nonces).
 */
import { describe, expect, it } from 'vitest';
import {
  legacyResponseBody,
  legacySignContent,
  MemoryNonceStore,
  parseV3Authorization,
  rsaSign,
  rsaSignAsync,
  rsaVerify,
  signNotification,
  v3MethodOf,
  v3RequestSignContent,
  verifyNotification,
} from '../../src/gateway/index.ts';
import { keyPair } from './support.ts';

const keys = keyPair();

describe('legacy sign string', () => {
  it('sorts keys, leaves out sign and empty values, keeps sign_type and raw values', () => {
    const params = { sign: 'x', timestamp: '2026-11-11 10:00:00', app_id: '1', sign_type: 'RSA2', a: '', b: '中&=%' };
    expect(legacySignContent(params)).toBe('app_id=1&b=中&=%&sign_type=RSA2&timestamp=2026-11-11 10:00:00');
    expect(legacySignContent(params, { keepEmpty: true })).toBe(
      'a=&app_id=1&b=中&=%&sign_type=RSA2&timestamp=2026-11-11 10:00:00',
    );
  });

  it('writes the response as {"<key>":<signed text>,"sign":"…"} and nothing else', async () => {
    const body = await legacyResponseBody(
      'alipay_trade_query_response',
      { code: '10000', msg: 'Success', s: '支付' },
      keys.privateKeyPem,
      'RSA2',
    );
    const text = '{"code":"10000","msg":"Success","s":"支付"}';
    const sign = JSON.parse(body).sign;
    expect(body).toBe(`{"alipay_trade_query_response":${text},"sign":"${sign}"}`);
    expect(rsaVerify(text, sign, keys.publicKeyPem, 'RSA2')).toBe(true);
    expect(rsaVerify(text, sign, keys.publicKeyPem, 'RSA')).toBe(false);
  });

  it('signs the same bytes on the thread pool as on the calling thread', async () => {
    for (const signType of ['RSA2', 'RSA'] as const) {
      const text = '{"code":"10000","msg":"Success","s":"支付"}';
      expect(await rsaSignAsync(text, keys.privateKeyPem, signType)).toBe(rsaSign(text, keys.privateKeyPem, signType));
    }
  });

  it('signs notifications without sign_type in the string', () => {
    const form = signNotification({ out_trade_no: 'T', trade_status: 'TRADE_SUCCESS' }, keys.privateKeyPem);
    expect(rsaVerify('out_trade_no=T&trade_status=TRADE_SUCCESS', form.sign ?? '', keys.publicKeyPem)).toBe(true);
    expect(verifyNotification(form, keys.publicKeyPem)).toBe(true);
    expect(verifyNotification({ ...form, sign_type: 'RSA' }, keys.publicKeyPem)).toBe(false);
  });

  it('answers false, never throws, for garbage signatures and keys', () => {
    expect(rsaVerify('x', '!!!', keys.publicKeyPem)).toBe(false);
    expect(rsaVerify('x', 'AAAA', 'not a key')).toBe(false);
  });
});

describe('v3', () => {
  it('parses the authorization header and keeps the signed part verbatim', () => {
    const header = 'ALIPAY-SHA256withRSA app_id=1,nonce=n,timestamp=5,expired_seconds=600,sign=ab+/c==';
    expect(parseV3Authorization(header)).toEqual({
      authString: 'app_id=1,nonce=n,timestamp=5,expired_seconds=600',
      fields: { app_id: '1', nonce: 'n', timestamp: '5', expired_seconds: '600' },
      sign: 'ab+/c==',
    });
    expect(parseV3Authorization('ALIPAY-SHA256withRSA app_id=1,app_id=2,sign=x')).toBeUndefined();
    expect(parseV3Authorization('ALIPAY-SHA256withRSA app_id=1')).toBeUndefined();
    expect(parseV3Authorization('Basic abc')).toBeUndefined();
  });

  it('builds the request sign string the SDK builds', () => {
    const base = { authString: 'a=1', httpMethod: 'POST', url: '/v3/x?y=1', body: '{}' };
    expect(v3RequestSignContent(base)).toBe('a=1\nPOST\n/v3/x?y=1\n{}\n');
    expect(v3RequestSignContent({ ...base, appAuthToken: 't' })).toBe('a=1\nPOST\n/v3/x?y=1\n{}\nt\n');
  });

  it('maps paths to dotted method names', () => {
    expect(v3MethodOf('/v3/alipay/trade/fastpay/refund/query')).toBe('alipay.trade.fastpay.refund.query');
    expect(v3MethodOf('/v3/alipay')).toBeUndefined();
    expect(v3MethodOf('/v3/alipay/trade/../query')).toBeUndefined();
    expect(v3MethodOf('/v3/other/trade/query')).toBeUndefined();
  });
});

describe('MemoryNonceStore', () => {
  it('refuses a replay while the nonce lives, and forgets it after', async () => {
    const store = new MemoryNonceStore(10);
    expect(await store.claim('a', 100, 0)).toBe('fresh');
    expect(await store.claim('a', 100, 50)).toBe('replayed');
    expect(await store.claim('a', 300, 101)).toBe('fresh');
  });

  it('holds at most its limit, sweeping expired nonces and failing closed when all are live', async () => {
    const store = new MemoryNonceStore(2, 0);
    expect(await store.claim('a', 10, 0)).toBe('fresh');
    expect(await store.claim('b', 100, 0)).toBe('fresh');
    expect(await store.claim('c', 100, 0)).toBe('full');
    expect(await store.claim('c', 100, 20)).toBe('fresh');
    expect(store.size).toBe(2);
    expect(await store.claim('b', 100, 20)).toBe('replayed');
  });
});
