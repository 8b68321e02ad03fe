/**
 * Pre-authorisation (Alipay's fund authorisation): freezes held as pending ledger transfers,
 * settled by `alipay.trade.pay` with `auth_no`, unfrozen, expiring after their term; the
 * credit-based (deposit-free) part through the `CreditScores` port (docs/preauth.md).
 */
export { isPreauthError, PreauthError, type PreauthErrorCode, preauthErrors } from './errors.ts';
export { preauthMigrations } from './migrations.ts';
export {
  type CreditScores,
  type CreditService,
  defaultCreditService,
  type FreezeInput,
  type HoldTradeInput,
  type PreauthParties,
  Preauths,
  type PreauthTrades,
  type SettleInput,
  type UnfreezeInput,
} from './preauth.ts';
export { checkPreauthBooks, type PreauthBooksCheck, type PreauthViolation, verifyPreauthBooks } from './verify.ts';
export type { OperationView, OrderView } from './views.ts';
