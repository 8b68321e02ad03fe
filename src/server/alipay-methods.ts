import { cached } from '../core/cache.ts';
import { limits } from '../core/limits.ts';
import { beijingTime } from '../core/time.ts';
import type { GatewayContext, GatewayMethod, GatewayResult } from '../gateway/index.ts';
import { isMembersError, type Members } from '../members/index.ts';
import { PayoutError, type Payouts, type PayoutView, payoutErrors } from '../payouts/index.ts';
import {
  BillError,
  type CreateTradeInput,
  requestNotifyUrl,
  type TradeBills,
  TradeError,
  type TradeKey,
  type Trades,
  type TradeView,
} from '../trades/index.ts';

/** What the open methods need from the platform. */
export interface TradeMethodDeps {
  trades: Trades;
  members: Members;
  payouts: Payouts;
  bills: TradeBills;
  /** Where buyers reach this server, e.g. `http://host:8080`: a precreated trade's QR code points there. */
  publicUrl: () => string;
}

export type Biz = Record<string, unknown>;

export const str = (biz: Biz, key: string): string | undefined => {
  const v = biz[key];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
};

export function keyOf(biz: Biz): TradeKey {
  return { tradeNo: str(biz, 'trade_no'), outTradeNo: str(biz, 'out_trade_no') };
}

function failure(subCode: string, subMsg: string): GatewayResult {
  return { code: '40004', msg: 'Business Failed', subCode, subMsg };
}

/** Alipay's namespaced sub codes of the bill download query. */
const billSubCodes = { invalid_arguments: 'isv.invalid_arguments', bill_not_exist: 'isp.bill_not_exist' } as const;

/** Runs a method body, turning every refusal a merchant can cause into Alipay's 40004 answer. */
export function method(body: (ctx: GatewayContext) => Promise<Record<string, unknown>>): GatewayMethod {
  return async (ctx) => {
    try {
      return { body: await body(ctx) };
    } catch (error) {
      if (error instanceof TradeError) return failure(`ACQ.${error.code}`, error.message);
      if (isMembersError(error)) return failure(`ACQ.${error.code}`, error.message);
      // The fund methods' sub codes carry no namespace (PAYEE_NOT_EXIST, not ACQ.PAYEE_NOT_EXIST).
      if (error instanceof PayoutError) return failure(error.code, error.message);
      if (error instanceof BillError) return failure(billSubCodes[error.code], error.message);
      throw error;
    }
  };
}

/** `payee_info` of a transfer: an object (v3 and legacy JSON alike). */
function payeeInfo(biz: Biz): Biz {
  const info = biz.payee_info;
  return typeof info === 'object' && info !== null && !Array.isArray(info) ? (info as Biz) : {};
}

/**
 * The Alipay methods of the open gateway: trades, transfers (`alipay.fund.trans.*`) and the bill
 * download query, on the trades, payouts and members modules.
 */
export function tradeMethods(deps: TradeMethodDeps): Record<string, GatewayMethod> {
  const { trades, members, payouts, bills } = deps;
  const payoutFields = (p: PayoutView) => ({
    out_biz_no: p.outBizNo,
    order_id: p.orderId,
    pay_fund_order_id: p.payFundOrderId,
    status: p.status,
  });
  // A buyer's logon id is on every paid trade's answer; it changes only with the phone.
  const logonIdOf = cached(async (userId: string) => (await members.getUser(userId)).logonId, {
    max: limits.partyCacheMax,
    ttlMs: limits.partyCacheMs,
  });
  const logonId = async (userId: string | null) => (userId ? ((await logonIdOf(userId)) ?? undefined) : undefined);
  const tradeFields = async (t: TradeView) => ({
    trade_no: t.tradeNo,
    out_trade_no: t.outTradeNo,
    buyer_logon_id: await logonId(t.buyerId),
    buyer_user_id: t.buyerId ?? undefined,
    trade_status: t.status,
    total_amount: t.totalAmount,
    receipt_amount: t.paidAt ? t.totalAmount : '0.00',
    send_pay_date: t.paidAt ? beijingTime(t.paidAt) : undefined,
    subject: t.subject,
    ...(t.escrow ? { escrow_info: escrowFields(t) } : {}),
  });
  const createInput = (ctx: GatewayContext): CreateTradeInput => ({
    appId: ctx.appId,
    outTradeNo: str(ctx.bizContent, 'out_trade_no') ?? '',
    totalAmount: str(ctx.bizContent, 'total_amount') ?? '',
    subject: str(ctx.bizContent, 'subject') ?? '',
    productCode: str(ctx.bizContent, 'product_code'),
    timeoutExpress: str(ctx.bizContent, 'timeout_express'),
    returnUrl: ctx.params.return_url,
    // Legacy: a public parameter; v3: a field of the body. Alipay takes it over the app's.
    notifyUrl: ctx.params.notify_url ?? str(ctx.bizContent, 'notify_url'),
    escrow: yesNo(ctx.bizContent, 'escrow_trade'),
    confirmTimeout: str(ctx.bizContent, 'confirm_timeout_express'),
  });
  const create = (ctx: GatewayContext) => trades.create(createInput(ctx));
  // The buyer's browser posted the merchant's signed form here; the cashier takes it from there.
  const pagePay = async (ctx: GatewayContext): Promise<GatewayResult> => {
    try {
      const t = await create(ctx);
      return { redirect: `/cashier/${t.tradeNo}` };
    } catch (error) {
      if (error instanceof TradeError) return failure(`ACQ.${error.code}`, error.message);
      throw error;
    }
  };

  return {
    'alipay.trade.create': method(async (ctx) => {
      const t = await create(ctx);
      return { trade_no: t.tradeNo, out_trade_no: t.outTradeNo };
    }),
    'alipay.trade.precreate': method(async (ctx) => {
      const t = await create(ctx);
      return { out_trade_no: t.outTradeNo, qr_code: `${deps.publicUrl()}/cashier/${t.tradeNo}` };
    }),
    'alipay.trade.page.pay': pagePay,
    'alipay.trade.wap.pay': pagePay,
    'alipay.trade.pay': method(async (ctx) => {
      const scene = str(ctx.bizContent, 'scene') ?? 'bar_code';
      if (scene !== 'bar_code') throw new TradeError('INVALID_PARAMETER', 'scene must be bar_code');
      const input = createInput(ctx);
      // Refused before the payment code is spent: a bad request writes nothing.
      requestNotifyUrl(input.notifyUrl);
      const buyerId = await members
        .redeemPaymentCode(str(ctx.bizContent, 'auth_code') ?? '')
        .catch((error: unknown) => {
          // A code that is not one, unknown, expired or used: only those are the caller's error.
          throw isMembersError(error) ? new TradeError('PAYMENT_AUTH_CODE_INVALID') : error;
        });
      const t = await trades.createAndPay(input, buyerId);
      const fields = await tradeFields(t);
      return {
        ...fields,
        trade_status: undefined,
        gmt_payment: fields.send_pay_date,
        send_pay_date: undefined,
        fund_bill_list: [{ fund_channel: 'ALIPAYACCOUNT', amount: t.totalAmount }],
      };
    }),
    'alipay.trade.query': method(async (ctx) => tradeFields(await trades.query(ctx.appId, keyOf(ctx.bizContent)))),
    'alipay.trade.refund': method(async (ctx) => {
      const r = await trades.refund(ctx.appId, keyOf(ctx.bizContent), {
        refundAmount: str(ctx.bizContent, 'refund_amount') ?? '',
        outRequestNo: str(ctx.bizContent, 'out_request_no'),
        reason: str(ctx.bizContent, 'refund_reason'),
      });
      return {
        trade_no: r.tradeNo,
        out_trade_no: r.outTradeNo,
        buyer_logon_id: await logonId(r.buyerId),
        buyer_user_id: r.buyerId ?? undefined,
        fund_change: r.fundChange ? 'Y' : 'N',
        refund_fee: r.refundedTotal,
        send_back_fee: r.refundAmount,
      };
    }),
    'alipay.trade.fastpay.refund.query': method(async (ctx) => {
      const key = keyOf(ctx.bizContent);
      const r = await trades.refundQuery(ctx.appId, key, str(ctx.bizContent, 'out_request_no'));
      if (!r) return { ...keyFields(key) };
      const t = await trades.query(ctx.appId, key);
      return {
        trade_no: r.tradeNo,
        out_trade_no: r.outTradeNo,
        out_request_no: r.outRequestNo,
        total_amount: t.totalAmount,
        refund_amount: r.refundAmount,
        refund_status: r.status === 'SUCCESS' ? 'REFUND_SUCCESS' : undefined,
      };
    }),
    'alipay.trade.close': method(async (ctx) => {
      const t = await trades.close(ctx.appId, keyOf(ctx.bizContent));
      return { trade_no: t.tradeNo, out_trade_no: t.outTradeNo };
    }),
    'alipay.trade.cancel': method(async (ctx) => {
      const { trade, action } = await trades.cancel(ctx.appId, keyOf(ctx.bizContent));
      return { trade_no: trade.tradeNo, out_trade_no: trade.outTradeNo, retry_flag: 'N', action };
    }),
    'alipay.fund.trans.uni.transfer': method(async (ctx) => {
      const biz = ctx.bizContent;
      const payee = payeeInfo(biz);
      const p = await payouts.transfer({
        appId: ctx.appId,
        outBizNo: str(biz, 'out_biz_no') ?? '',
        transAmount: str(biz, 'trans_amount') ?? '',
        productCode: str(biz, 'product_code'),
        bizScene: str(biz, 'biz_scene'),
        payeeIdentity: str(payee, 'identity') ?? '',
        payeeIdentityType: str(payee, 'identity_type') ?? '',
        orderTitle: str(biz, 'order_title'),
        remark: str(biz, 'remark'),
      });
      return { ...payoutFields(p), trans_date: p.paidAt ? beijingTime(p.paidAt) : undefined };
    }),
    'alipay.fund.trans.common.query': method(async (ctx) => {
      const p = await payouts.query(ctx.appId, {
        outBizNo: str(ctx.bizContent, 'out_biz_no'),
        orderId: str(ctx.bizContent, 'order_id'),
        payFundOrderId: str(ctx.bizContent, 'pay_fund_order_id'),
      });
      return {
        ...payoutFields(p),
        trans_amount: p.amount,
        order_fee: '0.00',
        pay_date: p.paidAt ? beijingTime(p.paidAt) : undefined,
        error_code: p.errorCode ?? undefined,
        fail_reason: p.errorCode ? payoutErrors[p.errorCode].message : undefined,
      };
    }),
    'alipay.data.dataservice.bill.downloadurl.query': method(async (ctx) => {
      const token = await bills.issue(ctx.appId, str(ctx.bizContent, 'bill_type'), str(ctx.bizContent, 'bill_date'));
      return { bill_download_url: `${deps.publicUrl()}/bills/${token}.csv` };
    }),
  };
}

/** "Y" → true, "N" → false, absent → undefined; anything else is refused. */
function yesNo(biz: Biz, key: string): boolean | undefined {
  const v = str(biz, key);
  if (v === undefined) return undefined;
  if (v === 'Y' || v === 'N') return v === 'Y';
  throw new TradeError('INVALID_PARAMETER', `${key} must be Y or N`);
}

/** An escrow trade's extra fields on Alipay-shaped answers (`escrow_info`). */
export function escrowFields(t: TradeView): Record<string, string | undefined> {
  const e = t.escrow;
  if (!e) return {};
  return {
    logistics_company: e.logisticsCompany ?? undefined,
    logistics_no: e.logisticsNo ?? undefined,
    gmt_ship: e.shippedAt ? beijingTime(e.shippedAt) : undefined,
    confirm_deadline: e.confirmDueAt ? beijingTime(e.confirmDueAt) : undefined,
    gmt_release: e.releasedAt ? beijingTime(e.releasedAt) : undefined,
    fee_amount: e.feeAmount,
    royalty_amount: e.royaltyAmount,
    settlement_no: e.settlementNo ?? undefined,
    case_open: e.caseOpen ? 'Y' : 'N',
  };
}

function keyFields(key: TradeKey): Record<string, string | undefined> {
  return { trade_no: key.tradeNo, out_trade_no: key.outTradeNo };
}
