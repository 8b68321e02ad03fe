/**
 * Pre-authorisation (Alipay's fund authorisation): freezes held as pending ledger transfers,
 * settled by `alipay.trade.pay` with `auth_no`, unfrozen, expiring after their term; the
 * credit-based (deposit-free) part through each app's credit service and the `CreditService` port (docs/preauth.md).
 */
export {
  type CreditAsk,
  type CreditServiceGrant,
  CreditServices,
  type CreditServiceView,
  creditAskOf,
} from './credit-services.ts';
export { isPreauthError, PreauthError, type PreauthErrorCode, preauthErrors } from './errors.ts';
export { preauthMigrations } from './migrations.ts';
export {
  type CreditScores,
  type CreditService,
  type DebtSources,
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
