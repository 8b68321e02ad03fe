import type { Queryable } from '../core/db/index.ts';
import { uuidFromU128 } from '../core/ids.ts';
import { PreauthTransferCode } from '../core/ledger-codes.ts';
import { limits } from '../core/limits.ts';
import { creditAdvanceAccount, holdId } from './books.ts';

/** A freeze order whose books do not hold, as found by `verifyPreauthBooks`. */
export interface PreauthViolation {
  kind:
    | 'preauth_amounts_differ'
    | 'preauth_hold_differs'
    | 'preauth_holds_differ_from_orders'
    | 'preauth_advances_differ_from_debts';
  detail: string;
}

export interface PreauthBooksCheck {
  orders: number;
  violations: PreauthViolation[];
}

/**
 * Checks every freeze order against the ledger. For an order with no operation in flight:
 *
 * - once authorised, what was frozen = what is still frozen + what was paid + what was unfrozen,
 *   for the funds and for the credit-guaranteed part alike;
 * - an AUTHORIZED order with funds still frozen has its live hold (generation `hold_seq`)
 *   pending in the ledger, for exactly that amount; any other order has none;
 * - and while no operation is in flight anywhere, all pending holds together (code 700) are the
 *   funds still frozen on AUTHORIZED orders: no hold is left over from an ended order;
 * - the credit advances account's debit balance is the users' open debts (advanced, not yet repaid).
 *
 * Returns the violations; empty means they hold. `paybao ledger verify` runs it after the
 * ledger's own checks.
 */
export async function verifyPreauthBooks(q: Queryable): Promise<PreauthViolation[]> {
  return (await checkPreauthBooks(q)).violations;
}

export async function checkPreauthBooks(q: Queryable): Promise<PreauthBooksCheck> {
  const exists = await q.query(
    "select 1 from pg_tables where tablename = 'preauth_orders' and schemaname = current_schema()",
  );
  if (exists.length === 0) return { orders: 0, violations: [] };
  const violations: PreauthViolation[] = [];
  let orders = 0;
  let inFlight = 0;
  let frozen = 0n;
  let after = '';
  for (;;) {
    const rows = await q.query<OrderAmounts>(
      `select auth_no, status, hold_seq, in_flight, authorized_at is not null authorized, fund_fen, credit_fen,
              rest_fund_fen, rest_credit_fen, paid_fund_fen, paid_credit_fen, unfrozen_fund_fen, unfrozen_credit_fen
         from preauth_orders where auth_no > $1 order by auth_no limit $2`,
      [after, limits.tradeVerifyPageMax],
    );
    orders += rows.length;
    const settled = rows.filter((r) => r.in_flight === null);
    inFlight += rows.length - settled.length;
    for (const r of settled) violations.push(...amountViolations(r));
    const holds = await holdViolations(q, settled);
    violations.push(...holds.violations);
    frozen += holds.frozenFen;
    const last = rows.at(-1);
    if (!last || rows.length < limits.tradeVerifyPageMax) break;
    after = last.auth_no;
  }
  if (inFlight === 0) {
    const [held] = await q.query<{ fen: bigint }>(
      `select coalesce(sum(t.amount), 0)::bigint fen from ledger_transfers t join ledger_pending p on p.id = t.id
        where t.code = $1 and p.status = 1`,
      [PreauthTransferCode.hold],
    );
    if ((held?.fen ?? 0n) !== frozen)
      violations.push({
        kind: 'preauth_holds_differ_from_orders',
        detail: `pending holds ${held?.fen ?? 0n}, frozen on orders ${frozen}`,
      });
  }
  const [advances] = await q.query<{ balance: bigint | null; open: bigint }>(
    `select (select debits_posted - credits_posted from ledger_accounts where id = $1::uuid) balance,
            (select coalesce(sum(amount_fen - repaid_fen), 0)::bigint from preauth_debts) open`,
    [uuidFromU128(creditAdvanceAccount.id)],
  );
  if (advances && (advances.balance ?? 0n) !== advances.open)
    violations.push({
      kind: 'preauth_advances_differ_from_debts',
      detail: `credit advances ${advances.balance ?? 0n}, open debts ${advances.open}`,
    });
  return { orders, violations };
}

interface OrderAmounts {
  auth_no: string;
  status: string;
  hold_seq: number;
  in_flight: string | null;
  authorized: boolean;
  fund_fen: bigint;
  credit_fen: bigint;
  rest_fund_fen: bigint;
  rest_credit_fen: bigint;
  paid_fund_fen: bigint;
  paid_credit_fen: bigint;
  unfrozen_fund_fen: bigint;
  unfrozen_credit_fen: bigint;
}

function amountViolations(r: OrderAmounts): PreauthViolation[] {
  if (!r.authorized) return [];
  const fund = r.rest_fund_fen + r.paid_fund_fen + r.unfrozen_fund_fen;
  const credit = r.rest_credit_fen + r.paid_credit_fen + r.unfrozen_credit_fen;
  if (fund === r.fund_fen && credit === r.credit_fen) return [];
  return [
    {
      kind: 'preauth_amounts_differ',
      detail: `${r.auth_no}: funds ${fund} of ${r.fund_fen}, credit ${credit} of ${r.credit_fen}`,
    },
  ];
}

/** Each order's live hold generation against the ledger: pending for its rest of funds, or not pending at all. */
async function holdViolations(
  q: Queryable,
  rows: readonly OrderAmounts[],
): Promise<{ violations: PreauthViolation[]; frozenFen: bigint }> {
  const ids = rows.map((r) => uuidFromU128(holdId(r.auth_no, r.hold_seq)));
  const found = await q.query<{ id: string; amount: bigint; status: number }>(
    `select t.id::text, t.amount, p.status from ledger_transfers t join ledger_pending p on p.id = t.id
      where t.id = any($1::uuid[])`,
    [ids],
  );
  const byId = new Map(found.map((f) => [f.id, f]));
  const violations: PreauthViolation[] = [];
  let total = 0n;
  rows.forEach((r, i) => {
    const hold = byId.get(ids[i] as string);
    // A hold the ledger's timeout voided before the sweep closed its order: released, the sweep follows.
    if (r.status === 'AUTHORIZED' && hold && Number(hold.status) === expiredStatus) return;
    const pendingFen = hold && Number(hold.status) === pendingStatus ? hold.amount : 0n;
    const expected = r.status === 'AUTHORIZED' ? r.rest_fund_fen : 0n;
    total += expected;
    if (pendingFen !== expected)
      violations.push({
        kind: 'preauth_hold_differs',
        detail: `${r.auth_no}: hold ${r.hold_seq} pending ${pendingFen}, frozen ${expected}`,
      });
  });
  return { violations, frozenFen: total };
}

/** `ledger_pending.status`: 1 pending, 4 expired (src/ledger/store.ts). */
const pendingStatus = 1;
const expiredStatus = 4;
