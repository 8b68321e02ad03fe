import type { Clock } from '../core/clock.ts';
import { type Db, typed } from '../core/db/index.ts';
import { derivedId, uuidFromU128 } from '../core/ids.ts';
import { cnyLedger, FundAccountCode, FundTransferCode, fundShareLedger } from '../core/ledger-codes.ts';
import { limits } from '../core/limits.ts';
import { parseAmount } from '../core/money.ts';
import { dateFromNs } from '../core/time.ts';
import { AccountFlags, assertLedgerResults, type Ledger } from '../ledger/index.ts';
import { type ProductBooks, productBooks } from './books.ts';
import { FundError } from './errors.ts';
import type { CompanyRow, FundTables, ProductRow } from './tables.ts';

const codePattern = /^[A-Z0-9_]{2,16}$/;

/** A product with its books, as the other parts of the module use it. */
export interface Product {
  row: ProductRow;
  company: CompanyRow;
  books: ProductBooks;
}

function checkCode(code: string, param: string): void {
  if (!codePattern.test(code)) throw new FundError('invalid_product_code', { param });
}

function checkName(name: string): void {
  if (name.length < 1 || name.length > 64) throw new FundError('invalid_name', { param: 'name' });
}

/**
 * Fund companies (each an organisation with its own CNY account and liquidity pool) and their
 * products (each with a share ledger of its own, a custodian account, an issuance account and the
 * undistributed-income account). Several products may be sold at once.
 */
export class FundCatalog {
  readonly #products = new Map<string, Product>();

  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly clock: Clock,
  ) {}

  /** Creates a fund company and its two CNY accounts. */
  async createCompany(input: { code: string; name: string }): Promise<CompanyRow> {
    checkCode(input.code, 'code');
    checkName(input.name);
    const company = derivedId('fund.company', input.code);
    const pool = derivedId('fund.pool', input.code);
    const q = typed<FundTables>(this.db);
    const existing = await q
      .selectFrom('fund_companies')
      .select('company_id')
      .where((w) => w.or([w('company_id', '=', input.code), w('name', '=', input.name)]))
      .execute();
    if (existing.length > 0) throw new FundError('company_exists');
    assertLedgerResults(
      await this.ledger.createAccounts([
        { id: company, ledger: cnyLedger, code: FundAccountCode.company },
        {
          id: pool,
          ledger: cnyLedger,
          code: FundAccountCode.liquidityPool,
          flags: AccountFlags.debitsMustNotExceedCredits,
        },
      ]),
      'fund company accounts',
    );
    const row: CompanyRow = {
      company_id: input.code,
      name: input.name,
      company_account: uuidFromU128(company),
      pool_account: uuidFromU128(pool),
      created_at: dateFromNs(this.clock.nowNs()),
      refill_fen_per_hour: null,
    };
    const inserted = await q
      .insertInto('fund_companies')
      .values(row)
      .onConflict((c) => c.doNothing())
      .returningAll()
      .execute();
    if (inserted.length === 0) throw new FundError('company_exists');
    return row;
  }

  /** Creates a product of a company: its share ledger is numbered from the product sequence. */
  async createProduct(input: { code: string; companyCode: string; name: string }): Promise<ProductRow> {
    checkCode(input.code, 'code');
    checkName(input.name);
    const q = typed<FundTables>(this.db);
    const company = await q
      .selectFrom('fund_companies')
      .selectAll()
      .where('company_id', '=', input.companyCode)
      .executeTakeFirst();
    if (!company) throw new FundError('unknown_company', { param: 'company' });
    if (
      await q
        .selectFrom('fund_products')
        .select('product_code')
        .where('product_code', '=', input.code)
        .executeTakeFirst()
    )
      throw new FundError('product_exists');
    const [next] = await this.db.query<{ n: bigint }>("select nextval('fund_product_seq') n");
    const seq = Number(next?.n);
    const shareLedger = fundShareLedger(seq);
    const custodian = derivedId('fund.custodian', input.code);
    // The share accounts' ids name their ledger too: a creation interrupted after the sequence moved
    // on leaves accounts of an unused ledger behind (empty), never an id on two ledgers.
    const issuance = derivedId('fund.issuance', `${input.code}/${shareLedger}`);
    const undistributed = derivedId('fund.undistributed', `${input.code}/${shareLedger}`);
    assertLedgerResults(
      await this.ledger.createAccounts([
        {
          id: custodian,
          ledger: cnyLedger,
          code: FundAccountCode.custodian,
          flags: AccountFlags.debitsMustNotExceedCredits,
        },
        {
          id: issuance,
          ledger: shareLedger,
          code: FundAccountCode.shareIssuance,
          flags: AccountFlags.creditsMustNotExceedDebits,
        },
        {
          id: undistributed,
          ledger: shareLedger,
          code: FundAccountCode.undistributedIncome,
          flags: AccountFlags.debitsMustNotExceedCredits,
        },
      ]),
      'fund product accounts',
    );
    const row: ProductRow = {
      product_code: input.code,
      company_id: input.companyCode,
      name: input.name,
      seq,
      share_ledger: shareLedger,
      custodian_account: uuidFromU128(custodian),
      issuance_account: uuidFromU128(issuance),
      undistributed_account: uuidFromU128(undistributed),
      created_at: dateFromNs(this.clock.nowNs()),
    };
    const inserted = await q
      .insertInto('fund_products')
      .values(row)
      .onConflict((c) => c.doNothing())
      .returningAll()
      .execute();
    if (inserted.length === 0) throw new FundError('product_exists');
    return row;
  }

  /** The product, with its company and books; `unknown_product` when there is none. */
  async product(code: string): Promise<Product> {
    const known = this.#products.get(code);
    if (known) return known;
    const q = typed<FundTables>(this.db);
    const row = codePattern.test(code)
      ? await q.selectFrom('fund_products').selectAll().where('product_code', '=', code).executeTakeFirst()
      : undefined;
    if (!row) throw new FundError('unknown_product', { param: 'product' });
    const company = await q
      .selectFrom('fund_companies')
      .selectAll()
      .where('company_id', '=', row.company_id)
      .executeTakeFirstOrThrow();
    // A product never changes once made: every process may keep it.
    const product = { row, company, books: productBooks(row, company) };
    this.#products.set(code, product);
    return product;
  }

  async products(): Promise<ProductRow[]> {
    return typed<FundTables>(this.db).selectFrom('fund_products').selectAll().orderBy('seq').execute();
  }

  /**
   * The fund company refills its liquidity pool from its own account (idempotent by `key`): the
   * pool is what fast redemptions are paid from until the custodian repays it.
   */
  async refillPool(companyCode: string, amount: string, key: string): Promise<void> {
    const fen = parseAmount(amount);
    if (fen === undefined || fen <= 0n) throw new FundError('invalid_amount', { param: 'amount' });
    if (fen > BigInt(limits.fundOrderFenMax)) throw new FundError('amount_above_maximum', { param: 'amount' });
    const company = await typed<FundTables>(this.db)
      .selectFrom('fund_companies')
      .selectAll()
      .where('company_id', '=', companyCode)
      .executeTakeFirst();
    if (!company) throw new FundError('unknown_company', { param: 'company' });
    const [result] = await this.ledger.createTransfers([
      {
        id: derivedId('fund.refill', `${companyCode}/${key}`),
        debitAccountId: derivedId('fund.company', companyCode),
        creditAccountId: derivedId('fund.pool', companyCode),
        amount: fen,
        ledger: cnyLedger,
        code: FundTransferCode.poolRefill,
      },
    ]);
    assertLedgerResults([result ?? 'linked_event_failed'], 'pool refill');
  }
}
