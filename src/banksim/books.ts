import type { Db, Queryable } from '../core/db/index.ts';

/** The opening account of every bank: it funds opening balances and nothing else. */
export const openingAccount = 'OPENING';

/**
 * Moves `amountFen` from one account to another with one journal entry under `serial`. Answers
 * false, moving nothing, when `from` would go below zero (only the opening account may). The
 * caller holds the transaction; the `CHECK` on balances stands behind this test.
 */
export async function moveMoney(
  tx: Queryable,
  entry: { bank: string; serial: string; from: string; to: string; amountFen: bigint; at: Date },
): Promise<boolean> {
  if (entry.amountFen <= 0n) throw new Error(`moveMoney: amount ${entry.amountFen} must be positive`);
  const debited = await tx.query(
    `update banksim_accounts set balance_fen = balance_fen - $3
      where bank = $1 and account_no = $2 and (kind = 'opening' or balance_fen >= $3) returning 1`,
    [entry.bank, entry.from, entry.amountFen],
  );
  if (debited.length === 0) return false;
  const credited = await tx.query(
    'update banksim_accounts set balance_fen = balance_fen + $3 where bank = $1 and account_no = $2 returning 1',
    [entry.bank, entry.to, entry.amountFen],
  );
  if (credited.length !== 1) throw new Error(`moveMoney: no account ${entry.bank}/${entry.to}`);
  await tx.query(
    `insert into banksim_entries (bank, serial, debit_account, credit_account, amount_fen, created_at)
     values ($1, $2, $3, $4, $5, $6)`,
    [entry.bank, entry.serial, entry.from, entry.to, entry.amountFen, entry.at.toISOString()],
  );
  return true;
}

/** What `verifyBooks` found: empty `problems` means every bank's books balance. */
export interface BooksReport {
  banks: { bank: string; accounts: number; entries: number; totalFen: string; settlementFen: string }[];
  problems: string[];
}

/**
 * Recomputes every bank's books from the journal: balances sum to zero per bank, every stored
 * balance equals its credits minus its debits, no account but the opening one is negative, and
 * every order has moved money exactly when it says SUCCESS (one entry of its amount under its
 * serial; none otherwise).
 */
export async function verifyBooks(db: Db): Promise<BooksReport> {
  const banks = await db.query<{ bank: string; accounts: bigint; total: string; settlement: string; entries: bigint }>(
    `select a.bank, count(*)::int8 as accounts, sum(a.balance_fen)::text as total,
            coalesce(sum(a.balance_fen) filter (where a.kind = 'settlement'), 0)::text as settlement,
            (select count(*) from banksim_entries e where e.bank = a.bank)::int8 as entries
       from banksim_accounts a group by a.bank order by a.bank`,
  );
  const problems: string[] = [];
  for (const b of banks) if (b.total !== '0') problems.push(`${b.bank}: balances sum to ${b.total}, not 0`);
  const drift = await db.query<{ bank: string; account_no: string; balance_fen: bigint; computed: string }>(
    `select a.bank, a.account_no, a.balance_fen,
            (coalesce((select sum(amount_fen) from banksim_entries e where e.bank = a.bank and e.credit_account = a.account_no), 0)
           - coalesce((select sum(amount_fen) from banksim_entries e where e.bank = a.bank and e.debit_account = a.account_no), 0))::text as computed
       from banksim_accounts a`,
  );
  for (const d of drift) {
    if (String(d.balance_fen) !== d.computed)
      problems.push(`${d.bank}/${d.account_no}: balance ${d.balance_fen} but entries say ${d.computed}`);
  }
  const negative = await db.query<{ bank: string; account_no: string }>(
    `select bank, account_no from banksim_accounts where kind <> 'opening' and balance_fen < 0`,
  );
  for (const n of negative) problems.push(`${n.bank}/${n.account_no}: negative balance`);
  const orders = await db.query<{
    bank: string;
    order_no: string;
    status: string;
    amount_fen: bigint;
    moved: string;
    n: bigint;
  }>(
    `select o.bank, o.order_no, o.status, o.amount_fen,
            coalesce(sum(e.amount_fen), 0)::text as moved, count(e.id)::int8 as n
       from banksim_orders o left join banksim_entries e on e.serial = o.serial
      group by o.bank, o.merchant_id, o.order_no, o.status, o.amount_fen`,
  );
  for (const o of orders) {
    const want = o.status === 'SUCCESS' ? [1n, String(o.amount_fen)] : [0n, '0'];
    if (o.n !== want[0] || o.moved !== want[1])
      problems.push(`${o.bank}/${o.order_no}: ${o.status} but ${o.n} entries moved ${o.moved}`);
  }
  return {
    banks: banks.map((b) => ({
      bank: b.bank,
      accounts: Number(b.accounts),
      entries: Number(b.entries),
      totalFen: b.total,
      settlementFen: b.settlement,
    })),
    problems,
  };
}
