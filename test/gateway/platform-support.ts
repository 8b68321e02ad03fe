/**
 * A whole platform behind its HTTP surface (buildPlatformApp) with two merchant apps, A and B,
 * each driven by the real alipay-sdk, and one call shape for both protocols: legacy (`sdk.exec`
 * with the response signature checked) and v3 (`sdk.curl`, which always checks it).
 */
import { AlipayRequestError, AlipaySdk } from 'alipay-sdk';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { Clock } from '../../src/core/clock.ts';
import { v3ErrorCode } from '../../src/gateway/index.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import type { Platform } from '../../src/platform.ts';
import { buildPlatformApp, type PlatformAppOptions } from '../../src/server/platform-app.ts';
import { freshPlatform } from '../support/engine.ts';
import { keyPair, listen } from './support.ts';

export type Protocol = 'legacy' | 'v3';
export const protocols: readonly Protocol[] = ['legacy', 'v3'];

/** What a call answered, in snake_case for both protocols. */
export type Answer = { code: '10000'; [field: string]: unknown } | { code: '40004'; sub_code: string; status?: number };

export interface Merchant {
  appId: string;
  sellerId: string;
  sdk: AlipaySdk;
  /** Calls an open method over one protocol; business failures are answers, not throws. */
  call(protocol: Protocol, method: string, biz: Record<string, unknown>): Promise<Answer>;
}

export interface PlatformGateway {
  platform: Platform;
  app: FastifyInstance;
  base: string;
  a: Merchant;
  b: Merchant;
  /** Closes the app, checks the books (verifyLedger is []), closes the platform. */
  close(): Promise<void>;
}

/** Methods Alipay's v3 serves with GET and the query string. */
const v3Gets = new Set(['alipay.fund.trans.common.query', 'alipay.data.dataservice.bill.downloadurl.query']);

/**
 * `notifyUrl`: app A's notify URL (B has none); `overload`: the overload protection's settings;
 * `serve`: the platform the HTTP surface serves, made from the fresh one (a module swapped for a
 * double of one of its ports); the fresh one itself when absent.
 */
export async function startPlatformGateway(
  options: {
    clock?: Clock;
    notifyUrl?: string;
    overload?: PlatformAppOptions['overload'];
    serve?: (platform: Platform) => Platform;
  } = {},
): Promise<PlatformGateway> {
  const platform = await freshPlatform({ clock: options.clock });
  let base = '';
  const app = await buildPlatformApp({
    platform: options.serve?.(platform) ?? platform,
    publicUrl: () => base,
    overload: options.overload,
  });
  base = await listen(app);
  const merchant = async (name: string, notifyUrl?: string): Promise<Merchant> => {
    const keys = keyPair();
    const created = await platform.members.createApp({ name, merchantPublicKeyPem: keys.publicKeyPem, notifyUrl });
    const sdk = new AlipaySdk({
      appId: created.appId,
      privateKey: keys.privateKeyPem,
      alipayPublicKey: created.alipayPublicKey,
      gateway: `${base}/gateway.do`,
      endpoint: base,
      camelcase: false,
    });
    return { appId: created.appId, sellerId: created.sellerId, sdk, call: (p, m, biz) => call(sdk, p, m, biz) };
  };
  const a = await merchant('Shop A', options.notifyUrl);
  const b = await merchant('Shop B');
  return {
    platform,
    app,
    base,
    a,
    b,
    async close() {
      await app.close();
      expect(await verifyLedger(platform.db)).toEqual([]);
      await platform.close();
    },
  };
}

async function call(sdk: AlipaySdk, protocol: Protocol, method: string, biz: Record<string, unknown>): Promise<Answer> {
  if (protocol === 'legacy') {
    const result = await sdk.exec(method, { bizContent: biz }, { validateSign: true });
    if (result.code === '10000') return result as Answer;
    return { ...result, code: '40004', sub_code: String(result.sub_code) } as Answer;
  }
  const path = `/v3/${method.replaceAll('.', '/')}`;
  try {
    const { data } = v3Gets.has(method)
      ? await sdk.curl('GET', path, { query: stringValues(biz) })
      : await sdk.curl('POST', path, { body: biz });
    return { code: '10000', ...(data as Record<string, unknown>) };
  } catch (error) {
    if (error instanceof AlipayRequestError && error.responseHttpStatus === 400) {
      return { code: '40004', sub_code: String(error.code), status: error.responseHttpStatus };
    }
    throw error;
  }
}

function stringValues(biz: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(biz).map(([k, v]) => [k, String(v)]));
}

/** Asserts a business failure with Alipay's sub code, as each protocol writes it. */
export function expectFailure(answer: Answer, protocol: Protocol, subCode: string): void {
  expect(answer).toMatchObject({ code: '40004', sub_code: protocol === 'v3' ? v3ErrorCode(subCode) : subCode });
}

/** Asserts success and returns the fields. */
export function ok(answer: Answer): Record<string, string> {
  expect(answer).toMatchObject({ code: '10000' });
  return answer as unknown as Record<string, string>;
}

/** A buyer with money, and a payment code for each trade.pay. */
export async function newBuyer(platform: Platform, phone: string, balanceFen: bigint) {
  const user = await platform.members.createUser({ phone, password: 'correct horse 1', openingBalance: balanceFen });
  return { userId: user.userId, phone, paycode: () => platform.members.newPaymentCode(user.userId) };
}

let sequence = 0;
/** A fresh out_trade_no / out_biz_no. */
export const uniqueNo = (prefix: string) => `${prefix}-${Date.now()}-${++sequence}`;

/** Moves money into a merchant's wallet the way it really arrives: a buyer pays a trade. */
export async function fundMerchant(
  merchant: Merchant,
  buyer: { paycode(): Promise<string> },
  amount: string,
): Promise<void> {
  ok(
    await merchant.call('legacy', 'alipay.trade.pay', {
      out_trade_no: uniqueNo('fund'),
      scene: 'bar_code',
      auth_code: await buyer.paycode(),
      total_amount: amount,
      subject: 'funding',
    }),
  );
}
