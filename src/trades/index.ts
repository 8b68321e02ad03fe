/** Trades: the Alipay-style trade lifecycle on the ledger (create, pay, refund, close, cancel). */

export {
  AfterSale,
  type AfterSaleParties,
  type DisputeView,
  type RefundCaseView,
} from './after-sale.ts';
export {
  type Bill,
  BillError,
  type BillErrorCode,
  type BillLinkKeys,
  billColumns,
  billErrors,
  TradeBills,
} from './bills.ts';
export { defaultContract, type EscrowContract, saveContract } from './contracts.ts';
export { TradeError, type TradeErrorCode, tradeErrors } from './errors.ts';
export { type Actor, Escrow } from './escrow.ts';
export {
  ensureEscrowAccounts,
  escrowAccounts,
  unsettledAccountOf,
} from './escrow-books.ts';
export { tradesMigrations } from './migrations.ts';
export { Royalties, type RoyaltyParameter, type RoyaltyView } from './royalty.ts';
export {
  type CreateTradeInput,
  type RefundView,
  requestNotifyUrl,
  type TradeParties,
  Trades,
} from './service.ts';
export {
  type SettlementPayout,
  type SettlementStatement,
  Settlements,
  type SettlementView,
} from './settlement.ts';
export type { CaseStatus, DisputeStatus, TradeStatus } from './state.ts';
export type { EscrowView, TradeKey, TradeView } from './store.ts';
