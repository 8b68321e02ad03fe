/**
 * A buyer on the courts' list of dishonest debtors is refused at a merchant whose category is
 * restricted (air tickets by default), on every payment path, writing nothing but the risk
 * engine's record: a till's `alipay.trade.pay` (the real alipay-sdk, both protocols) answers
 * `ACQ.BUYER_RESTRICTED` with words that say why; a precreated or created trade paid at the
 * cashier answers the page with the reason (403) and stays unpaid; the native API's transfer to a
 * member the operators categorised answers 403 `buyer_restricted`. An unlisted buyer, and the
 * listed buyer at an unrestricted merchant, pay; once the entry is removed the buyer pays again;
 * the restricted categories are a setting. The listed buyer is also refused a deposit-free
 * (credit-based) freeze, though not a plain deposit freeze.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idCheckCharacter } from '../../src/credit/index.ts';
import { PageSession } from '../support/page-session.ts';
import {
  expectFailure,
  newBuyer,
  ok,
  type PlatformGateway,
  protocols,
  startPlatformGateway,
  uniqueNo,
} from './platform-support.ts';

let gw: PlatformGateway;
let listed: Awaited<ReturnType<typeof newBuyer>>;
let unlisted: Awaited<ReturnType<typeof newBuyer>>;
/** A ticket agent's own account, which the operators put in the air_tickets category. */
let agent: Awaited<ReturnType<typeof newBuyer>>;
let entryId: string;
const password = 'correct horse 1';
const wallet = (userId: string) => gw.platform.members.walletBalance(userId);
const idNumber = (first17: string) => first17 + idCheckCharacter(first17);

beforeAll(async () => {
  gw = await startPlatformGateway();
  const { platform } = gw;
  // Shop A sells air tickets (restricted by default); shop B sells groceries (not restricted).
  await platform.risk.setMerchantCategory(gw.a.sellerId, 'air_tickets');
  await platform.risk.setMerchantCategory(gw.b.sellerId, 'groceries');
  listed = await newBuyer(platform, '13900139401', 1_000_000n);
  unlisted = await newBuyer(platform, '13900139402', 1_000_000n);
  agent = await newBuyer(platform, '13900139403', 0n);
  await platform.risk.setMerchantCategory(agent.userId, 'air_tickets');
  const listedId = idNumber('11010519800101001');
  await platform.credit.realNames.verify(listed.userId, { name: '张三', idNumber: listedId });
  await platform.credit.realNames.verify(unlisted.userId, { name: '李四', idNumber: idNumber('31010419750615002') });
  const { entry } = await platform.courtList.add(
    {
      idNumber: listedId,
      name: '张三',
      caseNumber: '(2026)京0105执1号',
      court: '北京市朝阳区人民法院',
      listingDate: '2026-01-05',
      grounds: '有履行能力而拒不履行生效法律文书确定义务',
    },
    'test',
  );
  entryId = entry.entryId;
});

afterAll(async () => {
  await gw.close();
});

const tillPayment = async (buyer: typeof listed, no: string, amount = '100.00') => ({
  out_trade_no: no,
  scene: 'bar_code',
  auth_code: await buyer.paycode(),
  total_amount: amount,
  subject: 'Beijing → Shenzhen',
});

describe.each(protocols)('a listed buyer at a till over %s', (protocol) => {
  it('is refused ACQ.BUYER_RESTRICTED at a restricted merchant, nothing written but the decision', async () => {
    const before = await wallet(listed.userId);
    const no = uniqueNo(`listed-${protocol}`);
    const answer = await gw.a.call(protocol, 'alipay.trade.pay', await tillPayment(listed, no));
    expectFailure(answer, protocol, 'ACQ.BUYER_RESTRICTED');
    if (protocol === 'legacy') {
      expect(String((answer as Record<string, unknown>).sub_msg)).toMatch(/失信被执行人.*air_tickets/);
    }
    expect(await wallet(listed.userId)).toBe(before);
    expectFailure(
      await gw.a.call(protocol, 'alipay.trade.query', { out_trade_no: no }),
      protocol,
      'ACQ.TRADE_NOT_EXIST',
    );
    const [decision] = await gw.platform.risk.decisions({ userId: listed.userId, limit: 1 });
    expect(decision).toMatchObject({ path: 'trade_pay', decision: 'deny', ref: `${gw.a.appId}/${no}` });
    expect(decision?.fired).toEqual([
      expect.objectContaining({ ruleId: 0, kind: 'court_list', action: 'deny', mode: 'enforce' }),
    ]);
    expect(decision?.fired[0]?.reason).toMatch(/\(2026\)京0105执1号/);
  });

  it('pays at an unrestricted merchant; an unlisted buyer pays at the restricted one', async () => {
    ok(await gw.b.call(protocol, 'alipay.trade.pay', await tillPayment(listed, uniqueNo(`grocer-${protocol}`))));
    ok(await gw.a.call(protocol, 'alipay.trade.pay', await tillPayment(unlisted, uniqueNo(`other-${protocol}`))));
  });
});

/** The buyer logs in at the cashier page of a trade and pays from the balance. */
async function payAtCashier(url: string, buyer: typeof listed): Promise<Response> {
  const browser = new PageSession();
  expect((await browser.get(url)).status).toBe(200);
  return browser.post(url, { phone: buyer.phone, password });
}

describe('a listed buyer at the cashier', () => {
  it('is refused on a precreated trade paid by scan and on a created one, which stay unpaid', async () => {
    const pre = ok(
      await gw.a.call('legacy', 'alipay.trade.precreate', {
        out_trade_no: uniqueNo('scan'),
        total_amount: '880.00',
        subject: 'Beijing → Sanya',
      }),
    );
    const created = ok(
      await gw.a.call('v3', 'alipay.trade.create', {
        out_trade_no: uniqueNo('create'),
        total_amount: '880.00',
        subject: 'Beijing → Sanya',
      }),
    );
    const before = await wallet(listed.userId);
    for (const url of [pre.qr_code ?? '', `${gw.base}/cashier/${created.trade_no}`]) {
      const refused = await payAtCashier(url, listed);
      expect(refused.status).toBe(403);
      const page = await refused.text();
      expect(page).toContain('失信被执行人');
      expect(page).toContain('air_tickets');
    }
    expect(await wallet(listed.userId)).toBe(before);
    const query = ok(await gw.a.call('legacy', 'alipay.trade.query', { out_trade_no: pre.out_trade_no }));
    expect(query.trade_status).toBe('WAIT_BUYER_PAY');
    const decisions = await gw.platform.risk.decisions({ userId: listed.userId, limit: 2 });
    expect(decisions.map((d) => [d.path, d.decision])).toEqual([
      ['cashier_pay', 'deny'],
      ['cashier_pay', 'deny'],
    ]);

    // The same trade, scanned by an unlisted buyer, is paid.
    const paid = await payAtCashier(pre.qr_code ?? '', unlisted);
    expect(paid.status).toBe(200);
    const after = ok(await gw.a.call('legacy', 'alipay.trade.query', { out_trade_no: pre.out_trade_no }));
    expect(after).toMatchObject({ trade_status: 'TRADE_SUCCESS', buyer_user_id: unlisted.userId });
  });
});

/** The buyer in the wallet: a session of the native API. */
async function session(buyer: typeof listed) {
  const login = await fetch(`${gw.base}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phone: buyer.phone, password }),
  });
  const { token } = (await login.json()) as { token: string };
  return (key: string, payload: object) =>
    fetch(`${gw.base}/api/v1/transfers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(payload),
    });
}

describe('a listed buyer on the native API', () => {
  it('is refused a transfer to a member in a restricted category, and may transfer to others', async () => {
    const transfer = await session(listed);
    const before = await wallet(listed.userId);
    const refused = await transfer('agent-1', { to_user_id: agent.userId, amount: '1200.00' });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      type: 'invalid_request_error',
      code: 'buyer_restricted',
      message: expect.stringMatching(/失信被执行人.*air_tickets/),
    });
    expect(await wallet(listed.userId)).toBe(before);
    expect(await wallet(agent.userId)).toBe(0n);
    const toFriend = await transfer('friend-1', { to_user_id: unlisted.userId, amount: '12.00' });
    expect(toFriend.status, await toFriend.clone().text()).toBe(200);
    const byOther = await (await session(unlisted))('agent-2', { to_user_id: agent.userId, amount: '1.00' });
    expect(byOther.status, await byOther.clone().text()).toBe(200);
  });
});

describe('a listed buyer asking for a deposit-free freeze', () => {
  it('is refused BUYER_RESTRICTED by the list itself, writing nothing; a plain deposit freeze goes on', async () => {
    const service = await gw.platform.preauth.creditServices.grant(gw.b.appId, { category: 'RENT_PHONE' }, 'test');
    const freeze = async (order: string, credit: boolean) =>
      gw.b.call('v3', 'alipay.fund.auth.order.freeze', {
        out_order_no: order,
        out_request_no: `${order}-f`,
        order_title: 'Phone deposit',
        amount: '300.00',
        auth_code: await listed.paycode(),
        auth_code_type: 'bar_code',
        ...(credit ? { extra_param: JSON.stringify({ category: 'RENT_PHONE', serviceId: service.serviceId }) } : {}),
      });
    const before = await wallet(listed.userId);
    const refused = await freeze(uniqueNo('credit'), true);
    expectFailure(refused, 'v3', 'BUYER_RESTRICTED');
    expect(await wallet(listed.userId)).toBe(before);
    const plain = ok(await freeze(uniqueNo('plain'), false));
    expect(plain).toMatchObject({ status: 'SUCCESS', amount: '300.00' });
    expect(await wallet(listed.userId)).toBe(before - 300_00n);
  });
});

describe('the restriction follows the list and the setting', () => {
  it('lets the buyer pay once the entry is removed, and restricts what the setting names', async () => {
    const { courtList } = gw.platform;
    const defaults = await courtList.restrictedCategories();
    expect(defaults).toEqual(['air_tickets', 'luxury_travel', 'rail_first_class']);
    await courtList.setRestrictedCategories(['groceries'], 'test');
    ok(await gw.a.call('legacy', 'alipay.trade.pay', await tillPayment(listed, uniqueNo('setting-a'))));
    expectFailure(
      await gw.b.call('legacy', 'alipay.trade.pay', await tillPayment(listed, uniqueNo('setting-b'))),
      'legacy',
      'ACQ.BUYER_RESTRICTED',
    );
    await courtList.setRestrictedCategories(defaults, 'test');
    await courtList.remove(entryId, 'the debt was met: court notice', 'test');
    ok(await gw.a.call('legacy', 'alipay.trade.pay', await tillPayment(listed, uniqueNo('removed'))));
  });
});
