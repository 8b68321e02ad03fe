import type { Queryable } from '../core/db/index.ts';

/** The summed balances of every account of one code on one ledger. */
export interface CodeTotals {
  code: number;
  accounts: number;
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
}

/**
 * Sums the balances of the accounts of each code on a ledger, as of one consistent read: what
 * reports need (customer balances against reserves) without paging through every account.
 */
export async function totalsByCode(q: Queryable, ledger: number, codes: readonly number[]): Promise<CodeTotals[]> {
  const rows = await q.query<{ code: number; n: bigint; dp: bigint; dpo: bigint; cp: bigint; cpo: bigint }>(
    `select code, count(*)::bigint n, coalesce(sum(debits_pending), 0)::bigint dp, coalesce(sum(debits_posted), 0)::bigint dpo,
            coalesce(sum(credits_pending), 0)::bigint cp, coalesce(sum(credits_posted), 0)::bigint cpo
       from ledger_accounts where ledger = $1 and code = any($2::int[]) group by code order by code`,
    [ledger, codes],
  );
  return codes.map((code) => {
    const r = rows.find((row) => Number(row.code) === code);
    return {
      code,
      accounts: Number(r?.n ?? 0n),
      debitsPending: r?.dp ?? 0n,
      debitsPosted: r?.dpo ?? 0n,
      creditsPending: r?.cp ?? 0n,
      creditsPosted: r?.cpo ?? 0n,
    };
  });
}
