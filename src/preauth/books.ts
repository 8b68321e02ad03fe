/**
 * A freeze order's ledger events, pure: which transfers an operation submits. What is frozen is
 * one pending transfer at a time, a hold from the payer's wallet to the payee's, with the
 * order's term as its timeout. A pending transfer ends once (posted or voided), so an operation
 * that leaves money frozen ends the live hold and opens the next generation for the rest, in ONE
 * linked chain: the money released by the end is held again by the same commit, and no other
 * spend can come between. Every id is derived from the order and the generation (a payment's
 * post from its trade), so a retried or helped-along operation moves money once, and two
 * operations on one generation cannot both end it: the ledger refuses the second.
 */
import { derivedId, u128FromUuid } from '../core/ids.ts';
import { cnyLedger, PreauthAccountCode, PreauthTransferCode } from '../core/ledger-codes.ts';
import { type AccountInput, TransferFlags, type TransferInput } from '../ledger/index.ts';
import type { OperationRow, OrderRow } from './tables.ts';

/** The ledger id of generation `seq` of an order's hold. */
export const holdId = (authNo: string, seq: number): bigint => derivedId('preauth.hold', `${authNo}/${seq}`);

/** The ledger id of the void that ends generation `seq` (an unfreeze or the expiry). */
export const releaseId = (authNo: string, seq: number): bigint => derivedId('preauth.release', `${authNo}/${seq}`);

/** The reference every transfer of an order carries (`user_data_128`). */
export const orderRef = (authNo: string): bigint => derivedId('preauth', authNo);

/** A settlement's post carries its trade's payment id, so the trade's books find it. */
export const tradePaymentId = (tradeNo: string): bigint => derivedId('trade.pay', tradeNo);
const tradeRef = (tradeNo: string): bigint => derivedId('trade', tradeNo);

/**
 * The platform's credit advances account: its debit balance is what it paid merchants for
 * credit-guaranteed settlements that payers' wallets could not cover, and has not collected yet.
 */
export const creditAdvanceAccount: AccountInput = {
  id: derivedId('preauth.account', 'credit-advances'),
  ledger: cnyLedger,
  code: PreauthAccountCode.creditAdvance,
};

/** The ledger id of a debt's repayment that brings its repaid amount from `repaidFen` on. */
export const repaymentId = (operationId: string, repaidFen: bigint): bigint =>
  derivedId('preauth.repay', `${operationId}/${repaidFen}`);

/** A repayment of `fen` of a debt: the payer's wallet → credit advances. */
export function repayment(operationId: string, repaidFen: bigint, payerAccount: bigint, fen: bigint): TransferInput {
  return {
    id: repaymentId(operationId, repaidFen),
    debitAccountId: payerAccount,
    creditAccountId: creditAdvanceAccount.id,
    amount: fen,
    userData128: derivedId('preauth.debt', operationId),
    ledger: cnyLedger,
    code: PreauthTransferCode.debtRepayment,
  };
}

/** The amount a hold held before the operation: what it spends or releases plus what it holds again. */
export function holdBefore(op: OperationRow): bigint {
  return op.operation_type === 'FREEZE' ? 0n : op.fund_fen + op.new_hold_fen;
}

/** Generation `seq`'s hold of `fen`, expiring after `timeoutS` seconds. */
function openHold(order: OrderRow, seq: number, fen: bigint, timeoutS: number): TransferInput {
  return {
    id: holdId(order.auth_no, seq),
    debitAccountId: u128FromUuid(order.payer_account as string),
    creditAccountId: u128FromUuid(order.payee_account),
    amount: fen,
    userData128: orderRef(order.auth_no),
    timeout: timeoutS,
    ledger: cnyLedger,
    code: PreauthTransferCode.hold,
    flags: TransferFlags.pending,
  };
}

/** How the operation ends the live hold: posting `fund_fen` of it to the payee (a payment), or voiding it. */
function endHold(order: OrderRow, op: OperationRow): TransferInput {
  const pendingId = holdId(order.auth_no, op.hold_seq);
  if (op.operation_type === 'PAY' && op.fund_fen > 0n) {
    return {
      id: tradePaymentId(op.trade_no as string),
      debitAccountId: 0n,
      creditAccountId: 0n,
      amount: op.fund_fen,
      pendingId,
      userData128: tradeRef(op.trade_no as string),
      ledger: cnyLedger,
      code: PreauthTransferCode.hold,
      flags: TransferFlags.postPendingTransfer,
    };
  }
  return {
    id: releaseId(order.auth_no, op.hold_seq),
    debitAccountId: 0n,
    creditAccountId: 0n,
    amount: 0n,
    pendingId,
    ledger: cnyLedger,
    code: PreauthTransferCode.hold,
    flags: TransferFlags.voidPendingTransfer,
  };
}

/**
 * The operation's chain on the order's hold (before any credit legs): a freeze opens
 * generation 0; any other operation ends the live generation, when there is one, and opens the
 * next for `new_hold_fen`, when it is more than zero. Empty when no fund is frozen on either side.
 */
export function holdChain(order: OrderRow, op: OperationRow): TransferInput[] {
  if (op.operation_type === 'FREEZE') {
    return op.new_hold_fen > 0n ? [openHold(order, 0, op.new_hold_fen, op.hold_timeout_s)] : [];
  }
  const chain = holdBefore(op) > 0n ? [endHold(order, op)] : [];
  if (op.operation_type === 'PAY') chain.push(...creditLegs(order, op, chain.length === 0));
  if (op.new_hold_fen > 0n) chain.push(openHold(order, op.hold_seq + 1, op.new_hold_fen, op.hold_timeout_s));
  return chain;
}

/**
 * A payment's credit-guaranteed part (nothing was held for it): `collect_fen` from the payer's
 * wallet, the rest (`advance_fen`) from the platform's credit advances, both to the payee. The
 * first leg of a payment carries its trade's payment id.
 */
function creditLegs(order: OrderRow, op: OperationRow, first: boolean): TransferInput[] {
  const tradeNo = op.trade_no as string;
  const legs: TransferInput[] = [];
  const idOf = (scope: string) =>
    first && legs.length === 0 ? tradePaymentId(tradeNo) : derivedId(scope, op.operation_id);
  if (op.collect_fen > 0n) {
    legs.push({
      id: idOf('preauth.collect'),
      debitAccountId: u128FromUuid(order.payer_account as string),
      creditAccountId: u128FromUuid(order.payee_account),
      amount: op.collect_fen,
      userData128: tradeRef(tradeNo),
      ledger: cnyLedger,
      code: PreauthTransferCode.creditCollection,
    });
  }
  if (op.advance_fen > 0n) {
    legs.push({
      id: idOf('preauth.advance'),
      debitAccountId: creditAdvanceAccount.id,
      creditAccountId: u128FromUuid(order.payee_account),
      amount: op.advance_fen,
      userData128: tradeRef(tradeNo),
      ledger: cnyLedger,
      code: PreauthTransferCode.creditAdvance,
    });
  }
  return legs;
}
