/**
 * The risk engine on the gateway, with the real alipay-sdk over both protocols: a till's payment
 * a rule refuses answers `ACQ.PAYMENT_REQUEST_HAS_RISK` and writes nothing; one a rule asks the
 * buyer to confirm answers Alipay's `10003` ("order success pay inprocess"), the trade waits for
 * its buyer, who confirms with the code texted to them in the wallet, and the merchant's query
 * then finds it paid; a merchant's payout a rule refuses answers `PAYMENT_REQUEST_HAS_RISK`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  expectFailure,
  fundMerchant,
  newBuyer,
  ok,
  type PlatformGateway,
  protocols,
  startPlatformGateway,
  uniqueNo,
} from './platform-support.ts';

let gw: PlatformGateway;
let buyer: Awaited<ReturnType<typeof newBuyer>>;
const wallet = (userId: string) => gw.platform.members.walletBalance(userId);

beforeAll(async () => {
  gw = await startPlatformGateway();
  buyer = await newBuyer(gw.platform, '13900139301', 10_000_000n);
  await fundMerchant(gw.a, buyer, '1000.00');
});

afterEach(async () => {
  for (const rule of await gw.platform.risk.rules()) await gw.platform.risk.deleteRule(rule.ruleId);
});

afterAll(async () => {
  await gw.close();
});

async function rule(path: string, action: string): Promise<void> {
  await gw.platform.risk.createRule(
    { name: `${path} ${action}`, condition: { kind: 'amount', over: '100.00' }, paths: [path], action },
    'test',
  );
}

const tillPayment = async (no: string, amount: string) => ({
  out_trade_no: no,
  scene: 'bar_code',
  auth_code: await buyer.paycode(),
  total_amount: amount,
  subject: 'Double 11',
  terminal_id: 'till-7',
});

/** The buyer in the wallet: a session through the native API. */
async function buyerSession(): Promise<(method: 'GET' | 'POST', url: string, payload?: object) => Promise<Response>> {
  const login = await fetch(`${gw.base}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phone: buyer.phone, password: 'correct horse 1' }),
  });
  const { token } = (await login.json()) as { token: string };
  return (method, url, payload) =>
    fetch(`${gw.base}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json' } : {}) },
      body: payload ? JSON.stringify(payload) : undefined,
    });
}

async function codeTextedToBuyer(): Promise<string> {
  const [message] = await gw.platform.members.smsOutbox({ phone: buyer.phone, limit: 1 });
  const code = /Code (\d{6})/.exec(message?.text ?? '')?.[1];
  if (!code) throw new Error(`no code: ${message?.text}`);
  return code;
}

describe.each(protocols)('the risk engine on the gateway over %s', (protocol) => {
  const call = (method: string, biz: Record<string, unknown>) => gw.a.call(protocol, method, biz);

  it('refuses a till’s payment a rule denies, writing no trade and moving nothing', async () => {
    await rule('trade_pay', 'deny');
    const before = await wallet(buyer.userId);
    const no = uniqueNo(`deny-${protocol}`);
    expectFailure(
      await call('alipay.trade.pay', await tillPayment(no, '100.01')),
      protocol,
      'ACQ.PAYMENT_REQUEST_HAS_RISK',
    );
    expect(await wallet(buyer.userId)).toBe(before);
    expectFailure(await call('alipay.trade.query', { out_trade_no: no }), protocol, 'ACQ.TRADE_NOT_EXIST');
    // Below the bound the same till pays.
    ok(await call('alipay.trade.pay', await tillPayment(uniqueNo(`ok-${protocol}`), '100.00')));
  });

  it('answers 10003 when the buyer must confirm, and the trade is paid once they do', async () => {
    await rule('trade_pay', 'challenge');
    const no = uniqueNo(`confirm-${protocol}`);
    const before = await wallet(buyer.userId);
    const biz = await tillPayment(no, '188.00');
    let tradeNo: string;
    if (protocol === 'legacy') {
      const answer = await gw.a.sdk.exec('alipay.trade.pay', { bizContent: biz }, { validateSign: true });
      expect(answer).toMatchObject({ code: '10003', msg: 'order success pay inprocess', out_trade_no: no });
      tradeNo = String(answer.trade_no);
    } else {
      const { data } = await gw.a.sdk.curl('POST', '/v3/alipay/trade/pay', { body: biz });
      expect(data).toMatchObject({ out_trade_no: no });
      tradeNo = String((data as Record<string, unknown>).trade_no);
    }
    expect(await wallet(buyer.userId)).toBe(before);
    expect(ok(await call('alipay.trade.query', { out_trade_no: no }))).toMatchObject({
      trade_status: 'WAIT_BUYER_PAY',
    });

    const wallet$ = await buyerSession();
    const waiting = (await (await wallet$('GET', '/api/v1/risk/challenges')).json()) as {
      data: { challenge_id: string; amount: string; path: string }[];
    };
    const challenge = waiting.data.find((c) => c.amount === '188.00');
    expect(challenge).toMatchObject({ path: 'trade_pay' });
    const wrong = await wallet$('POST', `/api/v1/risk/challenges/${challenge?.challenge_id}/confirm`, {
      code: '999999',
    });
    if ((await codeTextedToBuyer()) !== '999999') expect(wrong.status).toBe(401);
    const confirmed = await wallet$('POST', `/api/v1/risk/challenges/${challenge?.challenge_id}/confirm`, {
      code: await codeTextedToBuyer(),
    });
    expect(confirmed.status, await confirmed.clone().text()).toBe(200);
    expect(ok(await call('alipay.trade.query', { out_trade_no: no }))).toMatchObject({
      trade_no: tradeNo,
      trade_status: 'TRADE_SUCCESS',
    });
    expect(await wallet(buyer.userId)).toBe(before - 18_800n);
    // A confirmation is used once.
    const again = await wallet$('POST', `/api/v1/risk/challenges/${challenge?.challenge_id}/confirm`, {
      code: await codeTextedToBuyer(),
    });
    expect(again.status).toBe(404);
    expect(await wallet(buyer.userId)).toBe(before - 18_800n);
  });

  it('refuses a merchant’s payout a rule denies, and a review it cannot wait for', async () => {
    const payee = await newBuyer(gw.platform, protocol === 'legacy' ? '13700131500' : '13700132500', 0n);
    const transfer = (no: string) => ({
      out_biz_no: no,
      trans_amount: '120.00',
      product_code: 'TRANS_ACCOUNT_NO_PWD',
      biz_scene: 'DIRECT_TRANSFER',
      payee_info: { identity: payee.userId, identity_type: 'ALIPAY_USER_ID' },
    });
    await rule('payout', 'review');
    const merchantBefore = await wallet(gw.a.sellerId);
    expectFailure(
      await call('alipay.fund.trans.uni.transfer', transfer(uniqueNo('payout'))),
      protocol,
      'PAYMENT_REQUEST_HAS_RISK',
    );
    expect(await wallet(gw.a.sellerId)).toBe(merchantBefore);
    expect(await wallet(payee.userId)).toBe(0n);
    const [decision] = await gw.platform.risk.decisions({ userId: gw.a.sellerId });
    expect(decision).toMatchObject({ path: 'payout', decision: 'deny', fired: [{ action: 'review' }] });
  });
});
