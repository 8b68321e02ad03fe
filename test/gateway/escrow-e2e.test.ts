/**
 * A marketplace runs its whole escrow order flow on Paybao over HTTP: the merchant with the real
 * alipay-sdk (legacy with validateSign, and v3 under /v3/paybao and /v3/alipay), the buyer with
 * the native API, the operator with the console API. Notifications of every step pass the SDK's
 * signature checks; wrong actors and another app get clean errors.
 */
import type { AlipaySdk } from 'alipay-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { NotificationDispatcher } from '../../src/notifications/index.ts';
import type { Platform } from '../../src/platform.ts';
import { notificationChannel } from '../../src/server/platform-app.ts';
import { type Merchant, type PlatformGateway, startPlatformGateway } from './platform-support.ts';
import { startNotifySink } from './support.ts';

const clock = new ManualClock(Date.now());
let gw: PlatformGateway;
let platform: Platform;
let base = '';
let notifySink: Awaited<ReturnType<typeof startNotifySink>>;
const notifications = () => notifySink.received;
/** The marketplace (app A, with a notify URL) and another app (B). */
let shop: Merchant;
let other: Merchant;
let operatorToken = '';
let n = 0;
const no = (p: string) => `${p}-${Date.now()}-${++n}`;

/** Calls a method over the legacy protocol, checking the response signature. */
async function legacy(sdk: AlipaySdk, method: string, biz: Record<string, unknown>) {
  return (await sdk.exec(method, { bizContent: biz }, { validateSign: true })) as Record<string, unknown>;
}

/** The same over v3 (the SDK always checks the signature); a 4xx answers its `{code}`. */
async function v3(sdk: AlipaySdk, method: string, biz: Record<string, unknown>): Promise<Record<string, unknown>> {
  try {
    const { data } = await sdk.curl('POST', `/v3/${method.replaceAll('.', '/')}`, { body: biz });
    return { code: '10000', ...(data as Record<string, unknown>) };
  } catch (error) {
    return {
      code: String((error as { code?: string }).code),
      status: (error as { responseHttpStatus?: number }).responseHttpStatus,
    };
  }
}

async function buyerSession(phone: string, balance: bigint) {
  const user = await platform.members.createUser({ phone, password: 'correct horse 1', openingBalance: balance });
  const login = await fetch(`${base}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phone, password: 'correct horse 1' }),
  });
  const { token } = (await login.json()) as { token: string };
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return { userId: user.userId, api, paycode: () => platform.members.newPaymentCode(user.userId) };
}

async function console_(method: string, path: string, body?: unknown, token = operatorToken) {
  const response = await fetch(`${base}/console/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  notifySink = await startNotifySink();
  gw = await startPlatformGateway({ clock, notifyUrl: notifySink.url });
  ({ platform, base, a: shop, b: other } = gw);
  operatorToken = (await platform.operators.create('ops')).token;
  const contract = await console_('PUT', `/apps/${shop.appId}/escrow-contract`, {
    escrow_default: true,
    fee_bps: 50,
    confirm_days: 10,
  });
  expect(contract.status).toBe(200);
});

afterAll(async () => {
  await gw.close();
  await notifySink?.close();
});

describe('an escrow marketplace over HTTP', () => {
  it('pays, ships (legacy), confirms in the native API, releases less the fee, splits and settles', async () => {
    const buyer = await buyerSession('13700000001', 100_000n);
    const receiver = await platform.members.createUser({ phone: '13700000009', password: 'correct horse 1' });
    const out = no('order');
    const paid = await legacy(shop.sdk, 'alipay.trade.pay', {
      out_trade_no: out,
      scene: 'bar_code',
      auth_code: await buyer.paycode(),
      total_amount: '200.00',
      subject: 'a guitar',
    });
    expect(paid).toMatchObject({ code: '10000', total_amount: '200.00' });
    const tradeNo = String(paid.trade_no);
    const queried = await legacy(shop.sdk, 'alipay.trade.query', { trade_no: tradeNo });
    expect(queried).toMatchObject({ trade_status: 'WAIT_SELLER_SEND_GOODS', escrow_info: { case_open: 'N' } });

    // Another app cannot ship it; the merchant can, once.
    expect(
      await legacy(other.sdk, 'paybao.trade.ship', { trade_no: tradeNo, logistics_company: 'SF', logistics_no: 'SF1' }),
    ).toMatchObject({ code: '40004', sub_code: 'ACQ.TRADE_NOT_EXIST' });
    const shipped = await legacy(shop.sdk, 'paybao.trade.ship', {
      out_trade_no: out,
      logistics_company: 'SF Express',
      logistics_no: 'SF123456',
    });
    expect(shipped).toMatchObject({
      code: '10000',
      trade_status: 'WAIT_BUYER_CONFIRM_GOODS',
      logistics_no: 'SF123456',
    });

    // Splitting before release is refused.
    const early = await legacy(shop.sdk, 'alipay.trade.order.settle', {
      trade_no: tradeNo,
      out_request_no: 'split-1',
      royalty_parameters: [{ trans_in_type: 'userId', trans_in: receiver.userId, amount_percentage: '10' }],
    });
    expect(early).toMatchObject({ code: '40004', sub_code: 'ACQ.TRADE_STATUS_ERROR' });

    const view = await buyer.api('GET', `/trades/${tradeNo}`);
    expect(view.body).toMatchObject({ status: 'WAIT_BUYER_CONFIRM_GOODS', escrow: { logistics_no: 'SF123456' } });
    const confirmed = await buyer.api('POST', `/trades/${tradeNo}/confirm-receipt`);
    expect(confirmed).toMatchObject({
      status: 200,
      body: { status: 'TRADE_FINISHED', escrow: { fee_amount: '1.00' } },
    });

    const split = await legacy(shop.sdk, 'alipay.trade.order.settle', {
      trade_no: tradeNo,
      out_request_no: 'split-1',
      royalty_parameters: [{ trans_in_type: 'userId', trans_in: receiver.userId, amount_percentage: '10' }],
    });
    expect(split).toMatchObject({ code: '10000', trade_no: tradeNo });
    expect(await platform.members.walletBalance(receiver.userId)).toBe(1990n);

    const run = await console_('POST', '/settlements/run');
    const mine = (run.body.data as Array<Record<string, unknown>>).find((s) => s.seller_id === shop.sellerId);
    expect(mine).toMatchObject({ gross_amount: '179.10', payout_amount: '179.10', trade_count: 1 });
    const statement = await v3(shop.sdk, 'paybao.settlement.query', { settlement_no: mine?.settlement_no });
    expect(statement).toMatchObject({
      code: '10000',
      payout_amount: '179.10',
      trades: [{ trade_no: tradeNo, total_amount: '200.00', fee_amount: '1.00', royalty_amount: '19.90' }],
    });
    expect(await platform.members.walletBalance(shop.sellerId)).toBe(17910n);
  });

  it('runs a refund with a return over v3, and a dispute ruled in the console', async () => {
    const buyer = await buyerSession('13700000002', 100_000n);
    const created = await v3(shop.sdk, 'alipay.trade.create', {
      out_trade_no: no('order'),
      total_amount: '300.00',
      subject: 'two chairs',
      confirm_timeout_express: '7d',
    });
    const tradeNo = String(created.trade_no);
    expect(await platform.trades.pay(shop.appId, { tradeNo }, buyer.userId)).toMatchObject({
      status: 'WAIT_SELLER_SEND_GOODS',
    });
    expect(
      await v3(shop.sdk, 'paybao.trade.ship', { trade_no: tradeNo, logistics_company: 'YTO', logistics_no: 'YT1' }),
    ).toMatchObject({ code: '10000', trade_status: 'WAIT_BUYER_CONFIRM_GOODS' });

    // Chair one: returned and refunded.
    const asked = await buyer.api('POST', `/trades/${tradeNo}/refund-requests`, {
      amount: '150.00',
      reason: 'one chair is broken',
      need_return: true,
    });
    // The seller has 5 days to answer.
    expect(asked).toMatchObject({ status: 201, body: { status: 'WAIT_SELLER_AGREE', due_at: expect.any(String) } });
    expect(Date.parse(String(asked.body.due_at)) - Date.parse(String(asked.body.created_at))).toBe(5 * 86_400_000);
    const caseNo = String(asked.body.case_no);
    expect(await buyer.api('POST', `/trades/${tradeNo}/confirm-receipt`)).toMatchObject({
      status: 409,
      body: { code: 'refund_case_open' },
    });
    expect(await v3(shop.sdk, 'paybao.trade.refund.agree', { case_no: caseNo })).toMatchObject({
      case_status: 'WAIT_BUYER_RETURN_GOODS',
      gmt_due: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
    });
    expect(
      await buyer.api('POST', `/refund-cases/${caseNo}/return`, { logistics_company: 'SF', logistics_no: 'SF9' }),
    ).toMatchObject({ status: 200, body: { status: 'WAIT_SELLER_CONFIRM_GOODS' } });
    expect(await v3(shop.sdk, 'paybao.trade.return.receive', { case_no: caseNo })).toMatchObject({
      case_status: 'REFUND_SUCCESS',
    });
    expect(await platform.members.walletBalance(buyer.userId)).toBe(100_000n - 15_000n);

    // Chair two: refused, disputed, ruled for the buyer in part.
    const second = await buyer.api('POST', `/trades/${tradeNo}/refund-requests`, {
      amount: '150.00',
      reason: 'scratched',
    });
    const case2 = String(second.body.case_no);
    expect(
      await legacy(shop.sdk, 'paybao.trade.refund.refuse', { case_no: case2, refuse_reason: 'it was fine' }),
    ).toMatchObject({ code: '10000', case_status: 'SELLER_REFUSE_BUYER' });
    const disputed = await buyer.api('POST', `/trades/${tradeNo}/disputes`, { reason: 'photos attached' });
    expect(disputed).toMatchObject({ status: 201, body: { status: 'WAIT_SELLER_EVIDENCE', claim_amount: '150.00' } });
    const disputeNo = String(disputed.body.dispute_no);
    expect(
      await legacy(shop.sdk, 'paybao.trade.dispute.answer', { dispute_no: disputeNo, evidence: 'photo at packing' }),
    ).toMatchObject({ code: '10000', dispute_status: 'WAIT_RULING' });
    expect(await console_('GET', '/disputes', undefined, 'pbo_wrong')).toMatchObject({ status: 401 });
    const queue = await console_('GET', '/disputes');
    expect((queue.body.data as Array<{ dispute_no: string }>).map((d) => d.dispute_no)).toContain(disputeNo);
    const ruled = await console_('POST', `/disputes/${disputeNo}/ruling`, {
      decision: 'BUYER',
      award_amount: '50.00',
      note: 'scratches visible',
    });
    expect(ruled).toMatchObject({ status: 200, body: { status: 'RULED_FOR_BUYER', paid_from: 'escrow' } });
    expect(await console_('POST', `/disputes/${disputeNo}/ruling`, { decision: 'SELLER' })).toMatchObject({
      status: 409,
      body: { code: 'DISPUTE_CLOSED' },
    });
    expect(await buyer.api('GET', `/disputes/${disputeNo}`)).toMatchObject({ body: { award_amount: '50.00' } });
    expect(await platform.members.walletBalance(buyer.userId)).toBe(100_000n - 10_000n);

    // The rest (100.00) releases by itself when the grace period after the ruling is over.
    clock.advanceMs(8 * 86_400_000);
    await platform.escrow.sweep();
    expect(await legacy(shop.sdk, 'alipay.trade.query', { trade_no: tradeNo })).toMatchObject({
      trade_status: 'TRADE_FINISHED',
      escrow_info: { fee_amount: '0.50' },
    });
  });

  it('refuses bad input and wrong actors with clean errors', async () => {
    const buyer = await buyerSession('13700000003', 10_000n);
    expect(
      await legacy(shop.sdk, 'paybao.trade.ship', { trade_no: '1', logistics_company: 'SF', logistics_no: 'x' }),
    ).toMatchObject({ code: '40004', sub_code: 'ACQ.TRADE_NOT_EXIST' });
    expect(await legacy(shop.sdk, 'paybao.trade.refund.agree', {})).toMatchObject({
      code: '40004',
      sub_code: 'ACQ.INVALID_PARAMETER',
    });
    expect(
      await legacy(shop.sdk, 'alipay.trade.create', {
        out_trade_no: no('x'),
        total_amount: '1.00',
        subject: 's',
        escrow_trade: 'maybe',
      }),
    ).toMatchObject({ code: '40004', sub_code: 'ACQ.INVALID_PARAMETER' });
    expect(await buyer.api('POST', '/trades/123/confirm-receipt')).toMatchObject({
      status: 404,
      body: { code: 'trade_not_found' },
    });
    expect(await buyer.api('POST', '/trades/123/refund-requests', { amount: '1e3', reason: 'x' })).toMatchObject({
      status: 400,
    });
    expect(await buyer.api('GET', '/refund-cases/RC2026000000000000')).toMatchObject({
      status: 404,
      body: { code: 'refund_case_not_found' },
    });
    expect(await console_('POST', '/disputes/DP1/ruling', { decision: 'MAYBE' })).toMatchObject({ status: 400 });
    // The console answers a trades refusal with the status its catalog gives the code.
    expect(await console_('GET', '/disputes/DP1')).toMatchObject({ status: 404, body: { code: 'DISPUTE_NOT_EXIST' } });
  });

  it('notifies every step, and the notifications pass checkNotifySign and checkNotifySignV2', async () => {
    const key = (await platform.members.platformKeys()).active;
    const dispatcher = new NotificationDispatcher(
      platform.db,
      platform.clock,
      notificationChannel(platform, key.privateKey),
    );
    while ((await dispatcher.dispatchDue()) > 0) {}
    const kinds = new Set(notifications().map((x) => `${x.notify_type}:${x.trade_status}`));
    for (const status of ['WAIT_SELLER_SEND_GOODS', 'WAIT_BUYER_CONFIRM_GOODS', 'TRADE_FINISHED'])
      expect(kinds).toContain(`trade_status_sync:${status}`);
    expect(
      notifications().some((x) => x.notify_type === 'refund_case_sync' && x.case_status === 'REFUND_SUCCESS'),
    ).toBe(true);
    expect(
      notifications().some((x) => x.notify_type === 'dispute_sync' && x.dispute_status === 'RULED_FOR_BUYER'),
    ).toBe(true);
    for (const form of notifications()) {
      expect(shop.sdk.checkNotifySignV2({ ...form })).toBe(true);
      expect(shop.sdk.checkNotifySign({ ...form })).toBe(true);
    }
  });
});
