/** After-sale at its edges: cases and disputes as parties see them, and the checks of what parties send. */

import { limits } from '../../core/limits.ts';
import { formatAmount, parseAmount } from '../../core/money.ts';
import { TradeError } from '../errors.ts';
import type { CaseRow, DisputeRow } from '../tables.ts';
import type { CaseStatus, DisputeStatus } from './state.ts';

export interface RefundCaseView {
  caseNo: string;
  tradeNo: string;
  refundAmount: string;
  reason: string;
  needReturn: boolean;
  status: CaseStatus;
  refuseReason: string | null;
  returnLogisticsCompany: string | null;
  returnLogisticsNo: string | null;
  /** When the case moves without the party it waits on: the seller agrees, the buyer gives up, … */
  dueAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DisputeView {
  disputeNo: string;
  tradeNo: string;
  caseNo: string | null;
  buyerId: string;
  sellerId: string;
  claimAmount: string;
  reason: string;
  evidence: string | null;
  status: DisputeStatus;
  awardAmount: string | null;
  /** Who paid the award: the escrow (money not yet released) or the compensation fund. */
  paidFrom: 'escrow' | 'fund' | null;
  ruledBy: string | null;
  rulingNote: string | null;
  createdAt: Date;
  ruledAt: Date | null;
}

export function caseView(c: CaseRow): RefundCaseView {
  return {
    caseNo: c.case_no,
    tradeNo: c.trade_no,
    refundAmount: formatAmount(c.refund_fen),
    reason: c.reason,
    needReturn: c.need_return,
    status: c.status,
    refuseReason: c.refuse_reason,
    returnLogisticsCompany: c.return_company,
    returnLogisticsNo: c.return_no,
    dueAt: c.due_at,
    createdAt: c.created_at,
    updatedAt: c.updated_at,
  };
}

export function disputeView(d: DisputeRow): DisputeView {
  return {
    disputeNo: d.dispute_no,
    tradeNo: d.trade_no,
    caseNo: d.case_no,
    buyerId: d.buyer_id,
    sellerId: d.seller_id,
    claimAmount: formatAmount(d.claim_fen),
    reason: d.reason,
    evidence: d.evidence,
    status: d.status,
    awardAmount: d.award_fen === null ? null : formatAmount(d.award_fen),
    paidFrom: d.paid_from,
    ruledBy: d.ruled_by,
    rulingNote: d.ruling_note,
    createdAt: d.created_at,
    ruledAt: d.ruled_at,
  };
}

/** An amount a party asks for or an operator awards: a decimal string, one fen to a hundred million yuan. */
export function parseRefundAmount(text: string): bigint {
  const fen = typeof text === 'string' ? parseAmount(text) : undefined;
  if (fen === undefined || fen < 1n || fen > 100_000_000_00n) throw new TradeError('REASON_TRADE_REFUND_FEE_ERR');
  return fen;
}

/** A party's text (a reason, evidence, a note): not blank, within `max` characters, trimmed. */
export function requireText(text: unknown, name: string, max: number = limits.afterSaleTextCharsMax): string {
  if (typeof text !== 'string' || !text.trim() || text.length > max) throw new TradeError('INVALID_PARAMETER', name);
  return text.trim();
}
