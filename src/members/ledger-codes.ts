/**
 * How members appear in the ledger. Every wallet is on the CNY ledger and may not go below zero;
 * the platform funding account may: its debit balance is the money the platform has put in.
 *
 * Account codes (the `code` of a ledger account):
 *
 * | code | account                                        | flags                          |
 * |------|------------------------------------------------|--------------------------------|
 * | 1    | user wallet                                    | debits_must_not_exceed_credits |
 * | 2    | merchant wallet                                | debits_must_not_exceed_credits |
 * | 100  | platform funding (`platform_accounts.funding`) | none                           |
 *
 * Transfer codes owned by this module (other modules choose theirs, from 100 up):
 *
 * | code | transfer                                                   |
 * |------|------------------------------------------------------------|
 * | 1    | opening balance: platform funding → wallet (`--balance`)   |
 *
 * A wallet's `user_data_64` is its member's 16-digit user id, and so is the opening transfer's.
 */
export const cnyLedger = 156; // ISO 4217 numeric code of the renminbi

export const AccountCode = {
  userWallet: 1,
  merchantWallet: 2,
  platformFunding: 100,
} as const;

export const TransferCode = {
  openingBalance: 1,
} as const;

/** Names of the platform's own accounts in `platform_accounts`. */
export const PlatformAccount = {
  funding: 'funding',
} as const;
