import type { Db } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import { FundError } from './errors.ts';

/** What one fund company's pool would do if a share of holders asked fast redemption at once. */
export interface PoolStress {
  companyCode: string;
  /** The pool now (available: posted, less what is reserved). */
  pool: string;
  /** Holders of the company's products (users with available shares). */
  holders: number;
  /** Of them, those asking: the largest first (the run that hurts most). */
  asking: number;
  /** What they ask: all their available shares, up to what is left of each one's daily fast limit. */
  asked: string;
  /** Requests the pool pays in full, in arrival order, and their sum. */
  covered: number;
  coveredAmount: string;
  /** Requests it must refuse (each offered standard redemption), and their sum. */
  refused: number;
  refusedAmount: string;
  /** The company's refill rate, per hour. */
  refillPerHour: string;
  /** Hours until the pool is back where it was, at the refill rate (what the covered took out). */
  hoursToRestore: string;
  /** Hours until the pool could have paid the refused too. */
  hoursToCoverRefused: string;
}

export interface StressReport {
  day: string;
  /** The share of holders asking, as given ("0.3"). */
  share: string;
  pools: PoolStress[];
}

const sharePattern = /^(0(\.\d{1,4})?|1(\.0{1,4})?)$/;

/** "0.3" → 3000 (parts per 10,000); undefined unless 0 < share ≤ 1 with at most four places. */
export function parseShare(text: string): number | undefined {
  if (!sharePattern.test(text)) return undefined;
  const [whole = '0', fraction = ''] = text.split('.');
  const parts = Number(whole) * 10_000 + Number(fraction.padEnd(4, '0'));
  return parts > 0 ? parts : undefined;
}

/** Hours as a decimal with two places, from fen over fen per hour, rounded up (never a float). */
function hours(fen: bigint, perHour: bigint): string {
  if (fen === 0n) return '0.00';
  return formatAmount((fen * 100n + perHour - 1n) / perHour);
}

/**
 * `paybao fund stress --share 0.3`: a pure computation from the books as they are — nothing is
 * written, no money moves. For each fund company: its holders (available shares over its
 * products), the `share` of them with the most shares asking fast redemption at once, each asking
 * all of it up to what is left of their daily fast limit today (`fundFastRedemptionDailyFenMax`,
 * across products, less `fund_fast_quota`); the pool pays them in arrival order (account order:
 * as good as random) while it can and refuses a request it cannot pay whole, as `redeem` does;
 * then how long the company's refill rate takes to restore the pool and to cover the refused.
 */
export async function stressPools(db: Db, day: string, shareText: string): Promise<StressReport> {
  const share = parseShare(shareText);
  if (share === undefined) throw new FundError('invalid_share', { param: 'share' });
  const companies = await db.query<{ company_id: string; pool: bigint; rate: bigint | null }>(
    `select c.company_id, a.credits_posted - a.debits_posted - a.debits_pending pool, c.refill_fen_per_hour rate
       from fund_companies c join ledger_accounts a on a.id = c.pool_account order by c.company_id`,
  );
  const pools: PoolStress[] = [];
  for (const c of companies) {
    const rate = c.rate ?? BigInt(limits.fundPoolRefillFenPerHourDefault);
    pools.push(stressPool(c.company_id, c.pool, rate, await askers(db, c.company_id, day, share)));
  }
  return { day, share: shareText, pools };
}

/** The asking holders of a company, in arrival order, each with what they ask, and the holders' count. */
async function askers(db: Db, company: string, day: string, share: number) {
  const rows = await db.query<{ asked: bigint }>(
    `with held as (
       select h.user_id, min(h.account_id::text) first_account, sum(a.credits_posted - a.debits_posted - a.debits_pending)::bigint shares
         from fund_holders h join fund_products p using (product_code) join ledger_accounts a on a.id = h.account_id
        where p.company_id = $1 group by h.user_id having sum(a.credits_posted - a.debits_posted - a.debits_pending) > 0
     ), asking as (
       select * from held order by shares desc, user_id limit (select count(*) * $3 / 10000 from held)
     )
     select least(s.shares, greatest($4 - coalesce(q.used_fen, 0), 0))::bigint asked
       from asking s left join fund_fast_quota q on q.user_id = s.user_id and q.day = $2
      order by s.first_account`,
    [company, day, share, limits.fundFastRedemptionDailyFenMax],
  );
  const [counted] = await db.query<{ n: number }>(
    `select count(*)::int n from (select h.user_id from fund_holders h join fund_products p using (product_code)
       join ledger_accounts a on a.id = h.account_id where p.company_id = $1
      group by h.user_id having sum(a.credits_posted - a.debits_posted - a.debits_pending) > 0) held`,
    [company],
  );
  return { holders: counted?.n ?? 0, asked: rows.map((r) => r.asked).filter((fen) => fen > 0n) };
}

/** The pool against the requests, in order: paid while it can, refused whole when it cannot. Pure. */
export function stressPool(
  companyCode: string,
  pool: bigint,
  refillPerHour: bigint,
  demand: { holders: number; asked: readonly bigint[] },
): PoolStress {
  let left = pool > 0n ? pool : 0n;
  let covered = 0;
  let coveredFen = 0n;
  let refusedFen = 0n;
  for (const fen of demand.asked) {
    if (fen <= left) {
      left -= fen;
      covered++;
      coveredFen += fen;
    } else refusedFen += fen;
  }
  return {
    companyCode,
    pool: formatAmount(pool),
    holders: demand.holders,
    asking: demand.asked.length,
    asked: formatAmount(coveredFen + refusedFen),
    covered,
    coveredAmount: formatAmount(coveredFen),
    refused: demand.asked.length - covered,
    refusedAmount: formatAmount(refusedFen),
    refillPerHour: formatAmount(refillPerHour),
    hoursToRestore: hours(coveredFen, refillPerHour),
    hoursToCoverRefused: hours(refusedFen > left ? refusedFen - left : 0n, refillPerHour),
  };
}

/** Sets a fund company's refill rate of its pool, per hour (`paybao fund refill-rate`). */
export async function setRefillRate(db: Db, companyCode: string, perHour: string): Promise<void> {
  const fen = parseAmount(perHour);
  if (fen === undefined || fen <= 0n) throw new FundError('invalid_amount', { param: 'perHour' });
  if (fen > BigInt(limits.fundOrderFenMax)) throw new FundError('amount_above_maximum', { param: 'perHour' });
  const rows = await db.query('update fund_companies set refill_fen_per_hour = $2 where company_id = $1 returning 1', [
    companyCode,
    fen,
  ]);
  if (rows.length === 0) throw new FundError('unknown_company', { param: 'company' });
}
