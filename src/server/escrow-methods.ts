/**
 * The open methods of escrow trades. Where Alipay has a method it is mirrored
 * (`alipay.trade.order.settle` for splits); the steps Alipay has none for live under `paybao.*`
 * on the same gateway, signed the same way (v3: `/v3/paybao/...`). Every one acts as the app's
 * seller: buyers act through the native API, operators through the console.
 */
import { formatAmount } from '../core/money.ts';
import { beijingTime } from '../core/time.ts';
import type { GatewayContext, GatewayMethod } from '../gateway/index.ts';
import type {
  Actor,
  AfterSale,
  DisputeView,
  Escrow,
  RefundCaseView,
  Royalties,
  RoyaltyParameter,
  Settlements,
  Trades,
  TradeView,
} from '../trades/index.ts';
import { escrowFields, keyOf, methods } from './alipay-methods.ts';
import type { Biz } from './biz-schemas.ts';

export interface EscrowMethodDeps {
  trades: Trades;
  escrow: Escrow;
  afterSale: AfterSale;
  royalties: Royalties;
  settlements: Settlements;
}

const seller = (ctx: GatewayContext): Actor => ({ kind: 'seller', appId: ctx.appId });
const time = (d: Date | null) => (d ? beijingTime(d) : undefined);

function tradeFields(t: TradeView): Record<string, unknown> {
  return { trade_no: t.tradeNo, out_trade_no: t.outTradeNo, trade_status: t.status, ...escrowFields(t) };
}

function caseFields(c: RefundCaseView): Record<string, unknown> {
  return {
    case_no: c.caseNo,
    trade_no: c.tradeNo,
    case_status: c.status,
    refund_amount: c.refundAmount,
    refund_reason: c.reason,
    need_return: c.needReturn ? 'Y' : 'N',
    refuse_reason: c.refuseReason ?? undefined,
    return_logistics_company: c.returnLogisticsCompany ?? undefined,
    return_logistics_no: c.returnLogisticsNo ?? undefined,
    gmt_due: c.dueAt ? time(c.dueAt) : undefined,
    gmt_create: time(c.createdAt),
    gmt_modified: time(c.updatedAt),
  };
}

function disputeFields(d: DisputeView): Record<string, unknown> {
  return {
    dispute_no: d.disputeNo,
    trade_no: d.tradeNo,
    case_no: d.caseNo ?? undefined,
    dispute_status: d.status,
    claim_amount: d.claimAmount,
    reason: d.reason,
    evidence: d.evidence ?? undefined,
    award_amount: d.awardAmount ?? undefined,
    paid_from: d.paidFrom ?? undefined,
    gmt_create: time(d.createdAt),
    gmt_ruling: time(d.ruledAt),
  };
}

/** `royalty_parameters` as Alipay sends them: `trans_in` a user id, `amount` or `amount_percentage`. */
function royaltyParameters(biz: Biz<'alipay.trade.order.settle'>): RoyaltyParameter[] {
  return biz.royalty_parameters.map((p) => ({
    transIn: p.trans_in,
    amount: p.amount === undefined ? undefined : formatAmount(p.amount),
    amountPercentage: p.amount_percentage === undefined ? undefined : String(p.amount_percentage),
    desc: p.desc,
  }));
}

export function escrowMethods(deps: EscrowMethodDeps): Record<string, GatewayMethod> {
  const { escrow, afterSale, royalties, settlements, trades } = deps;
  return methods({
    'paybao.trade.ship': async (ctx, biz) =>
      tradeFields(
        await escrow.ship(seller(ctx), keyOf(biz), { company: biz.logistics_company, trackingNo: biz.logistics_no }),
      ),
    'paybao.trade.refund.agree': async (ctx, biz) => caseFields(await afterSale.agree(seller(ctx), biz.case_no)),
    'paybao.trade.refund.refuse': async (ctx, biz) =>
      caseFields(await afterSale.refuse(seller(ctx), biz.case_no, biz.refuse_reason)),
    'paybao.trade.return.receive': async (ctx, biz) =>
      caseFields(await afterSale.receiveReturn(seller(ctx), biz.case_no)),
    'paybao.trade.refund.case.query': async (ctx, biz) => caseFields(await afterSale.getCase(seller(ctx), biz.case_no)),
    'paybao.trade.dispute.answer': async (ctx, biz) =>
      disputeFields(await afterSale.answer(seller(ctx), biz.dispute_no, biz.evidence)),
    'paybao.trade.dispute.query': async (ctx, biz) =>
      disputeFields(await afterSale.getDispute(seller(ctx), biz.dispute_no)),
    'alipay.trade.order.settle': async (ctx, biz) => {
      const r = await royalties.settle(ctx.appId, keyOf(biz), {
        outRequestNo: biz.out_request_no,
        parameters: royaltyParameters(biz),
      });
      return { trade_no: r.tradeNo, settle_no: r.settleNo };
    },
    'paybao.settlement.query': async (ctx, biz) => {
      const sellerId = (await trades.sellerOfApp(ctx.appId)) ?? '';
      const no = biz.settlement_no;
      if (!no) {
        const list = await settlements.list(sellerId);
        return {
          settlements: list.map((s) => ({
            settlement_no: s.settlementNo,
            gross_amount: s.grossAmount,
            recovery_amount: s.recoveryAmount,
            payout_amount: s.payoutAmount,
            trade_count: s.tradeCount,
            status: s.status,
            gmt_create: time(s.createdAt),
          })),
        };
      }
      const s = await settlements.statement(sellerId, no);
      return {
        settlement_no: s.settlementNo,
        gross_amount: s.grossAmount,
        recovery_amount: s.recoveryAmount,
        payout_amount: s.payoutAmount,
        trade_count: s.tradeCount,
        status: s.status,
        gmt_create: time(s.createdAt),
        gmt_settle: time(s.settledAt),
        trades: s.trades.map((t) => ({
          trade_no: t.tradeNo,
          out_trade_no: t.outTradeNo,
          total_amount: t.totalAmount,
          refund_amount: t.refundedAmount,
          fee_amount: t.feeAmount,
          royalty_amount: t.royaltyAmount,
          settle_amount: t.amount,
          gmt_release: time(t.releasedAt),
        })),
        recoveries: s.recoveries.map((r) => ({ dispute_no: r.disputeNo, amount: r.amount })),
      };
    },
  });
}
