/**
 * What the drills check at the end (docs/drills.md): every drill trade's status against the
 * money that moved for it, and the merchants' errors counted by kind.
 */
import { verifyLedger } from '../../ledger/index.ts';
import type { Platform } from '../../platform.ts';
import { paidTradeNos } from '../bench/common.ts';

export function countError(errors: Record<string, number>, kind: string): void {
  errors[kind] = (errors[kind] ?? 0) + 1;
}

export function connectionErrorKind(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return error instanceof Error && /closed the connection/.test(error.message) ? 'connection closed' : 'other';
}

/**
 * Every drill trade's status, and the money against it: a trade's payment is the ledger transfer
 * derived from its number, so it moved at most once by construction; the buyers' balances check
 * that nothing else moved.
 */
export async function checkBooks(
  platform: Platform,
  appId: string,
  tried: number,
  buyerIds: readonly string[],
  perBuyer: bigint,
  amountFen: bigint,
) {
  const rows = await platform.db.query<{ out_trade_no: string; trade_no: string; status: string }>(
    'select out_trade_no, trade_no, status from trades where app_id = $1',
    [appId],
  );
  const status = new Map(rows.map((r) => [r.out_trade_no, r.status]));
  const moved = await paidTradeNos(
    platform.ledger,
    rows.map((r) => r.trade_no),
  );
  let movedUnpaid = 0;
  let paidUnmoved = 0;
  let paid = 0n;
  for (const r of rows) {
    const isPaid = r.status === 'TRADE_SUCCESS';
    if (isPaid) paid += amountFen;
    if (moved.has(r.trade_no) && !isPaid) movedUnpaid++;
    if (isPaid && !moved.has(r.trade_no)) paidUnmoved++;
  }
  let spent = 0n;
  for (const buyerId of buyerIds) spent += perBuyer - (await platform.members.walletBalance(buyerId));
  const violations = (await verifyLedger(platform.db)).length;
  if (rows.length > tried) throw new Error(`${rows.length} drill trades, but only ${tried} were tried`);
  return { status, movedUnpaid, paidUnmoved, appliedTwice: Number((spent - paid) / amountFen), violations };
}
