import { assert } from '../core/assert.ts';
import type { Lane } from '../core/batcher.ts';
import type { Clock } from '../core/clock.ts';
import { type Db, typed } from '../core/db/index.ts';
import { u128FromUuid } from '../core/ids.ts';
import { limits } from '../core/limits.ts';
import { formatAmount } from '../core/money.ts';
import { isCalendarDate } from '../core/time.ts';
import { assertLedgerResults, chainCommitted, type Ledger } from '../ledger/index.ts';
import { holderIncomeEvent, incomeEvents } from './books.ts';
import { addDays, beijingDayAndMinute } from './calendar.ts';
import type { FundCatalog, Product } from './catalog.ts';
import { FundError } from './errors.ts';
import type { FundOrders } from './orders.ts';
import type { FundTables } from './tables.ts';

/** Income per 10,000 shares is kept in units of 0.0001 yuan: "0.6543" is 6543. */
const per10kPattern = /^(0|[1-9]\d{0,2})(\.\d{1,4})?$/;
/** shares × per10k_scaled / this = fen: shares are fen, per10k is yuan per 10,000 yuan, scaled by 10^4. */
const incomeDivisor = 100_000_000n;

/** "0.6543" → 6543n; undefined for anything else. */
export function parsePer10k(text: string): bigint | undefined {
  if (!per10kPattern.test(text)) return undefined;
  const [whole = '0', fraction = ''] = text.split('.');
  return BigInt(whole) * 10_000n + BigInt(fraction.padEnd(4, '0'));
}

/** 6543n → "0.6543". */
export function formatPer10k(scaled: bigint): string {
  return `${scaled / 10_000n}.${(scaled % 10_000n).toString().padStart(4, '0')}`;
}

/**
 * The 7-day annualised yield, in percent, from the last seven natural days' income per 10,000
 * shares r_1 … r_7 (yuan): `((1 + r_1/10000) × … × (1 + r_7/10000))^(365/7) − 1`, the compound
 * form funds publish. A yield is a rate shown to people, not money: a float is fine here.
 * Undefined unless all seven days are declared.
 */
export function sevenDayYieldPercent(per10kScaled: readonly bigint[]): number | undefined {
  if (per10kScaled.length !== limits.fundYieldDays) return undefined;
  const growth = per10kScaled.reduce((g, r) => g * (1 + Number(r) / Number(incomeDivisor)), 1);
  return (growth ** (365 / limits.fundYieldDays) - 1) * 100;
}

/** SQL: the income line `l` is paid, that is, its page is (the snapshot cuts a day's lines into pages). */
const linePaid = (l: string) =>
  `exists (select 1 from fund_income_pages p where p.product_code = ${l}.product_code and p.day = ${l}.day and p.paid
     and ${l}.account_id >= p.first_account and (p.end_account is null or ${l}.account_id < p.end_account))`;

export interface DistributionSummary {
  productCode: string;
  day: string;
  holders: number;
  totalFen: bigint;
}

/**
 * The daily income: the fund company declares, per product and natural day, its income per
 * 10,000 shares; the distribution gives every holder with confirmed shares that day
 * `floor(shares × per10k / 10000)` fen as new shares, and the remainder of the declared total
 * (`floor(Σ shares × per10k / 10000)`) one fen each to the largest fractional parts, ties to
 * the lower account id: the kernel's `allocate` rule (largest remainder) applied to the
 * fractional parts, so that the holders receive exactly the declared total.
 *
 * Set-based and resumable. One statement writes every holder's line (`fund_income_lines`) and
 * moves the day to SNAPSHOT; one linked chain brings the total into the custodian and issues it
 * as undistributed shares; then the lines are paid in ledger submissions of
 * `fundDistributionBatchMax`, each transfer's id derived from (product, day, holder), and marked
 * paid. A crash anywhere resumes from the lines: a line paid but not marked is answered `exists`.
 */
export class FundIncome {
  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly catalog: FundCatalog,
    private readonly orders: FundOrders,
    private readonly clock: Clock,
    /** Holders per ledger submission (tests make pages small to crash between them). */
    private readonly pageLines: number = limits.fundDistributionBatchMax,
    /** Pages paid at once (smaller numbers leave more of the ledger to payments meanwhile). */
    private readonly pagesInFlight: number = limits.fundDistributionPagesInFlightMax,
    /** Where the pages wait in the ledger: behind payments (`bulk`), or among them. */
    private readonly lane: Lane = 'bulk',
  ) {}

  /** The days declared, newest first (at most `days` of them): each product's figure, status and distribution. */
  async declarations(days: number = limits.fundYieldHistoryDays): Promise<
    {
      productCode: string;
      day: string;
      per10k: string;
      status: 'DECLARED' | 'SNAPSHOT' | 'DONE';
      totalAmount: string | null;
      holders: number | null;
      declaredAt: Date;
    }[]
  > {
    const rows = await typed<FundTables>(this.db)
      .selectFrom('fund_income_days')
      .selectAll()
      .orderBy('day', 'desc')
      .orderBy('product_code')
      .limit(days)
      .execute();
    return rows.map((r) => ({
      productCode: r.product_code,
      day: r.day,
      per10k: formatPer10k(r.per10k_scaled),
      status: r.status,
      totalAmount: r.total_fen === null ? null : formatAmount(r.total_fen),
      holders: r.holders,
      declaredAt: r.declared_at,
    }));
  }

  /** Records (or, before its distribution, corrects) the income of `day` per 10,000 shares. */
  async declare(productCode: string, day: string, per10k: string): Promise<void> {
    if (!isCalendarDate(day)) throw new FundError('invalid_day', { param: 'date' });
    const scaled = parsePer10k(per10k);
    if (scaled === undefined || scaled > BigInt(limits.fundPer10kScaledMax))
      throw new FundError('invalid_per10k', { param: 'per10k' });
    const product = await this.catalog.product(productCode);
    if (day > beijingDayAndMinute(this.clock.nowNs()).day) throw new FundError('day_in_future', { param: 'date' });
    const rows = await this.db.query(
      `insert into fund_income_days (product_code, day, per10k_scaled, status, declared_at) values ($1, $2, $3, 'DECLARED', $4)
       on conflict (product_code, day) do update set per10k_scaled = excluded.per10k_scaled, declared_at = excluded.declared_at
         where fund_income_days.status = 'DECLARED'
       returning 1`,
      [product.row.product_code, day, scaled, new Date(Number(this.clock.nowNs() / 1_000_000n))],
    );
    if (rows.length === 0) throw new FundError('already_distributed', { param: 'date' });
  }

  /**
   * Distributes the income declared for `day` (a day that is over), for every product that
   * declared it; confirms the orders due by then first, so that shares confirmed on `day` earn on it. `onProgress` hears
   * (lines paid, lines) after each submission.
   */
  async distribute(day: string, onProgress?: (done: number, total: number) => void): Promise<DistributionSummary[]> {
    if (!isCalendarDate(day)) throw new FundError('invalid_day', { param: 'date' });
    const today = beijingDayAndMinute(this.clock.nowNs()).day;
    if (day >= today) throw new FundError('day_not_over', { param: 'date' });
    await this.orders.confirmDue(day);
    const days = await typed<FundTables>(this.db)
      .selectFrom('fund_income_days')
      .selectAll()
      .where('day', '=', day)
      .orderBy('product_code')
      .execute();
    const out: DistributionSummary[] = [];
    for (const d of days) {
      const product = await this.catalog.product(d.product_code);
      out.push(await this.#distributeOne(product, day, onProgress));
    }
    return out;
  }

  /** Every declared day not yet distributed, before today, in order (the server's job). */
  async distributeDue(): Promise<DistributionSummary[]> {
    const today = beijingDayAndMinute(this.clock.nowNs()).day;
    const rows = await this.db.query<{ day: string }>(
      "select distinct day from fund_income_days where status <> 'DONE' and day < $1 order by day",
      [today],
    );
    const out: DistributionSummary[] = [];
    for (const r of rows) out.push(...(await this.distribute(r.day)));
    return out;
  }

  async #distributeOne(
    product: Product,
    day: string,
    onProgress?: (done: number, total: number) => void,
  ): Promise<DistributionSummary> {
    const code = product.row.product_code;
    await this.#snapshot(product, day);
    const state = await typed<FundTables>(this.db)
      .selectFrom('fund_income_days')
      .selectAll()
      .where('product_code', '=', code)
      .where('day', '=', day)
      .executeTakeFirstOrThrow();
    const totalFen = state.total_fen ?? 0n;
    const holders = state.holders ?? 0;
    if (state.status === 'SNAPSHOT') {
      if (totalFen > 0n) {
        const results = await this.ledger.createTransfers(incomeEvents(code, day, totalFen, product.books));
        assert(chainCommitted(results), `income of ${code} ${day} refused: ${results.join(',')}`);
      }
      await this.#payLines(product, day, holders, onProgress);
      await this.db.query(
        "update fund_income_days set status = 'DONE', done_at = $3 where product_code = $1 and day = $2",
        [code, day, new Date(Number(this.clock.nowNs() / 1_000_000n))],
      );
    }
    return { productCode: code, day, holders, totalFen };
  }

  /**
   * Writes every earning holder's line of the day in one statement, with the day's total, and
   * moves the day to SNAPSHOT, in one transaction. A holder's shares on `day` are the confirmed
   * shares now, less what came after the day (purchases confirmed later, refunds' shares earning
   * later, income of later days),
   * plus what left after it (redemptions asked later): a late distribution pays what the day earned.
   */
  async #snapshot(product: Product, day: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const [state] = await tx.query<{ status: string; per10k_scaled: bigint }>(
        'select status, per10k_scaled from fund_income_days where product_code = $1 and day = $2 for update',
        [product.row.product_code, day],
      );
      if (state?.status !== 'DECLARED') return;
      // The fund reads the balances of its own share ledger directly, to snapshot a million holders in
      // one statement (read only: every movement still goes through the ledger's batches).
      await tx.query(
        `with later_orders as (
           select user_id, sum(case when kind in ('PURCHASE', 'REFUND') then -amount_fen else amount_fen end)::bigint delta
             from fund_orders o
            where product_code = $1
              and ((kind = 'PURCHASE' and status = 'DONE' and due_day > $2)
                or (kind = 'REFUND' and due_day > $2 and exists (select 1 from ledger_transfers t where t.id = o.order_id))
                or (kind in ('STANDARD', 'FAST', 'PAYMENT') and status in ('PENDING', 'DONE') and requested_day > $2))
            group by user_id
         ), later_income as (
           select l.account_id, sum(l.income_fen)::bigint fen from fund_income_lines l
            where l.product_code = $1 and l.day > $2 and ${linePaid('l')} group by l.account_id
         ), held as (
           select h.account_id,
                  a.credits_posted - a.debits_posted - a.debits_pending + coalesce(o.delta, 0) - coalesce(i.fen, 0) shares
             from fund_holders h join ledger_accounts a on a.id = h.account_id
             left join later_orders o on o.user_id = h.user_id
             left join later_income i on i.account_id = h.account_id
            where h.product_code = $1
         ), earning as (
           select account_id, shares, shares * $3 / $4 base, shares * $3 % $4 frac from held where shares > 0
         ), totals as (
           select coalesce(sum(shares), 0)::bigint * $3 / $4 - coalesce(sum(base), 0)::bigint remainder from earning
         ), ranked as (
           select e.*, row_number() over (order by frac desc, account_id) rank from earning e
         )
         insert into fund_income_lines (product_code, day, account_id, shares, income_fen)
         select $1, $2, r.account_id, r.shares, r.base + case when r.rank <= t.remainder then 1 else 0 end
           from ranked r cross join totals t
          order by r.account_id`,
        [product.row.product_code, day, state.per10k_scaled, incomeDivisor],
      );
      await tx.query(
        `insert into fund_income_pages (product_code, day, first_account, end_account, lines)
         select $1, $2, account_id, lead(account_id) over (order by account_id), least($3::bigint, n - rn + 1)
           from (select account_id, row_number() over (order by account_id) rn, count(*) over () n
                   from fund_income_lines where product_code = $1 and day = $2) l
          where (rn - 1) % $3 = 0`,
        [product.row.product_code, day, this.pageLines],
      );
      // The day's total and count from the lines written, checked against the declared total.
      const [check] = await tx.query<{ ok: boolean }>(
        `update fund_income_days d set status = 'SNAPSHOT', total_fen = s.total, holders = s.n
           from (select coalesce(sum(income_fen), 0)::bigint total, coalesce(sum(shares), 0)::bigint shares, count(*)::int n
                   from fund_income_lines where product_code = $1 and day = $2) s
          where d.product_code = $1 and d.day = $2
          returning s.total = s.shares * d.per10k_scaled / $3 ok`,
        [product.row.product_code, day, incomeDivisor],
      );
      assert(check?.ok, `income lines of ${product.row.product_code} ${day} do not sum to the declared total`);
    });
  }

  /**
   * Pays the pages the snapshot cut that are not paid yet, `fundDistributionPagesInFlightMax` at
   * once (unless told otherwise), so that the ledger writes one page while the next is read; each page, once the ledger
   * has answered, is marked paid in one row (never its lines one by one: a million row updates
   * cost the database more than the payments themselves).
   */
  async #payLines(
    product: Product,
    day: string,
    total: number,
    onProgress?: (done: number, total: number) => void,
  ): Promise<void> {
    const pages = await this.db.query<{ first: string; end: string | null; lines: number; paid: boolean }>(
      `select first_account::text first, end_account::text "end", lines, paid from fund_income_pages
        where product_code = $1 and day = $2 order by first_account`,
      [product.row.product_code, day],
    );
    const unpaid = pages.filter((p) => !p.paid);
    let done = pages.reduce((n, p) => n + (p.paid ? p.lines : 0), 0);
    onProgress?.(done, total);
    let next = 0;
    const worker = async () => {
      for (let page = next++; page < unpaid.length; page = next++) {
        try {
          // Not `done += await …`: that reads `done` before the await, and the other worker's
          // pages paid meanwhile would be lost from the count (the bar ended at 50%).
          const paid = await this.#payPage(product, day, unpaid[page] as (typeof unpaid)[number]);
          done += paid;
        } catch (error) {
          next = unpaid.length; // the other workers take no new page
          throw error;
        }
        onProgress?.(done, total);
      }
    };
    // Every worker ends before the distribution answers, a failed one included: none is left paying.
    const ended = await Promise.allSettled(Array.from({ length: this.pagesInFlight }, worker));
    const failed = ended.find((e) => e.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Pays the lines of the page of accounts from `first` up to (not including) `end`; returns how many. */
  async #payPage(product: Product, day: string, page: { first: string; end: string | null }): Promise<number> {
    const code = product.row.product_code;
    const lines = await this.db.query<{ account_id: string; income_fen: bigint }>(
      `select account_id::text, income_fen from fund_income_lines
        where product_code = $1 and day = $2 and account_id >= $3::uuid and ($4::uuid is null or account_id < $4::uuid)`,
      [code, day, page.first, page.end],
    );
    const events = lines
      .filter((l) => l.income_fen > 0n)
      .map((l) => holderIncomeEvent(code, day, u128FromUuid(l.account_id), l.income_fen, product.books));
    // The holders' accounts read ahead, outside the ledger's lock (a million of them are not cached).
    await this.ledger.prefetchAccounts(events.flatMap((e) => [e.debitAccountId, e.creditAccountId]));
    // In the ledger's bulk lane, in parts of one bulk batch: payments meanwhile go first.
    const parts: Promise<readonly string[]>[] = [];
    const part = this.ledger.bulkBatchEventsMax;
    for (let i = 0; i < events.length; i += part) {
      parts.push(this.ledger.createTransfers(events.slice(i, i + part), this.lane));
    }
    for (const results of await Promise.all(parts)) assertLedgerResults(results, 'income distribution');
    await this.db.query(
      'update fund_income_pages set paid = true where product_code = $1 and day = $2 and first_account = $3::uuid',
      [code, day, page.first],
    );
    return lines.length;
  }

  /** The 7-day yield of a product as of `day` (the seven natural days ending with it), in percent. */
  async sevenDayYield(productCode: string, day: string): Promise<number | undefined> {
    const first = addDays(day, 1 - limits.fundYieldDays);
    const rows = await typed<FundTables>(this.db)
      .selectFrom('fund_income_days')
      .select('per10k_scaled')
      .where('product_code', '=', productCode)
      .where('day', '>=', first)
      .where('day', '<=', day)
      .execute();
    return sevenDayYieldPercent(rows.map((r) => r.per10k_scaled));
  }

  /**
   * The 7-day yield of each of the `days` natural days ending with `lastDay`, oldest first (none
   * for a day whose seven days are not all declared): one read of the declarations.
   */
  async yieldSeries(productCode: string, lastDay: string, days: number): Promise<{ day: string; percent?: number }[]> {
    const first = addDays(lastDay, 2 - days - limits.fundYieldDays);
    const rows = await typed<FundTables>(this.db)
      .selectFrom('fund_income_days')
      .select(['day', 'per10k_scaled'])
      .where('product_code', '=', productCode)
      .where('day', '>=', first)
      .where('day', '<=', lastDay)
      .execute();
    const declared = new Map(rows.map((r) => [r.day, r.per10k_scaled]));
    return Array.from({ length: days }, (_, i) => {
      const day = addDays(lastDay, i + 1 - days);
      const week = Array.from({ length: limits.fundYieldDays }, (_, j) => declared.get(addDays(day, -j)));
      const percent = week.every((r) => r !== undefined) ? sevenDayYieldPercent(week as bigint[]) : undefined;
      return percent === undefined ? { day } : { day, percent };
    });
  }

  /** A holder's income: the last day's and the total, in fen. */
  async incomeOf(
    productCode: string,
    accountId: string,
  ): Promise<{ lastDay: string | null; lastFen: bigint; totalFen: bigint }> {
    const [row] = await this.db.query<{ last_day: string | null; last_fen: bigint | null; total: bigint }>(
      `with paid as (select day, income_fen from fund_income_lines l
                      where l.product_code = $1 and l.account_id = $2 and ${linePaid('l')})
       select max(day) last_day, coalesce(sum(income_fen), 0)::bigint total,
              (select income_fen from paid order by day desc limit 1) last_fen
         from paid`,
      [productCode, accountId],
    );
    return { lastDay: row?.last_day ?? null, lastFen: row?.last_fen ?? 0n, totalFen: row?.total ?? 0n };
  }
}
