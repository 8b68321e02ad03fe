import type { User } from '../members/index.ts';
import {
  type Actor,
  type AfterSale,
  type DisputeView,
  type Escrow,
  type RefundCaseView,
  TradeError,
  type TradeErrorCode,
  type TradeView,
} from '../trades/index.ts';
import { WalletError, type WalletErrorCode } from './errors.ts';

/** The trades module's refusals, in the native API's words (never passed through). */
const translated: Partial<Record<TradeErrorCode, { code: WalletErrorCode; param?: string }>> = {
  TRADE_NOT_EXIST: { code: 'trade_not_found', param: 'trade_no' },
  ACCESS_FORBIDDEN: { code: 'trade_not_found', param: 'trade_no' },
  TRADE_STATUS_ERROR: { code: 'trade_state_conflict' },
  TRADE_HAS_FINISHED: { code: 'trade_state_conflict' },
  CASE_ALREADY_OPEN: { code: 'refund_case_open' },
  CASE_NOT_EXIST: { code: 'refund_case_not_found', param: 'case_no' },
  CASE_STATUS_ERROR: { code: 'refund_case_state_conflict' },
  DISPUTE_NOT_EXIST: { code: 'dispute_not_found', param: 'dispute_no' },
  DISPUTE_ALREADY_OPEN: { code: 'dispute_open' },
  DISPUTE_WINDOW_OVER: { code: 'dispute_window_over' },
  REFUND_AMT_NOT_EQUAL_TOTAL: { code: 'refund_amount_too_large', param: 'amount' },
  REASON_TRADE_REFUND_FEE_ERR: { code: 'amount_invalid', param: 'amount' },
  INVALID_PARAMETER: { code: 'parameter_invalid' },
};

async function translate<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!(error instanceof TradeError)) throw error;
    const t = translated[error.code];
    if (!t) throw new WalletError('internal_error', { detail: error.code });
    throw new WalletError(t.code, { param: t.param, detail: error.message });
  }
}

/**
 * A buyer's side of escrow trades, for the native API: confirm receipt, ask for a refund, send
 * goods back, withdraw the request, open a dispute, look at cases and disputes.
 */
export class BuyerEscrow {
  constructor(
    private readonly escrow: Escrow,
    private readonly afterSale: AfterSale,
  ) {}

  confirmReceipt(user: User, tradeNo: string): Promise<TradeView> {
    return translate(this.escrow.confirmReceipt(buyer(user), { tradeNo }));
  }

  requestRefund(
    user: User,
    tradeNo: string,
    request: { amount: string; reason: string; needReturn?: boolean | undefined },
  ): Promise<RefundCaseView> {
    return translate(this.afterSale.requestRefund(buyer(user), { tradeNo }, request));
  }

  refundCase(user: User, caseNo: string): Promise<RefundCaseView> {
    return translate(this.afterSale.getCase(buyer(user), caseNo));
  }

  returnGoods(user: User, caseNo: string, logistics: { company: string; trackingNo: string }): Promise<RefundCaseView> {
    return translate(this.afterSale.returnGoods(buyer(user), caseNo, logistics));
  }

  withdrawRefund(user: User, caseNo: string): Promise<RefundCaseView> {
    return translate(this.afterSale.withdraw(buyer(user), caseNo));
  }

  openDispute(
    user: User,
    tradeNo: string,
    request: { claimAmount?: string | undefined; reason: string },
  ): Promise<DisputeView> {
    return translate(this.afterSale.openDispute(buyer(user), { tradeNo }, request));
  }

  dispute(user: User, disputeNo: string): Promise<DisputeView> {
    return translate(this.afterSale.getDispute(buyer(user), disputeNo));
  }
}

function buyer(user: User): Actor {
  return { kind: 'buyer', userId: user.userId };
}
