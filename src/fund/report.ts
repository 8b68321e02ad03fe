import type { Db } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { formatAmount } from '../core/money.ts';
import { addDays } from './calendar.ts';

/** One product in the fund report. */
export interface ProductReport {
  productCode: string;
  companyCode: string;
  holders: number;
  /** Shares outstanding (issued, including income not yet handed out), as yuan. */
  sharesOutstanding: string;
  /** Money at the custodian, posted. */
  custodian: string;
  /** Purchases held, waiting for their confirmation day. */
  toBeConfirmed: string;
  largestHolders: { userId: string; shares: string }[];
}

/** A fund company's liquidity pool against the fast redemptions it must cover. */
export interface PoolReport {
  companyCode: string;
  pool: string;
  /** The largest day's fast redemptions of the last week, over the company's products. */
  dayDemand: string;
  /** pool / dayDemand in percent, two places; null when there was no demand. */
  coveragePercent: string | null;
  covered: boolean;
}

export interface FundReport {
  asOfDay: string;
  products: ProductReport[];
  pools: PoolReport[];
  /** Redemptions per requested day and kind over the last week. */
  redemptionsByDay: {
    day: string;
    productCode: string;
    kind: 'STANDARD' | 'FAST' | 'PAYMENT';
    count: number;
    amount: string;
  }[];
  /** Every pool covers at least `fundPoolCoveragePercentMin` of its day's demand. */
  covered: boolean;
}

/** `paybao report fund`: holdings, pools, redemptions by day, the largest holders, pool coverage. */
export async function fundReport(db: Db, today: string): Promise<FundReport> {
  const since = addDays(today, -6);
  const products = await db.query<{
    product_code: string;
    company_id: string;
    holders: number;
    shares: bigint;
    custodian: bigint;
    pending: bigint;
  }>(
    `select p.product_code, p.company_id,
            (select count(*)::int from fund_holders h join ledger_accounts a on a.id = h.account_id
              where h.product_code = p.product_code and a.credits_posted > a.debits_posted) holders,
            i.debits_posted - i.credits_posted shares, c.credits_posted - c.debits_posted custodian, c.credits_pending pending
       from fund_products p join ledger_accounts i on i.id = p.issuance_account join ledger_accounts c on c.id = p.custodian_account
      order by p.seq`,
  );
  const out: ProductReport[] = [];
  for (const p of products) {
    const top = await db.query<{ user_id: string; shares: bigint }>(
      `select h.user_id, a.credits_posted - a.debits_posted shares
         from fund_holders h join ledger_accounts a on a.id = h.account_id
        where h.product_code = $1 and a.credits_posted > a.debits_posted
        order by shares desc, h.user_id limit $2`,
      [p.product_code, limits.fundReportHoldersMax],
    );
    out.push({
      productCode: p.product_code,
      companyCode: p.company_id,
      holders: p.holders,
      sharesOutstanding: formatAmount(p.shares),
      custodian: formatAmount(p.custodian),
      toBeConfirmed: formatAmount(p.pending),
      largestHolders: top.map((t) => ({ userId: t.user_id, shares: formatAmount(t.shares) })),
    });
  }
  const redemptions = await db.query<{
    day: string;
    product_code: string;
    kind: 'STANDARD' | 'FAST' | 'PAYMENT';
    n: number;
    fen: bigint;
  }>(
    `select requested_day as day, product_code, kind, count(*)::int n, sum(amount_fen)::bigint fen from fund_orders
      where kind in ('STANDARD', 'FAST', 'PAYMENT') and status <> 'SUBMITTED' and requested_day >= $1
      group by requested_day, product_code, kind order by requested_day, product_code, kind`,
    [since],
  );
  const pools = await db.query<{ company_id: string; pool: bigint; demand: bigint }>(
    `select c.company_id, a.credits_posted - a.debits_posted - a.debits_pending pool,
            coalesce((select max(fen) from (select sum(o.amount_fen)::bigint fen from fund_orders o join fund_products p using (product_code)
                       where p.company_id = c.company_id and o.kind in ('FAST', 'PAYMENT') and o.status <> 'SUBMITTED' and o.requested_day >= $1
                       group by o.requested_day) d), 0)::bigint demand
       from fund_companies c join ledger_accounts a on a.id = c.pool_account order by c.company_id`,
    [since],
  );
  const poolReports = pools.map((p): PoolReport => {
    const covered = p.demand === 0n || p.pool * 100n >= p.demand * BigInt(limits.fundPoolCoveragePercentMin);
    return {
      companyCode: p.company_id,
      pool: formatAmount(p.pool),
      dayDemand: formatAmount(p.demand),
      coveragePercent: p.demand === 0n ? null : formatAmount((p.pool * 10_000n) / p.demand),
      covered,
    };
  });
  return {
    asOfDay: today,
    products: out,
    pools: poolReports,
    redemptionsByDay: redemptions.map((r) => ({
      day: r.day,
      productCode: r.product_code,
      kind: r.kind,
      count: r.n,
      amount: formatAmount(r.fen),
    })),
    covered: poolReports.every((p) => p.covered),
  };
}
