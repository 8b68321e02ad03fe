import { assert } from '../core/assert.ts';

/**
 * Result codes, one per event. Each list is ordered by precedence: when an event breaks several
 * rules, it gets the first code of the list that applies. Codes are never renumbered or
 * reordered; new ones are appended where their precedence puts them and documented here.
 *
 * The names follow TigerBeetle. Paybao adds three kinds, because its callers are JavaScript and a
 * bigint can be anything: `*_must_be_u128` (a malformed id), `amount_must_not_be_negative` /
 * `amount_must_not_exceed_max` and `*_out_of_range` for numbers outside their column.
 */
export const createAccountResults = [
  'ok',
  'linked_event_failed',
  'linked_event_chain_open',
  'timestamp_must_be_zero',
  'reserved_flag',
  'id_must_not_be_zero',
  'id_must_not_be_int_max',
  'id_must_be_u128',
  'user_data_out_of_range',
  'ledger_out_of_range',
  'code_out_of_range',
  'exists_with_different_flags',
  'exists_with_different_user_data_128',
  'exists_with_different_user_data_64',
  'exists_with_different_user_data_32',
  'exists_with_different_ledger',
  'exists_with_different_code',
  'exists',
  'flags_are_mutually_exclusive',
  'ledger_must_not_be_zero',
  'code_must_not_be_zero',
] as const;
export type CreateAccountResult = (typeof createAccountResults)[number];

export const createTransferResults = [
  'ok',
  'linked_event_failed',
  'linked_event_chain_open',
  'timestamp_must_be_zero',
  'reserved_flag',
  'id_must_not_be_zero',
  'id_must_not_be_int_max',
  'id_must_be_u128',
  'debit_account_id_must_be_u128',
  'credit_account_id_must_be_u128',
  'pending_id_must_be_u128',
  'amount_must_not_be_negative',
  'amount_must_not_exceed_max',
  'user_data_out_of_range',
  'timeout_out_of_range',
  'ledger_out_of_range',
  'code_out_of_range',
  'exists_with_different_flags',
  'exists_with_different_pending_id',
  'exists_with_different_timeout',
  'exists_with_different_debit_account_id',
  'exists_with_different_credit_account_id',
  'exists_with_different_amount',
  'exists_with_different_user_data_128',
  'exists_with_different_user_data_64',
  'exists_with_different_user_data_32',
  'exists_with_different_ledger',
  'exists_with_different_code',
  'exists',
  'flags_are_mutually_exclusive',
  'debit_account_id_must_not_be_zero',
  'debit_account_id_must_not_be_int_max',
  'credit_account_id_must_not_be_zero',
  'credit_account_id_must_not_be_int_max',
  'accounts_must_be_different',
  'pending_id_must_be_zero',
  'pending_id_must_not_be_zero',
  'pending_id_must_not_be_int_max',
  'pending_id_must_be_different',
  'timeout_reserved_for_pending_transfer',
  'closing_transfer_must_be_pending',
  'amount_must_not_be_zero',
  'ledger_must_not_be_zero',
  'code_must_not_be_zero',
  'debit_account_not_found',
  'credit_account_not_found',
  'accounts_must_have_the_same_ledger',
  'transfer_must_have_the_same_ledger_as_accounts',
  'pending_transfer_not_found',
  'pending_transfer_not_pending',
  'pending_transfer_has_different_debit_account_id',
  'pending_transfer_has_different_credit_account_id',
  'pending_transfer_has_different_ledger',
  'pending_transfer_has_different_code',
  'exceeds_pending_transfer_amount',
  'pending_transfer_has_different_amount',
  'pending_transfer_already_posted',
  'pending_transfer_already_voided',
  'pending_transfer_expired',
  'debit_account_already_closed',
  'credit_account_already_closed',
  'overflows_debits_pending',
  'overflows_credits_pending',
  'overflows_debits_posted',
  'overflows_credits_posted',
  'overflows_debits',
  'overflows_credits',
  'overflows_timeout',
  'exceeds_credits',
  'exceeds_debits',
] as const;
export type CreateTransferResult = (typeof createTransferResults)[number];

/**
 * Whether a linked chain of transfers is committed, judged from its results: applied now (every
 * event `ok`), or applied before and submitted again (an event answered `exists`, the others
 * `exists` or `linked_event_failed`: as in TigerBeetle, a replayed chain fails on its first
 * existing event, and since a chain commits whole, all of it exists). Only for a chain submitted
 * again exactly as before, with the same ids.
 */
export function chainCommitted(results: readonly CreateTransferResult[]): boolean {
  if (results.length === 0) return false;
  if (results.every((r) => r === 'ok')) return true;
  return results.includes('exists') && results.every((r) => r === 'exists' || r === 'linked_event_failed');
}

/**
 * The one rule for a ledger answer: `ok` and `exists` mean the event is in the ledger, each
 * caller names the refusals it turns into operating errors (`exceeds_credits` is a short
 * balance), and any other code is a programmer error (the ids, accounts or flags the caller
 * built are wrong), so it fails as an assertion, never as a refusal or a retry.
 */
export function assertLedgerResult<R extends string, H extends R = never>(
  result: R | undefined,
  what: string,
  handled: readonly H[] = [],
): asserts result is Extract<R, 'ok' | 'exists'> | H {
  const fine = result === 'ok' || result === 'exists' || (result !== undefined && handled.includes(result as H));
  assert(fine, `the ledger refused the ${what}: ${result}`);
}

/** Every answer of a batch, under the same rule. */
export function assertLedgerResults<R extends string, H extends R = never>(
  results: readonly R[],
  what: string,
  handled: readonly H[] = [],
): void {
  for (const result of results) assertLedgerResult(result, what, handled);
}
