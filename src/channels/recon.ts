import type { Selectable } from 'kysely';
import { assert } from '../core/assert.ts';
import type { BankOrderStatus } from '../core/bank-protocol.ts';
import type { Clock } from '../core/clock.ts';
import { csvRecords } from '../core/csv.ts';
import { type Db, typed } from '../core/db/index.ts';
import { derivedId, uuidFromU128 } from '../core/ids.ts';
import { ChannelAccountCode, ChannelTransferCode, cnyLedger } from '../core/ledger-codes.ts';
import { limits } from '../core/limits.ts';
import { formatAmount, perHundredThousand } from '../core/money.ts';
import { dateFromNs, isCalendarDate } from '../core/time.ts';
import { AccountFlags, assertLedgerResult, type Ledger } from '../ledger/index.ts';
import type { StatementLine } from './adapter.ts';
import { ChannelError } from './errors.ts';
import { findOrder, type OrderRow } from './orders.ts';
import type { Channels } from './service.ts';
import { isTerminal, openStatuses } from './state.ts';
import type { ChannelTables } from './tables.ts';

export type ReconClass = 'matched' | 'missing_at_bank' | 'missing_at_paybao' | 'amount_mismatch' | 'status_mismatch';

/** What one reconciliation of a bank's day came to. */
export interface ReconSummary {
  runId: string;
  bank: string;
  date: string;
  lines: number;
  /** Lines and orders that agree, those settled on the way (completed through the bank's query), and those queued. */
  matched: number;
  settled: number;
  queued: number;
  byClass: Record<Exclude<ReconClass, 'matched'>, number>;
}

/** A line an operator must look at. */
export interface ReconItem {
  id: string;
  bank: string;
  date: string;
  orderNo: string;
  class: Exclude<ReconClass, 'matched'>;
  paybaoStatus: string | null;
  paybaoAmount: string | null;
  bankStatus: string | null;
  bankAmount: string | null;
  detail: string;
  state: 'OPEN' | 'RESOLVED';
  resolution: string | null;
}

/** The columns of a queue item that `ReconItem` shows. */
const itemColumns = [
  'id',
  'bank',
  'business_date',
  'order_no',
  'class',
  'paybao_status',
  'paybao_amount_fen',
  'bank_status',
  'bank_amount_fen',
  'detail',
  'state',
  'resolution',
] as const;
type ItemRow = Pick<Selectable<ChannelTables['recon_items']>, (typeof itemColumns)[number]>;

/** The channel losses account, one for the platform (code 21). */
export const lossAccountId = derivedId('channels.account', 'losses');

/**
 * Reconciliation of one bank's day: the bank's statement against the channel orders.
 *
 * Each line is classified — matched, missing at the bank, missing at Paybao, amount mismatch,
 * status mismatch. The safe class settles itself: an order Paybao does not know the end of
 * (UNKNOWN, or still in flight) is completed through the normal confirmed path, that is by
 * asking the bank (`Channels.resolve`), never by believing the statement line. Everything else
 * is queued for an operator (`recon_items`, idempotent per order and class, so a rerun adds no
 * duplicates), with a CSV report and the API.
 */
export class Reconciler {
  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly channels: Channels,
    private readonly clock: Clock,
  ) {}

  /** Reconciles `bank` for the Beijing day `date`; `onProgress(done, total)` as lines are read. */
  async run(bank: string, date: string, onProgress?: (done: number, total: number) => void): Promise<ReconSummary> {
    this.channels.adapter(bank);
    if (!isCalendarDate(date))
      throw new ChannelError('parameter_invalid', { param: 'date', detail: 'expected a calendar day as YYYY-MM-DD' });
    const run = await this.#tables()
      .insertInto('recon_runs')
      .values({ bank, business_date: date, started_at: this.#now() })
      .returning('id')
      .executeTakeFirst();
    assert(run, 'insert returning yields the row');
    // The safe class first: every order of the day that Paybao does not know the end of is
    // completed by asking the bank (a resend may only now bring an order to the bank), so the
    // statement, fetched after, lists what the bank has.
    let settled = 0;
    const open = await this.#tables()
      .selectFrom('channel_orders')
      .selectAll()
      .where('bank', '=', bank)
      .where('business_date', '=', date)
      .where('status', 'in', openStatuses)
      .execute();
    await inParallel(open, limits.reconConcurrencyMax, async (order) => {
      if (isTerminal((await this.#resolve(order)).status)) settled++;
    });
    const statement = await this.channels.adapter(bank).fetchStatement(date);
    if (statement.kind !== 'ok')
      throw new ChannelError('statement_unavailable', {
        detail: statement.kind === 'refused' ? statement.message : statement.reason,
      });
    const lines = statement.value.filter((l) => l.kind !== undefined).slice(0, limits.reconLinesMax);
    const summary: ReconSummary = {
      runId: run.id.toString(),
      bank,
      date,
      lines: lines.length,
      matched: 0,
      settled,
      queued: 0,
      byClass: { missing_at_bank: 0, missing_at_paybao: 0, amount_mismatch: 0, status_mismatch: 0 },
    };
    const orders = new Map((await this.#orders(bank, date)).map((o) => [o.order_no, o]));
    const count = (cls: ReconClass) => {
      if (cls === 'matched') summary.matched++;
      else {
        summary.queued++;
        summary.byClass[cls]++;
      }
    };
    const total = lines.length + orders.size;
    let done = 0;
    await inParallel(lines, limits.reconConcurrencyMax, async (line) => {
      count(await this.#line(bank, date, line, orders.get(line.orderNo), summary));
      onProgress?.(++done, total);
    });
    const onStatement = new Set(lines.map((l) => l.orderNo));
    const missing = [...orders.values()].filter((o) => !onStatement.has(o.order_no));
    done += orders.size - missing.length;
    onProgress?.(done, total);
    await inParallel(missing, limits.reconConcurrencyMax, async (order) => {
      count(await this.#missingAtBank(bank, date, order, summary));
      onProgress?.(++done, total);
    });
    await this.#tables()
      .updateTable('recon_runs')
      .set({
        finished_at: this.#now(),
        lines: summary.lines,
        matched: summary.matched,
        settled: summary.settled,
        queued: summary.queued,
      })
      .where('id', '=', run.id)
      .execute();
    return summary;
  }

  /** One statement line against the order it names. */
  async #line(
    bank: string,
    date: string,
    line: StatementLine,
    ofTheDay: OrderRow | undefined,
    summary: ReconSummary,
  ): Promise<ReconClass> {
    // An order of ours may sit on another day's statement (sent again after midnight, say).
    const found =
      ofTheDay ??
      (await this.#tables()
        .selectFrom('channel_orders')
        .selectAll()
        .where('order_no', '=', line.orderNo)
        .where('bank', '=', bank)
        .executeTakeFirst());
    if (!found) {
      return this.#queue(
        bank,
        date,
        line.orderNo,
        'missing_at_paybao',
        null,
        line,
        'the bank has an order Paybao has not',
      );
    }
    const order = await this.#settle(found, summary);
    if (line.amountFen !== order.amount_fen) {
      const detail = `statement ${formatAmount(line.amountFen)}, Paybao ${formatAmount(order.amount_fen)}`;
      return this.#queue(bank, date, order.order_no, 'amount_mismatch', order, line, detail);
    }
    if (sameStatus(order, line.status)) return 'matched';
    const live = await this.channels.adapter(bank).query(order.order_no);
    const truth = live.kind === 'ok' ? live.value.status : 'unanswered';
    // A line still PROCESSING is a snapshot taken while the order was open; the bank's answer
    // now, agreeing with Paybao, is the end of that order (an expired gateway page, say).
    if (line.status === 'PROCESSING' && truth === order.status) return 'matched';
    const detail = `statement ${line.status}, Paybao ${order.status}, bank query ${truth}`;
    return this.#queue(bank, date, order.order_no, 'status_mismatch', order, line, detail);
  }

  /** An order Paybao sent that the statement does not list. */
  async #missingAtBank(bank: string, date: string, found: OrderRow, summary: ReconSummary): Promise<ReconClass> {
    const order = await this.#settle(found, summary);
    const live = await this.channels.adapter(bank).query(order.order_no);
    if (live.kind === 'ok' && live.value.createdAt && !live.value.createdAt.startsWith(date)) {
      // The bank has it on another day's statement (it reached the bank after midnight).
      if (live.value.status === order.status && live.value.amountFen === order.amount_fen) return 'matched';
    }
    const truth = live.kind === 'ok' ? `${live.value.status} ${formatAmount(live.value.amountFen)}` : `${live.kind}`;
    const detail = `not on the statement; Paybao ${order.status}, bank query ${truth}`;
    return this.#queue(bank, date, order.order_no, 'missing_at_bank', order, null, detail);
  }

  /** The safe class: an open order is completed by asking the bank (the confirmed path). */
  async #settle(order: OrderRow, summary: ReconSummary): Promise<OrderRow> {
    if (isTerminal(order.status)) return order;
    const after = await this.#resolve(order);
    if (isTerminal(after.status)) summary.settled++;
    return after;
  }

  async #resolve(order: OrderRow): Promise<OrderRow> {
    await this.channels.resolve(order.order_no, { waits: limits.channelQueryBackoffMs.slice(0, 2) });
    return (await findOrder(this.db, order.order_no)) ?? order;
  }

  async #queue(
    bank: string,
    date: string,
    orderNo: string,
    cls: Exclude<ReconClass, 'matched'>,
    order: OrderRow | null,
    line: StatementLine | null,
    detail: string,
  ): Promise<ReconClass> {
    await this.#tables()
      .insertInto('recon_items')
      .values({
        bank,
        business_date: date,
        order_no: orderNo,
        class: cls,
        paybao_status: order?.status ?? null,
        paybao_amount_fen: order?.amount_fen ?? null,
        bank_status: line?.status ?? null,
        bank_amount_fen: line?.amountFen ?? null,
        detail,
        created_at: this.#now(),
      })
      .onConflict((oc) =>
        oc.columns(['bank', 'business_date', 'order_no', 'class']).doUpdateSet((eb) => ({
          detail: eb.ref('excluded.detail'),
          paybao_status: eb.ref('excluded.paybao_status'),
          bank_status: eb.ref('excluded.bank_status'),
        })),
      )
      .execute();
    return cls;
  }

  /** The orders of a bank's day that the bank should list: those that were sent to it. */
  async #orders(bank: string, date: string): Promise<OrderRow[]> {
    return (
      this.#tables()
        .selectFrom('channel_orders')
        .selectAll()
        .where('bank', '=', bank)
        .where('business_date', '=', date)
        .where('status', 'not in', ['CREATED', 'REVIEW'])
        // Never sent: refused holds, refusals by the bank, withdrawals rejected after review.
        .where((eb) =>
          eb.or([
            eb('fail_code', 'is', null),
            eb.and([
              eb('fail_code', 'not in', ['BALANCE_NOT_ENOUGH', 'RISK_REJECTED']),
              eb('fail_code', 'not like', 'BANK_REFUSED_%'),
            ]),
          ]),
        )
        .orderBy('created_at')
        .execute()
    );
  }

  /** The queue, newest first, filtered. */
  async items(
    filter: { bank?: string | undefined; date?: string | undefined; state?: 'OPEN' | 'RESOLVED' | undefined } = {},
  ): Promise<ReconItem[]> {
    let query = this.#tables().selectFrom('recon_items').select(itemColumns);
    if (filter.bank !== undefined) query = query.where('bank', '=', filter.bank);
    if (filter.date !== undefined) query = query.where('business_date', '=', filter.date);
    if (filter.state !== undefined) query = query.where('state', '=', filter.state);
    const rows = await query.orderBy('id', 'desc').limit(10_000).execute();
    return rows.map(itemOf);
  }

  /** The queue as CSV (the operator's report). */
  csv(items: readonly ReconItem[]): string {
    const header = 'id,bank,date,order_no,class,paybao_status,paybao_amount,bank_status,bank_amount,state,detail';
    const lines = items.map((i) => [
      i.id,
      i.bank,
      i.date,
      i.orderNo,
      i.class,
      i.paybaoStatus ?? '',
      i.paybaoAmount ?? '',
      i.bankStatus ?? '',
      i.bankAmount ?? '',
      i.state,
      i.detail,
    ]);
    return csvRecords([header.split(','), ...lines], '\n');
  }

  /**
   * An operator closes an item: `dismiss` (nothing to do: the statement was wrong) or
   * `write_off` (the platform takes the loss of a credited top-up the bank never received:
   * channel losses → bank reserve, recorded once, counted by the loss rate).
   */
  async resolve(id: string, action: 'dismiss' | 'write_off', note: string): Promise<ReconItem> {
    // The id is digits (the API's schema says so): an int8 of the queue.
    const item = await this.#tables()
      .selectFrom('recon_items')
      .select(itemColumns)
      .where('id', '=', BigInt(id))
      .executeTakeFirst();
    if (!item) throw new ChannelError('order_not_found', { param: 'id', detail: 'no such reconciliation item' });
    if (item.state === 'RESOLVED') return itemOf(item);
    if (action === 'write_off') {
      const amount = item.paybao_amount_fen ?? item.bank_amount_fen;
      if (!amount) throw new ChannelError('parameter_invalid', { param: 'action', detail: 'nothing to write off' });
      await this.recordLoss({
        key: `recon/${item.id}`,
        bank: item.bank,
        orderNo: item.order_no,
        amountFen: amount,
        reason: `${item.class}: ${note}`,
      });
    }
    const row = await this.#tables()
      .updateTable('recon_items')
      .set({ state: 'RESOLVED', resolution: `${action}: ${note}`, resolved_at: this.#now() })
      .where('id', '=', item.id)
      .returning(itemColumns)
      .executeTakeFirst();
    assert(row, 'the item being resolved exists');
    return itemOf(row);
  }

  /** Records a loss once (by key) and moves it in the ledger: channel losses → the bank's reserve. */
  async recordLoss(loss: { key: string; bank: string; orderNo: string | null; amountFen: bigint; reason: string }) {
    const transferId = derivedId('channels.loss', loss.key);
    await this.#tables()
      .insertInto('channel_losses')
      .values({
        loss_key: loss.key,
        bank: loss.bank,
        order_no: loss.orderNo,
        amount_fen: loss.amountFen,
        reason: loss.reason,
        transfer_id: uuidFromU128(transferId),
        recorded_at: this.#now(),
      })
      .onConflict((oc) => oc.column('loss_key').doNothing())
      .execute();
    const [account] = await this.ledger.createAccounts([
      { id: lossAccountId, ledger: cnyLedger, code: ChannelAccountCode.channelLoss, flags: AccountFlags.none },
    ]);
    assertLedgerResult(account, 'loss account');
    const [moved] = await this.ledger.createTransfers([
      {
        id: transferId,
        debitAccountId: lossAccountId,
        creditAccountId: await this.channels.reserveAccount(loss.bank),
        amount: loss.amountFen,
        ledger: cnyLedger,
        code: ChannelTransferCode.lossWriteOff,
      },
    ]);
    assertLedgerResult(moved, `loss write-off ${loss.key}`);
  }

  /**
   * Losses over volume: every recorded loss against every channel order that succeeded (money in
   * and out), since the beginning. Alipay promised the banks less than 1 in 100,000.
   */
  async lossRate(): Promise<{
    losses: string;
    volume: string;
    lossCount: number;
    perHundredThousand: string;
    lossFen: bigint;
    volumeFen: bigint;
  }> {
    const [l] = await this.db.query<{ fen: bigint; n: bigint }>(
      'select coalesce(sum(amount_fen), 0)::bigint fen, count(*)::bigint n from channel_losses',
    );
    const [v] = await this.db.query<{ fen: bigint }>(
      "select coalesce(sum(amount_fen), 0)::bigint fen from channel_orders where status = 'SUCCESS'",
    );
    const losses = l?.fen ?? 0n;
    const volume = v?.fen ?? 0n;
    return {
      losses: formatAmount(losses),
      volume: formatAmount(volume),
      lossCount: Number(l?.n ?? 0n),
      perHundredThousand: perHundredThousand(losses, volume),
      lossFen: losses,
      volumeFen: volume,
    };
  }

  #tables() {
    return typed<ChannelTables>(this.db);
  }

  #now(): Date {
    return dateFromNs(this.clock.nowNs());
  }
}

function sameStatus(order: OrderRow, bank: BankOrderStatus): boolean {
  if (bank === 'PROCESSING') return order.status === 'IN_FLIGHT';
  return order.status === bank;
}

function itemOf(r: ItemRow): ReconItem {
  return {
    id: r.id.toString(),
    bank: r.bank,
    date: r.business_date,
    orderNo: r.order_no,
    class: r.class,
    paybaoStatus: r.paybao_status,
    paybaoAmount: r.paybao_amount_fen === null ? null : formatAmount(r.paybao_amount_fen),
    bankStatus: r.bank_status,
    bankAmount: r.bank_amount_fen === null ? null : formatAmount(r.bank_amount_fen),
    detail: r.detail,
    state: r.state,
    resolution: r.resolution,
  };
}

/** Runs `work` over `items`, at most `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}
