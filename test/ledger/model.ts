/**
 * A reference model of the ledger, for the property tests: plain maps, no I/O, no cleverness.
 * Written from TigerBeetle's semantics and the precedence in src/ledger/results.ts, independently
 * of src/ledger/state-machine.ts (it shares only the public types), so that the two do not share
 * bugs. Linked chains roll back by restoring a deep copy taken at the start of the chain.
 *
 * Timestamps: the model does not know the engine's exact timestamps. Each call takes `nowNs`, the
 * clock value of the step; a pending transfer created at `nowNs` expires at `nowNs + timeout s`.
 * This equals the engine's rule as long as a later step never lands exactly on an expiry instant
 * (the property tests advance the clock by whole seconds plus one millisecond to ensure that).
 */
import type { CreateAccountResult, CreateTransferResult } from '../../src/ledger/results.ts';
import type { AccountInput, PendingStatus, TransferInput } from '../../src/ledger/types.ts';

const U128_MAX = 2n ** 128n - 1n;
/** Balances live in signed 64-bit columns. */
export const AMOUNT_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 63n - 1n; // user_data_64 shares the i64 column type
const U32_MAX = 2 ** 32 - 1;
const LEDGER_MAX = 2 ** 31 - 1;
const CODE_MAX = 2 ** 16 - 1;
const NS_PER_S = 1_000_000_000n;

// Flag bits, spelled out again on purpose.
const LINKED = 1;
const A_DEBITS_MUST_NOT_EXCEED_CREDITS = 2;
const A_CREDITS_MUST_NOT_EXCEED_DEBITS = 4;
const A_HISTORY = 8;
const A_CLOSED = 32;
const A_KNOWN = LINKED | A_DEBITS_MUST_NOT_EXCEED_CREDITS | A_CREDITS_MUST_NOT_EXCEED_DEBITS | A_HISTORY | A_CLOSED;
const T_PENDING = 2;
const T_POST = 4;
const T_VOID = 8;
const T_BALANCING_DEBIT = 16;
const T_BALANCING_CREDIT = 32;
const T_CLOSING_DEBIT = 64;
const T_CLOSING_CREDIT = 128;
const T_KNOWN = 0xff;

export interface ModelBalances {
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
}

export interface ModelAccount extends ModelBalances {
  id: bigint;
  ledger: number;
  code: number;
  /** Without `linked`; `closed` comes and goes. */
  flags: number;
  userData128: bigint;
  userData64: bigint;
  userData32: number;
}

export interface ModelTransfer {
  id: bigint;
  debitAccountId: bigint;
  creditAccountId: bigint;
  amount: bigint;
  pendingId: bigint;
  userData128: bigint;
  userData64: bigint;
  userData32: number;
  timeout: number;
  ledger: number;
  code: number;
  /** Without `linked`. */
  flags: number;
}

export interface ModelPending {
  status: PendingStatus;
  /** Zero: never expires. */
  expiresAt: bigint;
}

interface State {
  accounts: Map<bigint, ModelAccount>;
  transfers: Map<bigint, ModelTransfer>;
  pending: Map<bigint, ModelPending>;
  /** Balances after each transfer, for accounts flagged `history`. */
  history: Map<bigint, ModelBalances[]>;
}

const isU128 = (x: unknown): x is bigint => typeof x === 'bigint' && x >= 0n && x <= U128_MAX;
const isU64 = (x: unknown): x is bigint => typeof x === 'bigint' && x >= 0n && x <= U64_MAX;
const isInt = (x: unknown, max: number): x is number =>
  typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= max;
const has = (flags: number, bit: number) => (flags & bit) !== 0;
const isLinked = (e: { flags?: number }) => has(e.flags ?? 0, LINKED);
const minBig = (a: bigint, b: bigint) => (a < b ? a : b);
const atLeast0 = (a: bigint) => (a > 0n ? a : 0n);

export class LedgerModel {
  s: State = { accounts: new Map(), transfers: new Map(), pending: new Map(), history: new Map() };

  get accounts(): ReadonlyMap<bigint, ModelAccount> {
    return this.s.accounts;
  }
  get transfers(): ReadonlyMap<bigint, ModelTransfer> {
    return this.s.transfers;
  }
  get pending(): ReadonlyMap<bigint, ModelPending> {
    return this.s.pending;
  }
  historyOf(id: bigint): readonly ModelBalances[] {
    return this.s.history.get(id) ?? [];
  }

  createAccounts(events: readonly AccountInput[]): CreateAccountResult[] {
    return this.#inChains(events, (e) => this.#createAccount(e));
  }

  createTransfers(events: readonly TransferInput[], nowNs: bigint): CreateTransferResult[] {
    return this.#inChains(events, (e) => this.#createTransfer(e, nowNs));
  }

  /**
   * Voids every pending transfer whose expiry is at or before `nowNs`, soonest expiry first (ties:
   * the one created first, whose engine timestamp is lower); returns how many.
   */
  expire(nowNs: bigint): number {
    const due = [...this.s.pending]
      .filter(([, p]) => p.status === 'pending' && p.expiresAt !== 0n && p.expiresAt <= nowNs)
      .sort(([, a], [, b]) => (a.expiresAt < b.expiresAt ? -1 : a.expiresAt > b.expiresAt ? 1 : 0));
    let n = 0;
    for (const [id, p] of due) {
      const t = this.s.transfers.get(id);
      if (!t) throw new Error('model: pending state without transfer');
      const dr = this.#acc(t.debitAccountId);
      const cr = this.#acc(t.creditAccountId);
      dr.debitsPending -= t.amount;
      cr.creditsPending -= t.amount;
      if (has(t.flags, T_CLOSING_DEBIT)) dr.flags &= ~A_CLOSED;
      if (has(t.flags, T_CLOSING_CREDIT)) cr.flags &= ~A_CLOSED;
      p.status = 'expired';
      this.#recordHistory(dr, cr);
      n++;
    }
    return n;
  }

  /**
   * Runs events in order. A chain is a maximal run of linked events plus the event that closes it.
   * A chain still open at the end fails with `linked_event_chain_open` on its last event.
   */
  #inChains<E extends { flags?: number }, R extends string>(
    events: readonly E[],
    apply: (e: E) => R,
  ): Array<R | 'linked_event_failed' | 'linked_event_chain_open'> {
    type Out = R | 'linked_event_failed' | 'linked_event_chain_open';
    const results: Out[] = [];
    let i = 0;
    while (i < events.length) {
      const first = events[i] as E;
      if (!isLinked(first)) {
        results.push(apply(first));
        i++;
        continue;
      }
      let end = i; // index of the event that closes the chain
      while (end < events.length - 1 && isLinked(events[end] as E)) end++;
      const open = isLinked(events[end] as E); // only possible when end is the last event
      const saved = structuredClone(this.s);
      const chain: Out[] = [];
      let failedAt = -1;
      for (let k = i; k <= end; k++) {
        const r: Out = open && k === end ? 'linked_event_chain_open' : apply(events[k] as E);
        chain.push(r);
        if (r !== 'ok') {
          failedAt = k - i;
          break;
        }
      }
      if (failedAt >= 0) {
        this.s = saved;
        for (let k = 0; k <= end - i; k++) {
          if (k !== failedAt) chain[k] = 'linked_event_failed';
        }
        // An open chain always reports `linked_event_chain_open` on its last event.
        if (open) chain[end - i] = 'linked_event_chain_open';
      }
      results.push(...chain);
      i = end + 1;
    }
    return results;
  }

  #createAccount(e: AccountInput): CreateAccountResult {
    const flags = e.flags ?? 0;
    const ud128 = e.userData128 ?? 0n;
    const ud64 = e.userData64 ?? 0n;
    const ud32 = e.userData32 ?? 0;
    if (e.timestamp !== undefined && e.timestamp !== 0n) return 'timestamp_must_be_zero';
    if (!isInt(flags, 0xffff) || (flags & ~A_KNOWN) !== 0) return 'reserved_flag';
    if (e.id === 0n) return 'id_must_not_be_zero';
    if (e.id === U128_MAX) return 'id_must_not_be_int_max';
    if (!isU128(e.id)) return 'id_must_be_u128';
    if (!isU128(ud128) || !isU64(ud64) || !isInt(ud32, U32_MAX)) return 'user_data_out_of_range';
    if (!isInt(e.ledger, LEDGER_MAX)) return 'ledger_out_of_range';
    if (!isInt(e.code, CODE_MAX)) return 'code_out_of_range';
    const old = this.s.accounts.get(e.id);
    if (old) {
      // `closed` changes over an account's life, so a replay does not compare it.
      const ignore = LINKED | A_CLOSED;
      if ((old.flags & ~ignore) !== (flags & ~ignore)) return 'exists_with_different_flags';
      if (old.userData128 !== ud128) return 'exists_with_different_user_data_128';
      if (old.userData64 !== ud64) return 'exists_with_different_user_data_64';
      if (old.userData32 !== ud32) return 'exists_with_different_user_data_32';
      if (old.ledger !== e.ledger) return 'exists_with_different_ledger';
      if (old.code !== e.code) return 'exists_with_different_code';
      return 'exists';
    }
    if (has(flags, A_DEBITS_MUST_NOT_EXCEED_CREDITS) && has(flags, A_CREDITS_MUST_NOT_EXCEED_DEBITS))
      return 'flags_are_mutually_exclusive';
    if (e.ledger === 0) return 'ledger_must_not_be_zero';
    if (e.code === 0) return 'code_must_not_be_zero';
    this.s.accounts.set(e.id, {
      id: e.id,
      ledger: e.ledger,
      code: e.code,
      flags: flags & ~LINKED,
      userData128: ud128,
      userData64: ud64,
      userData32: ud32,
      debitsPending: 0n,
      debitsPosted: 0n,
      creditsPending: 0n,
      creditsPosted: 0n,
    });
    return 'ok';
  }

  #createTransfer(e: TransferInput, nowNs: bigint): CreateTransferResult {
    const flags = e.flags ?? 0;
    const pendingId = e.pendingId ?? 0n;
    const timeout = e.timeout ?? 0;
    const ud128 = e.userData128 ?? 0n;
    const ud64 = e.userData64 ?? 0n;
    const ud32 = e.userData32 ?? 0;
    // Malformed input.
    if (e.timestamp !== undefined && e.timestamp !== 0n) return 'timestamp_must_be_zero';
    if (!isInt(flags, 0xffff) || (flags & ~T_KNOWN) !== 0) return 'reserved_flag';
    if (e.id === 0n) return 'id_must_not_be_zero';
    if (e.id === U128_MAX) return 'id_must_not_be_int_max';
    if (!isU128(e.id)) return 'id_must_be_u128';
    if (!isU128(e.debitAccountId)) return 'debit_account_id_must_be_u128';
    if (!isU128(e.creditAccountId)) return 'credit_account_id_must_be_u128';
    if (!isU128(pendingId)) return 'pending_id_must_be_u128';
    if (typeof e.amount !== 'bigint' || e.amount < 0n) return 'amount_must_not_be_negative';
    if (e.amount > AMOUNT_MAX) return 'amount_must_not_exceed_max';
    if (!isU128(ud128) || !isU64(ud64) || !isInt(ud32, U32_MAX)) return 'user_data_out_of_range';
    if (!isInt(timeout, U32_MAX)) return 'timeout_out_of_range';
    if (!isInt(e.ledger, LEDGER_MAX)) return 'ledger_out_of_range';
    if (!isInt(e.code, CODE_MAX)) return 'code_out_of_range';

    const old = this.s.transfers.get(e.id);
    if (old) return replayResult(e, old);

    const post = has(flags, T_POST);
    const voids = has(flags, T_VOID);
    const kinds = [T_PENDING, T_POST, T_VOID].filter((b) => has(flags, b)).length;
    const shapers = T_BALANCING_DEBIT | T_BALANCING_CREDIT | T_CLOSING_DEBIT | T_CLOSING_CREDIT;
    if (kinds > 1 || ((post || voids) && (flags & shapers) !== 0)) return 'flags_are_mutually_exclusive';
    if (post || voids) return this.#postOrVoid(e, flags, nowNs);

    // A plain or pending transfer.
    const pending = has(flags, T_PENDING);
    if (e.debitAccountId === 0n) return 'debit_account_id_must_not_be_zero';
    if (e.debitAccountId === U128_MAX) return 'debit_account_id_must_not_be_int_max';
    if (e.creditAccountId === 0n) return 'credit_account_id_must_not_be_zero';
    if (e.creditAccountId === U128_MAX) return 'credit_account_id_must_not_be_int_max';
    if (e.debitAccountId === e.creditAccountId) return 'accounts_must_be_different';
    if (pendingId !== 0n) return 'pending_id_must_be_zero';
    if (!pending && timeout !== 0) return 'timeout_reserved_for_pending_transfer';
    if (!pending && (has(flags, T_CLOSING_DEBIT) || has(flags, T_CLOSING_CREDIT)))
      return 'closing_transfer_must_be_pending';
    if (e.amount === 0n) return 'amount_must_not_be_zero';
    if (e.ledger === 0) return 'ledger_must_not_be_zero';
    if (e.code === 0) return 'code_must_not_be_zero';
    const dr = this.s.accounts.get(e.debitAccountId);
    if (!dr) return 'debit_account_not_found';
    const cr = this.s.accounts.get(e.creditAccountId);
    if (!cr) return 'credit_account_not_found';
    if (dr.ledger !== cr.ledger) return 'accounts_must_have_the_same_ledger';
    if (e.ledger !== dr.ledger) return 'transfer_must_have_the_same_ledger_as_accounts';
    if (has(dr.flags, A_CLOSED)) return 'debit_account_already_closed';
    if (has(cr.flags, A_CLOSED)) return 'credit_account_already_closed';

    let amount = e.amount;
    if (has(flags, T_BALANCING_DEBIT))
      amount = minBig(amount, atLeast0(dr.creditsPosted - dr.debitsPosted - dr.debitsPending));
    if (has(flags, T_BALANCING_CREDIT))
      amount = minBig(amount, atLeast0(cr.debitsPosted - cr.creditsPosted - cr.creditsPending));

    if (pending && dr.debitsPending + amount > AMOUNT_MAX) return 'overflows_debits_pending';
    if (pending && cr.creditsPending + amount > AMOUNT_MAX) return 'overflows_credits_pending';
    if (dr.debitsPosted + amount > AMOUNT_MAX) return 'overflows_debits_posted';
    if (cr.creditsPosted + amount > AMOUNT_MAX) return 'overflows_credits_posted';
    if (dr.debitsPending + dr.debitsPosted + amount > AMOUNT_MAX) return 'overflows_debits';
    if (cr.creditsPending + cr.creditsPosted + amount > AMOUNT_MAX) return 'overflows_credits';
    if (nowNs + BigInt(timeout) * NS_PER_S > AMOUNT_MAX) return 'overflows_timeout';
    if (
      has(dr.flags, A_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
      dr.debitsPending + dr.debitsPosted + amount > dr.creditsPosted
    )
      return 'exceeds_credits';
    if (
      has(cr.flags, A_CREDITS_MUST_NOT_EXCEED_DEBITS) &&
      cr.creditsPending + cr.creditsPosted + amount > cr.debitsPosted
    )
      return 'exceeds_debits';

    this.s.transfers.set(e.id, {
      id: e.id,
      debitAccountId: dr.id,
      creditAccountId: cr.id,
      amount,
      pendingId: 0n,
      userData128: ud128,
      userData64: ud64,
      userData32: ud32,
      timeout,
      ledger: e.ledger,
      code: e.code,
      flags: flags & ~LINKED,
    });
    if (pending) {
      dr.debitsPending += amount;
      cr.creditsPending += amount;
      if (has(flags, T_CLOSING_DEBIT)) dr.flags |= A_CLOSED;
      if (has(flags, T_CLOSING_CREDIT)) cr.flags |= A_CLOSED;
      this.s.pending.set(e.id, {
        status: 'pending',
        expiresAt: timeout === 0 ? 0n : nowNs + BigInt(timeout) * NS_PER_S,
      });
    } else {
      dr.debitsPosted += amount;
      cr.creditsPosted += amount;
    }
    this.#recordHistory(dr, cr);
    return 'ok';
  }

  #postOrVoid(e: TransferInput, flags: number, nowNs: bigint): CreateTransferResult {
    const post = has(flags, T_POST);
    const pendingId = e.pendingId ?? 0n;
    if (pendingId === 0n) return 'pending_id_must_not_be_zero';
    if (pendingId === U128_MAX) return 'pending_id_must_not_be_int_max';
    if (pendingId === e.id) return 'pending_id_must_be_different';
    if ((e.timeout ?? 0) !== 0) return 'timeout_reserved_for_pending_transfer';
    const p = this.s.transfers.get(pendingId);
    if (!p) return 'pending_transfer_not_found';
    const state = this.s.pending.get(pendingId);
    if (!has(p.flags, T_PENDING) || !state) return 'pending_transfer_not_pending';
    if (e.debitAccountId !== 0n && e.debitAccountId !== p.debitAccountId)
      return 'pending_transfer_has_different_debit_account_id';
    if (e.creditAccountId !== 0n && e.creditAccountId !== p.creditAccountId)
      return 'pending_transfer_has_different_credit_account_id';
    if (e.ledger !== 0 && e.ledger !== p.ledger) return 'pending_transfer_has_different_ledger';
    if (e.code !== 0 && e.code !== p.code) return 'pending_transfer_has_different_code';
    // Zero means "the whole pending amount", for post and void alike.
    const amount = e.amount === 0n ? p.amount : e.amount;
    if (amount > p.amount) return 'exceeds_pending_transfer_amount';
    if (!post && amount !== p.amount) return 'pending_transfer_has_different_amount';
    if (state.status === 'posted') return 'pending_transfer_already_posted';
    if (state.status === 'voided') return 'pending_transfer_already_voided';
    if (state.status === 'expired') return 'pending_transfer_expired';
    if (state.expiresAt !== 0n && nowNs >= state.expiresAt) return 'pending_transfer_expired';
    const dr = this.#acc(p.debitAccountId);
    const cr = this.#acc(p.creditAccountId);
    if (post) {
      // Voiding is always allowed on a closed account; posting only for the transfer that closed it.
      if (has(dr.flags, A_CLOSED) && !has(p.flags, T_CLOSING_DEBIT)) return 'debit_account_already_closed';
      if (has(cr.flags, A_CLOSED) && !has(p.flags, T_CLOSING_CREDIT)) return 'credit_account_already_closed';
      if (dr.debitsPosted + amount > AMOUNT_MAX) return 'overflows_debits_posted';
      if (cr.creditsPosted + amount > AMOUNT_MAX) return 'overflows_credits_posted';
    }

    this.s.transfers.set(e.id, {
      id: e.id,
      debitAccountId: p.debitAccountId,
      creditAccountId: p.creditAccountId,
      amount,
      pendingId,
      userData128: (e.userData128 ?? 0n) !== 0n ? (e.userData128 as bigint) : p.userData128,
      userData64: (e.userData64 ?? 0n) !== 0n ? (e.userData64 as bigint) : p.userData64,
      userData32: (e.userData32 ?? 0) !== 0 ? (e.userData32 as number) : p.userData32,
      timeout: 0,
      ledger: p.ledger,
      code: p.code,
      flags: flags & ~LINKED,
    });
    dr.debitsPending -= p.amount;
    cr.creditsPending -= p.amount;
    if (post) {
      dr.debitsPosted += amount;
      cr.creditsPosted += amount;
      state.status = 'posted';
    } else {
      if (has(p.flags, T_CLOSING_DEBIT)) dr.flags &= ~A_CLOSED;
      if (has(p.flags, T_CLOSING_CREDIT)) cr.flags &= ~A_CLOSED;
      state.status = 'voided';
    }
    this.#recordHistory(dr, cr);
    return 'ok';
  }

  #recordHistory(dr: ModelAccount, cr: ModelAccount): void {
    for (const a of [dr, cr]) {
      if (!has(a.flags, A_HISTORY)) continue;
      const rows = this.s.history.get(a.id) ?? [];
      rows.push({
        debitsPending: a.debitsPending,
        debitsPosted: a.debitsPosted,
        creditsPending: a.creditsPending,
        creditsPosted: a.creditsPosted,
      });
      this.s.history.set(a.id, rows);
    }
  }

  #acc(id: bigint): ModelAccount {
    const a = this.s.accounts.get(id);
    if (!a) throw new Error(`model: account ${id} missing`);
    return a;
  }
}

/** The result of resubmitting a transfer id that already exists. */
function replayResult(e: TransferInput, old: ModelTransfer): CreateTransferResult {
  const flags = (e.flags ?? 0) & ~LINKED;
  if (flags !== old.flags) return 'exists_with_different_flags';
  if ((e.pendingId ?? 0n) !== old.pendingId) return 'exists_with_different_pending_id';
  if ((e.timeout ?? 0) !== old.timeout) return 'exists_with_different_timeout';
  // Post and void may leave these fields zero: they were taken from the pending transfer.
  const resolving = has(flags, T_POST) || has(flags, T_VOID);
  const differs = (given: bigint | number, stored: bigint | number) =>
    resolving ? given !== 0n && given !== 0 && given !== stored : given !== stored;
  if (differs(e.debitAccountId, old.debitAccountId)) return 'exists_with_different_debit_account_id';
  if (differs(e.creditAccountId, old.creditAccountId)) return 'exists_with_different_credit_account_id';
  // A balancing transfer's amount is an upper bound: any bound at least what moved is the same.
  const balancing = has(flags, T_BALANCING_DEBIT) || has(flags, T_BALANCING_CREDIT);
  if (balancing ? e.amount < old.amount : differs(e.amount, old.amount)) return 'exists_with_different_amount';
  if (differs(e.userData128 ?? 0n, old.userData128)) return 'exists_with_different_user_data_128';
  if (differs(e.userData64 ?? 0n, old.userData64)) return 'exists_with_different_user_data_64';
  if (differs(e.userData32 ?? 0, old.userData32)) return 'exists_with_different_user_data_32';
  if (differs(e.ledger, old.ledger)) return 'exists_with_different_ledger';
  if (differs(e.code, old.code)) return 'exists_with_different_code';
  return 'exists';
}
