import type { Queryable } from '../core/db/index.ts';

/** A broken invariant, as found by `verifyLedger`. */
export interface LedgerViolation {
  kind: 'ledger_unbalanced' | 'limit_exceeded' | 'balance_differs_from_transfers';
  detail: string;
}

/**
 * Checks the books from scratch: per ledger, total debits equal total credits (pending and
 * posted); no flagged account is over its limit; every account's balances equal the sum of its
 * transfers. Returns the violations; an empty list means the books balance.
 */
export async function verifyLedger(q: Queryable): Promise<LedgerViolation[]> {
  const violations: LedgerViolation[] = [];
  const unbalanced = await q.query<{ ledger: number; dp: string; cp: string; dpo: string; cpo: string }>(
    `select ledger, sum(debits_pending)::text dp, sum(credits_pending)::text cp,
            sum(debits_posted)::text dpo, sum(credits_posted)::text cpo
     from ledger_accounts group by ledger
     having sum(debits_pending) <> sum(credits_pending) or sum(debits_posted) <> sum(credits_posted)`,
  );
  for (const r of unbalanced) {
    violations.push({
      kind: 'ledger_unbalanced',
      detail: `ledger ${r.ledger}: pending ${r.dp}/${r.cp}, posted ${r.dpo}/${r.cpo}`,
    });
  }
  const over = await q.query<{ id: string }>(
    `select id from ledger_accounts
     where (flags & 2 <> 0 and debits_pending + debits_posted > credits_posted)
        or (flags & 4 <> 0 and credits_pending + credits_posted > debits_posted)`,
  );
  for (const r of over) violations.push({ kind: 'limit_exceeded', detail: `account ${r.id}` });
  // Posted amounts: plain transfers and posts. Pending amounts: pending transfers still pending.
  const differs = await q.query<{ id: string }>(
    `with moves as (
       select t.debit_account_id a, case when t.flags & 2 = 0 then t.amount else 0 end dpo,
              case when p.status = 1 then t.amount else 0 end dp, 0::bigint cpo, 0::bigint cp
       from ledger_transfers t left join ledger_pending p on p.id = t.id
       where t.flags & 8 = 0
       union all
       select t.credit_account_id, 0, 0, case when t.flags & 2 = 0 then t.amount else 0 end,
              case when p.status = 1 then t.amount else 0 end
       from ledger_transfers t left join ledger_pending p on p.id = t.id
       where t.flags & 8 = 0
     ), sums as (
       select a, sum(dp) dp, sum(dpo) dpo, sum(cp) cp, sum(cpo) cpo from moves group by a
     )
     select acc.id from ledger_accounts acc left join sums s on s.a = acc.id
     where acc.debits_pending <> coalesce(s.dp, 0) or acc.debits_posted <> coalesce(s.dpo, 0)
        or acc.credits_pending <> coalesce(s.cp, 0) or acc.credits_posted <> coalesce(s.cpo, 0)
     limit 100`,
  );
  for (const r of differs) violations.push({ kind: 'balance_differs_from_transfers', detail: `account ${r.id}` });
  return violations;
}
