import { assert } from '../core/assert.ts';
import type { Clock } from '../core/clock.ts';
import { type Db, typed } from '../core/db/index.ts';
import { derivedId, uuidFromU128 } from '../core/ids.ts';
import { FundTransferCode } from '../core/ledger-codes.ts';
import { limits } from '../core/limits.ts';
import { parseAmount } from '../core/money.ts';
import { dateFromNs } from '../core/time.ts';
import { type CreateTransferResult, chainCommitted, type Ledger, type TransferInput } from '../ledger/index.ts';
import { orderEvents, refundEvents } from './books.ts';
import { addDays, beijingDayAndMinute } from './calendar.ts';
import type { FundCatalog, Product } from './catalog.ts';
import { FundError } from './errors.ts';
import { available, type FundOrders, holderAccount } from './orders.ts';
import type { FundTables, OrderRow } from './tables.ts';

/** A payment of a trade from the fund: who pays, from which product, how much, for what. */
export interface FundPayment {
  userId: string;
  productCode: string;
  fen: bigint;
  /** The payment's own key (the trade's number): one payment, one order, one set of ids. */
  paymentKey: string;
}

/**
 * Paying a trade from Yu'e Bao. It is consumption, not a withdrawal: shares are redeemed as a
 * fast redemption redeems them (the pool pays at once, the shares and the custodian's repayment
 * of the pool pending until the next trading day), but it does not count against the daily
 * fast-redemption limit. The fund never submits these legs itself: `legs` writes the order
 * (SUBMITTED) and answers the legs, which the trade submits in ONE linked chain with its own
 * payment (both or neither); `settled` then records the outcome. The idempotency key of such an
 * order has a space, which no user's key has, so the two never meet.
 */
export class FundPayments {
  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly catalog: FundCatalog,
    private readonly orders: FundOrders,
    private readonly clock: Clock,
  ) {}

  /**
   * The products the user can pay `fen` from now (holdings and the pool both cover it), the
   * largest holding first.
   */
  async sourcesFor(userId: string, fen: bigint): Promise<string[]> {
    const holdings = await this.orders.holdings(userId);
    const sources: { code: string; shares: bigint }[] = [];
    for (const h of holdings) {
      const product = await this.catalog.product(h.productCode);
      const [holder, pool] = await this.ledger.lookupAccounts([
        holderAccount(h.productCode, userId),
        product.books.pool,
      ]);
      if (available(holder) >= fen && available(pool) >= fen)
        sources.push({ code: h.productCode, shares: available(holder) });
    }
    return sources.sort((a, b) => (a.shares === b.shares ? 0 : a.shares > b.shares ? -1 : 1)).map((s) => s.code);
  }

  /**
   * Writes the payment's order (SUBMITTED; the same one again for the same key) and answers its
   * linked legs, whose last is linked too: the caller closes the chain with its own transfer.
   * Refused, writing nothing, when the holdings or the pool do not cover it now.
   */
  async legs(payment: FundPayment, wallet: bigint): Promise<TransferInput[]> {
    const product = await this.catalog.product(payment.productCode);
    const holder = holderAccount(payment.productCode, payment.userId);
    const row = await this.#row(payment);
    const earlier = await this.#find(row.order_id);
    if (earlier) {
      assert(earlier.amount_fen === payment.fen, `fund payment ${payment.paymentKey} asked twice with two amounts`);
      return orderEvents(earlier, product.books, { holder, wallet });
    }
    await this.#check(product, holder, payment.fen);
    await typed<FundTables>(this.db)
      .insertInto('fund_orders')
      .values(row)
      .onConflict((c) => c.doNothing())
      .execute();
    return orderEvents(row, product.books, { holder, wallet });
  }

  /**
   * The legs that return a refund's fund part to the buyer's shares of the product that paid, at
   * once (posted), unlinked: the trade links them into its refund's chain (both or neither). Ids
   * derive from the refund's key, so a replay answers `exists` and moves nothing twice.
   */
  async refundLegs(
    refund: { refundKey: string; tradeRef: bigint; userId: string; productCode: string; fen: bigint },
    payer: bigint,
  ): Promise<TransferInput[]> {
    assert(refund.fen > 0n, `refund ${refund.refundKey} returns nothing to the fund`);
    const product = await this.catalog.product(refund.productCode);
    const holder = holderAccount(refund.productCode, refund.userId);
    const events = refundEvents({ ...refund, payer, holder }, product.books);
    await this.#recordRefund(refund, events);
    return events;
  }

  /**
   * The refund's order row (kind REFUND, written before its chain goes): it puts the shares in
   * the buyer's order list and tells the distribution that they earn from the day after the
   * refund, not before. Its id is the id of the share transfer, so that a row counts only once
   * that transfer exists (a refused chain leaves a row that nothing reads as done; the same
   * refund again finds it).
   */
  async #recordRefund(
    refund: { refundKey: string; userId: string; productCode: string; fen: bigint },
    events: TransferInput[],
  ) {
    const shares = events.find((e) => e.code === FundTransferCode.refundShares);
    assert(shares, `refund ${refund.refundKey} returns shares`);
    const now = this.clock.nowNs();
    const day = beijingDayAndMinute(now).day;
    await typed<FundTables>(this.db)
      .insertInto('fund_orders')
      .values({
        order_id: uuidFromU128(shares.id),
        user_id: refund.userId,
        idempotency_key: `refund ${refund.refundKey}`,
        product_code: refund.productCode,
        kind: 'REFUND',
        amount_fen: refund.fen,
        status: 'DONE',
        requested_at: dateFromNs(now),
        requested_day: day,
        trade_day: day,
        due_day: addDays(day, 1),
        done_at: dateFromNs(now),
        card_id: null,
        card_order_no: null,
      })
      .onConflict((c) => c.doNothing())
      .execute();
  }

  /**
   * The product the user pays `fen` from (the largest holding that, with its pool, covers it);
   * refused with the reason when none does: the holdings, or the pool behind them.
   */
  async choose(userId: string, fen: bigint): Promise<string> {
    const [source] = await this.sourcesFor(userId, fen);
    if (source) return source;
    const holdings = await this.orders.holdings(userId);
    const held = holdings.some((h) => (parseAmount(h.shares) ?? 0n) >= fen);
    throw new FundError(held ? 'fund_pay_pool_insufficient' : 'fund_pay_shares_not_enough', { param: 'amount' });
  }

  /**
   * After the chain, given the results of the fund's own legs: committed, the order waits for its
   * due day; refused, it is taken back, and the answer is the fund's refusal when one of its legs
   * refused (null when they only failed with the trade's leg).
   */
  async settled(payment: FundPayment, results: readonly CreateTransferResult[]): Promise<FundError | null> {
    const committed = chainCommitted(results);
    await this.db.query(
      committed
        ? "update fund_orders set status = 'PENDING' where order_id = $1 and status = 'SUBMITTED'"
        : "delete from fund_orders where order_id = $1 and status = 'SUBMITTED'",
      [this.#orderId(payment)],
    );
    if (committed) return null;
    const refused = results.findIndex((r) => r !== 'linked_event_failed');
    if (refused < 0) return null;
    assert(results[refused] === 'exceeds_credits', `fund payment refused by the ledger: ${results.join(',')}`);
    // The pool pays the first leg, the holder's shares the second.
    return new FundError(refused === 0 ? 'fund_pay_pool_insufficient' : 'fund_pay_shares_not_enough', {
      param: 'amount',
    });
  }

  /**
   * The payments a crash left SUBMITTED: those whose legs the ledger holds wait for their due day
   * (PENDING); those it never took, once `fundPaymentAbandonedMs` old, are taken back (their trade
   * was settled, or went back to waiting, long before). Returns how many it moved.
   */
  async finishAbandoned(): Promise<number> {
    const stale = await typed<FundTables>(this.db)
      .selectFrom('fund_orders')
      .selectAll()
      .where('status', '=', 'SUBMITTED')
      .where('kind', '=', 'PAYMENT')
      .where('requested_at', '<', this.#ago(limits.fundOrderSubmittedStaleMs))
      .orderBy('requested_at')
      .limit(limits.fundConfirmBatchMax)
      .execute();
    if (stale.length === 0) return 0;
    const moved = new Set(
      (await this.ledger.lookupTransfers(stale.map((r) => derivedId('fund.order.pay', r.order_id)))).map((t) =>
        uuidFromU128(t.userData128),
      ),
    );
    const abandonedBefore = this.#ago(limits.fundPaymentAbandonedMs);
    const pending = stale.filter((r) => moved.has(r.order_id)).map((r) => r.order_id);
    const abandoned = stale.filter((r) => !moved.has(r.order_id) && r.requested_at < abandonedBefore);
    await this.db.query(
      "update fund_orders set status = 'PENDING' where order_id = any($1::uuid[]) and status = 'SUBMITTED'",
      [pending],
    );
    await this.db.query("delete from fund_orders where order_id = any($1::uuid[]) and status = 'SUBMITTED'", [
      abandoned.map((r) => r.order_id),
    ]);
    return pending.length + abandoned.length;
  }

  async #check(product: Product, holder: bigint, fen: bigint): Promise<void> {
    const [holderAccount, pool] = await this.ledger.lookupAccounts([holder, product.books.pool]);
    if (available(holderAccount) < fen) throw new FundError('fund_pay_shares_not_enough', { param: 'amount' });
    if (available(pool) < fen) throw new FundError('fund_pay_pool_insufficient', { param: 'amount' });
  }

  async #row(payment: FundPayment): Promise<OrderRow> {
    const days = await this.orders.orderDays();
    return {
      order_id: this.#orderId(payment),
      user_id: payment.userId,
      idempotency_key: paymentOrderKey(payment.paymentKey),
      product_code: payment.productCode,
      kind: 'PAYMENT',
      amount_fen: payment.fen,
      status: 'SUBMITTED',
      requested_at: dateFromNs(this.clock.nowNs()),
      requested_day: days.requestedDay,
      trade_day: days.tradeDay,
      due_day: days.dueDay,
      done_at: null,
      card_id: null,
      card_order_no: null,
    };
  }

  #find(orderId: string): Promise<OrderRow | undefined> {
    return typed<FundTables>(this.db)
      .selectFrom('fund_orders')
      .selectAll()
      .where('order_id', '=', orderId)
      .executeTakeFirst();
  }

  #orderId(payment: FundPayment): string {
    return uuidFromU128(derivedId('fund.order', `${payment.userId}/${paymentOrderKey(payment.paymentKey)}`));
  }

  #ago(ms: number): Date {
    return dateFromNs(this.clock.nowNs() - BigInt(ms) * 1_000_000n);
  }
}

/** A payment's order key: with a space, which no user's key may have. */
const paymentOrderKey = (paymentKey: string) => `payment ${paymentKey}`;
