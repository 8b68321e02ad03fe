import { formatAmount } from '../core/money.ts';
import type { OperationRow, OperationType, OrderRow, OrderStatus } from './tables.ts';

/** A freeze order as a merchant sees it (`alipay.fund.auth.operation.detail.query`). */
export interface OrderView {
  authNo: string;
  appId: string;
  outOrderNo: string;
  orderTitle: string;
  kind: 'BAR_CODE' | 'APP';
  status: OrderStatus;
  /** The freeze asked for credit (the app's credit service): the payer's score may waive part of it. */
  creditAsked: boolean;
  payerId: string | null;
  payeeId: string;
  /** Decimal strings, as the gateway answers them. */
  totalFreezeAmount: string;
  totalFreezeCreditAmount: string;
  totalFreezeFundAmount: string;
  restAmount: string;
  restCreditAmount: string;
  restFundAmount: string;
  totalPayAmount: string;
  totalPayCreditAmount: string;
  totalPayFundAmount: string;
  totalUnfreezeAmount: string;
  payExpiresAt: Date | null;
  expiresAt: Date | null;
  createdAt: Date;
  authorizedAt: Date | null;
}

/** One operation on a freeze order: the freeze, an unfreeze, a payment, the expiry. */
export interface OperationView {
  operationId: string;
  authNo: string;
  outOrderNo: string;
  outRequestNo: string | null;
  operationType: OperationType;
  amount: string;
  creditAmount: string;
  fundAmount: string;
  status: 'INIT' | 'SUCCESS' | 'CLOSED';
  tradeNo: string | null;
  outTradeNo: string | null;
  remark: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export function orderView(o: OrderRow): OrderView {
  const f = formatAmount;
  return {
    authNo: o.auth_no,
    appId: o.app_id,
    outOrderNo: o.out_order_no,
    orderTitle: o.order_title,
    kind: o.kind,
    status: o.status,
    creditAsked: o.credit_service_id !== null,
    payerId: o.payer_id,
    payeeId: o.payee_id,
    totalFreezeAmount: f(o.amount_fen),
    totalFreezeCreditAmount: f(o.credit_fen),
    totalFreezeFundAmount: f(o.fund_fen),
    restAmount: f(o.rest_fund_fen + o.rest_credit_fen),
    restCreditAmount: f(o.rest_credit_fen),
    restFundAmount: f(o.rest_fund_fen),
    totalPayAmount: f(o.paid_fund_fen + o.paid_credit_fen),
    totalPayCreditAmount: f(o.paid_credit_fen),
    totalPayFundAmount: f(o.paid_fund_fen),
    totalUnfreezeAmount: f(o.unfrozen_fund_fen + o.unfrozen_credit_fen),
    payExpiresAt: o.pay_expires_at,
    expiresAt: o.expires_at,
    createdAt: o.created_at,
    authorizedAt: o.authorized_at,
  };
}

export function operationView(order: OrderRow, op: OperationRow): OperationView {
  return {
    operationId: op.operation_id,
    authNo: op.auth_no,
    outOrderNo: order.out_order_no,
    outRequestNo: op.out_request_no,
    operationType: op.operation_type,
    amount: formatAmount(op.amount_fen),
    creditAmount: formatAmount(op.credit_fen),
    fundAmount: formatAmount(op.fund_fen),
    status: op.status,
    tradeNo: op.trade_no,
    outTradeNo: op.out_trade_no,
    remark: op.remark,
    createdAt: op.created_at,
    finishedAt: op.finished_at,
  };
}
