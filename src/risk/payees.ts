import { BloomFilter } from '../core/bloom.ts';
import { BoundedMap } from '../core/bounded-map.ts';
import { cached } from '../core/cache.ts';
import { type Db, typed } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import type { RiskTables } from './tables.ts';

/**
 * Who has paid whom (`risk_payees`), for the new-payee rule, without a round trip per payment.
 * Each process keeps the pairs it saw known, and a Bloom filter of every pair in the table: read
 * whole when first needed, then on each sync what any process learned since. A pair the filter
 * has never seen is new for certain; one it may have seen is looked up once (and remembered). When
 * the table is too big for the filter (`riskPayeeFilterMax` pairs), every unknown pair is looked
 * up. A pair learned by a process whose flush is late past `riskPayeeLagMs` may look new to the
 * others until then: the rule errs on the strict side.
 */
export class KnownPayees {
  readonly #known = new BoundedMap<string, true>(limits.riskFactCacheMax);
  #learned = new Map<string, { payer: string; payee: string; at: Date }>();
  #filter: BloomFilter | null | undefined;
  #loading: Promise<void> | undefined;
  #readAtMs = 0;
  readonly #lookup: (pair: string) => Promise<{ known: boolean } | null>;

  constructor(private readonly db: Db) {
    // A pair not known is remembered too (a minute): looked up again after that, in case another
    // process learned it meanwhile.
    this.#lookup = cached(
      async (pair: string) => {
        const [payer = '', payee = ''] = pair.split('\u0000');
        const row = await typed<RiskTables>(db)
          .selectFrom('risk_payees')
          .select('payer_id')
          .where('payer_id', '=', payer)
          .where('payee_id', '=', payee)
          .executeTakeFirst();
        return { known: row !== undefined };
      },
      { max: limits.riskFactCacheMax, ttlMs: limits.riskFactCacheMs },
    );
  }

  /** Whether `payer` has paid `payee` before. */
  async knows(payer: string, payee: string, nowMs: number): Promise<boolean> {
    const pair = pairOf(payer, payee);
    if (this.#known.has(pair)) return true;
    if (this.#filter === undefined) {
      this.#loading ??= this.#load(nowMs).finally(() => {
        this.#loading = undefined;
      });
      await this.#loading;
    }
    if (this.#filter && !this.#filter.has(pair)) return false;
    const known = (await this.#lookup(pair))?.known ?? false;
    if (known) this.#remember(pair);
    return known;
  }

  /** An allowed payment: the pair is known from now on, here at once, elsewhere after the flush. */
  learn(payer: string, payee: string, at: Date): void {
    const pair = pairOf(payer, payee);
    if (this.#known.has(pair)) return;
    this.#remember(pair);
    this.#filter?.add(pair);
    this.#learned.set(pair, { payer, payee, at });
  }

  /** Writes what was learned, then reads what the other processes learned since the last read. */
  async sync(nowMs: number): Promise<void> {
    await this.flush();
    if (!this.#filter) return;
    const rows = await typed<RiskTables>(this.db)
      .selectFrom('risk_payees')
      .select(['payer_id', 'payee_id'])
      .where('first_at', '>=', new Date(this.#readAtMs - limits.riskPayeeLagMs))
      .execute();
    for (const r of rows) this.#filter.add(pairOf(r.payer_id, r.payee_id));
    this.#readAtMs = nowMs;
  }

  /** Writes the pairs learned since the last flush (nothing when none were). */
  async flush(): Promise<void> {
    const learned = [...this.#learned.values()];
    this.#learned = new Map();
    if (learned.length > 0) {
      await this.db.query(
        `insert into risk_payees (payer_id, payee_id, first_at)
         select * from unnest($1::text[], $2::text[], $3::timestamptz[]) on conflict do nothing`,
        [learned.map((p) => p.payer), learned.map((p) => p.payee), learned.map((p) => p.at)],
      );
    }
  }

  /** The filter of every pair in the table, or null when there are too many. */
  async #load(nowMs: number): Promise<void> {
    const t = typed<RiskTables>(this.db);
    const { n } = await t
      .selectFrom('risk_payees')
      .select((eb) => eb.fn.countAll<bigint>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(n) > limits.riskPayeeFilterMax) {
      this.#filter = null;
      return;
    }
    const filter = new BloomFilter(
      Math.max(limits.riskPayeeFilterCapacityMin, Number(n) * 2),
      limits.riskPayeeFilterFalsePositiveRate,
    );
    let after = { payer: '', payee: '' };
    for (;;) {
      const page = await t
        .selectFrom('risk_payees')
        .select(['payer_id', 'payee_id'])
        .where((eb) =>
          eb.or([
            eb('payer_id', '>', after.payer),
            eb.and([eb('payer_id', '=', after.payer), eb('payee_id', '>', after.payee)]),
          ]),
        )
        .orderBy('payer_id')
        .orderBy('payee_id')
        .limit(limits.riskPayeePageMax)
        .execute();
      for (const r of page) filter.add(pairOf(r.payer_id, r.payee_id));
      const last = page[page.length - 1];
      if (!last || page.length < limits.riskPayeePageMax) break;
      after = { payer: last.payer_id, payee: last.payee_id };
    }
    for (const pair of this.#learned.keys()) filter.add(pair);
    this.#filter = filter;
    this.#readAtMs = nowMs;
  }

  #remember(pair: string): void {
    this.#known.set(pair, true);
  }
}

const pairOf = (payer: string, payee: string) => `${payer}\u0000${payee}`;
