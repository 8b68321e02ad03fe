/** Payouts: transfers from a merchant's wallet to a member's (`alipay.fund.trans.uni.transfer`). */
export { PayoutError, type PayoutErrorCode, payoutErrors } from './errors.ts';
export { payoutsMigrations } from './migrations.ts';
export {
  type PayeeIdentityType,
  type PayoutKey,
  type PayoutParties,
  Payouts,
  type PayoutView,
  type TransferInput,
} from './service.ts';
