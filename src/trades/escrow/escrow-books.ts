import { derivedId } from '../../core/ids.ts';
import { cnyLedger, EscrowAccountCode } from '../../core/ledger-codes.ts';
import { AccountFlags, assertLedgerResults, type Ledger } from '../../ledger/index.ts';

/**
 * The escrow side of the ledger: the platform's escrow accounts and each seller's unsettled
 * proceeds (their account and transfer codes are in src/core/ledger-codes.ts).
 *
 * Why an escrow account and not pending transfers: an escrow trade's money has many possible
 * ends — several partial refunds, a release split three ways (seller, fee, royalties), a ruling —
 * and a pending transfer can be posted or voided once. An escrow account holds the money as a
 * posted balance that only those ends can take, each by its own idempotent transfer, and the
 * books show at every instant how much the platform holds for buyers.
 */

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
  assertLedgerResults(results, 'escrow account');
}
