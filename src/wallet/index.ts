/** The wallet: the application service of the native API (sessions, bills, transfers, trades). */
export { type BillEntry, type BillPage, type BillType, billTypeNames, type TradeRefs } from './bills.ts';
export { isWalletError, WalletError, type WalletErrorCode, type WalletErrorType, walletErrors } from './errors.ts';
export { BuyerEscrow } from './escrow.ts';
export { walletMigrations } from './migrations.ts';
export type { NewSession } from './sessions.ts';
export {
  type TransferOutcome,
  type TransferPolicy,
  type TransferRequest,
  type TransferView,
  transferId,
} from './transfers.ts';
export { type LoginInput, Wallet, type WalletDeps } from './wallet.ts';
