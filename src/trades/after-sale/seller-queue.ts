/**
 * A seller's after-sale work as its merchant portal lists it: the refund cases on its apps'
 * trades and the disputes against it, the open ones (waiting on the seller) first. Read-only:
 * answering goes through `AfterSale` with the case's app as the seller.
 */
import { type Db, typed } from '../../core/db/index.ts';
import { limits } from '../../core/limits.ts';
import type { TradesTables } from '../tables.ts';
import { caseView, type DisputeView, disputeView, type RefundCaseView } from './views.ts';

export interface SellerCase extends RefundCaseView {
  appId: string;
}

export interface SellerDispute extends DisputeView {
  appId: string;
}

const casesWaitingOnSeller = ['WAIT_SELLER_AGREE', 'WAIT_SELLER_CONFIRM_GOODS'] as const;

export async function sellerCases(
  db: Db,
  sellerId: string,
  filter: { waiting?: boolean | undefined; tradeNo?: string | undefined; caseNo?: string | undefined } = {},
): Promise<SellerCase[]> {
  let q = typed<TradesTables>(db)
    .selectFrom('refund_cases as c')
    .innerJoin('trades as t', 't.trade_no', 'c.trade_no')
    .selectAll('c')
    .where('t.seller_id', '=', sellerId);
  if (filter.waiting) q = q.where('c.status', 'in', [...casesWaitingOnSeller]);
  if (filter.tradeNo) q = q.where('c.trade_no', '=', filter.tradeNo);
  if (filter.caseNo) q = q.where('c.case_no', '=', filter.caseNo);
  const rows = await q.orderBy('c.created_at', 'desc').limit(limits.merchantPageRowsMax).execute();
  return rows.map((c) => ({ ...caseView(c), appId: c.app_id }));
}

export async function sellerDisputes(
  db: Db,
  sellerId: string,
  filter: { waiting?: boolean | undefined; tradeNo?: string | undefined; disputeNo?: string | undefined } = {},
): Promise<SellerDispute[]> {
  let q = typed<TradesTables>(db).selectFrom('disputes').selectAll().where('seller_id', '=', sellerId);
  if (filter.waiting) q = q.where('status', '=', 'WAIT_SELLER_EVIDENCE');
  if (filter.tradeNo) q = q.where('trade_no', '=', filter.tradeNo);
  if (filter.disputeNo) q = q.where('dispute_no', '=', filter.disputeNo);
  const rows = await q.orderBy('created_at', 'desc').limit(limits.merchantPageRowsMax).execute();
  return rows.map((d) => ({ ...disputeView(d), appId: d.app_id }));
}
