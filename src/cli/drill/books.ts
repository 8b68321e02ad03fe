/**
 * What the drills check at the end (docs/drills.md): every drill trade's status against the
 * money that moved for it, and the merchants' errors counted by kind.
 */
import { verifyLedger } from '../../ledger/index.ts';
import type { Platform } from '../../platform.ts';
import { type TradePaymentViolation, verifyTradePayments } from '../../trades/index.ts';

export function countError(errors: Record<string, number>, kind: string): void {
  errors[kind] = (errors[kind] ?? 0) + 1;
}

export function connectionErrorKind(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return error instanceof Error && /closed the connection/.test(error.message) ? 'connection closed' : 'other';
}

/**
 * Every drill trade's status, and the money against it (`verifyTradePayments`): a trade's payment
 * is the ledger transfer derived from its number, so it moved at most once by construction; the
 * buyers' balances check that nothing else moved. After the final start no payment may be left in
 * flight with its money moved: that start records them, so one left counts as moved unpaid.
 */
export async function checkBooks(
  platform: Platform,
  appId: string,
  tried: number,
  buyerIds: readonly string[],
  perBuyer: bigint,
  amountFen: bigint,
) {
  const rows = await platform.db.query<{ out_trade_no: string; status: string }>(
    'select out_trade_no, status from trades where app_id = $1',
    [appId],
  );
  const status = new Map(rows.map((r) => [r.out_trade_no, r.status]));
  const payments = await verifyTradePayments(platform.db, platform.ledger, { appId });
  const count = (kind: TradePaymentViolation['kind']) => payments.violations.filter((v) => v.kind === kind).length;
  const movedUnpaid = count('payment_of_unpaid_trade') + payments.payingMoved;
  const paidUnmoved = count('paid_trade_without_payment');
  const paid = BigInt(payments.paid) * amountFen;
  let spent = 0n;
  for (const buyerId of buyerIds) spent += perBuyer - (await platform.members.walletBalance(buyerId));
  const violations = (await verifyLedger(platform.db)).length;
  if (rows.length > tried) throw new Error(`${rows.length} drill trades, but only ${tried} were tried`);
  return { status, movedUnpaid, paidUnmoved, appliedTwice: Number((spent - paid) / amountFen), violations };
}
