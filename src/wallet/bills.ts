import { isUuid, u128FromUuid, uuidFromU128 } from '../core/ids.ts';
import {
  AccountCode,
  ChannelTransferCode,
  EscrowTransferCode,
  FundTransferCode,
  PreauthTransferCode,
  payoutTransferCodes,
  TransferCode,
  tradeTransferCodes,
  WalletTransferCode,
} from '../core/ledger-codes.ts';
import { limits } from '../core/limits.ts';
import { formatAmount } from '../core/money.ts';
import { dateFromNs } from '../core/time.ts';
import { type Ledger, type Transfer, TransferFlags } from '../ledger/index.ts';
import { WalletError } from './errors.ts';

/** Every kind of bill entry, by the ledger transfer's code; `other` for a code not named here. */
export const billTypeNames = [
  'opening_balance',
  'trade_payment',
  'trade_refund',
  'transfer',
  'royalty',
  'settlement',
  'compensation',
  'recovery',
  'topup',
  'withdrawal',
  'payout',
  'demo_deposit',
  'fund_purchase',
  'fund_redemption',
  'fund_payment',
  'preauth_freeze',
  'preauth_unfreeze',
  'preauth_repayment',
  'other',
] as const;

/** What a bill entry is, by the ledger transfer's code. */
export type BillType = (typeof billTypeNames)[number];

const billTypes = new Map<number, BillType>([
  [TransferCode.openingBalance, 'opening_balance'],
  [tradeTransferCodes.payment, 'trade_payment'],
  [tradeTransferCodes.refund, 'trade_refund'],
  [EscrowTransferCode.payment, 'trade_payment'],
  [EscrowTransferCode.refund, 'trade_refund'],
  [EscrowTransferCode.royalty, 'royalty'],
  [EscrowTransferCode.settlement, 'settlement'],
  [EscrowTransferCode.compensation, 'compensation'],
  [EscrowTransferCode.recoveryAtRuling, 'recovery'],
  [WalletTransferCode.userToUser, 'transfer'],
  // Money in from a bank, and out to one (the hold while the bank works, then its post or void).
  [ChannelTransferCode.topUp, 'topup'],
  [ChannelTransferCode.withdrawal, 'withdrawal'],
  [ChannelTransferCode.demoDeposit, 'demo_deposit'],
  // A merchant's transfer to a member (alipay.fund.trans.uni.transfer).
  [payoutTransferCodes.payout, 'payout'],
  // Yu'e Bao: a purchase (held, then posted), a redemption paid, shares redeemed to pay a trade.
  [FundTransferCode.purchase, 'fund_purchase'],
  [FundTransferCode.standardRedemptionMoney, 'fund_redemption'],
  [FundTransferCode.fastRedemptionMoney, 'fund_redemption'],
  [FundTransferCode.paymentMoney, 'fund_payment'],
  // The fund's part of a refund leaves the seller (or escrow) for the buyer's Yu'e Bao.
  [FundTransferCode.refundMoney, 'trade_refund'],
  // A deposit frozen for a merchant (the hold; its post is a trade payment, its void an unfreeze:
  // see `typeOf`), a credit-guaranteed settlement collected, and a debt repaid from the wallet.
  [PreauthTransferCode.hold, 'preauth_freeze'],
  [PreauthTransferCode.creditCollection, 'trade_payment'],
  [PreauthTransferCode.debtRepayment, 'preauth_repayment'],
]);

/** A transfer's bill type: by its code, and for a freeze's hold by what it does (hold, post, void). */
function typeOf(t: Transfer): BillType {
  if (t.code === PreauthTransferCode.hold) {
    if (t.flags & TransferFlags.postPendingTransfer) return 'trade_payment';
    if (t.flags & TransferFlags.voidPendingTransfer) return 'preauth_unfreeze';
  }
  return billTypes.get(t.code) ?? 'other';
}

/** Codes whose transfers carry their trade in user_data_128. */
const tradeCodes: ReadonlySet<number> = new Set([
  ...Object.values(tradeTransferCodes),
  EscrowTransferCode.payment,
  EscrowTransferCode.refund,
  FundTransferCode.refundMoney,
  EscrowTransferCode.royalty,
  EscrowTransferCode.compensation,
  EscrowTransferCode.recoveryAtRuling,
  PreauthTransferCode.hold,
  PreauthTransferCode.creditCollection,
]);

/** One movement of a wallet, as its owner sees it. */
export interface BillEntry {
  /** The ledger transfer's id (a UUID). */
  id: string;
  type: BillType;
  direction: 'in' | 'out';
  amount: string;
  /** The member on the other side, when the other side is a member's wallet. */
  counterpartyUserId: string | null;
  /** The trade a payment or refund belongs to. */
  tradeNo: string | null;
  /** The payer's memo of a user-to-user transfer. */
  memo: string | null;
  time: Date;
}

export interface BillPage {
  entries: BillEntry[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** Maps ledger `user_data_128` values back to trade numbers, for the trades one buyer paid. */
export interface TradeRefs {
  tradeNos(buyerId: string, refs: readonly bigint[]): Promise<Map<bigint, string>>;
}

/** Where a bill page's extra facts come from, besides the ledger. */
export interface BillSources {
  ledger: Ledger;
  tradeRefs: TradeRefs;
  memos(transferIds: readonly bigint[]): Promise<Map<bigint, string>>;
}

const memberWalletCodes: ReadonlySet<number> = new Set([AccountCode.userWallet, AccountCode.merchantWallet]);
const timestampMax = (1n << 63n) - 1n;

/** Which page of the bill: its size, where it starts, and optionally money in or out only. */
export interface BillQuery {
  limit?: number | undefined;
  cursor?: string | undefined;
  direction?: 'in' | 'out' | undefined;
}

/**
 * One entry of a wallet's bill by its id (the ledger transfer's UUID); a transfer that does not
 * move this wallet is `bill_not_found`, as a missing one is.
 */
export async function billEntry(
  sources: BillSources,
  owner: { userId: string; walletAccountId: bigint },
  id: string,
): Promise<BillEntry> {
  if (!isUuid(id)) throw new WalletError('bill_not_found', { param: 'id' });
  const [transfer] = await sources.ledger.lookupTransfers([u128FromUuid(id)]);
  const mine =
    transfer?.debitAccountId === owner.walletAccountId || transfer?.creditAccountId === owner.walletAccountId;
  if (!transfer || !mine) throw new WalletError('bill_not_found', { param: 'id' });
  const [entry] = await describe(sources, owner, [transfer]);
  if (!entry) throw new WalletError('bill_not_found', { param: 'id' });
  return entry;
}

/**
 * One page of a wallet's bill, newest first. The cursor is the ledger timestamp of the last
 * entry shown (timestamps are unique), so pages never repeat or skip an entry while new ones
 * arrive at the top.
 */
export async function billPage(
  sources: BillSources,
  owner: { userId: string; walletAccountId: bigint },
  options: BillQuery,
): Promise<BillPage> {
  const limit = options.limit ?? limits.billsPageDefault;
  if (!Number.isInteger(limit) || limit < 1 || limit > limits.billsPageMax) {
    throw new WalletError('parameter_invalid', { param: 'limit', detail: `from 1 to ${limits.billsPageMax}` });
  }
  const before = parseCursor(options.cursor);
  // Timestamps start far above 1, and a bound of 0 would mean "no bound".
  if (before !== undefined && before <= 1n) return { entries: [], nextCursor: null };
  const transfers = await sources.ledger.getAccountTransfers({
    accountId: owner.walletAccountId,
    timestampMax: before === undefined ? 0n : before - 1n,
    limit: limit + 1,
    reversed: true,
    // Money in credits the wallet, money out debits it.
    debits: options.direction !== 'in',
    credits: options.direction !== 'out',
  });
  const shown = transfers.slice(0, limit);
  const entries = await describe(sources, owner, shown);
  const last = shown.at(-1);
  return { entries, nextCursor: transfers.length > limit && last ? last.timestamp.toString() : null };
}

async function describe(
  sources: BillSources,
  owner: { userId: string; walletAccountId: bigint },
  transfers: readonly Transfer[],
): Promise<BillEntry[]> {
  const other = (t: Transfer) => (t.creditAccountId === owner.walletAccountId ? t.debitAccountId : t.creditAccountId);
  const [accounts, tradeNos, memos] = await Promise.all([
    sources.ledger.lookupAccounts([...new Set(transfers.map(other))]),
    sources.tradeRefs.tradeNos(owner.userId, [
      ...new Set(transfers.filter((t) => tradeCodes.has(t.code) && t.userData128 !== 0n).map((t) => t.userData128)),
    ]),
    sources.memos(transfers.filter((t) => t.code === WalletTransferCode.userToUser).map((t) => t.id)),
  ]);
  const members = new Map(
    accounts.filter((a) => memberWalletCodes.has(a.code)).map((a) => [a.id, a.userData64.toString().padStart(16, '0')]),
  );
  return transfers.map((t) => ({
    id: uuidFromU128(t.id),
    type: typeOf(t),
    direction: t.creditAccountId === owner.walletAccountId ? 'in' : 'out',
    amount: formatAmount(t.amount),
    counterpartyUserId: members.get(other(t)) ?? null,
    tradeNo: tradeCodes.has(t.code) ? (tradeNos.get(t.userData128) ?? null) : null,
    memo: memos.get(t.id) ?? null,
    time: dateFromNs(t.timestamp),
  }));
}

function parseCursor(cursor: string | undefined): bigint | undefined {
  if (cursor === undefined) return undefined;
  const value = /^[0-9]{1,19}$/.test(cursor) ? BigInt(cursor) : undefined;
  if (value === undefined || value > timestampMax) throw new WalletError('parameter_invalid', { param: 'cursor' });
  return value;
}
