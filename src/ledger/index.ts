/** The ledger: accounts and transfers with TigerBeetle's semantics, on PostgreSQL or PGlite. */
export { type BatchStats, Ledger, type LedgerOptions } from './engine.ts';
export { ledgerMigrations } from './migrations/index.ts';
export {
  assertLedgerResult,
  assertLedgerResults,
  type CreateAccountResult,
  type CreateTransferResult,
  chainCommitted,
  createAccountResults,
  createTransferResults,
} from './results.ts';
export { amountMax } from './state-machine.ts';
export { type CodeTotals, totalsByCode } from './totals.ts';
export * from './types.ts';
export { type LedgerViolation, verifyLedger } from './verify.ts';
