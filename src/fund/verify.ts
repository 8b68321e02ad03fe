import type { Queryable } from '../core/db/index.ts';

/** A product whose books do not hold, as found by `verifyFundBooks`. */
export interface FundViolation {
  kind: 'fund_shares_differ_from_custodian' | 'fund_redemptions_differ_from_custodian' | 'fund_income_undistributed';
  detail: string;
}

/**
 * Checks every product's books from the ledger's balances. At every instant (every step is one
 * linked chain, so no batch leaves a half):
 *
 * - shares outstanding = the money at the custodian: the issuance account's posted debit balance
 *   (shares in holders' hands, in redemption, and income issued but not yet handed out) equals the
 *   custodian account's posted credit balance;
 * - what is in flight matches on both sides: shares being redeemed (the issuance account's pending
 *   credits) equal the money reserved to leave the custodian for them (its pending debits). Money
 *   of purchases not yet confirmed is pending on the custodian too, as credits: held, not yet
 *   the fund's, and no shares exist for it;
 * - no day's income is left undistributed once its distribution is DONE.
 *
 * Returns the violations; an empty list means every product's books hold. `paybao ledger verify`
 * runs it after the ledger's own checks, and the fund's tests after every test.
 */
export async function verifyFundBooks(q: Queryable): Promise<FundViolation[]> {
  const exists = await q.query(
    "select 1 from pg_tables where tablename = 'fund_products' and schemaname = current_schema()",
  );
  if (exists.length === 0) return [];
  const rows = await q.query<{
    product_code: string;
    shares: bigint;
    money: bigint;
    redeeming: bigint;
    leaving: bigint;
    undistributed: bigint;
    open_days: bigint;
  }>(
    `select p.product_code,
            i.debits_posted - i.credits_posted shares, c.credits_posted - c.debits_posted money,
            i.credits_pending redeeming, c.debits_pending leaving,
            u.credits_posted - u.debits_posted undistributed,
            (select count(*) from fund_income_days d where d.product_code = p.product_code and d.status <> 'DONE')::bigint open_days
       from fund_products p
       join ledger_accounts i on i.id = p.issuance_account
       join ledger_accounts c on c.id = p.custodian_account
       join ledger_accounts u on u.id = p.undistributed_account
      order by p.product_code`,
  );
  const violations: FundViolation[] = [];
  for (const r of rows) {
    if (r.shares !== r.money)
      violations.push({
        kind: 'fund_shares_differ_from_custodian',
        detail: `${r.product_code}: shares ${r.shares}, custodian ${r.money}`,
      });
    if (r.redeeming !== r.leaving)
      violations.push({
        kind: 'fund_redemptions_differ_from_custodian',
        detail: `${r.product_code}: shares in redemption ${r.redeeming}, money leaving ${r.leaving}`,
      });
    if (r.open_days === 0n && r.undistributed !== 0n)
      violations.push({ kind: 'fund_income_undistributed', detail: `${r.product_code}: ${r.undistributed} shares` });
  }
  return violations;
}
