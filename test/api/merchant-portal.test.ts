import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationDispatcher } from '../../src/notifications/index.ts';
import { keyPair } from '../gateway/support.ts';
import { type ApiWorld, apiWorld, expectError, type StaffLogin as Login, nextPhone, staffLogin } from './support.ts';

let world: ApiWorld;
const key = keyPair();
let escrowApp: string;
let plainApp: string;
let merchantId: string;
let otherApp: string;
let buyer: { userId: string; phone: string };
const password = 'portal-secret-1';

/** Logs a member of staff in through both steps, the code read from the SMS outbox. */
const login = (phone: string) => staffLogin(world, phone, password);

let owner: Login;
let finance: Login;
let support: Login;
let n = 0;

async function paid(appId: string, amount: string): Promise<string> {
  const t = await world.platform.trades.create({ appId, outTradeNo: `mp-${++n}`, totalAmount: amount, subject: 'Tea' });
  await world.platform.trades.pay(appId, { tradeNo: t.tradeNo }, buyer.userId);
  return t.tradeNo;
}

beforeAll(async () => {
  world = await apiWorld();
  const p = world.platform;
  const first = await p.members.createApp({ name: 'Tea House', merchantPublicKeyPem: key.publicKeyPem });
  escrowApp = first.appId;
  merchantId = first.sellerId;
  await p.trades.saveContract(escrowApp, { escrowDefault: true, feeBps: 100, confirmPeriodMs: 10 * 86_400_000 });
  plainApp = (
    await p.members.createApp({ name: 'Tea Shop', merchantPublicKeyPem: key.publicKeyPem, sellerId: merchantId })
  ).appId;
  otherApp = (await p.members.createApp({ name: 'Elsewhere', merchantPublicKeyPem: key.publicKeyPem })).appId;
  const phone = nextPhone();
  buyer = {
    phone,
    userId: (await p.members.createUser({ phone, password: 'buyer-pass-1', openingBalance: 1_000_000n })).userId,
  };
  const ownerPhone = nextPhone();
  await p.merchantPortal.createOwner(merchantId, { phone: ownerPhone, password, name: 'Ms Owner' });
  owner = await login(ownerPhone);
  const financePhone = nextPhone();
  const supportPhone = nextPhone();
  for (const [ph, role] of [
    [financePhone, 'finance'],
    [supportPhone, 'support'],
  ] as const) {
    const res = await owner.call({
      method: 'POST',
      url: '/api/v1/merchant/staff',
      payload: { phone: ph, password, name: role, role },
    });
    expect(res.statusCode, res.body).toBe(201);
  }
  finance = await login(financePhone);
  support = await login(supportPhone);
});

afterAll(async () => {
  await world.close();
});

describe('logging in to the merchant portal', () => {
  it('takes the password, then the texted code, and tells the role what it may do', async () => {
    const phone = nextPhone();
    await world.platform.merchantPortal
      .createOwner(merchantId, { phone, password, name: 'Second' })
      .catch(() => undefined);
    const wrong = await world.app.inject({
      method: 'POST',
      url: '/api/v1/merchant/sessions/code',
      payload: { phone, password: 'not-the-password' },
    });
    expectError(wrong, 401, 'login_failed');
    expect(await world.platform.members.smsOutbox({ phone })).toEqual([]);
    const noCode = await world.app.inject({
      method: 'POST',
      url: '/api/v1/merchant/sessions',
      payload: { phone, password, sms_code: '000000' },
    });
    expectError(noCode, 401, 'sms_code_invalid');
    const me = await support.call({ method: 'GET', url: '/api/v1/merchant/me' });
    expect(me.json()).toMatchObject({ role: 'support', merchant_id: merchantId, merchant_name: 'Tea House' });
    expect(me.json().permissions).toEqual(['read', 'answer', 'resend', 'test']);
    expectError(await world.app.inject({ method: 'GET', url: '/api/v1/merchant/me' }), 401, 'session_invalid');
    // A wallet session is no portal session.
    expectError(
      await world.app.inject({ method: 'GET', url: '/api/v1/merchant/me', headers: { authorization: 'Bearer pbs_x' } }),
      401,
      'session_invalid',
    );
  });

  it('lets only the owner add staff', async () => {
    const res = await finance.call({
      method: 'POST',
      url: '/api/v1/merchant/staff',
      payload: { phone: nextPhone(), password, name: 'x', role: 'owner' },
    });
    expectError(res, 403, 'role_forbidden');
    const staff = await support.call({ method: 'GET', url: '/api/v1/merchant/staff' });
    expect(
      staff
        .json()
        .data.map((s: { role: string }) => s.role)
        .sort(),
    ).toEqual(['finance', 'owner', 'owner', 'support']);
  });
});

describe('dashboard and trades', () => {
  let plain: string;
  beforeAll(async () => {
    plain = await paid(plainApp, '88.00');
    await paid(escrowApp, '12.50');
    await paid(otherApp, '99.00');
    await world.platform.trades.create({
      appId: plainApp,
      outTradeNo: `mp-${++n}`,
      totalAmount: '5.00',
      subject: 'Unpaid',
    });
  });

  it("counts the merchant's paid trades of today and this month, and draws them by hour and day", async () => {
    const res = await owner.call({ method: 'GET', url: '/api/v1/merchant/dashboard' });
    expect(res.statusCode, res.body).toBe(200);
    const d = res.json();
    expect(d.today).toMatchObject({ volume: '100.50', count: 2, created: 3, refunded: '0.00', refund_count: 0 });
    expect(d.today.success_rate).toBeCloseTo(2 / 3);
    expect(d.month.volume).toBe('100.50');
    expect(d.by_hour).toHaveLength(24);
    expect(d.by_hour.reduce((s: number, p: { count: number }) => s + p.count, 0)).toBe(2);
    expect(d.by_day.at(-1).count).toBe(2);
  });

  it("searches by status, amount, out_trade_no and buyer, in pages, and never shows another merchant's trade", async () => {
    const all = await support.call({ method: 'GET', url: '/api/v1/merchant/trades' });
    expect(all.json().total).toBe(3);
    const byStatus = await support.call({
      method: 'GET',
      url: '/api/v1/merchant/trades?status=WAIT_SELLER_SEND_GOODS',
    });
    expect(byStatus.json().data.map((t: { total_amount: string }) => t.total_amount)).toEqual(['12.50']);
    const byAmount = await support.call({ method: 'GET', url: '/api/v1/merchant/trades?min_amount=50&max_amount=100' });
    expect(byAmount.json().data.map((t: { trade_no: string }) => t.trade_no)).toEqual([plain]);
    const byBuyer = await support.call({
      method: 'GET',
      url: `/api/v1/merchant/trades?buyer=${buyer.phone}&page_size=1&page=2`,
    });
    expect(byBuyer.json()).toMatchObject({ total: 2, data: [{ buyer_id: buyer.userId }] });
    expect(byBuyer.json().data[0].buyer_logon_id).toMatch(/^\d{3}\*{4}\d{4}$/);
    const other = await support.call({ method: 'GET', url: `/api/v1/merchant/trades?app_id=${otherApp}` });
    expectError(other, 404, 'app_not_found');
    const [otherTrade] = await world.platform.db.query<{ trade_no: string }>(
      'select trade_no from trades where app_id = $1',
      [otherApp],
    );
    expectError(
      await support.call({ method: 'GET', url: `/api/v1/merchant/trades/${otherTrade?.trade_no}` }),
      404,
      'TRADE_NOT_EXIST',
    );
    expectError(
      await support.call({ method: 'GET', url: '/api/v1/merchant/trades?status=PAYING' }),
      400,
      'parameter_invalid',
    );
  });

  it('refunds for finance and the owner, once per out_request_no, and refuses support', async () => {
    const body = { refund_amount: '8.00', out_request_no: 'portal-r1', reason: 'broken cup' };
    const refused = await support.call({
      method: 'POST',
      url: `/api/v1/merchant/trades/${plain}/refund`,
      payload: body,
    });
    expectError(refused, 403, 'role_forbidden');
    const first = await finance.call({ method: 'POST', url: `/api/v1/merchant/trades/${plain}/refund`, payload: body });
    expect(first.json()).toMatchObject({ refund_amount: '8.00', refunded_total: '8.00' });
    const again = await finance.call({ method: 'POST', url: `/api/v1/merchant/trades/${plain}/refund`, payload: body });
    expect(again.json()).toMatchObject({ refunded_total: '8.00' });
    const tooMuch = await owner.call({
      method: 'POST',
      url: `/api/v1/merchant/trades/${plain}/refund`,
      payload: { refund_amount: '81.00', out_request_no: 'portal-r2' },
    });
    expect(tooMuch.statusCode).toBe(400);
    const detail = await support.call({ method: 'GET', url: `/api/v1/merchant/trades/${plain}` });
    const d = detail.json();
    expect(d.trade.refunded_amount).toBe('8.00');
    expect(d.refunds).toMatchObject([{ out_request_no: 'portal-r1', amount: '8.00', status: 'SUCCESS' }]);
    expect(d.transitions.map((m: { to: string }) => m.to)).toContain('TRADE_SUCCESS');
    expect(d.notifications.length).toBeGreaterThan(0);
    const dash = await owner.call({ method: 'GET', url: '/api/v1/merchant/dashboard' });
    expect(dash.json().today).toMatchObject({ refunded: '8.00', refund_count: 1 });
  });
});

describe('escrow and after-sale', () => {
  it('ships for support, answers refund cases and disputes, and refuses finance each of them', async () => {
    const tradeNo = await paid(escrowApp, '40.00');
    const ship = { logistics_company: 'SF Express', logistics_no: 'SF1001' };
    expectError(
      await finance.call({ method: 'POST', url: `/api/v1/merchant/trades/${tradeNo}/ship`, payload: ship }),
      403,
      'role_forbidden',
    );
    const shipped = await support.call({
      method: 'POST',
      url: `/api/v1/merchant/trades/${tradeNo}/ship`,
      payload: ship,
    });
    expect(shipped.json()).toMatchObject({ status: 'WAIT_BUYER_CONFIRM_GOODS', escrow: { logistics_no: 'SF1001' } });

    const asBuyer = { kind: 'buyer', userId: buyer.userId } as const;
    const kase = await world.platform.afterSale.requestRefund(
      asBuyer,
      { tradeNo },
      { amount: '10.00', reason: 'scratched' },
    );
    const waiting = await support.call({ method: 'GET', url: '/api/v1/merchant/refund-cases?waiting=true' });
    expect(waiting.json().data.map((c: { case_no: string }) => c.case_no)).toContain(kase.caseNo);
    const answer = { action: 'refuse', reason: 'it left us whole' };
    expectError(
      await finance.call({
        method: 'POST',
        url: `/api/v1/merchant/refund-cases/${kase.caseNo}/answer`,
        payload: answer,
      }),
      403,
      'role_forbidden',
    );
    const refused = await support.call({
      method: 'POST',
      url: `/api/v1/merchant/refund-cases/${kase.caseNo}/answer`,
      payload: answer,
    });
    expect(refused.json()).toMatchObject({ status: 'SELLER_REFUSE_BUYER', refuse_reason: 'it left us whole' });

    const dispute = await world.platform.afterSale.openDispute(asBuyer, { tradeNo }, { reason: 'they refused' });
    const evidence = { evidence: 'photos of the cup before it shipped' };
    const url = `/api/v1/merchant/disputes/${dispute.disputeNo}/evidence`;
    expectError(await finance.call({ method: 'POST', url, payload: evidence }), 403, 'role_forbidden');
    const answered = await support.call({ method: 'POST', url, payload: evidence });
    expect(answered.json()).toMatchObject({ status: 'WAIT_RULING', evidence: evidence.evidence });
    const detail = await support.call({ method: 'GET', url: `/api/v1/merchant/trades/${tradeNo}` });
    expect(detail.json().disputes).toMatchObject([{ dispute_no: dispute.disputeNo, status: 'WAIT_RULING' }]);
    expect(detail.json().cases).toMatchObject([{ case_no: kase.caseNo }]);
    expectError(
      await support.call({ method: 'POST', url: '/api/v1/merchant/disputes/D404/evidence', payload: evidence }),
      404,
      'dispute_not_found',
    );
  });
});

describe('bills, notifications and apps', () => {
  it("hands finance a link to the gateway's CSV bill, and refuses support", async () => {
    const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
    const body = { app_id: plainApp, bill_date: today };
    expectError(
      await support.call({ method: 'POST', url: '/api/v1/merchant/bills', payload: body }),
      403,
      'role_forbidden',
    );
    expectError(
      await finance.call({ method: 'POST', url: '/api/v1/merchant/bills', payload: { ...body, app_id: otherApp } }),
      404,
      'app_not_found',
    );
    const link = await finance.call({ method: 'POST', url: '/api/v1/merchant/bills', payload: body });
    expect(link.statusCode, link.body).toBe(200);
    const csv = await world.app.inject({ method: 'GET', url: link.json().url });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.body.split('\r\n')[0]).toMatch(/^trade_no,out_trade_no/);
    expect(csv.body).toContain('88.00');
  });

  it('lists notifications and sends one again', async () => {
    const list = await support.call({ method: 'GET', url: '/api/v1/merchant/notifications' });
    expect(list.statusCode, list.body).toBe(200);
    const [first] = list.json().data;
    expect(first).toMatchObject({ attempts: 0, state: 'pending' });
    const resent = await support.call({ method: 'POST', url: `/api/v1/merchant/notifications/${first.id}/resend` });
    expect(resent.json()).toMatchObject({ id: first.id, state: 'pending' });
    await world.platform.db.query(
      "update trade_notifications set delivered_at = now(), next_attempt_at = 'infinity' where id = $1",
      [first.id],
    );
    const again = await support.call({ method: 'POST', url: `/api/v1/merchant/notifications/${first.id}/resend` });
    expect(again.json()).toMatchObject({ trade_no: first.trade_no, state: 'pending', attempts: 0 });
    expect(again.json().id).not.toBe(first.id);
    const delivered = await support.call({ method: 'GET', url: '/api/v1/merchant/notifications?state=delivered' });
    expect(delivered.json().data.map((x: { id: string }) => x.id)).toEqual([first.id]);
    const [foreign] = await world.platform.db.query<{ id: string }>(
      'select n.id from trade_notifications n join trades t using (trade_no) where t.app_id = $1',
      [otherApp],
    );
    expectError(
      await owner.call({ method: 'POST', url: `/api/v1/merchant/notifications/${foreign?.id}/resend` }),
      404,
      'TRADE_NOT_EXIST',
    );
  });

  it("logs every post of a trade's notifications with its outcome, shown in the trade's detail", async () => {
    const tradeNo = await paid(plainApp, '3.00');
    const answers = ['fail', 'success'];
    const dispatcher = new NotificationDispatcher(world.platform.db, world.platform.clock, {
      notifyUrlOf: async () => 'http://merchant.test/notify',
      sign: (form) => form,
      post: async (_url, form) => (form.trade_no === tradeNo ? (answers.shift() ?? 'success') : 'success'),
    });
    const due = async () => {
      await world.platform.db.query(
        "update trade_notifications set next_attempt_at = now() - interval '1 minute' where trade_no = $1",
        [tradeNo],
      );
      await dispatcher.dispatchDue();
    };
    await due();
    await due();
    const detail = await support.call({ method: 'GET', url: `/api/v1/merchant/trades/${tradeNo}` });
    const [note] = detail.json().notifications;
    expect(note).toMatchObject({ state: 'delivered', attempts: 2 });
    expect(note.posts).toMatchObject([
      { attempt: 1, url: 'http://merchant.test/notify', outcome: 'rejected', detail: 'fail' },
      { attempt: 2, outcome: 'success', detail: 'success' },
    ]);
  });

  it("shows the apps and the platform's key, and lets only the owner change a notify URL or a key", async () => {
    const apps = await finance.call({ method: 'GET', url: '/api/v1/merchant/apps' });
    expect(apps.json().data.map((a: { app_id: string }) => a.app_id)).toEqual([escrowApp, plainApp]);
    expect(apps.json().data[0]).toMatchObject({ escrow_default: true, fee_bps: 100, confirm_period_days: 10 });
    expect(apps.json().platform_public_key).toContain('BEGIN PUBLIC KEY');
    const url = `/api/v1/merchant/apps/${plainApp}/notify-url`;
    const payload = { notify_url: 'https://shop.example/notify' };
    expectError(await finance.call({ method: 'PUT', url, payload }), 403, 'role_forbidden');
    expectError(await support.call({ method: 'PUT', url, payload }), 403, 'role_forbidden');
    expect((await owner.call({ method: 'PUT', url, payload })).statusCode).toBe(204);
    expect((await world.platform.members.getApp(plainApp)).notifyUrl).toBe(payload.notify_url);
    expectError(
      await owner.call({ method: 'PUT', url, payload: { notify_url: 'ftp://x' } }),
      400,
      'notify_url_invalid',
    );
    const newKey = keyPair();
    const keyUrl = `/api/v1/merchant/apps/${plainApp}/merchant-public-key`;
    expectError(
      await finance.call({ method: 'PUT', url: keyUrl, payload: { public_key: newKey.publicKeyPem } }),
      403,
      'role_forbidden',
    );
    expect((await world.platform.members.getApp(plainApp)).merchantPublicKeyPem).toBe(key.publicKeyPem);
    expect(
      (await owner.call({ method: 'PUT', url: keyUrl, payload: { public_key: newKey.publicKeyPem } })).statusCode,
    ).toBe(204);
    expect((await world.platform.members.getApp(plainApp)).merchantPublicKeyPem).toBe(newKey.publicKeyPem);
    expectError(
      await owner.call({ method: 'PUT', url: `/api/v1/merchant/apps/${otherApp}/notify-url`, payload }),
      404,
      'app_not_found',
    );
  });

  it('makes a test payment against its own app for support, paid at the cashier, and refuses finance', async () => {
    const url = `/api/v1/merchant/apps/${escrowApp}/test-payments`;
    expectError(await finance.call({ method: 'POST', url, payload: { amount: '0.01' } }), 403, 'role_forbidden');
    expectError(await support.call({ method: 'POST', url, payload: { amount: '100.01' } }), 400, 'test_amount_invalid');
    expectError(
      await support.call({
        method: 'POST',
        url: `/api/v1/merchant/apps/${otherApp}/test-payments`,
        payload: { amount: '0.01' },
      }),
      404,
      'app_not_found',
    );
    const made = await support.call({ method: 'POST', url, payload: { amount: '0.01' } });
    expect(made.statusCode, made.body).toBe(201);
    // A direct trade even on an escrow app, waiting at the cashier.
    expect(made.json()).toMatchObject({ trade: { total_amount: '0.01', status: 'WAIT_BUYER_PAY', escrow: null } });
    expect(made.json().cashier_url).toBe(`/cashier/${made.json().trade.trade_no}`);
    expect((await world.app.inject({ method: 'GET', url: made.json().cashier_url })).statusCode).toBe(200);
  });

  it('shows the owner who did what, and nothing refused or failed; nobody else reads it', async () => {
    expectError(await finance.call({ method: 'GET', url: '/api/v1/merchant/activity' }), 403, 'role_forbidden');
    expectError(await support.call({ method: 'GET', url: '/api/v1/merchant/activity' }), 403, 'role_forbidden');
    const res = await owner.call({ method: 'GET', url: `/api/v1/merchant/activity?limit=100` });
    expect(res.statusCode, res.body).toBe(200);
    const entries = (res.json().data as { staff_name: string; action: string; detail: string | null }[]).reverse();
    const who = (action: string) => [...new Set(entries.filter((e) => e.action === action).map((e) => e.staff_name))];
    expect(who('staff.add')).toEqual(['Ms Owner']);
    // The refund asked twice with one out_request_no is two requests; the refused and the failed ones are none.
    expect(who('trade.refund')).toEqual(['finance']);
    expect(entries.filter((e) => e.action === 'trade.refund')).toHaveLength(2);
    expect(entries.find((e) => e.action === 'trade.refund')?.detail).toContain('portal-r1');
    expect(entries.some((e) => e.detail?.includes('portal-r2'))).toBe(false);
    expect(who('trade.ship')).toEqual(['support']);
    expect(who('refund_case.refuse')).toEqual(['support']);
    expect(who('dispute.evidence')).toEqual(['support']);
    expect(who('app.test_payment')).toEqual(['support']);
    expect(entries.every((e) => !e.detail?.includes(password))).toBe(true);
    const page = await owner.call({ method: 'GET', url: `/api/v1/merchant/activity?limit=2` });
    const [, second] = page.json().data as { id: string }[];
    const next = await owner.call({ method: 'GET', url: `/api/v1/merchant/activity?limit=100&before=${second?.id}` });
    expect(next.json().data.length).toBe(entries.length - 2);
  });

  it('is described in the OpenAPI document', async () => {
    const spec = (await world.app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/api/v1/merchant/trades', '/api/v1/merchant/trades/{tradeNo}/refund']),
    );
  });
});
