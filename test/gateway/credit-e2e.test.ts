/**
 * `zhima.credit.score.get` over the open gateway, driven by the real alipay-sdk: with a token the
 * user granted `auth_zhima` the merchant reads `zm_score` (the online read's score, or "N/A" with
 * too little data) under a `biz_no`; the same `transaction_id` answers the same for 24 hours,
 * then is new again, and is refused for another user; a token without `auth_zhima`, another
 * app's, an expired or revoked one are refused with Alipay's codes; a malformed `transaction_id`
 * is the method's refusal. Legacy (`exec` with `auth_token`) and v3 (`auth_token` in the query).
 */
import { AlipayRequestError } from 'alipay-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import { type Merchant, newBuyer, type PlatformGateway, startPlatformGateway } from './platform-support.ts';

const clock = new ManualClock(Date.now());
let gw: PlatformGateway;
let scored: { userId: string };
let newcomer: { userId: string };

type Result = Record<string, unknown> & { code: string; sub_code?: string; sub_msg?: string };

async function tokenFor(m: Merchant, userId: string, scope: string): Promise<string> {
  const { oauth } = gw.platform;
  const request = await oauth.check({ appId: m.appId, scope, redirectUri: `https://${m.appId}.shop.test/cb` });
  const code = new URL(await oauth.authorize(userId, request)).searchParams.get('auth_code') ?? '';
  return (await oauth.exchangeCode(m.appId, code)).accessToken;
}

const zmScore = async (m: Merchant, authToken: string, transactionId: string): Promise<Result> =>
  (await m.sdk.exec(
    'zhima.credit.score.get',
    { authToken, bizContent: { transaction_id: transactionId, product_code: 'w1010100100000000001' } },
    { validateSign: true },
  )) as Result;

let outTradeNos = 0;
beforeAll(async () => {
  gw = await startPlatformGateway({ clock });
  for (const m of [gw.a, gw.b]) {
    await gw.platform.members.setAuthRedirectUrl(m.appId, `https://${m.appId}.shop.test/oauth`);
  }
  scored = await newBuyer(gw.platform, '13700137000', 500_000n);
  newcomer = await newBuyer(gw.platform, '13700137001', 0n);
  const { trades } = gw.platform;
  for (let i = 0; i < 5; i++) {
    const trade = await trades.create({
      appId: gw.b.appId,
      outTradeNo: `zm-${++outTradeNos}`,
      totalAmount: '9.90',
      subject: 'Tea',
    });
    await trades.pay(gw.b.appId, { tradeNo: trade.tradeNo }, scored.userId);
  }
  clock.advanceMs(40 * 86_400_000);
});

afterAll(async () => {
  await gw?.close();
});

describe('zhima.credit.score.get', () => {
  it('answers the user’s score under auth_zhima, the same as the online read', async () => {
    const token = await tokenFor(gw.a, scored.userId, 'auth_base,auth_zhima');
    const result = await zmScore(gw.a, token, 'tx-1');
    const online = await gw.platform.credit.score(scored.userId);
    expect(online.score).not.toBeNull();
    expect(result).toMatchObject({ code: '10000', zm_score: String(online.score) });
    expect(result.biz_no).toMatch(/^ZM\d{30}$/);
  });

  it('answers N/A for a user with too little data', async () => {
    const token = await tokenFor(gw.a, newcomer.userId, 'auth_zhima');
    expect(await zmScore(gw.a, token, 'tx-new')).toMatchObject({ code: '10000', zm_score: 'N/A' });
  });

  it('answers a transaction_id the same for 24 hours, then anew; another user’s id is refused', async () => {
    const token = await tokenFor(gw.a, scored.userId, 'auth_zhima');
    const first = await zmScore(gw.a, token, 'tx-dup');
    // The score moves (a payment), yet the same id answers the same.
    const trade = await gw.platform.trades.create({
      appId: gw.b.appId,
      outTradeNo: `zm-${++outTradeNos}`,
      totalAmount: '1.00',
      subject: 'Tea',
    });
    await gw.platform.trades.pay(gw.b.appId, { tradeNo: trade.tradeNo }, scored.userId);
    expect(await zmScore(gw.a, token, 'tx-dup')).toEqual(first);
    const other = await tokenFor(gw.a, newcomer.userId, 'auth_zhima');
    expect(await zmScore(gw.a, other, 'tx-dup')).toMatchObject({
      code: '40004',
      sub_code: 'ZMCREDIT.transaction_id_reused',
    });
    // Another app's transaction ids are its own.
    const bs = await tokenFor(gw.b, newcomer.userId, 'auth_zhima');
    expect(await zmScore(gw.b, bs, 'tx-dup')).toMatchObject({ code: '10000', zm_score: 'N/A' });
    clock.advanceMs(limits.creditTransactionTtlMs + 1);
    const fresh = await tokenFor(gw.a, scored.userId, 'auth_zhima');
    const later = await zmScore(gw.a, fresh, 'tx-dup');
    expect(later.code).toBe('10000');
    expect(later.biz_no).not.toBe(first.biz_no);
    expect(await gw.platform.credit.sweep()).toBeGreaterThan(0);
  });

  it('refuses a token without auth_zhima, another app’s, a revoked and an expired one', async () => {
    const base = await tokenFor(gw.a, scored.userId, 'auth_user');
    // auth_user was allowed with auth_zhima before: a fresh user allows auth_user alone.
    const someone = await newBuyer(gw.platform, '13700137002', 0n);
    const userOnly = await tokenFor(gw.a, someone.userId, 'auth_user');
    expect(await zmScore(gw.a, userOnly, 'tx-scope')).toMatchObject({
      code: '20001',
      sub_code: 'aop.invalid-auth-token',
    });
    expect((await zmScore(gw.a, userOnly, 'tx-scope')).sub_msg).toContain('auth_zhima');
    const bs = await tokenFor(gw.b, scored.userId, 'auth_zhima');
    expect(await zmScore(gw.a, bs, 'tx-other')).toMatchObject({ code: '20001', sub_code: 'aop.invalid-auth-token' });
    expect(await zmScore(gw.a, 'authusrB00000000000000000000000000000000', 'tx-x')).toMatchObject({
      sub_code: 'aop.invalid-auth-token',
    });
    clock.advanceMs(limits.oauthAccessTokenTtlMs + 1);
    expect(await zmScore(gw.a, base, 'tx-late')).toMatchObject({ code: '20001', sub_code: 'aop.auth-token-time-out' });
    const live = await tokenFor(gw.a, scored.userId, 'auth_zhima');
    await gw.platform.oauth.revoke(scored.userId, gw.a.appId);
    expect(await zmScore(gw.a, live, 'tx-revoked')).toMatchObject({
      code: '20001',
      sub_code: 'aop.invalid-auth-token',
    });
    const rows = await gw.platform.db.query(
      "select 1 from credit_transactions where transaction_id in ('tx-scope', 'tx-other', 'tx-x', 'tx-late', 'tx-revoked')",
    );
    expect(rows).toEqual([]);
  });

  it('refuses a malformed transaction_id, writing nothing', async () => {
    const token = await tokenFor(gw.a, scored.userId, 'auth_zhima');
    expect(await zmScore(gw.a, token, 'not a valid id!')).toMatchObject({
      code: '40004',
      sub_code: 'ZMCREDIT.invalid_parameter',
    });
    expect(await zmScore(gw.a, token, 'x'.repeat(65))).toMatchObject({
      code: '40004',
      sub_code: 'ZMCREDIT.invalid_parameter',
    });
    const missing = (await gw.a.sdk.exec('zhima.credit.score.get', { authToken: token, bizContent: {} })) as Result;
    expect(missing).toMatchObject({ code: '40004', sub_code: 'ZMCREDIT.invalid_parameter' });
  });

  it('speaks v3: auth_token in the query, refusals with the bare code', async () => {
    const token = await tokenFor(gw.a, scored.userId, 'auth_zhima');
    const { data } = await gw.a.sdk.curl('POST', `/v3/zhima/credit/score/get?auth_token=${token}`, {
      body: { transaction_id: 'tx-v3' },
    });
    expect(data).toMatchObject({ zm_score: expect.stringMatching(/^\d{3}$/) });
    const refused = await gw.a.sdk
      .curl('POST', '/v3/zhima/credit/score/get?auth_token=authusrB00000000000000000000000000000000', {
        body: { transaction_id: 'tx-v3b' },
      })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AlipayRequestError);
    expect(refused).toMatchObject({ code: 'invalid-auth-token', responseHttpStatus: 401 });
  });
});
