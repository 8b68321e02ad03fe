/** Bank channels: adapters per bank, top-ups, card binding, withdrawals, reconciliation, reserves. */
export {
  type BankAdapter,
  type BankAnswer,
  type BankOrder,
  HttpBankAdapter,
  parseStatement,
  type StatementLine,
} from './adapter.ts';
export { type BankBreakerOptions, circuitOpenCode } from './breaker.ts';
export type { CardView } from './cards.ts';
export { type ChannelBankConfig, defaultChannelBanks } from './config.ts';
export { DailyChannelWork } from './daily.ts';
export { DemoDeposits, demoDepositId, demoReserveAccountId } from './demo-deposit.ts';
export { ChannelError, type ChannelErrorCode, channelErrors, isChannelError } from './errors.ts';
export { channelsMigrations } from './migrations.ts';
export type { ChannelOrderKind, ChannelOrderView } from './orders.ts';
export { lossAccountId, type ReconClass, Reconciler, type ReconItem, type ReconSummary } from './recon.ts';
export { type ReservePosition, ReserveReport } from './reserve.ts';
export { payOutToCards, type SettledPayout } from './seller-payouts.ts';
export {
  type CallbackOutcome,
  type ChannelParties,
  Channels,
  type ChannelsOptions,
  reserveAccountId,
} from './service.ts';
export type { ChannelOrderStatus } from './state.ts';
