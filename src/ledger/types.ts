/**
 * The ledger's data types. Semantics follow TigerBeetle (see docs/ledger.md for where and why
 * Paybao differs). Ids are u128 as `bigint`; amounts and balances are minor units as `bigint`.
 */

/** Account flags (a bit set). */
export const AccountFlags = {
  none: 0,
  /** Chains this event with the next one: all succeed or all fail. */
  linked: 1 << 0,
  /** debits_pending + debits_posted may never exceed credits_posted (a wallet). */
  debitsMustNotExceedCredits: 1 << 1,
  /** credits_pending + credits_posted may never exceed debits_posted. */
  creditsMustNotExceedDebits: 1 << 2,
  /** Keep the balances after every transfer, for `getAccountBalances`. */
  history: 1 << 3,
  /** No new transfer may touch the account; voiding its pending transfers (which reopens it, for the closing one) still may. */
  closed: 1 << 5,
} as const;
export const accountFlagsKnown =
  AccountFlags.linked |
  AccountFlags.debitsMustNotExceedCredits |
  AccountFlags.creditsMustNotExceedDebits |
  AccountFlags.history |
  AccountFlags.closed;

/** Transfer flags (a bit set). */
export const TransferFlags = {
  none: 0,
  /** Chains this event with the next one: all succeed or all fail. */
  linked: 1 << 0,
  /** Reserves the amount (pending balances) until posted, voided or timed out. */
  pending: 1 << 1,
  /** Posts the pending transfer `pendingId`, fully (amount 0) or partly. */
  postPendingTransfer: 1 << 2,
  /** Voids the pending transfer `pendingId`, releasing its amount. */
  voidPendingTransfer: 1 << 3,
  /** Moves at most `amount`: as much as the debit account's credit balance allows. */
  balancingDebit: 1 << 4,
  /** Moves at most `amount`: as much as the credit account's debit balance allows. */
  balancingCredit: 1 << 5,
  /** A pending transfer that closes its debit account (voiding it reopens the account). */
  closingDebit: 1 << 6,
  /** A pending transfer that closes its credit account (voiding it reopens the account). */
  closingCredit: 1 << 7,
} as const;
export const transferFlagsKnown = 0xff;

/** What a caller gives to create an account. Omitted numbers are zero. */
export interface AccountInput {
  id: bigint;
  ledger: number;
  code: number;
  flags?: number;
  userData128?: bigint;
  userData64?: bigint;
  userData32?: number;
  /** Must be zero or absent: the ledger assigns timestamps. */
  timestamp?: bigint;
}

/** An account as stored. */
export interface Account {
  id: bigint;
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
  userData128: bigint;
  userData64: bigint;
  userData32: number;
  ledger: number;
  code: number;
  flags: number;
  /** Nanoseconds since the epoch; unique across all accounts and transfers. */
  timestamp: bigint;
}

/** What a caller gives to create a transfer. Omitted numbers are zero. */
export interface TransferInput {
  id: bigint;
  /** May be zero for post/void: the pending transfer's is used. */
  debitAccountId: bigint;
  creditAccountId: bigint;
  /** For post: zero posts the whole pending amount. For void: zero or the pending amount. */
  amount: bigint;
  pendingId?: bigint;
  userData128?: bigint;
  userData64?: bigint;
  userData32?: number;
  /** Seconds until a pending transfer expires; zero never expires. Only for pending transfers. */
  timeout?: number;
  /** May be zero for post/void: the pending transfer's is used. */
  ledger: number;
  code: number;
  flags?: number;
  /** Must be zero or absent: the ledger assigns timestamps. */
  timestamp?: bigint;
}

/** A transfer as stored: every field resolved (post/void take the pending transfer's). */
export interface Transfer {
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
  flags: number;
  timestamp: bigint;
}

/** The state of a pending transfer. */
export type PendingStatus = 'pending' | 'posted' | 'voided' | 'expired';

/** A query over one account's history; timestamps are inclusive bounds, zero means open. */
export interface AccountFilter {
  accountId: bigint;
  timestampMin?: bigint;
  timestampMax?: bigint;
  /** Zero or absent: every code. */
  code?: number;
  /** At most `limits.queryPageMax`. */
  limit: number;
  /** Include transfers that debit the account (default true). */
  debits?: boolean;
  /** Include transfers that credit the account (default true). */
  credits?: boolean;
  /** Newest first. */
  reversed?: boolean;
}

/** An account's balances right after one of its transfers (accounts flagged `history`). */
export interface AccountBalance {
  timestamp: bigint;
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
}

/**
 * Makes `transfers` one linked chain (all succeed or all fail): every event but the last gets
 * `linked`, on top of its own flags. Answers the same array.
 */
export function linkChain<T extends { flags?: number | undefined }>(transfers: T[]): T[] {
  for (const [i, transfer] of transfers.entries()) {
    if (i < transfers.length - 1) transfer.flags = (transfer.flags ?? 0) | TransferFlags.linked;
  }
  return transfers;
}
