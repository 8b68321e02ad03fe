import { unreachable } from '../core/assert.ts';
import { derivedId, u128FromUuid } from '../core/ids.ts';
import { cnyLedger, FundTransferCode } from '../core/ledger-codes.ts';
import { TransferFlags, type TransferInput } from '../ledger/index.ts';
import type { OrderRow, ProductRow } from './tables.ts';

/**
 * The fund's movements as ledger events, each a pure function of the order or the day, so that
 * whoever submits them again (a retry, another process, a resumed job) sends the same ids.
 */

/** The ledger accounts of a product and of its company. */
export interface ProductBooks {
  shareLedger: number;
  custodian: bigint;
  issuance: bigint;
  undistributed: bigint;
  company: bigint;
  pool: bigint;
}

export function productBooks(p: ProductRow, company: { company_account: string; pool_account: string }): ProductBooks {
  return {
    shareLedger: p.share_ledger,
    custodian: u128FromUuid(p.custodian_account),
    issuance: u128FromUuid(p.issuance_account),
    undistributed: u128FromUuid(p.undistributed_account),
    company: u128FromUuid(company.company_account),
    pool: u128FromUuid(company.pool_account),
  };
}

/** The parties of one order: the holder's share account and wallet. */
export interface OrderParties {
  holder: bigint;
  wallet: bigint;
}

const orderEventId = (order: OrderRow, leg: string) => derivedId(`fund.order.${leg}`, order.order_id);

/**
 * What an order moves when it is made: a purchase holds the money (pending, wallet → custodian);
 * a standard redemption reserves the shares and the money (both pending, linked); a fast one pays
 * the user from the pool at once and reserves the shares and the custodian's repayment of the pool;
 * a payment does what a fast one does, its chain left open for the trade's leg.
 */
export function orderEvents(order: OrderRow, books: ProductBooks, parties: OrderParties): TransferInput[] {
  const common = {
    amount: order.amount_fen,
    userData128: u128FromUuid(order.order_id),
    userData64: BigInt(order.user_id),
  };
  const cny = { ...common, ledger: cnyLedger };
  const shares = { ...common, ledger: books.shareLedger };
  const pending = TransferFlags.pending;
  switch (order.kind) {
    case 'PURCHASE':
      return [
        {
          ...cny,
          id: orderEventId(order, 'hold'),
          debitAccountId: parties.wallet,
          creditAccountId: books.custodian,
          code: FundTransferCode.purchase,
          flags: pending,
        },
      ];
    case 'STANDARD':
      return [
        {
          ...shares,
          id: orderEventId(order, 'shares'),
          debitAccountId: parties.holder,
          creditAccountId: books.issuance,
          code: FundTransferCode.standardRedemptionShares,
          flags: TransferFlags.linked | pending,
        },
        {
          ...cny,
          id: orderEventId(order, 'money'),
          debitAccountId: books.custodian,
          creditAccountId: parties.wallet,
          code: FundTransferCode.standardRedemptionMoney,
          flags: pending,
        },
      ];
    case 'PAYMENT':
      // As a fast redemption, but every leg linked: the trade's payment closes the chain.
      return [
        {
          ...cny,
          id: orderEventId(order, 'pay'),
          debitAccountId: books.pool,
          creditAccountId: parties.wallet,
          code: FundTransferCode.paymentMoney,
          flags: TransferFlags.linked,
        },
        {
          ...shares,
          id: orderEventId(order, 'shares'),
          debitAccountId: parties.holder,
          creditAccountId: books.issuance,
          code: FundTransferCode.paymentShares,
          flags: TransferFlags.linked | pending,
        },
        {
          ...cny,
          id: orderEventId(order, 'settle'),
          debitAccountId: books.custodian,
          creditAccountId: books.pool,
          code: FundTransferCode.paymentSettlement,
          flags: TransferFlags.linked | pending,
        },
      ];
    case 'FAST':
      return [
        {
          ...cny,
          id: orderEventId(order, 'pay'),
          debitAccountId: books.pool,
          creditAccountId: parties.wallet,
          code: FundTransferCode.fastRedemptionMoney,
          flags: TransferFlags.linked,
        },
        {
          ...shares,
          id: orderEventId(order, 'shares'),
          debitAccountId: parties.holder,
          creditAccountId: books.issuance,
          code: FundTransferCode.fastRedemptionShares,
          flags: TransferFlags.linked | pending,
        },
        {
          ...cny,
          id: orderEventId(order, 'settle'),
          debitAccountId: books.custodian,
          creditAccountId: books.pool,
          code: FundTransferCode.fastRedemptionSettlement,
          flags: pending,
        },
      ];
    case 'REFUND':
      return unreachable(`refund order ${order.order_id} moves in its trade's refund chain (refundEvents)`);
  }
}

/** Posts a pending leg of an order, whole: the ledger takes the pending transfer's accounts. */
function post(order: OrderRow, leg: string, ledger: number, code: number, flags: number): TransferInput {
  return {
    id: orderEventId(order, `${leg}.post`),
    pendingId: orderEventId(order, leg),
    debitAccountId: 0n,
    creditAccountId: 0n,
    amount: 0n,
    ledger,
    code,
    flags: flags | TransferFlags.postPendingTransfer,
  };
}

/**
 * What an order moves on its due day, as one linked chain: a purchase's money is posted to the
 * custodian and its shares issued; a redemption's reserved shares and money are posted.
 */
export function confirmationEvents(order: OrderRow, books: ProductBooks, holder: bigint): TransferInput[] {
  const linked = TransferFlags.linked;
  switch (order.kind) {
    case 'PURCHASE':
      return [
        post(order, 'hold', cnyLedger, FundTransferCode.purchase, linked),
        {
          id: orderEventId(order, 'issue'),
          debitAccountId: books.issuance,
          creditAccountId: holder,
          amount: order.amount_fen,
          ledger: books.shareLedger,
          code: FundTransferCode.sharesIssued,
          userData128: u128FromUuid(order.order_id),
          userData64: BigInt(order.user_id),
        },
      ];
    case 'STANDARD':
      return [
        post(order, 'shares', books.shareLedger, FundTransferCode.standardRedemptionShares, linked),
        post(order, 'money', cnyLedger, FundTransferCode.standardRedemptionMoney, 0),
      ];
    case 'FAST':
      return [
        post(order, 'shares', books.shareLedger, FundTransferCode.fastRedemptionShares, linked),
        post(order, 'settle', cnyLedger, FundTransferCode.fastRedemptionSettlement, 0),
      ];
    case 'PAYMENT':
      return [
        post(order, 'shares', books.shareLedger, FundTransferCode.paymentShares, linked),
        post(order, 'settle', cnyLedger, FundTransferCode.paymentSettlement, 0),
      ];
    case 'REFUND':
      return unreachable(`refund order ${order.order_id} is done when made: nothing to confirm`);
  }
}

/**
 * A day's income before it reaches holders, as one linked chain: the fund company's money comes
 * into the custodian, and as many shares are issued into the day's undistributed account.
 */
export function incomeEvents(productCode: string, day: string, totalFen: bigint, books: ProductBooks): TransferInput[] {
  const key = `${productCode}/${day}`;
  return [
    {
      id: derivedId('fund.income.money', key),
      debitAccountId: books.company,
      creditAccountId: books.custodian,
      amount: totalFen,
      ledger: cnyLedger,
      code: FundTransferCode.incomeMoney,
      flags: TransferFlags.linked,
    },
    {
      id: derivedId('fund.income.shares', key),
      debitAccountId: books.issuance,
      creditAccountId: books.undistributed,
      amount: totalFen,
      ledger: books.shareLedger,
      code: FundTransferCode.incomeShares,
    },
  ];
}

/** One holder's income of one day: undistributed → holder, its id the (product, day, holder). */
export function holderIncomeEvent(
  productCode: string,
  day: string,
  holder: bigint,
  fen: bigint,
  books: ProductBooks,
): TransferInput {
  return {
    id: derivedId('fund.income.holder', `${productCode}/${day}/${holder}`),
    debitAccountId: books.undistributed,
    creditAccountId: holder,
    amount: fen,
    ledger: books.shareLedger,
    code: FundTransferCode.incomeDistributed,
    userData32: Number(day.replaceAll('-', '')),
  };
}

/** A refund's part that goes back to the buyer's Yu'e Bao: from whom, to which holder, how much. */
export interface RefundToFund {
  /** The refund's own key (trade number and request): its ids, so a replay moves it once. */
  refundKey: string;
  /** The trade's ledger reference (user_data_128), so both sides' bills name the trade. */
  tradeRef: bigint;
  userId: string;
  payer: bigint;
  holder: bigint;
  fen: bigint;
}

/**
 * A refund's return to the fund, at once and posted: the money from the payer (seller or escrow)
 * to the custodian and as many shares issued to the holder, so the books stay level. Neither is
 * linked: the caller links them into the refund's chain.
 */
export function refundEvents(refund: RefundToFund, books: ProductBooks): TransferInput[] {
  const common = { amount: refund.fen, userData128: refund.tradeRef, userData64: BigInt(refund.userId) };
  return [
    {
      ...common,
      id: derivedId('fund.refund.money', refund.refundKey),
      debitAccountId: refund.payer,
      creditAccountId: books.custodian,
      ledger: cnyLedger,
      code: FundTransferCode.refundMoney,
    },
    {
      ...common,
      id: derivedId('fund.refund.shares', refund.refundKey),
      debitAccountId: books.issuance,
      creditAccountId: refund.holder,
      ledger: books.shareLedger,
      code: FundTransferCode.refundShares,
    },
  ];
}
