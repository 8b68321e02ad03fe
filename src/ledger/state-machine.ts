import { assert } from '../core/assert.ts';
import { u128Max } from '../core/ids.ts';
import type { CreateAccountResult, CreateTransferResult } from './results.ts';
import {
  type Account,
  AccountFlags,
  type AccountInput,
  accountFlagsKnown,
  type PendingStatus,
  type Transfer,
  TransferFlags,
  type TransferInput,
  transferFlagsKnown,
} from './types.ts';

/** Balances and amounts live in PostgreSQL `bigint` columns: the i64 maximum is the ceiling. */
export const amountMax = (1n << 63n) - 1n;
const u64Max = amountMax; // user_data_64 is stored in an i64 column too
const u32Max = 2 ** 32 - 1;
const ledgerMax = 2 ** 31 - 1;
const codeMax = 2 ** 16 - 1;
const nsPerSecond = 1_000_000_000n;

/** An account loaded into (or created in) one batch. */
export interface AccountState {
  account: Account;
  /** The values as loaded, to write each account once as a net delta; null for a new account. */
  loaded: { dp: bigint; dpo: bigint; cp: bigint; cpo: bigint; flags: number } | null;
  /** The id as UUID text, kept so that writes need not convert it again. */
  uuid?: string;
  /** The engine's number of the last batch this account was attached to. */
  batch?: number;
}

/** A pending transfer's state: loaded, or created in this batch. */
export interface PendingState {
  transfer: Transfer;
  status: PendingStatus;
  /** Nanoseconds; zero never expires. */
  expiresAt: bigint;
  /** The status as loaded; null when the pending transfer was created in this batch. */
  loadedStatus: PendingStatus | null;
}

/** One history row: an account's balances right after a transfer. */
export interface BalanceRow {
  accountId: bigint;
  timestamp: bigint;
  dp: bigint;
  dpo: bigint;
  cp: bigint;
  cpo: bigint;
}

/** Lengths of the undo log and the output lists where a linked chain began. */
interface Marks {
  undo: number;
  accounts: number;
  transfers: number;
  history: number;
}

const isU128 = (n: unknown): n is bigint => typeof n === 'bigint' && n >= 0n && n <= u128Max;
const inRange = (n: unknown, max: number, min = 0): n is number =>
  typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;

/**
 * Applies account and transfer events in order, in memory, with every check: the whole of the
 * ledger's logic, free of I/O. The batch executor loads what the events touch, runs them through
 * here, and writes what this produced. Linked chains roll back through an undo log.
 */
export class StateMachine {
  readonly accounts = new Map<bigint, AccountState>();
  readonly transfers = new Map<bigint, Transfer>();
  readonly pending = new Map<bigint, PendingState>();
  readonly createdAccounts: AccountState[] = [];
  readonly createdTransfers: Transfer[] = [];
  readonly history: BalanceRow[] = [];
  readonly #undo: Array<() => void> = [];

  constructor(private readonly nextTimestamp: () => bigint) {}

  createAccounts(events: readonly AccountInput[]): CreateAccountResult[] {
    return this.#chains(events, (e) => this.#createAccount(e));
  }

  createTransfers(events: readonly TransferInput[]): CreateTransferResult[] {
    return this.#chains(events, (e) => this.#createTransfer(e));
  }

  /** Voids every given pending transfer that is still pending and due at `nowNs`. */
  expire(pendingIds: readonly bigint[], nowNs: bigint): number {
    let expired = 0;
    for (const pid of pendingIds) {
      const p = this.pending.get(pid);
      if (p?.status !== 'pending' || p.expiresAt === 0n || p.expiresAt > nowNs) continue;
      const t = p.transfer;
      const dr = this.#account(t.debitAccountId);
      const cr = this.#account(t.creditAccountId);
      // An expiry moves balances like a void: accounts flagged `history` get a row for it too.
      this.#move(dr, cr, t.amount, 0n, t.flags, 'expired', p, this.nextTimestamp());
      expired++;
    }
    this.#undo.length = 0;
    return expired;
  }

  #chains<E extends { flags?: number }, R extends string>(
    events: readonly E[],
    apply: (e: E) => R | 'ok',
  ): Array<R | 'ok' | 'linked_event_failed' | 'linked_event_chain_open'> {
    type Out = R | 'ok' | 'linked_event_failed' | 'linked_event_chain_open';
    const results: Out[] = new Array(events.length);
    let chainStart = -1;
    let chainFailed = false;
    let marks = this.#marks();
    for (let i = 0; i < events.length; i++) {
      const linked = ((events[i]?.flags ?? 0) & AccountFlags.linked) !== 0;
      if (chainStart < 0 && linked) {
        chainStart = i;
        marks = this.#marks();
      }
      // As in TigerBeetle, a chain left open reports so on its last event even when already broken.
      const open = linked && i === events.length - 1;
      if (chainFailed) {
        results[i] = open ? 'linked_event_chain_open' : 'linked_event_failed';
      } else {
        const result: Out = open ? 'linked_event_chain_open' : apply(events[i] as E);
        results[i] = result;
        if (result !== 'ok' && chainStart >= 0) {
          this.#rollback(marks);
          for (let j = chainStart; j < i; j++) results[j] = 'linked_event_failed';
          chainFailed = true;
        }
      }
      if (!linked) {
        chainStart = -1;
        chainFailed = false;
      }
      if (chainStart < 0) this.#undo.length = 0;
    }
    return results;
  }

  #marks(): Marks {
    return {
      undo: this.#undo.length,
      accounts: this.createdAccounts.length,
      transfers: this.createdTransfers.length,
      history: this.history.length,
    };
  }

  #rollback(m: Marks): void {
    for (let i = this.#undo.length - 1; i >= m.undo; i--) this.#undo[i]?.();
    this.#undo.length = m.undo;
    this.createdAccounts.length = m.accounts;
    this.createdTransfers.length = m.transfers;
    this.history.length = m.history;
  }

  #createAccount(e: AccountInput): CreateAccountResult {
    const flags = e.flags ?? 0;
    const ud128 = e.userData128 ?? 0n;
    const ud64 = e.userData64 ?? 0n;
    const ud32 = e.userData32 ?? 0;
    if (e.timestamp !== undefined && e.timestamp !== 0n) return 'timestamp_must_be_zero';
    if (!inRange(flags, 0xffff) || (flags & ~accountFlagsKnown) !== 0) return 'reserved_flag';
    if (e.id === 0n) return 'id_must_not_be_zero';
    if (e.id === u128Max) return 'id_must_not_be_int_max';
    if (!isU128(e.id)) return 'id_must_be_u128';
    if (!isU128(ud128) || !isU64(ud64) || !inRange(ud32, u32Max)) return 'user_data_out_of_range';
    if (!inRange(e.ledger, ledgerMax)) return 'ledger_out_of_range';
    if (!inRange(e.code, codeMax)) return 'code_out_of_range';

    const existing = this.accounts.get(e.id)?.account;
    if (existing) {
      if ((existing.flags & ~AccountFlags.closed) !== (flags & ~AccountFlags.linked & ~AccountFlags.closed))
        return 'exists_with_different_flags';
      if (existing.userData128 !== ud128) return 'exists_with_different_user_data_128';
      if (existing.userData64 !== ud64) return 'exists_with_different_user_data_64';
      if (existing.userData32 !== ud32) return 'exists_with_different_user_data_32';
      if (existing.ledger !== e.ledger) return 'exists_with_different_ledger';
      if (existing.code !== e.code) return 'exists_with_different_code';
      return 'exists';
    }
    const both = AccountFlags.debitsMustNotExceedCredits | AccountFlags.creditsMustNotExceedDebits;
    if ((flags & both) === both) return 'flags_are_mutually_exclusive';
    if (e.ledger === 0) return 'ledger_must_not_be_zero';
    if (e.code === 0) return 'code_must_not_be_zero';

    const state: AccountState = {
      account: {
        id: e.id,
        debitsPending: 0n,
        debitsPosted: 0n,
        creditsPending: 0n,
        creditsPosted: 0n,
        userData128: ud128,
        userData64: ud64,
        userData32: ud32,
        ledger: e.ledger,
        code: e.code,
        flags: flags & ~AccountFlags.linked,
        timestamp: this.nextTimestamp(),
      },
      loaded: null,
    };
    this.accounts.set(e.id, state);
    this.createdAccounts.push(state);
    this.#undo.push(() => this.accounts.delete(e.id));
    return 'ok';
  }

  #createTransfer(e: TransferInput): CreateTransferResult {
    const flags = e.flags ?? 0;
    if (e.timestamp !== undefined && e.timestamp !== 0n) return 'timestamp_must_be_zero';
    if (!inRange(flags, 0xffff) || (flags & ~transferFlagsKnown) !== 0) return 'reserved_flag';
    if (e.id === 0n) return 'id_must_not_be_zero';
    if (e.id === u128Max) return 'id_must_not_be_int_max';
    if (!isU128(e.id)) return 'id_must_be_u128';
    const malformed = malformedTransfer(e);
    if (malformed) return malformed;

    const existing = this.transfers.get(e.id);
    if (existing) return transferExists(e, existing);

    const F = TransferFlags;
    const postOrVoid = flags & (F.postPendingTransfer | F.voidPendingTransfer);
    const exclusive =
      popcount(flags & (F.pending | F.postPendingTransfer | F.voidPendingTransfer)) > 1 ||
      (postOrVoid !== 0 && (flags & (F.balancingDebit | F.balancingCredit | F.closingDebit | F.closingCredit)) !== 0);
    if (exclusive) return 'flags_are_mutually_exclusive';
    return postOrVoid ? this.#resolvePending(e, flags) : this.#createPlain(e, flags);
  }

  #createPlain(e: TransferInput, flags: number): CreateTransferResult {
    const F = TransferFlags;
    const pendingId = e.pendingId ?? 0n;
    const timeout = e.timeout ?? 0;
    if (e.debitAccountId === 0n) return 'debit_account_id_must_not_be_zero';
    if (e.debitAccountId === u128Max) return 'debit_account_id_must_not_be_int_max';
    if (e.creditAccountId === 0n) return 'credit_account_id_must_not_be_zero';
    if (e.creditAccountId === u128Max) return 'credit_account_id_must_not_be_int_max';
    if (e.debitAccountId === e.creditAccountId) return 'accounts_must_be_different';
    if (pendingId !== 0n) return 'pending_id_must_be_zero';
    const pending = (flags & F.pending) !== 0;
    if (!pending && timeout !== 0) return 'timeout_reserved_for_pending_transfer';
    if (!pending && (flags & (F.closingDebit | F.closingCredit)) !== 0) return 'closing_transfer_must_be_pending';
    if (e.amount === 0n) return 'amount_must_not_be_zero';
    if (e.ledger === 0) return 'ledger_must_not_be_zero';
    if (e.code === 0) return 'code_must_not_be_zero';
    const dr = this.accounts.get(e.debitAccountId);
    if (!dr) return 'debit_account_not_found';
    const cr = this.accounts.get(e.creditAccountId);
    if (!cr) return 'credit_account_not_found';
    const d = dr.account;
    const c = cr.account;
    if (d.ledger !== c.ledger) return 'accounts_must_have_the_same_ledger';
    if (e.ledger !== d.ledger) return 'transfer_must_have_the_same_ledger_as_accounts';
    if ((d.flags & AccountFlags.closed) !== 0) return 'debit_account_already_closed';
    if ((c.flags & AccountFlags.closed) !== 0) return 'credit_account_already_closed';

    let amount = e.amount;
    if (flags & F.balancingDebit) amount = min(amount, floor0(d.creditsPosted - d.debitsPending - d.debitsPosted));
    if (flags & F.balancingCredit) amount = min(amount, floor0(c.debitsPosted - c.creditsPending - c.creditsPosted));

    if (pending) {
      if (d.debitsPending + amount > amountMax) return 'overflows_debits_pending';
      if (c.creditsPending + amount > amountMax) return 'overflows_credits_pending';
    }
    // Checked for pending transfers too, as TigerBeetle does: posting one later adds to these.
    if (d.debitsPosted + amount > amountMax) return 'overflows_debits_posted';
    if (c.creditsPosted + amount > amountMax) return 'overflows_credits_posted';
    if (d.debitsPending + d.debitsPosted + amount > amountMax) return 'overflows_debits';
    if (c.creditsPending + c.creditsPosted + amount > amountMax) return 'overflows_credits';
    const timestamp = this.nextTimestamp();
    const expiresAt = timeout === 0 ? 0n : timestamp + BigInt(timeout) * nsPerSecond;
    if (expiresAt > amountMax) return 'overflows_timeout';
    if (
      d.flags & AccountFlags.debitsMustNotExceedCredits &&
      d.debitsPending + d.debitsPosted + amount > d.creditsPosted
    )
      return 'exceeds_credits';
    if (
      c.flags & AccountFlags.creditsMustNotExceedDebits &&
      c.creditsPending + c.creditsPosted + amount > c.debitsPosted
    )
      return 'exceeds_debits';

    const t: Transfer = {
      id: e.id,
      debitAccountId: d.id,
      creditAccountId: c.id,
      amount,
      pendingId: 0n,
      userData128: e.userData128 ?? 0n,
      userData64: e.userData64 ?? 0n,
      userData32: e.userData32 ?? 0,
      timeout,
      ledger: e.ledger,
      code: e.code,
      flags: flags & ~F.linked,
      timestamp,
    };
    this.#record(t);
    if (pending) {
      const p: PendingState = { transfer: t, status: 'pending', expiresAt, loadedStatus: null };
      this.pending.set(t.id, p);
      this.#undo.push(() => this.pending.delete(t.id));
      this.#apply(dr, cr, { dp: amount, dpo: 0n, closing: flags }, timestamp);
    } else {
      this.#apply(dr, cr, { dp: 0n, dpo: amount, closing: 0 }, timestamp);
    }
    return 'ok';
  }

  #resolvePending(e: TransferInput, flags: number): CreateTransferResult {
    const F = TransferFlags;
    const pendingId = e.pendingId ?? 0n;
    if (pendingId === 0n) return 'pending_id_must_not_be_zero';
    if (pendingId === u128Max) return 'pending_id_must_not_be_int_max';
    if (pendingId === e.id) return 'pending_id_must_be_different';
    if ((e.timeout ?? 0) !== 0) return 'timeout_reserved_for_pending_transfer';
    const p = this.pending.get(pendingId);
    const pt = p?.transfer ?? this.transfers.get(pendingId);
    if (!pt) return 'pending_transfer_not_found';
    if (!p || (pt.flags & F.pending) === 0) return 'pending_transfer_not_pending';
    if (e.debitAccountId !== 0n && e.debitAccountId !== pt.debitAccountId)
      return 'pending_transfer_has_different_debit_account_id';
    if (e.creditAccountId !== 0n && e.creditAccountId !== pt.creditAccountId)
      return 'pending_transfer_has_different_credit_account_id';
    if (e.ledger !== 0 && e.ledger !== pt.ledger) return 'pending_transfer_has_different_ledger';
    if (e.code !== 0 && e.code !== pt.code) return 'pending_transfer_has_different_code';
    const post = (flags & F.postPendingTransfer) !== 0;
    const amount = post && e.amount !== 0n ? e.amount : pt.amount;
    if (e.amount > pt.amount) return 'exceeds_pending_transfer_amount';
    if (!post && e.amount !== 0n && e.amount !== pt.amount) return 'pending_transfer_has_different_amount';
    if (p.status === 'posted') return 'pending_transfer_already_posted';
    if (p.status === 'voided') return 'pending_transfer_already_voided';
    if (p.status === 'expired') return 'pending_transfer_expired';
    const timestamp = this.nextTimestamp();
    if (p.expiresAt !== 0n && timestamp >= p.expiresAt) return 'pending_transfer_expired';
    const dr = this.#account(pt.debitAccountId);
    const cr = this.#account(pt.creditAccountId);
    if (post) {
      const closedByThis = pt.flags & (F.closingDebit | F.closingCredit);
      if (dr.account.flags & AccountFlags.closed && !(closedByThis & F.closingDebit))
        return 'debit_account_already_closed';
      if (cr.account.flags & AccountFlags.closed && !(closedByThis & F.closingCredit))
        return 'credit_account_already_closed';
      if (dr.account.debitsPosted + amount > amountMax) return 'overflows_debits_posted';
      if (cr.account.creditsPosted + amount > amountMax) return 'overflows_credits_posted';
    }

    const t: Transfer = {
      id: e.id,
      debitAccountId: pt.debitAccountId,
      creditAccountId: pt.creditAccountId,
      amount,
      pendingId,
      userData128: e.userData128 || pt.userData128,
      userData64: e.userData64 || pt.userData64,
      userData32: e.userData32 || pt.userData32,
      timeout: 0,
      ledger: pt.ledger,
      code: pt.code,
      flags: flags & ~F.linked,
      timestamp,
    };
    this.#record(t);
    this.#move(dr, cr, pt.amount, post ? amount : 0n, pt.flags, post ? 'posted' : 'voided', p, timestamp);
    return 'ok';
  }

  /** Releases a pending amount (posting `posted` of it) and settles the pending state. */
  #move(
    dr: AccountState,
    cr: AccountState,
    pendingAmount: bigint,
    posted: bigint,
    pendingFlags: number,
    status: PendingStatus,
    p: PendingState,
    timestamp?: bigint,
  ): void {
    const before = p.status;
    p.status = status;
    this.#undo.push(() => {
      p.status = before;
    });
    // Voiding (or expiring) a closing transfer reopens what it closed; posting keeps it closed.
    const reopen = status === 'posted' ? 0 : -pendingFlags;
    this.#apply(dr, cr, { dp: -pendingAmount, dpo: posted, closing: reopen }, timestamp);
  }

  /**
   * Moves `dp` pending and `dpo` posted from `dr` to `cr`. `closing` > 0 closes what the closing
   * flags name; < 0 reopens it. Records history rows when a timestamp is given.
   */
  #apply(
    dr: AccountState,
    cr: AccountState,
    m: { dp: bigint; dpo: bigint; closing: number },
    timestamp: bigint | undefined,
  ): void {
    const d = dr.account;
    const c = cr.account;
    const saved = [d.debitsPending, d.debitsPosted, d.flags, c.creditsPending, c.creditsPosted, c.flags] as const;
    d.debitsPending += m.dp;
    d.debitsPosted += m.dpo;
    c.creditsPending += m.dp;
    c.creditsPosted += m.dpo;
    const closingFlags = Math.abs(m.closing);
    if (closingFlags & TransferFlags.closingDebit) d.flags = setClosed(d.flags, m.closing > 0);
    if (closingFlags & TransferFlags.closingCredit) c.flags = setClosed(c.flags, m.closing > 0);
    this.#undo.push(() => {
      [d.debitsPending, d.debitsPosted, d.flags, c.creditsPending, c.creditsPosted, c.flags] = saved;
    });
    if (timestamp === undefined) return;
    if (d.flags & AccountFlags.history) this.history.push(balanceRow(d, timestamp));
    if (c.flags & AccountFlags.history) this.history.push(balanceRow(c, timestamp));
  }

  #record(t: Transfer): void {
    this.transfers.set(t.id, t);
    this.createdTransfers.push(t);
    this.#undo.push(() => this.transfers.delete(t.id));
  }

  #account(id: bigint): AccountState {
    const a = this.accounts.get(id);
    // A pending transfer's accounts are loaded with it; a miss is a bug in the loader.
    assert(a, `account ${id} of a pending transfer was not loaded`);
    return a;
  }
}

function malformedTransfer(e: TransferInput): CreateTransferResult | undefined {
  if (!isU128(e.debitAccountId)) return 'debit_account_id_must_be_u128';
  if (!isU128(e.creditAccountId)) return 'credit_account_id_must_be_u128';
  if (!isU128(e.pendingId ?? 0n)) return 'pending_id_must_be_u128';
  if (typeof e.amount !== 'bigint') return 'amount_must_not_be_negative';
  if (e.amount < 0n) return 'amount_must_not_be_negative';
  if (e.amount > amountMax) return 'amount_must_not_exceed_max';
  if (!isU128(e.userData128 ?? 0n) || !isU64(e.userData64 ?? 0n) || !inRange(e.userData32 ?? 0, u32Max))
    return 'user_data_out_of_range';
  if (!inRange(e.timeout ?? 0, u32Max)) return 'timeout_out_of_range';
  if (!inRange(e.ledger, ledgerMax)) return 'ledger_out_of_range';
  if (!inRange(e.code, codeMax)) return 'code_out_of_range';
  return undefined;
}

/** Which field of a replayed transfer differs from the stored one, in TigerBeetle's order. */
function transferExists(e: TransferInput, t: Transfer): CreateTransferResult {
  const F = TransferFlags;
  const flags = (e.flags ?? 0) & ~F.linked;
  if (flags !== t.flags) return 'exists_with_different_flags';
  const resolving = (flags & (F.postPendingTransfer | F.voidPendingTransfer)) !== 0;
  if ((e.pendingId ?? 0n) !== t.pendingId) return 'exists_with_different_pending_id';
  if ((e.timeout ?? 0) !== t.timeout) return 'exists_with_different_timeout';
  // Post and void may leave accounts, ledger, code and amount zero: those were resolved.
  const differs = <T>(given: T, stored: T, zero: T) =>
    resolving ? given !== zero && given !== stored : given !== stored;
  if (differs(e.debitAccountId, t.debitAccountId, 0n)) return 'exists_with_different_debit_account_id';
  if (differs(e.creditAccountId, t.creditAccountId, 0n)) return 'exists_with_different_credit_account_id';
  const balancing = (flags & (F.balancingDebit | F.balancingCredit)) !== 0;
  if (balancing ? e.amount < t.amount : differs(e.amount, t.amount, 0n)) return 'exists_with_different_amount';
  if (differs(e.userData128 ?? 0n, t.userData128, 0n)) return 'exists_with_different_user_data_128';
  if (differs(e.userData64 ?? 0n, t.userData64, 0n)) return 'exists_with_different_user_data_64';
  if (differs(e.userData32 ?? 0, t.userData32, 0)) return 'exists_with_different_user_data_32';
  if (differs(e.ledger, t.ledger, 0)) return 'exists_with_different_ledger';
  if (differs(e.code, t.code, 0)) return 'exists_with_different_code';
  return 'exists';
}

const isU64 = (n: unknown): n is bigint => typeof n === 'bigint' && n >= 0n && n <= u64Max;
const min = (a: bigint, b: bigint) => (a < b ? a : b);
const floor0 = (a: bigint) => (a < 0n ? 0n : a);
const setClosed = (flags: number, closed: boolean) =>
  closed ? flags | AccountFlags.closed : flags & ~AccountFlags.closed;
function popcount(n: number): number {
  let c = 0;
  for (let x = n; x; x &= x - 1) c++;
  return c;
}
function balanceRow(a: Account, timestamp: bigint): BalanceRow {
  return {
    accountId: a.id,
    timestamp,
    dp: a.debitsPending,
    dpo: a.debitsPosted,
    cp: a.creditsPending,
    cpo: a.creditsPosted,
  };
}
