/**
 * Trades, the module's one entry: the Alipay-style trade on the ledger (`trade/`: create, pay,
 * refund, close, cancel, bills), escrow (`escrow/`), after-sale (`after-sale/`: refund cases,
 * disputes, the compensation fund) and settlement with royalties (`settlement/`).
 */

export { AfterSale } from './after-sale/after-sale.ts';
export type { AfterSaleParties } from './after-sale/compensation-fund.ts';
export {
  type SellerCase,
  type SellerDispute,
  sellerCases,
  sellerDisputes,
} from './after-sale/seller-queue.ts';
export type { CaseStatus, DisputeStatus } from './after-sale/state.ts';
export type { DisputeView, RefundCaseView } from './after-sale/views.ts';
export { TradeError, type TradeErrorCode, tradeErrors } from './errors.ts';
export { defaultContract, type EscrowContract, saveContract } from './escrow/contracts.ts';
export { type Actor, Escrow } from './escrow/escrow.ts';
export {
  ensureEscrowAccounts,
  escrowAccounts,
  unsettledAccountOf,
} from './escrow/escrow-books.ts';
export { tradesMigrations } from './migrations.ts';
export { Royalties, type RoyaltyParameter, type RoyaltyView } from './settlement/royalty.ts';
export {
  type SettlementPayout,
  type SettlementStatement,
  Settlements,
  type SettlementView,
} from './settlement/settlement.ts';
export {
  type Bill,
  BillError,
  type BillErrorCode,
  type BillLinkKeys,
  billColumns,
  billErrors,
  TradeBills,
} from './trade/bills.ts';
export type { FundingRequest, FundingSource } from './trade/funding.ts';
export {
  type NotificationPost,
  type NotificationView,
  type PeriodFigures,
  type SellerFigures,
  type SellerTradeDetail,
  type SellerTradeFilter,
  SellerTrades,
  type SeriesPoint,
  type TradePage,
  type TradeRefundView,
  type TransitionView,
} from './trade/seller-views.ts';
export {
  type CreateTradeInput,
  type RefundView,
  requestNotifyUrl,
  type TradeParties,
  Trades,
} from './trade/service.ts';
export type { TradeStatus } from './trade/state.ts';
export type { EscrowView, FundBill, TradeKey, TradeView } from './trade/store.ts';
export {
  movedPayments,
  type TradePaymentCheck,
  type TradePaymentViolation,
  verifyTradePayments,
} from './trade/verify.ts';
