/**
 * How bank channels appear in the ledger (CNY ledger 156, `cnyLedger` of the members module).
 *
 * Account codes owned by this module (members owns 1, 2 and 100; escrow 10–19):
 *
 * | code | account                                                       | flags |
 * |------|---------------------------------------------------------------|-------|
 * | 20   | bank reserve: the platform's money at one bank (one per bank) | none  |
 * | 21   | channel losses: money the platform lost to a bank discrepancy | none  |
 * | 22   | demo reserve: stands for bank money in a demo, held at no bank | none  |
 *
 * A reserve account is an asset: its debit balance (debits − credits) is what the platform holds
 * at that bank for its customers. Its id is `derivedId('channels.reserve', bank)` and its
 * `user_data_32` is the bank's index in the configuration (informational only).
 *
 * Transfer codes owned by this module (members 1–99, trades 100–109, payouts 110, escrow 120–139,
 * wallet 200):
 *
 * | code | transfer                                                                        |
 * |------|---------------------------------------------------------------------------------|
 * | 300  | top-up: bank reserve → user wallet, once the bank confirms the money came in    |
 * | 301  | withdrawal: user wallet → bank reserve, pending while in flight, then post/void |
 * | 302  | loss write-off: channel losses → bank reserve (an operator's decision)          |
 * | 303  | demo deposit: demo reserve → user wallet (`paybao users create --balance`)      |
 *
 * Every transfer's id is derived from the channel order number (a demo deposit's from its user
 * and reference), so a duplicate callback, a query racing a callback, or a retry after a crash
 * moves money once. The demo reserve (`demo-deposit.ts`) is shown apart in the reserve report.
 */
export const ChannelAccountCode = {
  bankReserve: 20,
  channelLoss: 21,
  demoReserve: 22,
} as const;

export const ChannelTransferCode = {
  topUp: 300,
  withdrawal: 301,
  lossWriteOff: 302,
  demoDeposit: 303,
} as const;
