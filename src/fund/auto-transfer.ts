import type { Clock } from '../core/clock.ts';
import { type Db, typed } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import type { Ledger } from '../ledger/index.ts';
import { beijingDayAndMinute } from './calendar.ts';
import type { FundCatalog } from './catalog.ts';
import { FundError, isFundError } from './errors.ts';
import type { FundOrders, FundParties } from './orders.ts';
import type { FundTables } from './tables.ts';

/** A user's choice: each evening, the wallet balance above `keepAbove` goes into the product. */
export interface AutoTransferSetting {
  productCode: string;
  /** Yuan kept in the wallet ("500.00"). */
  keepAbove: string;
}

/** The idempotency key of a user's auto-transfer of a Beijing day: one purchase per user and day. */
export const autoTransferKey = (day: string) => `auto-${day}`;

/**
 * Optional auto-transfer: a user may choose to move idle wallet balance above a threshold into a
 * fund product each evening. The fund job runs it from `fundAutoTransferBeijingMinute` (21:00
 * Beijing) on: for each user who chose it, one purchase of the balance above the threshold (at
 * least the smallest purchase), under the key `auto-<day>` — so a second run, another process or
 * a run resumed after a crash makes no second purchase that day.
 */
export class FundAutoTransfer {
  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly catalog: FundCatalog,
    private readonly orders: FundOrders,
    private readonly parties: FundParties,
    private readonly clock: Clock,
  ) {}

  /** Chooses (or, with null, stops) a user's evening auto-transfer. */
  async set(userId: string, setting: AutoTransferSetting | null): Promise<void> {
    if ((await this.parties.walletOf(userId)) === null) throw new FundError('unknown_user');
    if (setting === null) {
      await typed<FundTables>(this.db).deleteFrom('fund_auto_transfers').where('user_id', '=', userId).execute();
      return;
    }
    const keep = parseAmount(setting.keepAbove);
    if (keep === undefined || keep < 0n) throw new FundError('invalid_amount', { param: 'keepAbove' });
    if (keep > BigInt(limits.fundOrderFenMax)) throw new FundError('amount_above_maximum', { param: 'keepAbove' });
    const product = await this.catalog.product(setting.productCode);
    await typed<FundTables>(this.db)
      .insertInto('fund_auto_transfers')
      .values({ user_id: userId, product_code: product.row.product_code, keep_fen: keep })
      .onConflict((c) =>
        c.column('user_id').doUpdateSet((eb) => ({
          product_code: eb.ref('excluded.product_code'),
          keep_fen: eb.ref('excluded.keep_fen'),
        })),
      )
      .execute();
  }

  /** A user's choice, or null. */
  async get(userId: string): Promise<AutoTransferSetting | null> {
    const row = await typed<FundTables>(this.db)
      .selectFrom('fund_auto_transfers')
      .select(['product_code', 'keep_fen'])
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row ? { productCode: row.product_code, keepAbove: formatAmount(row.keep_fen) } : null;
  }

  /**
   * This evening's auto-transfers (nothing before `fundAutoTransferBeijingMinute`): the users who
   * chose one and have no auto-transfer order today, a page at a time. A refusal of one (the
   * balance moved meanwhile) is left for that user and day; the others go on. Returns the purchases made.
   */
  async runDue(): Promise<number> {
    const { day, minute } = beijingDayAndMinute(this.clock.nowNs());
    if (minute < limits.fundAutoTransferBeijingMinute) return 0;
    const key = autoTransferKey(day);
    let made = 0;
    let after = '';
    for (;;) {
      const due = await this.db.query<{ user_id: string; product_code: string; keep_fen: bigint }>(
        `select s.user_id, s.product_code, s.keep_fen from fund_auto_transfers s
          where s.user_id > $1
            and not exists (select 1 from fund_orders o where o.user_id = s.user_id and o.idempotency_key = $2)
          order by s.user_id limit $3`,
        [after, key, limits.fundConfirmBatchMax],
      );
      for (const s of due) if (await this.#transfer(s.user_id, s.product_code, s.keep_fen, key)) made++;
      const last = due[due.length - 1];
      if (!last || due.length < limits.fundConfirmBatchMax) return made;
      after = last.user_id;
    }
  }

  async #transfer(userId: string, productCode: string, keep: bigint, key: string): Promise<boolean> {
    const wallet = await this.parties.walletOf(userId);
    if (wallet === null) return false;
    const [account] = await this.ledger.lookupAccounts([wallet]);
    const available = account ? account.creditsPosted - account.debitsPosted - account.debitsPending : 0n;
    const excess = available - keep;
    if (excess < BigInt(limits.fundPurchaseFenMin)) return false;
    const amount = excess > BigInt(limits.fundOrderFenMax) ? BigInt(limits.fundOrderFenMax) : excess;
    try {
      await this.orders.purchase(userId, { productCode, amount: formatAmount(amount), idempotencyKey: key });
      return true;
    } catch (error) {
      // Another run made today's purchase first, or the balance moved: either way, not twice.
      if (isFundError(error, 'idempotency_key_reused', 'balance_not_enough')) return false;
      throw error;
    }
  }
}
