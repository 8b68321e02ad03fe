/**
 * The one registry of what the ledger's numbers mean: its ledgers (currencies and other assets),
 * account codes (what kind of account) and transfer codes (what kind of movement). Every module
 * that writes to the ledger owns one or more ranges here and declares its codes in them; no
 * other file declares a code (test/architecture.test.ts), and test/core/ledger-codes.test.ts
 * proves that no two ranges overlap and that every code lies in its owner's range.
 *
 * The numbers are stored in the database with every account and transfer: they are never
 * renumbered, only added.
 */

/** A ledger: one currency or asset, whose amounts are integers of its minor unit. */
export interface LedgerDefinition {
  /** The ledger's number on every account and transfer (ISO 4217 numeric for a currency). */
  id: number;
  /** ISO 4217 alphabetic for a currency; a symbol of our own for an asset (a fund's shares). */
  code: string;
  /** How many decimal places the minor unit is: 2 for fen (0.01 CNY). */
  minorUnitExponent: number;
  kind: 'currency' | 'asset';
}

export const ledgers = {
  cny: { id: 156, code: 'CNY', minorUnitExponent: 2, kind: 'currency' },
} as const satisfies Record<string, LedgerDefinition>;

/** The renminbi ledger, where every wallet lives today. */
export const cnyLedger = ledgers.cny.id;

/**
 * The fund's share ledgers: one per fund product (src/fund), numbered when the product is created
 * (`first` + the product's sequence number), so they are a range here rather than entries of
 * `ledgers`. A share's minor unit is the share itself (exponent 0), and one share is worth one
 * fen at the fixed net value of 1.00: a money-market fund's shares are counted in fen.
 */
export const fundShareLedgers = {
  first: 1_000_001,
  last: 1_999_999,
  minorUnitExponent: 0,
  kind: 'asset',
} as const;

/** The share ledger of the product with sequence number `n` (1, 2, …). */
export function fundShareLedger(n: number): number {
  const id = fundShareLedgers.first + n - 1;
  if (!Number.isInteger(n) || n < 1 || id > fundShareLedgers.last) throw new RangeError(`no share ledger ${n}`);
  return id;
}

/** Codes `first` to `last`, both included. */
export type CodeRange = readonly [first: number, last: number];

/**
 * Who owns which account codes. `escrow` is the escrow side of src/trades (its own concept, kept
 * apart so that it can move into its own module without renumbering).
 */
export const accountCodeRanges = {
  members: [
    [1, 9],
    [100, 109],
  ],
  escrow: [[10, 19]],
  channels: [[20, 29]],
  fund: [[30, 49]],
  social: [[50, 59]],
  risk: [[60, 69]],
  preauth: [[70, 79]],
} as const satisfies Record<string, readonly CodeRange[]>;

/** Who owns which transfer codes. */
export const transferCodeRanges = {
  members: [[1, 99]],
  trades: [[100, 109]],
  payouts: [[110, 119]],
  escrow: [[120, 139]],
  wallet: [[200, 299]],
  channels: [[300, 399]],
  fund: [[400, 449]],
  social: [[500, 549]],
  risk: [[600, 619]],
  preauth: [[700, 719]],
} as const satisfies Record<string, readonly CodeRange[]>;

// ---- members: wallets and the platform's funding --------------------------------------------

/**
 * Members' account codes. Every wallet may not go below zero; the platform funding account may:
 * its debit balance is the money the platform has put in.
 *
 * | code | account                                        | flags                          |
 * |------|------------------------------------------------|--------------------------------|
 * | 1    | user wallet                                    | debits_must_not_exceed_credits |
 * | 2    | merchant wallet                                | debits_must_not_exceed_credits |
 * | 100  | platform funding (`platform_accounts.funding`) | none                           |
 *
 * A wallet's `user_data_64` is its member's 16-digit user id, and so is the opening transfer's.
 */
export const AccountCode = {
  userWallet: 1,
  merchantWallet: 2,
  platformFunding: 100,
} as const;

/**
 * Members' transfer codes.
 *
 * | code | transfer                                                   |
 * |------|------------------------------------------------------------|
 * | 1    | opening balance: platform funding → wallet (`--balance`)   |
 */
export const TransferCode = {
  openingBalance: 1,
} as const;

// ---- trades: plain trades ----------------------------------------------------------------------

/** Trades' transfer codes: 100 payment (buyer → seller), 101 refund (seller → buyer). */
export const tradeTransferCodes = { payment: 100, refund: 101 } as const;

// ---- payouts ----------------------------------------------------------------------------------

/** Payouts' transfer code: 110 payout (the paying app's wallet → the payee's wallet). */
export const payoutTransferCodes = { payout: 110 } as const;

// ---- escrow (src/trades) -------------------------------------------------------------------

/**
 * Escrow's account codes (see src/trades/escrow/escrow-books.ts for why an escrow account):
 *
 * | code | account                                              | flags                          |
 * |------|------------------------------------------------------|--------------------------------|
 * | 10   | escrow: what buyers paid for goods not yet confirmed | debits_must_not_exceed_credits |
 * | 11   | platform fee income                                  | debits_must_not_exceed_credits |
 * | 12   | compensation fund ("we dare to compensate")          | debits_must_not_exceed_credits |
 * | 13   | a seller's released, not yet settled proceeds        | debits_must_not_exceed_credits |
 */
export const EscrowAccountCode = { escrow: 10, feeIncome: 11, compensationFund: 12, unsettled: 13 } as const;

/**
 * Escrow's transfer codes:
 *
 * | code | transfer                                                        |
 * |------|-----------------------------------------------------------------|
 * | 120  | escrow payment: buyer wallet → escrow                           |
 * | 121  | escrow refund: escrow → buyer wallet                            |
 * | 122  | release: escrow → seller's unsettled proceeds                   |
 * | 123  | release: escrow → platform fee income                           |
 * | 124  | royalty split: seller (unsettled proceeds or wallet) → receiver |
 * | 125  | settlement: unsettled proceeds → seller wallet (merged payout)  |
 * | 126  | recovery at settlement: unsettled proceeds → compensation fund  |
 * | 127  | compensation: fund → buyer wallet                               |
 * | 128  | recovery at ruling: seller wallet → fund (balancing, what is there) |
 * | 129  | fund capital: platform funding → compensation fund              |
 */
export const EscrowTransferCode = {
  payment: 120,
  refund: 121,
  release: 122,
  fee: 123,
  royalty: 124,
  settlement: 125,
  recoveryAtSettlement: 126,
  compensation: 127,
  recoveryAtRuling: 128,
  fundCapital: 129,
} as const;

// ---- wallet ---------------------------------------------------------------------------------

/**
 * The wallet's transfer codes. It moves money only between member wallets (account codes 1 and
 * 2, owned by members).
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

// ---- channels: money with the banks -----------------------------------------------------------

/**
 * Channels' account codes:
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
 */
export const ChannelAccountCode = {
  bankReserve: 20,
  channelLoss: 21,
  demoReserve: 22,
} as const;

/**
 * Channels' transfer codes:
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
 * moves money once. The demo reserve (`channels/demo-deposit.ts`) is shown apart in the reserve
 * report.
 */
export const ChannelTransferCode = {
  topUp: 300,
  withdrawal: 301,
  lossWriteOff: 302,
  demoDeposit: 303,
} as const;

// ---- fund: Yu'e Bao, the money-market fund (src/fund) ------------------------------------------

/**
 * The fund's account codes. CNY accounts live on the CNY ledger, share accounts on the product's
 * share ledger (`fundShareLedger`):
 *
 * | code | account                                                       | ledger | flags                          |
 * |------|---------------------------------------------------------------|--------|--------------------------------|
 * | 30   | a holder's shares of one product                              | shares | debits_must_not_exceed_credits |
 * | 31   | share issuance: its debit balance is the shares outstanding   | shares | credits_must_not_exceed_debits |
 * | 32   | custodian: the product's money at the custodian bank          | CNY    | debits_must_not_exceed_credits |
 * | 33   | income shares issued for a day, not yet handed to holders     | shares | debits_must_not_exceed_credits |
 * | 34   | liquidity pool of a fund company (fast redemptions)           | CNY    | debits_must_not_exceed_credits |
 * | 35   | fund company: money it brings (income, pool refills)          | CNY    | none                           |
 *
 * The books of a product (checked by `verifyFundBooks`): posted shares issued (31) equal the posted
 * money at the custodian (32), and shares being redeemed (31's pending credits) equal the money
 * leaving the custodian for them (32's pending debits).
 */
export const FundAccountCode = {
  holderShares: 30,
  shareIssuance: 31,
  custodian: 32,
  undistributedIncome: 33,
  liquidityPool: 34,
  company: 35,
} as const;

/**
 * The fund's transfer codes:
 *
 * | code | transfer                                                                         |
 * |------|----------------------------------------------------------------------------------|
 * | 400  | purchase: user wallet → custodian, pending until confirmed (T+1), then posted    |
 * | 401  | shares issued at confirmation: issuance → holder                                 |
 * | 402  | income money: fund company → custodian (one per product and day)                 |
 * | 403  | income shares issued: issuance → the day's undistributed income                  |
 * | 404  | income distributed: undistributed income → holder (one per holder and day)       |
 * | 405  | standard redemption, shares: holder → issuance, pending until the next trading day |
 * | 406  | standard redemption, money: custodian → user wallet, pending alongside 405       |
 * | 407  | fast redemption, money: liquidity pool → user wallet, at once                    |
 * | 408  | fast redemption, shares: holder → issuance, pending until the next trading day   |
 * | 409  | fast redemption, settlement: custodian → liquidity pool, pending alongside 408   |
 * | 410  | pool refill: fund company → liquidity pool                                       |
 * | 411  | payment from the fund, money: liquidity pool → buyer wallet, in the trade's chain |
 * | 412  | payment from the fund, shares: holder → issuance, pending until the next trading day |
 * | 413  | payment from the fund, settlement: custodian → liquidity pool, pending alongside 412 |
 * | 414  | refund to the fund, money: seller wallet or escrow → custodian, in the refund's chain |
 * | 415  | refund to the fund, shares issued at once: issuance → holder, in the refund's chain |
 *
 * Every id is derived from the order (user and idempotency key) or from (product, day, holder),
 * so a retry, a second process or a resumed job moves each amount once.
 */
export const FundTransferCode = {
  purchase: 400,
  sharesIssued: 401,
  incomeMoney: 402,
  incomeShares: 403,
  incomeDistributed: 404,
  standardRedemptionShares: 405,
  standardRedemptionMoney: 406,
  fastRedemptionMoney: 407,
  fastRedemptionShares: 408,
  fastRedemptionSettlement: 409,
  poolRefill: 410,
  paymentMoney: 411,
  paymentShares: 412,
  paymentSettlement: 413,
  refundMoney: 414,
  refundShares: 415,
} as const;

// ---- social: red packets (src/social) -----------------------------------------------------------

/**
 * The social module's account codes:
 *
 * | code | account                                                 | flags                          |
 * |------|---------------------------------------------------------|--------------------------------|
 * | 50   | one red packet: the money sent, until grabbed or refunded | debits_must_not_exceed_credits |
 *
 * A packet's account id is `derivedId('social.red-packet', packetId)`; its `user_data_64` is the
 * sender's 16-digit user id.
 */
export const SocialAccountCode = {
  redPacket: 50,
} as const;

/**
 * The social module's transfer codes:
 *
 * | code | transfer                                                            |
 * |------|---------------------------------------------------------------------|
 * | 500  | send: sender wallet → the packet's account (the whole packet, once) |
 * | 501  | grab: the packet's account → the grabber's wallet (one share)       |
 * | 502  | refund: the packet's account → sender wallet (what is left at expiry) |
 * | 503  | collection (AA): a member's wallet → the requester's wallet (their share) |
 *
 * Ids are derived: the send's from (sender, key), a grab's from (packet, grabber), the refund's
 * from the packet, a collection payment's from (collection, payer); so a retry, a resumed grab or
 * a second sweep moves money once.
 */
export const SocialTransferCode = {
  redPacketSend: 500,
  redPacketGrab: 501,
  redPacketRefund: 502,
  collectionPayment: 503,
} as const;

// ---- risk: fraud losses (src/risk) -----------------------------------------------------------------

/**
 * The risk engine's account codes:
 *
 * | code | account                                                          | flags |
 * |------|------------------------------------------------------------------|-------|
 * | 60   | fraud losses: its debit balance is what fraud has cost the platform | none  |
 */
export const RiskAccountCode = {
  fraudLoss: 60,
} as const;

/**
 * The risk engine's transfer codes:
 *
 * | code | transfer                                                                  |
 * |------|---------------------------------------------------------------------------|
 * | 600  | fraud compensation: fraud losses → the victim's wallet (once per loss key) |
 */
export const RiskTransferCode = {
  fraudCompensation: 600,
} as const;

// ---- preauth: fund freezes (src/preauth) -------------------------------------------------------

/**
 * The pre-authorisation module's account codes:
 *
 * | code | account                                                                   | flags |
 * |------|---------------------------------------------------------------------------|-------|
 * | 70   | credit advances: its debit balance is what users owe for credit-guaranteed settlements | none  |
 *
 * A freeze's money needs no account of its own: it is a pending transfer (a hold) from the
 * user's wallet to the merchant's.
 */
export const PreauthAccountCode = {
  creditAdvance: 70,
} as const;

/**
 * The pre-authorisation module's transfer codes:
 *
 * | code | transfer                                                                                   |
 * |------|--------------------------------------------------------------------------------------------|
 * | 700  | hold: user wallet → merchant wallet, pending until settled (posted), unfrozen (voided) or expired |
 * | 701  | credit collection: user wallet → merchant wallet, the credit-guaranteed part of a settlement |
 * | 702  | credit advance: credit advances → merchant wallet, what could not be collected from the user |
 * | 703  | debt repayment: user wallet → credit advances (the user's overdue debt, collected later)   |
 *
 * A hold's id is derived from (auth_no, generation): an operation that leaves money frozen ends
 * the hold and opens the next generation for the rest, in ONE linked chain. A settlement's post
 * carries the trade's payment id (`derivedId('trade.pay', trade_no)`), so the trade's books see it.
 */
export const PreauthTransferCode = {
  hold: 700,
  creditCollection: 701,
  creditAdvance: 702,
  debtRepayment: 703,
} as const;

// ---- the registry as data, for the checks -----------------------------------------------------

/** Every owner's account codes, by the owner's name in `accountCodeRanges`. */
export const accountCodes = {
  members: AccountCode,
  escrow: EscrowAccountCode,
  channels: ChannelAccountCode,
  fund: FundAccountCode,
  social: SocialAccountCode,
  risk: RiskAccountCode,
  preauth: PreauthAccountCode,
} as const satisfies Record<keyof typeof accountCodeRanges, Record<string, number>>;

/** Every owner's transfer codes, by the owner's name in `transferCodeRanges`. */
export const transferCodes = {
  members: TransferCode,
  trades: tradeTransferCodes,
  payouts: payoutTransferCodes,
  escrow: EscrowTransferCode,
  wallet: WalletTransferCode,
  channels: ChannelTransferCode,
  fund: FundTransferCode,
  social: SocialTransferCode,
  risk: RiskTransferCode,
  preauth: PreauthTransferCode,
} as const satisfies Record<keyof typeof transferCodeRanges, Record<string, number>>;
