import { sql } from 'kysely';
import { assert } from '../core/assert.ts';
import type { Clock } from '../core/clock.ts';
import { type Db, type Queryable, typed } from '../core/db/index.ts';
import { derivedId, u128FromUuid, uuidFromU128 } from '../core/ids.ts';
import { SweepFailures } from '../core/jobs.ts';
import { FundAccountCode } from '../core/ledger-codes.ts';
import { limits } from '../core/limits.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import { dateFromNs } from '../core/time.ts';
import { type Account, AccountFlags, assertLedgerResults, chainCommitted, type Ledger } from '../ledger/index.ts';
import { confirmationEvents, orderEvents } from './books.ts';
import { type OrderDays, TradingCalendar } from './calendar.ts';
import type { FundCatalog, Product } from './catalog.ts';
import { FundError, isFundError } from './errors.ts';
import type { FundTables, OrderKind, OrderRow } from './tables.ts';

/** What the bank answered a withholding from a bound card (quick pay). */
export type CardWithholding =
  | { status: 'succeeded'; orderNo: string }
  | { status: 'failed'; orderNo: string; failCode: string }
  /** The bank has not confirmed either way yet; asking again with the same key finds out. */
  | { status: 'pending'; orderNo: string };

/** Where the fund meets members and banks (wired in src/platform.ts). */
export interface FundParties {
  /** The wallet account of a member; null for an unknown user. */
  walletOf(userId: string): Promise<bigint | null>;
  /**
   * Withholds `fen` from the user's bound card `cardId` into the user's wallet, once per `key`
   * (the same key answers the same bank order): money moves only on the bank's confirmation.
   * Absent where no bank is wired (tools and benches that never buy from cards).
   */
  withholdFromCard?(
    userId: string,
    withholding: { cardId: string; fen: bigint; key: string },
  ): Promise<CardWithholding>;
}

export interface OrderInput {
  productCode: string;
  /** Yuan as a decimal ("100.00"); for a redemption, the shares' worth (one share is one fen). */
  amount: string;
  idempotencyKey: string;
}

/** An order as its user sees it. */
export interface OrderView {
  orderId: string;
  productCode: string;
  kind: OrderKind;
  amount: string;
  /** `to_be_confirmed` while the money (or the redemption) waits for its due day. */
  status: 'to_be_confirmed' | 'confirmed' | 'paid';
  tradeDay: string;
  /** The day shares are confirmed and earn (a purchase), or the money arrives (standard redemption). */
  dueDay: string;
  /** A purchase paid from a bound card: the channel order that withheld its money; null otherwise. */
  cardOrderNo: string | null;
}

/** One product in a user's hands. */
export interface Holding {
  productCode: string;
  /** Confirmed shares, not being redeemed, as yuan (one share is one fen). */
  shares: string;
  /** Shares of redemptions not yet final. */
  redeeming: string;
  /** Purchases whose money is held until their confirmation day. */
  toBeConfirmed: string;
}

const keyPattern = /^[\x21-\x7e]{1,64}$/;
/** What an account can give now: posted credits less posted and pending debits. */
export const available = (a: Account | undefined) => (a ? a.creditsPosted - a.debitsPosted - a.debitsPending : 0n);

/** A user's share account of a product. */
export const holderAccount = (productCode: string, userId: string) =>
  derivedId('fund.holder', `${productCode}/${userId}`);

export function view(row: OrderRow): OrderView {
  const status =
    row.status !== 'DONE'
      ? row.kind === 'FAST' || row.kind === 'PAYMENT'
        ? 'paid'
        : 'to_be_confirmed'
      : row.kind === 'FAST' || row.kind === 'PAYMENT'
        ? 'paid'
        : 'confirmed';
  return {
    orderId: row.order_id,
    productCode: row.product_code,
    kind: row.kind,
    amount: formatAmount(row.amount_fen),
    status,
    tradeDay: row.trade_day,
    dueDay: row.due_day,
    cardOrderNo: row.card_order_no,
  };
}

function parseOrderAmount(amount: string, kind: OrderKind): bigint {
  const fen = parseAmount(amount);
  if (fen === undefined || fen <= 0n) throw new FundError('invalid_amount', { param: 'amount' });
  if (kind === 'PURCHASE' && fen < BigInt(limits.fundPurchaseFenMin))
    throw new FundError('amount_below_minimum', { param: 'amount' });
  if (fen > BigInt(limits.fundOrderFenMax)) throw new FundError('amount_above_maximum', { param: 'amount' });
  return fen;
}

/**
 * Purchases and redemptions. Each order is idempotent by (user, key): its row is written
 * SUBMITTED, then the ledger moves under ids derived from the order, then the row is PENDING;
 * a retry with the same key submits the same ids again (`exists`) and answers the same order. A
 * refusal (balance, shares, pool, limit) takes its row back: nothing is left written.
 */
export class FundOrders {
  readonly calendar: TradingCalendar;

  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly catalog: FundCatalog,
    private readonly parties: FundParties,
    private readonly clock: Clock,
  ) {
    this.calendar = new TradingCalendar(db);
  }

  /** The days an order made now would have (shown before the user confirms). */
  orderDays(): Promise<OrderDays> {
    return this.calendar.orderDays(this.clock.nowNs());
  }

  /** Buys shares from the wallet balance: the money is held until the confirmation day. */
  purchase(userId: string, input: OrderInput): Promise<OrderView> {
    return this.#order(userId, input, 'PURCHASE');
  }

  /**
   * Buys shares with money from a bound bank card (Yu'e Bao's "transfer in from card"): the bank
   * withholds the amount into the wallet (a quick-pay channel order, final only on the bank's
   * confirmation), then it is held for the purchase as from the balance, one order under the
   * user's key. A bank refusal writes no order (`card_payment_failed`); an answer not yet given
   * is `card_payment_pending`, and the same key again completes the purchase, never a second
   * withholding (its key is derived from the order's).
   */
  async purchaseFromCard(userId: string, input: OrderInput & { cardId: string }): Promise<OrderView> {
    const fen = parseOrderAmount(input.amount, 'PURCHASE');
    if (!keyPattern.test(input.idempotencyKey))
      throw new FundError('invalid_idempotency_key', { param: 'idempotencyKey' });
    const product = await this.catalog.product(input.productCode);
    const orderId = uuidFromU128(derivedId('fund.order', `${userId}/${input.idempotencyKey}`));
    const earlier = await this.#find(this.db, orderId);
    if (earlier) {
      const same =
        earlier.card_id === input.cardId &&
        earlier.amount_fen === fen &&
        earlier.product_code === product.row.product_code;
      if (!same || earlier.card_order_no === null)
        throw new FundError('idempotency_key_reused', { param: 'idempotencyKey' });
      return this.#order(userId, input, 'PURCHASE', { cardId: input.cardId, orderNo: earlier.card_order_no });
    }
    const withhold = this.parties.withholdFromCard;
    assert(withhold, 'purchase from a card needs the banks wired (FundParties.withholdFromCard)');
    const withheld = await withhold.call(this.parties, userId, {
      cardId: input.cardId,
      fen,
      key: uuidFromU128(derivedId('fund.card', orderId)),
    });
    if (withheld.status === 'failed')
      throw new FundError('card_payment_failed', { param: 'cardId', detail: withheld.failCode });
    if (withheld.status === 'pending') throw new FundError('card_payment_pending', { param: 'cardId' });
    return this.#order(userId, input, 'PURCHASE', { cardId: input.cardId, orderNo: withheld.orderNo });
  }

  /** Redeems shares: `standard` pays on the next trading day, `fast` at once from the pool. */
  redeem(userId: string, input: OrderInput & { kind: 'standard' | 'fast' }): Promise<OrderView> {
    return this.#order(userId, input, input.kind === 'fast' ? 'FAST' : 'STANDARD');
  }

  async #order(
    userId: string,
    input: OrderInput,
    kind: OrderKind,
    card: { cardId: string; orderNo: string } | null = null,
  ): Promise<OrderView> {
    const fen = parseOrderAmount(input.amount, kind);
    if (!keyPattern.test(input.idempotencyKey))
      throw new FundError('invalid_idempotency_key', { param: 'idempotencyKey' });
    const product = await this.catalog.product(input.productCode);
    const wallet = await this.parties.walletOf(userId);
    if (wallet === null) throw new FundError('unknown_user');
    const orderId = uuidFromU128(derivedId('fund.order', `${userId}/${input.idempotencyKey}`));
    const earlier = await this.#find(this.db, orderId);
    if (earlier) return this.#replay(earlier, { product, kind, fen, wallet, card });
    const holder = derivedId('fund.holder', `${product.row.product_code}/${userId}`);
    await this.#checkFunds(kind, fen, product, wallet, holder);
    const days = await this.orderDays();
    if (kind === 'PURCHASE') await this.#openHolder(product, userId, holder, wallet);
    const now = dateFromNs(this.clock.nowNs());
    const row: OrderRow = {
      order_id: orderId,
      user_id: userId,
      idempotency_key: input.idempotencyKey,
      product_code: product.row.product_code,
      kind,
      amount_fen: fen,
      status: 'SUBMITTED',
      requested_at: now,
      requested_day: days.requestedDay,
      trade_day: days.tradeDay,
      due_day: days.dueDay,
      done_at: null,
      card_id: card?.cardId ?? null,
      card_order_no: card?.orderNo ?? null,
    };
    const inserted = await this.db.transaction(async (tx) => {
      const rows = await typed<FundTables>(tx)
        .insertInto('fund_orders')
        .values(row)
        .onConflict((c) => c.doNothing())
        .returningAll()
        .execute();
      if (rows.length > 0 && kind === 'FAST') await this.#takeFastQuota(tx, userId, days.requestedDay, fen);
      return rows.length > 0;
    });
    if (!inserted) {
      const raced = await this.#find(this.db, orderId);
      assert(raced, 'an order row that conflicted must exist');
      return this.#replay(raced, { product, kind, fen, wallet, card });
    }
    return this.#submit(row, product, wallet, holder);
  }

  /** Refuses, before anything is written, an order the wallet, the shares or the pool cannot cover. */
  async #checkFunds(kind: OrderKind, fen: bigint, product: Product, wallet: bigint, holder: bigint): Promise<void> {
    const [payer] = await this.ledger.lookupAccounts([kind === 'PURCHASE' ? wallet : holder]);
    if (available(payer) < fen)
      throw new FundError(kind === 'PURCHASE' ? 'balance_not_enough' : 'shares_not_enough', { param: 'amount' });
    if (kind === 'FAST') {
      const [pool] = await this.ledger.lookupAccounts([product.books.pool]);
      if (available(pool) < fen) throw new FundError('pool_insufficient', { param: 'amount' });
    }
  }

  /**
   * Counts a fast redemption against the user's day, across products, in one conditional upsert:
   * concurrent requests queue on the row, and the one that would pass the limit is refused.
   */
  async #takeFastQuota(tx: Queryable, userId: string, day: string, fen: bigint): Promise<void> {
    const dayMax = BigInt(limits.fundFastRedemptionDailyFenMax);
    const taken =
      fen <= dayMax &&
      (
        await tx.query(
          `insert into fund_fast_quota (user_id, day, used_fen) values ($1, $2, $3)
           on conflict (user_id, day) do update set used_fen = fund_fast_quota.used_fen + excluded.used_fen
             where fund_fast_quota.used_fen + excluded.used_fen <= $4
           returning used_fen`,
          [userId, day, fen, dayMax],
        )
      ).length > 0;
    if (!taken)
      throw new FundError('fast_limit_exceeded', { param: 'amount', detail: `${formatAmount(dayMax)} yuan per day` });
  }

  async #openHolder(product: Product, userId: string, holder: bigint, wallet: bigint): Promise<void> {
    assertLedgerResults(
      await this.ledger.createAccounts([
        {
          id: holder,
          ledger: product.books.shareLedger,
          code: FundAccountCode.holderShares,
          flags: AccountFlags.debitsMustNotExceedCredits,
          userData64: BigInt(userId),
        },
      ]),
      'fund holder account',
    );
    await typed<FundTables>(this.db)
      .insertInto('fund_holders')
      .values({
        product_code: product.row.product_code,
        user_id: userId,
        account_id: uuidFromU128(holder),
        wallet_account: uuidFromU128(wallet),
      })
      .onConflict((c) => c.doNothing())
      .execute();
  }

  /** Moves the order's money under its derived ids; a refusal takes the row (and quota) back. */
  async #submit(row: OrderRow, product: Product, wallet: bigint, holder: bigint): Promise<OrderView> {
    const results = await this.ledger.createTransfers(orderEvents(row, product.books, { holder, wallet }));
    if (chainCommitted(results)) {
      const [pending] = await typed<FundTables>(this.db)
        .updateTable('fund_orders')
        .set({ status: 'PENDING' })
        .where('order_id', '=', row.order_id)
        .where('status', '=', 'SUBMITTED')
        .returningAll()
        .execute();
      return view(pending ?? (await this.#find(this.db, row.order_id)) ?? row);
    }
    const refused = results.findIndex((r) => r !== 'linked_event_failed');
    assert(results[refused] === 'exceeds_credits', `fund order refused by the ledger: ${results.join(',')}`);
    await this.#takeBack(row);
    if (row.kind === 'PURCHASE') throw new FundError('balance_not_enough', { param: 'amount' });
    // Which leg ran short: the pool pays a fast redemption's first leg, the holder's shares the rest.
    if (row.kind === 'FAST' && refused === 0) throw new FundError('pool_insufficient', { param: 'amount' });
    throw new FundError('shares_not_enough', { param: 'amount' });
  }

  /** Takes a refused order back; its quota too, once, by whoever deletes the row. */
  async #takeBack(row: OrderRow): Promise<void> {
    await this.db.transaction(async (tx) => {
      const deleted = await tx.query(
        "delete from fund_orders where order_id = $1 and status = 'SUBMITTED' returning 1",
        [row.order_id],
      );
      if (deleted.length > 0 && row.kind === 'FAST')
        await tx.query('update fund_fast_quota set used_fen = used_fen - $3 where user_id = $1 and day = $2', [
          row.user_id,
          row.requested_day,
          row.amount_fen,
        ]);
    });
  }

  async #replay(
    row: OrderRow,
    asked: { product: Product; kind: OrderKind; fen: bigint; wallet: bigint; card: { cardId: string } | null },
  ): Promise<OrderView> {
    if (
      row.kind !== asked.kind ||
      row.amount_fen !== asked.fen ||
      row.product_code !== asked.product.row.product_code ||
      row.card_id !== (asked.card?.cardId ?? null)
    )
      throw new FundError('idempotency_key_reused', { param: 'idempotencyKey' });
    if (row.status !== 'SUBMITTED') return view(row);
    const holder = derivedId('fund.holder', `${row.product_code}/${row.user_id}`);
    return this.#submit(row, asked.product, asked.wallet, holder);
  }

  #find(q: Queryable, orderId: string): Promise<OrderRow | undefined> {
    return typed<FundTables>(q)
      .selectFrom('fund_orders')
      .selectAll()
      .where('order_id', '=', orderId)
      .executeTakeFirst();
  }

  /**
   * Confirms every order due on or before `day` (a Beijing day; today by default), in rounds of
   * `fundConfirmBatchMax`: each order's chain posts its pending legs (and issues a purchase's
   * shares), all of a round in one submission, then the round's rows are marked DONE. Idempotent:
   * a round interrupted between ledger and rows is submitted again and answered `exists`.
   */
  async confirmDue(day?: string): Promise<number> {
    const until = day ?? (await this.orderDays()).requestedDay;
    let confirmed = 0;
    for (;;) {
      const due = await typed<FundTables>(this.db)
        .selectFrom('fund_orders')
        .selectAll()
        .where('status', '=', 'PENDING')
        .where('due_day', '<=', until)
        .orderBy('due_day')
        .orderBy('order_id')
        .limit(limits.fundConfirmBatchMax)
        .execute();
      if (due.length === 0) return confirmed;
      const chains = await Promise.all(
        due.map(async (row) => {
          const product = await this.catalog.product(row.product_code);
          const holder = derivedId('fund.holder', `${row.product_code}/${row.user_id}`);
          return confirmationEvents(row, product.books, holder);
        }),
      );
      const results = await this.ledger.createTransfers(chains.flat());
      let at = 0;
      for (const [i, chain] of chains.entries()) {
        const own = results.slice(at, at + chain.length);
        at += chain.length;
        assert(chainCommitted(own), `fund confirmation of ${due[i]?.order_id} refused: ${own.join(',')}`);
      }
      await this.db.query(
        "update fund_orders set status = 'DONE', done_at = $2 where order_id = any($1::uuid[]) and status = 'PENDING'",
        [due.map((r) => r.order_id), dateFromNs(this.clock.nowNs())],
      );
      confirmed += due.length;
    }
  }

  /**
   * Finishes the orders a crash left SUBMITTED (older than `fundOrderSubmittedStaleMs`): each is
   * submitted again under its own ids, so it moves once, or is taken back when the ledger refuses.
   */
  async finishSubmitted(): Promise<number> {
    const before = dateFromNs(this.clock.nowNs() - BigInt(limits.fundOrderSubmittedStaleMs) * 1_000_000n);
    const stale = await typed<FundTables>(this.db)
      .selectFrom('fund_orders')
      .selectAll()
      .where('status', '=', 'SUBMITTED')
      // A payment's chain is the trade's to submit (`FundPayments.finishAbandoned`).
      .where('kind', '<>', 'PAYMENT')
      .where('requested_at', '<', before)
      .orderBy('requested_at')
      .limit(limits.fundConfirmBatchMax)
      .execute();
    const failures = new SweepFailures();
    await failures.each(
      stale,
      async (row) => {
        const product = await this.catalog.product(row.product_code);
        const wallet = await this.parties.walletOf(row.user_id);
        assert(wallet !== null, `the wallet of fund order ${row.order_id} is gone`);
        await this.#submit(row, product, wallet, derivedId('fund.holder', `${row.product_code}/${row.user_id}`));
      },
      (error) => isFundError(error),
    );
    failures.throwIfAny('fund orders left submitted');
    return stale.length;
  }

  /** A user's holdings, one per product held or being bought. */
  async holdings(userId: string): Promise<Holding[]> {
    const rows = await typed<FundTables>(this.db)
      .selectFrom('fund_holders')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('product_code')
      .execute();
    const accounts = await this.ledger.lookupAccounts(rows.map((r) => u128FromUuid(r.account_id)));
    const pending = await this.db.query<{ product_code: string; fen: bigint }>(
      `select product_code, sum(amount_fen)::bigint fen from fund_orders
        where user_id = $1 and kind = 'PURCHASE' and status in ('SUBMITTED', 'PENDING') group by product_code`,
      [userId],
    );
    return rows.map((r) => {
      const account = accounts.find((a) => uuidFromU128(a.id) === r.account_id);
      return {
        productCode: r.product_code,
        shares: formatAmount(available(account)),
        redeeming: formatAmount(account?.debitsPending ?? 0n),
        toBeConfirmed: formatAmount(pending.find((p) => p.product_code === r.product_code)?.fen ?? 0n),
      };
    });
  }

  /** The user's orders, newest first (a refund's once its shares came back). */
  async orders(userId: string): Promise<OrderView[]> {
    const rows = await typed<FundTables>(this.db)
      .selectFrom('fund_orders')
      .selectAll()
      .where('user_id', '=', userId)
      .where(
        sql<boolean>`kind <> 'REFUND' or exists (select 1 from ledger_transfers t where t.id = fund_orders.order_id)`,
      )
      .orderBy('requested_at', 'desc')
      .execute();
    return rows.map(view);
  }
}
