/** Trades: the Alipay-style trade lifecycle on the ledger (create, pay, refund, close, cancel). */
export {
  type Bill,
  BillError,
  type BillErrorCode,
  type BillLinkKeys,
  billColumns,
  billErrors,
  csvField,
  TradeBills,
} from './bills.ts';
export { TradeError, type TradeErrorCode, tradeErrors } from './errors.ts';
export { derivedId } from './ids.ts';
export { tradesMigrations } from './migrations.ts';
export { type NotificationChannel, NotificationDispatcher } from './notifications.ts';
export {
  type CreateTradeInput,
  type RefundView,
  type TradeParties,
  Trades,
  tradeTransferCodes,
} from './service.ts';
export type { TradeStatus } from './state.ts';
export type { EscrowView, TradeKey, TradeView } from './store.ts';
