/** Accounts and transfers for ledger tests that drive a `Ledger` of their own beside the platform's. */
import { expect } from 'vitest';
import { id } from '../../src/core/ids.ts';
import { AccountFlags, type Ledger, type TransferInput } from '../../src/ledger/index.ts';

/** A bank account and an empty wallet that may not overdraw, created by `ledger`. */
export async function bankAndWallet(ledger: Ledger): Promise<[bigint, bigint]> {
  const [bank, wallet] = [id(), id()];
  expect(
    await ledger.createAccounts([
      { id: bank, ledger: 1, code: 1 },
      { id: wallet, ledger: 1, code: 1, flags: AccountFlags.debitsMustNotExceedCredits },
    ]),
  ).toEqual(['ok', 'ok']);
  return [bank, wallet];
}

/** A transfer of `amount` with a fresh id, on ledger 1. */
export const transfer = (debit: bigint, credit: bigint, amount: bigint): TransferInput => ({
  id: id(),
  debitAccountId: debit,
  creditAccountId: credit,
  amount,
  ledger: 1,
  code: 1,
});
