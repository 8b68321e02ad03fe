/**
 * Fund authorisation (pre-authorisation) on the open gateway, on src/preauth:
 * `alipay.fund.auth.order.freeze` (the merchant scans the payer's payment code: held at once),
 * `alipay.fund.auth.order.app.freeze` (the merchant's app hands the payer the signed order
 * string; opened at `/gateway.do`, it sends the payer to the cashier's confirm page),
 * `alipay.fund.auth.order.unfreeze` and `alipay.fund.auth.operation.detail.query`. Settling is
 * `alipay.trade.pay` with `auth_no` (alipay-methods.ts). A freeze asks for credit (deposit-free)
 * as Alipay's rental merchants do, through `extra_param` `{"category", "serviceId"}` naming the
 * app's credit service; the answers split `credit_amount` and `fund_amount`. Answers in Alipay's
 * field names; the refusals in its bare fund-auth codes (`REQUEST_AMOUNT_EXCEED`,
 * `ORDER_ALREADY_CLOSED`, `CREDIT_SERVICE_NOT_OPEN`, `BUYER_RESTRICTED` …).
 */
import { beijingTime } from '../core/time.ts';
import type { GatewayContext, GatewayMethod } from '../gateway/index.ts';
import { isMembersError, type Members } from '../members/index.ts';
import { creditAskOf, type FreezeInput, type OperationView, PreauthError, type Preauths } from '../preauth/index.ts';
import { methods, pageMethods } from './alipay-methods.ts';
import type { Biz } from './biz-schemas.ts';

export interface PreauthMethodDeps {
  preauth: Preauths;
  members: Members;
}

const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90m`, `2h`, `15d` in milliseconds (the schema checked the form); undefined when absent. */
function relativeMs(text: string | undefined): number | undefined {
  if (!text) return undefined;
  return Number(text.slice(0, -1)) * unitMs[text.slice(-1) as keyof typeof unitMs];
}

function freezeInput(ctx: GatewayContext, biz: Biz<'alipay.fund.auth.order.app.freeze'>): FreezeInput {
  return {
    appId: ctx.appId,
    outOrderNo: biz.out_order_no,
    outRequestNo: biz.out_request_no,
    orderTitle: biz.order_title,
    amountFen: biz.amount,
    payTimeoutMs: relativeMs(biz.pay_timeout),
    termMs: relativeMs(biz.freeze_term),
    notifyUrl: ctx.params.notify_url ?? (biz.notify_url || undefined),
    // Alipay's credit-based freeze: extra_param {"category": "RENT_PHONE", "serviceId": "<28 digits>"}.
    credit: creditAskOf(biz.extra_param || undefined) ?? undefined,
  };
}

export function preauthMethods(deps: PreauthMethodDeps): Record<string, GatewayMethod> {
  const { preauth, members } = deps;
  const logonId = async (userId: string | null) => (userId ? (await members.getUser(userId)).logonId : undefined);
  const operationFields = async (op: OperationView, payerId: string) => ({
    auth_no: op.authNo,
    out_order_no: op.outOrderNo,
    operation_id: op.operationId,
    out_request_no: op.outRequestNo ?? undefined,
    amount: op.amount,
    status: op.status,
    gmt_trans: op.finishedAt ? beijingTime(op.finishedAt) : undefined,
    payer_user_id: payerId,
    payer_logon_id: await logonId(payerId),
    pre_auth_type: op.creditAmount !== '0.00' ? 'CREDIT_AUTH' : undefined,
    trans_currency: 'CNY',
    credit_amount: op.creditAmount,
    fund_amount: op.fundAmount,
  });
  return {
    ...pageMethods({
      'alipay.fund.auth.order.app.freeze': async (ctx, biz) => {
        const order = await preauth.createAppFreeze(freezeInput(ctx, biz));
        return `/cashier/freeze/${order.authNo}`;
      },
    }),
    ...methods({
      'alipay.fund.auth.order.freeze': async (ctx, biz) => {
        const input = freezeInput(ctx, biz);
        // Asking for credit the app has no service for, or for a restricted payer, is refused before the code is spent.
        if (input.credit) await preauth.checkCreditAsk(input, await members.paymentCodeHolder(biz.auth_code));
        // The payer's code is spent for this freeze: its retry (an answer lost) may spend it again.
        const payerId = await members
          .redeemPaymentCode(biz.auth_code, `${ctx.appId}/freeze/${biz.out_order_no}`)
          .catch((error: unknown) => {
            throw isMembersError(error) ? new PreauthError('auth_code_invalid') : error;
          });
        return operationFields(await preauth.freeze(input, payerId), payerId);
      },
      'alipay.fund.auth.order.unfreeze': async (ctx, biz) => {
        const op = await preauth.unfreeze(ctx.appId, {
          authNo: biz.auth_no,
          outRequestNo: biz.out_request_no,
          amountFen: biz.amount,
          remark: biz.remark,
        });
        return {
          auth_no: op.authNo,
          out_order_no: op.outOrderNo,
          operation_id: op.operationId,
          out_request_no: op.outRequestNo ?? undefined,
          amount: op.amount,
          status: op.status,
          gmt_trans: op.finishedAt ? beijingTime(op.finishedAt) : undefined,
          credit_amount: op.creditAmount,
          fund_amount: op.fundAmount,
        };
      },
      'alipay.fund.auth.operation.detail.query': async (ctx, biz) => {
        if (!biz.auth_no && !biz.out_order_no) throw new PreauthError('invalid_parameter', { param: 'auth_no' });
        const { order, operation } = await preauth.query(
          ctx.appId,
          { authNo: biz.auth_no || undefined, outOrderNo: biz.out_order_no || undefined },
          {
            operationId: biz.operation_id || undefined,
            outRequestNo: biz.out_request_no || undefined,
            operationType: biz.operation_type,
          },
        );
        return {
          auth_no: order.authNo,
          out_order_no: order.outOrderNo,
          order_status: order.status,
          order_title: order.orderTitle,
          total_freeze_amount: order.totalFreezeAmount,
          rest_amount: order.restAmount,
          total_pay_amount: order.totalPayAmount,
          total_freeze_credit_amount: order.totalFreezeCreditAmount,
          total_freeze_fund_amount: order.totalFreezeFundAmount,
          total_pay_credit_amount: order.totalPayCreditAmount,
          total_pay_fund_amount: order.totalPayFundAmount,
          rest_credit_amount: order.restCreditAmount,
          rest_fund_amount: order.restFundAmount,
          payer_user_id: order.payerId ?? undefined,
          payer_logon_id: await logonId(order.payerId),
          trans_currency: 'CNY',
          gmt_create: beijingTime(order.createdAt),
          ...(operation
            ? {
                operation_id: operation.operationId,
                out_request_no: operation.outRequestNo ?? undefined,
                operation_type: operation.operationType,
                amount: operation.amount,
                status: operation.status,
                remark: operation.remark ?? undefined,
                gmt_trans: operation.finishedAt ? beijingTime(operation.finishedAt) : undefined,
                credit_amount: operation.creditAmount,
                fund_amount: operation.fundAmount,
              }
            : {}),
        };
      },
    }),
  };
}
