/** Yu'e Bao: a money-market fund inside the wallet (purchases, daily income, redemptions). */
export { type AutoTransferSetting, autoTransferKey, FundAutoTransfer } from './auto-transfer.ts';
export { addDays, beijingDayAndMinute, type OrderDays, TradingCalendar } from './calendar.ts';
export { FundCatalog, type Product } from './catalog.ts';
export { FundError, type FundErrorCode, fundErrors, isFundError } from './errors.ts';
export { Fund, type FundOverview } from './fund.ts';
export { type DistributionSummary, FundIncome, formatPer10k, parsePer10k, sevenDayYieldPercent } from './income.ts';
export { fundMigrations } from './migrations.ts';
export {
  type CardWithholding,
  FundOrders,
  type FundParties,
  type Holding,
  holderAccount,
  type OrderInput,
  type OrderView,
} from './orders.ts';
export { type FundPayment, FundPayments } from './payments.ts';
export type { FundReport, PoolReport, ProductReport } from './report.ts';
export { type PoolStress, parseShare, type StressReport, setRefillRate, stressPool, stressPools } from './stress.ts';
export { type FundViolation, verifyFundBooks } from './verify.ts';
