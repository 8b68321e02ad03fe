/**
 * Bad input gets the right result code and writes nothing: no transfer or account stored, no
 * balance moved, the books still verify, and the number of stored transfers is unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { id } from '../../src/core/ids.ts';
import {
  type AccountInput,
  AccountFlags as AF,
  amountMax,
  type CreateAccountResult,
  type CreateTransferResult,
  TransferFlags as TF,
  type TransferInput,
  verifyLedger,
} from '../../src/ledger/index.ts';
import type { Platform } from '../../src/platform.ts';
import { freshPlatform } from '../support/engine.ts';

const u128Max = 2n ** 128n - 1n;

let platform: Platform;
let a: bigint; // ledger 1
let b: bigint; // ledger 1
let wallet: bigint; // ledger 1, debits must not exceed credits
let other: bigint; // ledger 2
let pendingId: bigint; // a pending transfer a -> b of 10

beforeAll(async () => {
  platform = await freshPlatform({ clock: new ManualClock() });
  [a, b, wallet, other] = [id(), id(), id(), id()];
  expect(
    await platform.ledger.createAccounts([
      { id: a, ledger: 1, code: 1 },
      { id: b, ledger: 1, code: 1 },
      { id: wallet, ledger: 1, code: 1, flags: AF.debitsMustNotExceedCredits },
      { id: other, ledger: 2, code: 1 },
    ]),
  ).toEqual(['ok', 'ok', 'ok', 'ok']);
  pendingId = id();
  expect(
    await platform.ledger.createTransfers([
      { id: id(), debitAccountId: a, creditAccountId: wallet, amount: 5n, ledger: 1, code: 1 },
      { id: pendingId, debitAccountId: a, creditAccountId: b, amount: 10n, ledger: 1, code: 1, flags: TF.pending },
    ]),
  ).toEqual(['ok', 'ok']);
});
afterAll(async () => {
  await platform?.close();
});

async function snapshot() {
  const [{ n }] = (await platform.db.query<{ n: bigint }>('select count(*)::int8 n from ledger_transfers')) as [
    { n: bigint },
  ];
  const [{ m }] = (await platform.db.query<{ m: bigint }>('select count(*)::int8 m from ledger_accounts')) as [
    { m: bigint },
  ];
  return { transfers: n, accounts: m, balances: await platform.ledger.lookupAccounts([a, b, wallet, other]) };
}

/** Submits one transfer; expects `code` and that nothing at all was written. */
async function rejects(event: TransferInput, code: CreateTransferResult): Promise<void> {
  const before = await snapshot();
  expect(await platform.ledger.createTransfers([event])).toEqual([code]);
  expect(await snapshot()).toEqual(before);
  if (typeof event.id === 'bigint' && event.id > 0n && event.id < u128Max) {
    expect(await platform.ledger.lookupTransfers([event.id])).toEqual([]);
  }
  expect(await verifyLedger(platform.db)).toEqual([]);
}

async function rejectsAccount(event: AccountInput, code: CreateAccountResult): Promise<void> {
  const before = await snapshot();
  expect(await platform.ledger.createAccounts([event])).toEqual([code]);
  expect(await snapshot()).toEqual(before);
  if (typeof event.id === 'bigint' && event.id > 0n && event.id < u128Max) {
    expect(await platform.ledger.lookupAccounts([event.id])).toEqual([]);
  }
}

const t = (more: Partial<TransferInput> = {}): TransferInput => ({
  id: id(),
  debitAccountId: a,
  creditAccountId: b,
  amount: 1n,
  ledger: 1,
  code: 1,
  ...more,
});

describe('transfers: amounts', () => {
  it('refuses a zero amount', async () => {
    // Proves: amount_must_not_be_zero for a plain transfer.
    await rejects(t({ amount: 0n }), 'amount_must_not_be_zero');
  });
  it('refuses a negative amount', async () => {
    // Proves: amount_must_not_be_negative (a JavaScript bigint can be negative).
    await rejects(t({ amount: -1n }), 'amount_must_not_be_negative');
  });
  it('refuses an amount that is not a bigint', async () => {
    // Proves: a number where a bigint belongs is malformed, not coerced.
    await rejects(t({ amount: 5 as never }), 'amount_must_not_be_negative');
  });
  it('refuses an amount above 2^63-1', async () => {
    // Proves: amount_must_not_exceed_max; 2^63-1 itself passes that check (and then overflows nothing here).
    await rejects(t({ amount: amountMax + 1n }), 'amount_must_not_exceed_max');
    await rejects(t({ amount: 2n ** 64n }), 'amount_must_not_exceed_max');
  });
  it('refuses a transfer over the debit account credits', async () => {
    // Proves: exceeds_credits on a wallet (debits_must_not_exceed_credits), which holds 5.
    await rejects(t({ debitAccountId: wallet, amount: 6n }), 'exceeds_credits');
    await rejects(t({ debitAccountId: wallet, amount: 6n, flags: TF.pending }), 'exceeds_credits');
  });
});

describe('transfers: accounts and ledgers', () => {
  it('refuses unknown accounts', async () => {
    // Proves: debit_account_not_found is checked before credit_account_not_found.
    await rejects(t({ debitAccountId: id() }), 'debit_account_not_found');
    await rejects(t({ creditAccountId: id() }), 'credit_account_not_found');
    await rejects(t({ debitAccountId: id(), creditAccountId: id() }), 'debit_account_not_found');
  });
  it('refuses the same account on both sides', async () => {
    // Proves: accounts_must_be_different.
    await rejects(t({ creditAccountId: a }), 'accounts_must_be_different');
  });
  it('refuses zero and int-max account ids', async () => {
    // Proves: *_account_id_must_not_be_zero / _int_max.
    await rejects(t({ debitAccountId: 0n }), 'debit_account_id_must_not_be_zero');
    await rejects(t({ debitAccountId: u128Max }), 'debit_account_id_must_not_be_int_max');
    await rejects(t({ creditAccountId: 0n }), 'credit_account_id_must_not_be_zero');
    await rejects(t({ creditAccountId: u128Max }), 'credit_account_id_must_not_be_int_max');
  });
  it('refuses accounts on different ledgers, and a transfer on another ledger than its accounts', async () => {
    // Proves: accounts_must_have_the_same_ledger, then transfer_must_have_the_same_ledger_as_accounts.
    await rejects(t({ creditAccountId: other }), 'accounts_must_have_the_same_ledger');
    await rejects(t({ creditAccountId: other, ledger: 2 }), 'accounts_must_have_the_same_ledger');
    await rejects(t({ ledger: 2 }), 'transfer_must_have_the_same_ledger_as_accounts');
  });
  it('refuses zero ledger and code, and out-of-range ones', async () => {
    // Proves: ledger_must_not_be_zero, code_must_not_be_zero, ledger_out_of_range, code_out_of_range.
    await rejects(t({ ledger: 0 }), 'ledger_must_not_be_zero');
    await rejects(t({ code: 0 }), 'code_must_not_be_zero');
    await rejects(t({ ledger: -1 }), 'ledger_out_of_range');
    await rejects(t({ ledger: 2 ** 31 }), 'ledger_out_of_range');
    await rejects(t({ code: 65536 }), 'code_out_of_range');
    await rejects(t({ code: 1.5 }), 'code_out_of_range');
  });
});

describe('transfers: ids, flags, timestamps', () => {
  it('refuses malformed ids', async () => {
    // Proves: *_must_be_u128 for negative, too large, and non-bigint ids.
    await rejects(t({ id: -1n }), 'id_must_be_u128');
    await rejects(t({ id: 2n ** 128n }), 'id_must_be_u128');
    await rejects(t({ id: 7 as never }), 'id_must_be_u128');
    await rejects(t({ debitAccountId: -1n }), 'debit_account_id_must_be_u128');
    await rejects(t({ debitAccountId: 1 as never }), 'debit_account_id_must_be_u128');
    await rejects(t({ creditAccountId: 2n ** 128n }), 'credit_account_id_must_be_u128');
    await rejects(t({ pendingId: -5n }), 'pending_id_must_be_u128');
  });
  it('refuses id zero and the u128 maximum', async () => {
    // Proves: id_must_not_be_zero and id_must_not_be_int_max.
    await rejects(t({ id: 0n }), 'id_must_not_be_zero');
    await rejects(t({ id: u128Max }), 'id_must_not_be_int_max');
  });
  it('refuses unknown flags', async () => {
    // Proves: reserved_flag for bits beyond the known ones, and for non-integers.
    await rejects(t({ flags: 1 << 8 }), 'reserved_flag');
    await rejects(t({ flags: 1 << 15 }), 'reserved_flag');
    await rejects(t({ flags: 0.5 }), 'reserved_flag');
  });
  it('refuses a timestamp set by the caller', async () => {
    // Proves: timestamp_must_be_zero comes before every other check.
    await rejects(t({ timestamp: 1n, amount: -1n, id: 0n }), 'timestamp_must_be_zero');
  });
  it('refuses mutually exclusive flags', async () => {
    // Proves: flags_are_mutually_exclusive for pending+post and post+balancing.
    await rejects(t({ flags: TF.pending | TF.postPendingTransfer, pendingId }), 'flags_are_mutually_exclusive');
    await rejects(t({ flags: TF.postPendingTransfer | TF.balancingDebit, pendingId }), 'flags_are_mutually_exclusive');
  });
  it('refuses a timeout on a transfer that is not pending, and an out-of-range timeout', async () => {
    // Proves: timeout_reserved_for_pending_transfer and timeout_out_of_range.
    await rejects(t({ timeout: 5 }), 'timeout_reserved_for_pending_transfer');
    await rejects(t({ timeout: -1, flags: TF.pending }), 'timeout_out_of_range');
    await rejects(t({ timeout: 2 ** 32, flags: TF.pending }), 'timeout_out_of_range');
  });
  it('refuses a user data field out of range', async () => {
    // Proves: user_data_out_of_range (user_data_64 lives in an i64 column).
    await rejects(t({ userData64: 2n ** 63n }), 'user_data_out_of_range');
    await rejects(t({ userData32: 2 ** 32 }), 'user_data_out_of_range');
    await rejects(t({ userData128: -1n }), 'user_data_out_of_range');
  });
});

describe('transfers: post and void', () => {
  const pv = (flags: number, more: Partial<TransferInput> = {}) =>
    t({ debitAccountId: 0n, creditAccountId: 0n, amount: 0n, ledger: 0, code: 0, pendingId, flags, ...more });

  it('refuses a post or void that does not match its pending transfer', async () => {
    // Proves: the pending_transfer_* codes, each on an otherwise valid post or void.
    await rejects(pv(TF.postPendingTransfer, { pendingId: 0n }), 'pending_id_must_not_be_zero');
    await rejects(pv(TF.postPendingTransfer, { pendingId: u128Max }), 'pending_id_must_not_be_int_max');
    await rejects(pv(TF.postPendingTransfer, { pendingId: id() }), 'pending_transfer_not_found');
    await rejects(pv(TF.postPendingTransfer, { debitAccountId: b }), 'pending_transfer_has_different_debit_account_id');
    await rejects(
      pv(TF.postPendingTransfer, { creditAccountId: a }),
      'pending_transfer_has_different_credit_account_id',
    );
    await rejects(pv(TF.postPendingTransfer, { ledger: 2 }), 'pending_transfer_has_different_ledger');
    await rejects(pv(TF.postPendingTransfer, { code: 2 }), 'pending_transfer_has_different_code');
    await rejects(pv(TF.postPendingTransfer, { amount: 11n }), 'exceeds_pending_transfer_amount');
    await rejects(pv(TF.voidPendingTransfer, { amount: 9n }), 'pending_transfer_has_different_amount');
    // As in TigerBeetle, voiding more than is pending is exceeds_pending_transfer_amount.
    await rejects(pv(TF.voidPendingTransfer, { amount: 11n }), 'exceeds_pending_transfer_amount');
    await rejects(pv(TF.postPendingTransfer, { timeout: 1 }), 'timeout_reserved_for_pending_transfer');
  });
  it('refuses to post a transfer that is not pending, or to point a plain transfer at a pending id', async () => {
    // Proves: pending_transfer_not_pending and pending_id_must_be_zero.
    const plain = t();
    expect(await platform.ledger.createTransfers([plain])).toEqual(['ok']);
    await rejects(pv(TF.postPendingTransfer, { pendingId: plain.id }), 'pending_transfer_not_pending');
    await rejects(t({ pendingId }), 'pending_id_must_be_zero');
    const self = id();
    await rejects(pv(TF.postPendingTransfer, { id: self, pendingId: self }), 'pending_id_must_be_different');
  });
});

describe('transfers: a failing event inside a valid submission', () => {
  it('writes the valid events and nothing of the invalid one', async () => {
    // Proves: results are per event; an invalid event beside valid ones moves nothing of its own.
    const before = await snapshot();
    const good = t({ amount: 2n });
    expect(await platform.ledger.createTransfers([t({ amount: 0n }), good, t({ amount: -3n })])).toEqual([
      'amount_must_not_be_zero',
      'ok',
      'amount_must_not_be_negative',
    ]);
    const after = await snapshot();
    expect(after.transfers).toBe(before.transfers + 1n);
    expect(await platform.ledger.lookupTransfers([good.id])).toHaveLength(1);
    expect(await verifyLedger(platform.db)).toEqual([]);
  });
});

describe('accounts', () => {
  const acc = (more: Partial<AccountInput> = {}): AccountInput => ({ id: id(), ledger: 1, code: 1, ...more });

  it('refuses malformed accounts', async () => {
    // Proves: the account codes, in their order of precedence.
    await rejectsAccount(acc({ timestamp: 1n, id: 0n }), 'timestamp_must_be_zero');
    await rejectsAccount(acc({ flags: 1 << 4 }), 'reserved_flag');
    await rejectsAccount(acc({ id: 0n }), 'id_must_not_be_zero');
    await rejectsAccount(acc({ id: u128Max }), 'id_must_not_be_int_max');
    await rejectsAccount(acc({ id: -1n }), 'id_must_be_u128');
    await rejectsAccount(acc({ id: 2n ** 128n }), 'id_must_be_u128');
    await rejectsAccount(acc({ id: 3 as never }), 'id_must_be_u128');
    await rejectsAccount(acc({ userData64: -1n }), 'user_data_out_of_range');
    await rejectsAccount(acc({ ledger: -1 }), 'ledger_out_of_range');
    await rejectsAccount(acc({ code: 70000 }), 'code_out_of_range');
    await rejectsAccount(
      acc({ flags: AF.debitsMustNotExceedCredits | AF.creditsMustNotExceedDebits }),
      'flags_are_mutually_exclusive',
    );
    await rejectsAccount(acc({ ledger: 0 }), 'ledger_must_not_be_zero');
    await rejectsAccount(acc({ code: 0 }), 'code_must_not_be_zero');
  });
  it('rolls back a linked chain of accounts when one fails', async () => {
    // Proves: account chains are all-or-nothing too.
    const ok = acc({ flags: AF.linked });
    const before = await snapshot();
    expect(await platform.ledger.createAccounts([ok, acc({ code: 0 })])).toEqual([
      'linked_event_failed',
      'code_must_not_be_zero',
    ]);
    expect(await snapshot()).toEqual(before);
    expect(await platform.ledger.lookupAccounts([ok.id])).toEqual([]);
  });
});
