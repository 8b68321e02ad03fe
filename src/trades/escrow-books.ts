import { AccountFlags, type Ledger } from '../ledger/index.ts';
import { cnyLedger } from '../members/index.ts';
import { derivedId } from './ids.ts';

/**
 * The escrow side of the ledger. Account codes (members owns 1, 2 and 100):
 *
 * | code | account                                              | flags                          |
 * |------|------------------------------------------------------|--------------------------------|
 * | 10   | escrow: what buyers paid for goods not yet confirmed | debits_must_not_exceed_credits |
 * | 11   | platform fee income                                  | debits_must_not_exceed_credits |
 * | 12   | compensation fund ("we dare to compensate")          | debits_must_not_exceed_credits |
 * | 13   | a seller's released, not yet settled proceeds        | debits_must_not_exceed_credits |
 *
 * Transfer codes (trades owns 100 payment and 101 refund):
 *
 * | code | transfer                                                        |
 * |------|-----------------------------------------------------------------|
 * | 120  | escrow payment: buyer wallet → escrow                           |
 * | 121  | escrow refund: escrow → buyer wallet                            |
 * | 122  | release: escrow → seller's unsettled proceeds                   |
 * | 123  | release: escrow → platform fee income                           |
 * | 124  | royalty split: seller (unsettled proceeds or wallet) → receiver |
 * | 125  | settlement: unsettled proceeds → seller wallet (merged payout)  |
 * | 126  | recovery at settlement: unsettled proceeds → compensation fund  |
 * | 127  | compensation: fund → buyer wallet                               |
 * | 128  | recovery at ruling: seller wallet → fund (balancing, what is there) |
 * | 129  | fund capital: platform funding → compensation fund              |
 *
 * Why an escrow account and not pending transfers: an escrow trade's money has many possible
 * ends — several partial refunds, a release split three ways (seller, fee, royalties), a ruling —
 * and a pending transfer can be posted or voided once. An escrow account holds the money as a
 * posted balance that only those ends can take, each by its own idempotent transfer, and the
 * books show at every instant how much the platform holds for buyers.
 */
export const EscrowAccountCode = { escrow: 10, feeIncome: 11, compensationFund: 12, unsettled: 13 } as const;

export const EscrowTransferCode = {
  payment: 120,
  refund: 121,
  release: 122,
  fee: 123,
  royalty: 124,
  settlement: 125,
  recoveryAtSettlement: 126,
  compensation: 127,
  recoveryAtRuling: 128,
  fundCapital: 129,
} as const;

/** The platform's escrow accounts: ids derived from their names, the same in every process. */
export const escrowAccounts = {
  escrow: derivedId('escrow.account', 'escrow'),
  feeIncome: derivedId('escrow.account', 'fee-income'),
  compensationFund: derivedId('escrow.account', 'compensation-fund'),
} as const;

/** A seller's released, not yet settled proceeds. */
export function unsettledAccountOf(sellerId: string): bigint {
  return derivedId('escrow.unsettled', sellerId);
}

const guarded = AccountFlags.debitsMustNotExceedCredits;

/** Creates the platform's escrow accounts if they are missing (idempotent: `exists` is fine). */
export async function ensureEscrowAccounts(ledger: Ledger): Promise<void> {
  const results = await ledger.createAccounts([
    { id: escrowAccounts.escrow, ledger: cnyLedger, code: EscrowAccountCode.escrow, flags: guarded },
    { id: escrowAccounts.feeIncome, ledger: cnyLedger, code: EscrowAccountCode.feeIncome, flags: guarded },
    {
      id: escrowAccounts.compensationFund,
      ledger: cnyLedger,
      code: EscrowAccountCode.compensationFund,
      flags: guarded,
    },
  ]);
  assertCreated(results);
}

/** Creates a seller's unsettled-proceeds account if it is missing. */
export async function ensureUnsettledAccount(ledger: Ledger, sellerId: string): Promise<void> {
  const results = await ledger.createAccounts([
    {
      id: unsettledAccountOf(sellerId),
      ledger: cnyLedger,
      code: EscrowAccountCode.unsettled,
      flags: guarded,
      userData64: BigInt(sellerId),
    },
  ]);
  assertCreated(results);
}

function assertCreated(results: readonly string[]): void {
  for (const r of results) if (r !== 'ok' && r !== 'exists') throw new Error(`invariant: escrow account: ${r}`);
}
