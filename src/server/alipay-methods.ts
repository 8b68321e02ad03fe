import { cached } from '../core/cache.ts';
import { limits } from '../core/limits.ts';
import { formatAmount } from '../core/money.ts';
import { beijingTime } from '../core/time.ts';
import {
  type BizSchema,
  checkBizContent,
  type GatewayContext,
  type GatewayMethod,
  type GatewayResult,
} from '../gateway/index.ts';
import { isMembersError, type Members } from '../members/index.ts';
import { PayoutError, type Payouts, type PayoutView, payoutErrors } from '../payouts/index.ts';
import { isPreauthError, type Preauths } from '../preauth/index.ts';
import { challengeOnly, isRiskError, type Risk } from '../risk/index.ts';
import { isSocialError, type SocialErrorCode } from '../social/index.ts';
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
import { type Biz, type BizMethod, bizSchemas } from './biz-schemas.ts';

/** What the open methods need from the platform. */
export interface TradeMethodDeps {
  trades: Trades;
  members: Members;
  payouts: Payouts;
  bills: TradeBills;
  /** Where buyers reach this server, e.g. `http://host:8080`: a precreated trade's QR code points there. */
  publicUrl: () => string;
  /** Asked before a till's payment moves money. */
  risk: Risk;
  /** Pays `alipay.trade.pay` with `auth_no` from a freeze. */
  preauth: Preauths;
}

/** The trade a request names: by `trade_no` or `out_trade_no`. */
export function keyOf(biz: { readonly trade_no?: string; readonly out_trade_no?: string }): TradeKey {
  return { tradeNo: biz.trade_no, outTradeNo: biz.out_trade_no };
}

function failure(subCode: string, subMsg: string): GatewayResult {
  return { code: '40004', msg: 'Business Failed', subCode, subMsg };
}

/** Alipay's sub codes for the social module's refusals it has its own words for. */
const socialSubCodes: Partial<Record<SocialErrorCode, string>> = {
  balance_not_enough: 'PAYER_BALANCE_NOT_ENOUGH',
  user_not_found: 'PAYEE_NOT_EXIST',
  idempotency_key_reused: 'PAYMENT_INFO_INCONSISTENCY',
  amount_invalid: 'INVALID_PARAMETER',
  parameter_invalid: 'INVALID_PARAMETER',
};

/** Alipay's namespaced sub codes of the bill download query. */
const billSubCodes = { invalid_arguments: 'isv.invalid_arguments', bill_not_exist: 'isp.bill_not_exist' } as const;

/**
 * The method `name`: its `biz_content` checked against its schema (`bizSchemas`), then `run` on
 * the typed object, every refusal a merchant can cause answered as Alipay's 40004.
 */
function answering<M extends BizMethod>(
  name: M,
  run: (ctx: GatewayContext, biz: Biz<M>) => Promise<GatewayResult>,
): GatewayMethod {
  const schema: BizSchema = bizSchemas[name];
  return async (ctx) => {
    const checked = checkBizContent(schema, ctx.bizContent);
    if ('failure' in checked) return checked.failure;
    try {
      return await run(ctx, checked.value as Biz<M>);
    } catch (error) {
      if (error instanceof TradeError) return failure(`ACQ.${error.code}`, error.message);
      // Fund authorisation: the fund-auth methods' bare codes; a payment from a freeze says them in ACQ.'s words.
      if (isPreauthError(error)) {
        return failure(`${name.startsWith('alipay.trade.') ? 'ACQ.' : ''}${error.code.toUpperCase()}`, error.message);
      }
      // The risk engine's refusal: trades say it in ACQ.'s words, the fund methods bare.
      if (isRiskError(error, 'payment_denied')) {
        return failure(`${name.startsWith('alipay.trade.') ? 'ACQ.' : ''}PAYMENT_REQUEST_HAS_RISK`, error.message);
      }
      // A buyer the courts list, at a merchant of a restricted category (Paybao's code: Alipay has none).
      if (isRiskError(error, 'buyer_restricted')) {
        return failure(
          `${name.startsWith('alipay.trade.') ? 'ACQ.' : ''}BUYER_RESTRICTED`,
          `买家受限 · ${error.message}`,
        );
      }
      if (isMembersError(error)) return failure(`ACQ.${error.code}`, error.message);
      // The fund methods' sub codes carry no namespace (PAYEE_NOT_EXIST, not ACQ.PAYEE_NOT_EXIST).
      if (error instanceof PayoutError) return failure(error.code, error.message);
      if (error instanceof BillError) return failure(billSubCodes[error.code], error.message);
      // Red packets: the fund methods' bare codes, Alipay's where it has one.
      if (isSocialError(error)) return failure(socialSubCodes[error.code] ?? error.code.toUpperCase(), error.message);
      throw error;
    }
  };
}

/** Method bodies by name, each on its own method's typed biz_content: a name without a schema does not compile. */
type Bodies<N extends BizMethod, Out> = { readonly [M in N]: (ctx: GatewayContext, biz: Biz<M>) => Promise<Out> };

/** Each body as a `GatewayMethod`, its result answered by `answer`. */
function each<N extends BizMethod, Out>(
  bodies: Bodies<N, Out>,
  answer: (out: Out) => GatewayResult,
): Record<N, GatewayMethod> {
  const entries = (Object.keys(bodies) as N[]).map((name) => {
    const body = bodies[name] as (ctx: GatewayContext, biz: Biz<N>) => Promise<Out>;
    return [name, answering(name, async (ctx, biz) => answer(await body(ctx, biz)))] as const;
  });
  return Object.fromEntries(entries) as Record<N, GatewayMethod>;
}

/** Methods by name, each answering the fields its body returns for the typed biz_content. */
export const methods = <N extends BizMethod>(bodies: Bodies<N, Record<string, unknown>>) =>
  each(bodies, (body) => ({ body }));

/** Methods by name whose bodies answer a whole result (a success waiting for its buyer, a refusal). */
const results = <N extends BizMethod>(bodies: Bodies<N, GatewayResult>) => each(bodies, (result) => result);

/** Page methods by name: the buyer's browser is sent on to the URL each body returns. */
export const pageMethods = <N extends BizMethod>(bodies: Bodies<N, string>) =>
  each(bodies, (redirect) => ({ redirect }));

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
    ...(t.fundBills.length > 0
      ? { fund_bill_list: t.fundBills.map((b) => ({ fund_channel: b.fundChannel, amount: b.amount })) }
      : {}),
    ...(t.escrow ? { escrow_info: escrowFields(t) } : {}),
  });
  /**
   * The risk engine on a till's payment: allowed (undefined), refused, or to be confirmed by the
   * buyer (a till cannot wait for an operator: a review is asked as a confirmation).
   */
  // A till's payment the buyer confirmed on their phone: paid from the wallet now.
  deps.risk.onConfirmed('trade_pay', (ref, buyerId) => {
    const slash = ref.indexOf('/');
    return trades.pay(ref.slice(0, slash), { outTradeNo: ref.slice(slash + 1) }, buyerId);
  });
  const riskOf = async (
    ctx: GatewayContext,
    biz: Biz<'alipay.trade.pay'>,
    buyerId: string,
  ): Promise<'denied' | 'confirm' | undefined> => {
    const sellerId = (await trades.sellerOfApp(ctx.appId)) ?? undefined;
    const ref = `${ctx.appId}/${biz.out_trade_no}`;
    try {
      await deps.risk.assess(
        {
          path: 'trade_pay',
          userId: buyerId,
          payeeId: sellerId,
          merchantId: sellerId,
          amountFen: biz.total_amount,
          device: biz.terminal_id,
          ref,
        },
        { supports: challengeOnly, fingerprint: `${ref}/${biz.total_amount}` },
      );
      return undefined;
    } catch (error) {
      if (isRiskError(error, 'payment_denied')) return 'denied';
      if (isRiskError(error, 'account_frozen')) throw new TradeError('BUYER_ENABLE_STATUS_FORBID');
      if (isRiskError(error, 'challenge_required')) return 'confirm';
      throw error;
    }
  };
  const createInput = (ctx: GatewayContext, biz: Biz<'alipay.trade.create'>): CreateTradeInput => ({
    appId: ctx.appId,
    outTradeNo: biz.out_trade_no,
    totalAmount: formatAmount(biz.total_amount),
    subject: biz.subject,
    productCode: biz.product_code,
    timeoutExpress: biz.timeout_express,
    returnUrl: ctx.params.return_url,
    // Legacy: a public parameter; v3: a field of the body. Alipay takes it over the app's.
    notifyUrl: ctx.params.notify_url ?? biz.notify_url,
    escrow: biz.escrow_trade === undefined ? undefined : biz.escrow_trade === 'Y',
    confirmTimeout: biz.confirm_timeout_express,
  });
  const create = (ctx: GatewayContext, biz: Biz<'alipay.trade.create'>) => trades.create(createInput(ctx, biz));
  /**
   * `alipay.trade.pay` with `auth_no`: the trade is paid by posting part of the freeze's hold
   * (COMPLETE unfreezes the rest, NOT_COMPLETE — the default — keeps it frozen). The buyer is the
   * freeze's payer; the risk engine assessed them when the money was frozen.
   */
  const payFromFreeze = async (
    ctx: GatewayContext,
    biz: Biz<'alipay.trade.pay'>,
    input: CreateTradeInput,
  ): Promise<GatewayResult> => {
    if (biz.product_code && biz.product_code !== 'PREAUTH_PAY')
      throw new TradeError('INVALID_PARAMETER', 'product_code must be PREAUTH_PAY with auth_no');
    await deps.preauth.settle(ctx.appId, {
      authNo: biz.auth_no as string,
      outTradeNo: input.outTradeNo,
      amountFen: biz.total_amount,
      subject: input.subject,
      complete: biz.auth_confirm_mode === 'COMPLETE',
      notifyUrl: input.notifyUrl,
    });
    const fields = await tradeFields(await trades.query(ctx.appId, { outTradeNo: input.outTradeNo }));
    return {
      body: {
        ...fields,
        trade_status: undefined,
        gmt_payment: fields.send_pay_date,
        send_pay_date: undefined,
        auth_no: biz.auth_no,
      },
    };
  };
  // The buyer's browser posted the merchant's signed form here; the cashier takes it from there.
  const pagePay = async (ctx: GatewayContext, biz: Biz<'alipay.trade.create'>) =>
    `/cashier/${(await create(ctx, biz)).tradeNo}`;

  return {
    ...pageMethods({ 'alipay.trade.page.pay': pagePay, 'alipay.trade.wap.pay': pagePay }),
    ...results({
      'alipay.trade.pay': async (ctx, biz) => {
        const input = createInput(ctx, biz);
        // Refused before the payment code is spent: a bad request writes nothing.
        requestNotifyUrl(input.notifyUrl);
        if (biz.auth_no) return payFromFreeze(ctx, biz, input);
        if (biz.product_code === 'PREAUTH_PAY') throw new TradeError('INVALID_PARAMETER', 'PREAUTH_PAY needs auth_no');
        if (!biz.auth_code) throw new TradeError('PAYMENT_AUTH_CODE_INVALID');
        // The code is spent for this payment: its retry (an answer lost) may spend it again.
        const spentFor = `${ctx.appId}/${biz.out_trade_no}`;
        const buyerId = await members.redeemPaymentCode(biz.auth_code, spentFor).catch((error: unknown) => {
          // A frozen buyer's code, then a code that is not one, unknown, expired or used: the caller's error.
          if (isMembersError(error, 'account_frozen')) throw new TradeError('BUYER_ENABLE_STATUS_FORBID');
          throw isMembersError(error) ? new TradeError('PAYMENT_AUTH_CODE_INVALID') : error;
        });
        const refusal = await riskOf(ctx, biz, buyerId);
        if (refusal === 'denied')
          return failure('ACQ.PAYMENT_REQUEST_HAS_RISK', '支付存在风险 · refused for the buyer’s security');
        if (refusal === 'confirm') {
          // The buyer confirms on their phone (a code texted to them); the trade waits for them,
          // and the merchant queries it until it is paid or closed, as after Alipay's 10003.
          const waiting = await trades.create(input);
          return { body: { ...(await tradeFields(waiting)), trade_status: undefined }, inProcess: true };
        }
        const t = await trades.createAndPay(input, buyerId);
        const fields = await tradeFields(t);
        return {
          body: { ...fields, trade_status: undefined, gmt_payment: fields.send_pay_date, send_pay_date: undefined },
        };
      },
    }),
    ...methods({
      'alipay.trade.create': async (ctx, biz) => {
        const t = await create(ctx, biz);
        return { trade_no: t.tradeNo, out_trade_no: t.outTradeNo };
      },
      'alipay.trade.precreate': async (ctx, biz) => {
        const t = await create(ctx, biz);
        return { out_trade_no: t.outTradeNo, qr_code: `${deps.publicUrl()}/cashier/${t.tradeNo}` };
      },
      'alipay.trade.query': async (ctx, biz) => tradeFields(await trades.query(ctx.appId, keyOf(biz))),
      'alipay.trade.refund': async (ctx, biz) => {
        const r = await trades.refund(ctx.appId, keyOf(biz), {
          refundAmount: formatAmount(biz.refund_amount),
          outRequestNo: biz.out_request_no,
          reason: biz.refund_reason,
        });
        return {
          trade_no: r.tradeNo,
          out_trade_no: r.outTradeNo,
          buyer_logon_id: await logonId(r.buyerId),
          buyer_user_id: r.buyerId ?? undefined,
          fund_change: r.fundChange ? 'Y' : 'N',
          refund_fee: r.refundedTotal,
          send_back_fee: r.refundAmount,
          refund_detail_item_list: r.fundBills.map((b) => ({ fund_channel: b.fundChannel, amount: b.amount })),
        };
      },
      'alipay.trade.fastpay.refund.query': async (ctx, biz) => {
        const key = keyOf(biz);
        const r = await trades.refundQuery(ctx.appId, key, biz.out_request_no);
        if (!r) return { ...keyFields(key) };
        const t = await trades.query(ctx.appId, key);
        return {
          trade_no: r.tradeNo,
          out_trade_no: r.outTradeNo,
          out_request_no: r.outRequestNo,
          total_amount: t.totalAmount,
          refund_amount: r.refundAmount,
          refund_status: r.status === 'SUCCESS' ? 'REFUND_SUCCESS' : undefined,
          // Only when asked for, as Alipay answers it: which channels the refund went back to.
          refund_detail_item_list:
            biz.query_options?.includes('refund_detail_item_list') && r.status === 'SUCCESS'
              ? r.fundBills.map((b) => ({ fund_channel: b.fundChannel, amount: b.amount }))
              : undefined,
        };
      },
      'alipay.trade.close': async (ctx, biz) => {
        const t = await trades.close(ctx.appId, keyOf(biz));
        return { trade_no: t.tradeNo, out_trade_no: t.outTradeNo };
      },
      'alipay.trade.cancel': async (ctx, biz) => {
        const { trade, action } = await trades.cancel(ctx.appId, keyOf(biz));
        return { trade_no: trade.tradeNo, out_trade_no: trade.outTradeNo, retry_flag: 'N', action };
      },
      'alipay.fund.trans.uni.transfer': async (ctx, biz) => {
        const p = await payouts.transfer({
          appId: ctx.appId,
          outBizNo: biz.out_biz_no,
          transAmount: formatAmount(biz.trans_amount),
          productCode: biz.product_code,
          bizScene: biz.biz_scene,
          payeeIdentity: biz.payee_info.identity,
          payeeIdentityType: biz.payee_info.identity_type,
          orderTitle: biz.order_title,
          remark: biz.remark,
        });
        return { ...payoutFields(p), trans_date: p.paidAt ? beijingTime(p.paidAt) : undefined };
      },
      'alipay.fund.trans.common.query': async (ctx, biz) => {
        const p = await payouts.query(ctx.appId, {
          outBizNo: biz.out_biz_no,
          orderId: biz.order_id,
          payFundOrderId: biz.pay_fund_order_id,
        });
        return {
          ...payoutFields(p),
          trans_amount: p.amount,
          order_fee: '0.00',
          pay_date: p.paidAt ? beijingTime(p.paidAt) : undefined,
          error_code: p.errorCode ?? undefined,
          fail_reason: p.errorCode ? payoutErrors[p.errorCode].message : undefined,
        };
      },
      'alipay.data.dataservice.bill.downloadurl.query': async (ctx, biz) => {
        const token = await bills.issue(ctx.appId, biz.bill_type, biz.bill_date);
        return { bill_download_url: `${deps.publicUrl()}/bills/${token}.csv` };
      },
    }),
  };
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
