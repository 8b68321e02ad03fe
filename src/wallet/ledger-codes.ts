/**
 * How the wallet appears in the ledger. It moves money only between member wallets (account
 * codes 1 and 2, owned by the members module) on the CNY ledger.
 *
 * Transfer codes owned by this module (members owns 1–99; trades and payouts use 100–199):
 *
 * | code | transfer                                                            |
 * |------|---------------------------------------------------------------------|
 * | 200  | user to user: payer wallet → payee wallet (`POST /api/v1/transfers`) |
 *
 * A transfer's id is derived from (payer, Idempotency-Key), so that a retried or concurrent
 * request moves money at most once; its `user_data_64` is the payer's 16-digit user id.
 */
export const WalletTransferCode = {
  userToUser: 200,
} as const;
