/**
 * The trades against the ledger: a trade's payment is the ledger transfer derived from its number
 * (`derivedId('trade.pay', trade_no)`), so it moved at most once by construction; what can still
 * go wrong is a trade recorded paid whose money never moved, or money moved for a trade that is
 * not paid. `paybao backup verify` runs this on a restored database, the drills after their load.
 */
import type { Queryable } from '../../core/db/index.ts';
import { derivedId } from '../../core/ids.ts';
import { limits } from '../../core/limits.ts';
import type { Ledger } from '../../ledger/index.ts';
import { paymentState, type TradeStatus } from './state.ts';

/** A trade whose status and money disagree, as found by `verifyTradePayments`. */
export interface TradePaymentViolation {
  kind: 'paid_trade_without_payment' | 'payment_of_unpaid_trade';
  /** The trade's number. */
  detail: string;
}

export interface TradePaymentCheck {
  /** Trades read. */
  trades: number;
  /** Of them, paid (their payment transfer found). */
  paid: number;
  /** Payments in flight (PAYING) whose money moved: the next server start records them paid. */
  payingMoved: number;
  violations: TradePaymentViolation[];
}

/**
 * Of these trades, the ones whose payment moved, looked up `limits.tradeVerifyPageMax` at a
 * time.
 */
export async function movedPayments(
  ledger: Pick<Ledger, 'lookupTransfers'>,
  tradeNos: readonly string[],
): Promise<Set<string>> {
  const moved = new Set<string>();
  for (let from = 0; from < tradeNos.length; from += limits.tradeVerifyPageMax) {
    const page = tradeNos.slice(from, from + limits.tradeVerifyPageMax);
    const ids = new Map(page.map((tradeNo) => [derivedId('trade.pay', tradeNo), tradeNo]));
    for (const transfer of await ledger.lookupTransfers([...ids.keys()])) moved.add(ids.get(transfer.id) as string);
  }
  return moved;
}

/**
 * Every trade (of `appId` only, when given) against the ledger, a page at a time in trade-number
 * order: each paid trade has its payment transfer, and no trade that is not paid has one. A
 * payment in flight may have either; it is counted, not a violation.
 */
export async function verifyTradePayments(
  q: Queryable,
  ledger: Pick<Ledger, 'lookupTransfers'>,
  scope: { appId?: string } = {},
): Promise<TradePaymentCheck> {
  const check: TradePaymentCheck = { trades: 0, paid: 0, payingMoved: 0, violations: [] };
  let after = '';
  for (;;) {
    const rows = await q.query<{ trade_no: string; status: TradeStatus; paid_at: Date | null }>(
      `select trade_no, status, paid_at from trades
        where trade_no > $1 and ($2::text is null or app_id = $2)
        order by trade_no limit $3`,
      [after, scope.appId ?? null, limits.tradeVerifyPageMax],
    );
    const moved = await movedPayments(
      ledger,
      rows.map((r) => r.trade_no),
    );
    for (const r of rows) {
      const state = paymentState(r.status, r.paid_at);
      const hasPayment = moved.has(r.trade_no);
      if (state === 'paid') check.paid++;
      if (state === 'in_flight' && hasPayment) check.payingMoved++;
      if (state === 'paid' && !hasPayment)
        check.violations.push({ kind: 'paid_trade_without_payment', detail: r.trade_no });
      if (state === 'unpaid' && hasPayment)
        check.violations.push({ kind: 'payment_of_unpaid_trade', detail: r.trade_no });
    }
    check.trades += rows.length;
    const last = rows.at(-1);
    if (!last || rows.length < limits.tradeVerifyPageMax) return check;
    after = last.trade_no;
  }
}
