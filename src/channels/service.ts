import { assert } from '../core/assert.ts';
import type { BreakerState } from '../core/circuit-breaker.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import { type Db, type Queryable, typed } from '../core/db/index.ts';
import { isIdempotencyKey, refuseReusedKey } from '../core/idempotency.ts';
import { derivedId, u128FromUuid, uuidFromU128 } from '../core/ids.ts';
import { ChannelAccountCode, ChannelTransferCode, cnyLedger } from '../core/ledger-codes.ts';
import { limits } from '../core/limits.ts';
import { parseAmount } from '../core/money.ts';
import { dateFromNs } from '../core/time.ts';
import { assertLedgerResult, type Ledger, TransferFlags } from '../ledger/index.ts';
import { bothSupported, type PaymentContext, type Risk } from '../risk/index.ts';
import { type BankAdapter, type BankAnswer, type BankOrder, HttpBankAdapter } from './adapter.ts';
import { type BankBreakerOptions, BreakerBankAdapter, isCircuitOpen } from './breaker.ts';
import { type CardRow, Cards } from './cards.ts';
import type { ChannelBankConfig } from './config.ts';
import { DemoDeposits } from './demo-deposit.ts';
import { ChannelError } from './errors.ts';
import {
  beijingDate,
  type ChannelOrderKind,
  type ChannelOrderView,
  findOrder,
  newOrderNo,
  type OrderRow,
  orderView,
  requestHash,
  transition,
} from './orders.ts';
import { type ChannelOrderStatus, isTerminal, openStatuses } from './state.ts';
import type { ChannelTables } from './tables.ts';

/** Who owns the money: wired by the platform from the members module. */
export interface ChannelParties {
  /** The user's wallet account; null for an unknown user. */
  walletOf(userId: string): Promise<bigint | null>;
}

export interface ChannelsOptions {
  banks: readonly ChannelBankConfig[];
  /** Adapters by bank code; an `HttpBankAdapter` per configured bank when absent (tests swap them). */
  adapters?: ReadonlyMap<string, BankAdapter>;
  /**
   * Where the bank reaches the platform (callbacks) and sends browsers back: `PAYBAO_PUBLIC_URL`,
   * the same in every process, so that an order resent from anywhere is the request first sent.
   */
  publicUrl: () => string;
  /** Called with every callback refused or ignored (forged, replayed, unknown order, mismatch). */
  onRejectedCallback?: (entry: { bank: string; verdict: string; orderNo: string | null }) => void;
  /** The risk engine, asked before a withdrawal is written; none in the channels' own tests. */
  risk?: Risk | undefined;
  /**
   * The circuit breaker in front of each bank (breaker.ts): the `bankBreaker…` limits on the
   * system clock unless given (a bank's slowness is wall time, whatever the business clock says);
   * `false`: none (tests that study one unanswered call at a time).
   */
  breakers?: Partial<BankBreakerOptions> | false;
  /** Told of every change of a bank's breaker (logs). */
  onBreakerChange?: (bank: string, state: BreakerState) => void;
}

/** The breaker settings of `limits`, on the system clock. */
const defaultBreakers: BankBreakerOptions = {
  clock: systemClock,
  windowMs: limits.bankBreakerWindowMs,
  bucketMs: limits.bankBreakerBucketMs,
  callsMin: limits.bankBreakerCallsMin,
  errorPercentMax: limits.bankBreakerErrorPercentMax,
  slowCallMs: limits.bankBreakerSlowCallMs,
  slowPercentMax: limits.bankBreakerSlowPercentMax,
  openMs: limits.bankBreakerOpenMs,
  probesMax: limits.bankBreakerProbesMax,
};

/** What a callback came to: the HTTP answer the bank gets, and the verdict that was logged. */
export interface CallbackOutcome {
  status: number;
  body: string;
  verdict: 'accepted' | 'replay' | 'forged' | 'stale' | 'unknown_bank' | 'unknown_order' | 'mismatch';
}

const transferIds = {
  topUp: (orderNo: string) => derivedId('channels.topup', orderNo),
  hold: (orderNo: string) => derivedId('channels.withdraw.hold', orderNo),
  post: (orderNo: string) => derivedId('channels.withdraw.post', orderNo),
  void: (orderNo: string) => derivedId('channels.withdraw.void', orderNo),
};

/** The ledger id of a bank's reserve account (created on first use, idempotently). */
export const reserveAccountId = (bank: string): bigint => derivedId('channels.reserve', bank);

/**
 * Bank channels: money in (gateway top-up, quick-pay top-up by withholding a bound card) and out
 * (withdrawal to a bound card), one adapter per bank, routing by bank within its limits.
 *
 * Every order is a saga like a trade's (docs/channels.md): its row is written first (CREATED),
 * each step is claimed by a compare-and-set on the status, the ledger moves money under ids
 * derived from the order number, and the outcome is recorded after. Bank calls are never made
 * inside a database transaction. Money moves only on a result the bank confirmed.
 */
export class Channels {
  readonly #db: Db;
  readonly #ledger: Ledger;
  readonly #parties: ChannelParties;
  readonly #clock: Clock;
  readonly #banks: ReadonlyMap<string, ChannelBankConfig>;
  readonly #adapters: ReadonlyMap<string, BankAdapter>;
  readonly #onRejected: ChannelsOptions['onRejectedCallback'];
  readonly #risk: Risk | undefined;
  readonly #reserves = new Map<string, Promise<bigint>>();
  readonly cards: Cards;
  /** Demo money from the demo reserve, no bank involved (`paybao users create --balance`). */
  readonly demo: DemoDeposits;
  /** Where the bank reaches the platform; given at construction, never assigned afterwards. */
  readonly publicUrl: () => string;

  constructor(db: Db, ledger: Ledger, parties: ChannelParties, clock: Clock, options: ChannelsOptions) {
    this.#db = db;
    this.#ledger = ledger;
    this.#parties = parties;
    this.#clock = clock;
    this.#banks = new Map(options.banks.map((b) => [b.code, b]));
    const adapters =
      options.adapters ?? new Map(options.banks.map((b): [string, BankAdapter] => [b.code, new HttpBankAdapter(b)]));
    const { breakers, onBreakerChange } = options;
    this.#adapters =
      breakers === false
        ? adapters
        : new Map(
            [...adapters].map(([code, adapter]): [string, BankAdapter] => [
              code,
              new BreakerBankAdapter(adapter, { ...defaultBreakers, ...breakers }, (state) =>
                onBreakerChange?.(code, state),
              ),
            ]),
          );
    this.#onRejected = options.onRejectedCallback;
    this.#risk = options.risk;
    // An operator's decision on a withdrawal held for review reaches it here.
    this.#risk?.onReviewed('withdrawal', {
      approve: (ref) => this.#decideHeld(ref, 'approve'),
      reject: (ref) => this.#decideHeld(ref, 'reject'),
    });
    this.publicUrl = options.publicUrl;
    this.cards = new Cards(db, clock, (bank) => this.adapter(bank), parties);
    this.demo = new DemoDeposits(ledger, parties);
  }

  /** The configured banks, in routing order. */
  banks(): ChannelBankConfig[] {
    return [...this.#banks.values()];
  }

  /** The state of each bank's breaker (`closed` for a bank without one). */
  breakerStates(): Map<string, BreakerState> {
    return new Map(
      [...this.#adapters].map(([code, a]) => [code, a instanceof BreakerBankAdapter ? a.state : 'closed'] as const),
    );
  }

  adapter(bank: string): BankAdapter {
    const adapter = this.#adapters.get(bank);
    if (!adapter || !this.#banks.has(bank)) throw new ChannelError('bank_not_found', { param: 'bank' });
    return adapter;
  }

  /** The bank's reserve account, created once (racing creators all get `ok` or `exists`). */
  reserveAccount(bank: string): Promise<bigint> {
    let account = this.#reserves.get(bank);
    if (!account) {
      account = (async () => {
        const id = reserveAccountId(bank);
        const [result] = await this.#ledger.createAccounts([
          { id, ledger: cnyLedger, code: ChannelAccountCode.bankReserve },
        ]);
        assertLedgerResult(result, `reserve account of ${bank}`);
        return id;
      })();
      account.catch(() => this.#reserves.delete(bank));
      this.#reserves.set(bank, account);
    }
    return account;
  }

  // ---- Money in and out ------------------------------------------------------------------------

  /**
   * A top-up through the bank's gateway page: answers the order with `payUrl`, where the customer
   * pays. `bank` absent: the first bank whose limits take the amount.
   */
  async topUpByGateway(
    userId: string,
    input: { bank?: string | undefined; amount: string; idempotencyKey: string },
  ): Promise<ChannelOrderView> {
    const amount = validAmount(input.amount);
    validKey(input.idempotencyKey);
    if (input.bank !== undefined) this.adapter(input.bank);
    const hash = requestHash(['TOPUP_GATEWAY', input.bank ?? null, amount.toString()]);
    const replay = await this.#replay(userId, input.idempotencyKey, hash);
    if (replay) return replay;
    const candidates = input.bank ? [input.bank] : this.banks().map((b) => b.code);
    const row = await this.#create(userId, candidates, {
      kind: 'TOPUP_GATEWAY',
      amount,
      key: input.idempotencyKey,
      hash,
      cardId: null,
    });
    return orderView(await this.#send(row, 'user'));
  }

  /** A quick-pay top-up: the bank withholds the amount from a bound card; final in its answer. */
  async topUpByCard(
    userId: string,
    input: { cardId: string; amount: string; idempotencyKey: string },
  ): Promise<ChannelOrderView> {
    const amount = validAmount(input.amount);
    validKey(input.idempotencyKey);
    const hash = requestHash(['TOPUP_WITHHOLD', input.cardId, amount.toString()]);
    const replay = await this.#replay(userId, input.idempotencyKey, hash);
    if (replay) return replay;
    const card = await this.cards.activeCard(userId, input.cardId);
    const row = await this.#create(userId, [card.bank], {
      kind: 'TOPUP_WITHHOLD',
      amount,
      key: input.idempotencyKey,
      hash,
      cardId: card.card_id,
    });
    return orderView(await this.#send(row, 'user'));
  }

  /**
   * A withdrawal to a bound card: the amount is held in the wallet (pending) before the bank is
   * asked, posted when the bank confirms the payout, voided when it confirms a failure.
   */
  async withdraw(
    userId: string,
    input: { cardId: string; amount: string; idempotencyKey: string },
    context: PaymentContext = {},
  ): Promise<ChannelOrderView> {
    const amount = validAmount(input.amount);
    validKey(input.idempotencyKey);
    const hash = requestHash(['WITHDRAW', input.cardId, amount.toString()]);
    const replay = await this.#replay(userId, input.idempotencyKey, hash);
    if (replay) return replay;
    const card = await this.cards.activeCard(userId, input.cardId);
    // The risk engine before anything is written: a refusal or a challenge leaves only its record;
    // a review holds the amount and sends nothing to the bank until an operator decides.
    const verdict = await this.#risk?.assess(
      {
        path: 'withdrawal',
        userId,
        cardId: card.card_id,
        amountFen: amount,
        address: context.address,
        device: context.device,
        ref: `${userId}/${input.idempotencyKey}`,
      },
      { supports: bothSupported, fingerprint: hash, challenge: context.challenge },
    );
    const row = await this.#create(userId, [card.bank], {
      kind: 'WITHDRAW',
      amount,
      key: input.idempotencyKey,
      hash,
      cardId: card.card_id,
      reviewId: verdict?.decision === 'review' ? verdict.reviewId : null,
    });
    const sent = await this.#send(row, 'user');
    if (sent.status === 'FAILED' && sent.fail_code === 'BALANCE_NOT_ENOUGH')
      throw new ChannelError('balance_not_enough');
    return orderView(sent);
  }

  /**
   * Many withdrawals at once (the merged seller payouts), each as `withdraw` would make it —
   * limits, idempotency key, a hold on the wallet — but sent to each bank as one batch payout.
   * Answers each item's order, or its refusal, in request order. An unanswered batch leaves its
   * orders UNKNOWN, each settled by its own query (a resend, if the bank never saw it, goes alone).
   */
  async withdrawBatch(
    items: readonly { userId: string; cardId: string; amount: string; idempotencyKey: string }[],
  ): Promise<(ChannelOrderView | ChannelError)[]> {
    const out: (ChannelOrderView | ChannelError)[] = new Array(items.length);
    const claimed = new Map<string, { index: number; row: OrderRow; card: CardRow }[]>();
    for (const [index, item] of items.entries()) {
      try {
        const amount = validAmount(item.amount);
        validKey(item.idempotencyKey);
        const hash = requestHash(['WITHDRAW', item.cardId, amount.toString()]);
        const replay = await this.#replay(item.userId, item.idempotencyKey, hash);
        if (replay) {
          out[index] = replay;
          continue;
        }
        const card = await this.cards.activeCard(item.userId, item.cardId);
        const row = await this.#create(item.userId, [card.bank], {
          kind: 'WITHDRAW',
          amount,
          key: item.idempotencyKey,
          hash,
          cardId: card.card_id,
        });
        const inFlight = await this.#claimForBatch(row);
        if (inFlight.status !== 'IN_FLIGHT') {
          out[index] = orderView(inFlight);
          continue;
        }
        const group = claimed.get(row.bank) ?? [];
        group.push({ index, row: inFlight, card });
        claimed.set(row.bank, group);
      } catch (error) {
        if (!(error instanceof ChannelError)) throw error;
        out[index] = error;
      }
    }
    for (const [bank, group] of claimed) {
      const adapter = this.adapter(bank);
      for (let i = 0; i < group.length; i += limits.channelBatchItemsMax) {
        const chunk = group.slice(i, i + limits.channelBatchItemsMax);
        const answer = adapter.payoutBatch
          ? await adapter.payoutBatch({
              batchNo: `B${chunk[0]?.row.order_no}`,
              items: chunk.map(({ row, card }) => ({
                orderNo: row.order_no,
                cardNo: card.card_no,
                name: card.name,
                amountFen: row.amount_fen,
              })),
              notifyUrl: `${this.publicUrl()}/channels/callbacks/${bank}`,
            })
          : undefined;
        for (const [j, { index, row }] of chunk.entries()) {
          const itemAnswer: BankAnswer<BankOrder & { payUrl?: string }> =
            answer === undefined
              ? await this.#request(row)
              : answer.kind === 'ok'
                ? { kind: 'ok', value: answer.value[j] as BankOrder }
                : answer;
          out[index] = orderView((await this.#afterRequest(row, itemAnswer, 'settlement')).row);
        }
      }
    }
    return out;
  }

  /** Holds a withdrawal's amount and claims it IN_FLIGHT for a batch (a short wallet fails it). */
  async #claimForBatch(row: OrderRow): Promise<OrderRow> {
    const at = this.#now();
    if (!(await this.#hold(row))) {
      const sets = { fail_code: 'BALANCE_NOT_ENOUGH', finished_at: at, next_query_at: null };
      const failed = await this.#db.transaction((tx) =>
        transition(tx, row.order_no, ['CREATED'], 'FAILED', { actor: 'settlement', reason: 'hold refused', at, sets }),
      );
      return failed ?? this.#mustFind(row.order_no);
    }
    const claimed = await this.#db.transaction((tx) =>
      transition(tx, row.order_no, ['CREATED'], 'IN_FLIGHT', {
        actor: 'settlement',
        reason: 'sending to the bank in a batch',
        at,
        sets: { next_query_at: new Date(at.getTime() + limits.channelRequestTimeoutMs * 2) },
      }),
    );
    return claimed ?? this.#mustFind(row.order_no);
  }

  /** One of the user's channel orders. */
  async order(userId: string, orderNo: string): Promise<ChannelOrderView> {
    const row = await findOrder(this.#db, orderNo);
    if (!row || row.user_id !== userId) throw new ChannelError('order_not_found', { param: 'order_no' });
    return orderView(row);
  }

  /** Any channel order, for operators, reconciliation and tests. */
  async orderByNo(orderNo: string): Promise<ChannelOrderView | undefined> {
    const row = await findOrder(this.#db, orderNo);
    return row && orderView(row);
  }

  // ---- Resolving what is not known -------------------------------------------------------------

  /**
   * Drives an open order towards a confirmed outcome by asking the bank, with backoff
   * (`limits.channelQueryBackoffMs`): query; when the bank has no such order, send the same
   * request again (idempotent at the bank); when the bank does not answer, wait and ask again.
   * Answers the order as it then stands, terminal or not (a gateway page may still be unpaid).
   */
  async resolve(orderNo: string, options: { waits?: readonly number[] } = {}): Promise<ChannelOrderView> {
    const waits = options.waits ?? limits.channelQueryBackoffMs;
    let row = await this.#mustFind(orderNo);
    for (let attempt = 0; ; attempt++) {
      // An order in review is the operator's to move; asking the bank could only send it.
      if (isTerminal(row.status) || row.status === 'REVIEW') return orderView(row);
      const stepped = await this.#step(row, 'resolve');
      row = stepped.row;
      if (isTerminal(row.status) || stepped.answered) return orderView(row);
      const wait = waits[attempt];
      if (wait === undefined) return orderView(row);
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /**
   * One pass over open orders that are due (the server runs it every `channelSweepIntervalMs`):
   * each gets one step — a CREATED order left by a crash is sent, any other is queried — and, if
   * still open, its next query is pushed back exponentially. Answers how many became terminal.
   */
  async sweep(): Promise<number> {
    const due = await this.#tables()
      .selectFrom('channel_orders')
      .selectAll()
      .where('status', 'in', openStatuses)
      .where('next_query_at', '<=', this.#now())
      .orderBy('next_query_at')
      .limit(limits.channelSweepBatchMax)
      .execute();
    let finished = 0;
    for (const row of due) {
      const { row: after } = await this.#step(row, 'sweep');
      if (isTerminal(after.status)) finished++;
      else if (after.status !== 'REVIEW') await this.#postpone(after);
    }
    return finished;
  }

  /** Every open order of a bank created on a Beijing day (reconciliation resolves them first). */
  async openOrders(bank: string, date: string): Promise<string[]> {
    const rows = await this.#tables()
      .selectFrom('channel_orders')
      .select('order_no')
      .where('bank', '=', bank)
      .where('business_date', '=', date)
      .where('status', 'in', openStatuses)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => r.order_no);
  }

  /** One step on an open order: `answered` says the bank gave a definite answer. */
  async #step(row: OrderRow, actor: string): Promise<{ row: OrderRow; answered: boolean }> {
    assert(row.status !== 'REVIEW', `order ${row.order_no} in review is never sent or asked about`);
    if (row.status === 'CREATED') {
      const sent = await this.#send(row, actor);
      return { row: sent, answered: sent.status !== 'UNKNOWN' };
    }
    const answer = await this.adapter(row.bank).query(row.order_no);
    if (answer.kind === 'refused' && answer.code === 'ORDER_NOT_FOUND') {
      // The first request never reached the bank (or is still on its way): send it again under
      // the same order number; the bank answers the one order either way.
      const resent = await this.#request(row);
      // Not sent at all (the bank's breaker is open): the first request may still arrive, so
      // the order stays open for the next step, never failed on a call that was not made.
      if (isCircuitOpen(resent)) {
        return { row: await this.#unknown(row.order_no, actor, 'resend refused by the breaker'), answered: false };
      }
      return this.#afterRequest(row, resent, actor);
    }
    if (answer.kind === 'refused') {
      // A refused query (a bad signature, a clock out of step) says nothing about the order.
      return { row: await this.#unknown(row.order_no, actor, `query refused: ${answer.code}`), answered: false };
    }
    return this.#afterRequest(row, answer, actor);
  }

  async #afterRequest(
    row: OrderRow,
    answer: BankAnswer<BankOrder & { payUrl?: string }>,
    actor: string,
  ): Promise<{ row: OrderRow; answered: boolean }> {
    if (answer.kind === 'ok') return { row: await this.apply(row.order_no, answer.value, actor), answered: true };
    if (answer.kind === 'refused' && answer.code === 'ORDER_PARAMS_CONFLICT') {
      // The bank holds an order of this number with other parameters: not ours to finish.
      return { row: await this.#unknown(row.order_no, actor, answer.message), answered: false };
    }
    if (answer.kind === 'refused') {
      // A definite refusal: the bank did nothing with this order.
      return {
        row: await this.#fail(row.order_no, `BANK_REFUSED_${answer.code}`, actor, answer.message),
        answered: true,
      };
    }
    return { row: await this.#unknown(row.order_no, actor, answer.reason), answered: false };
  }

  async #postpone(row: OrderRow): Promise<void> {
    const base = row.kind === 'TOPUP_GATEWAY' && row.status === 'IN_FLIGHT' ? limits.channelGatewayQueryDelayMs : 1_000;
    const delay = Math.min(base * 2 ** Math.min(row.queries, 16), limits.channelQueryDelayMaxMs);
    await this.#tables()
      .updateTable('channel_orders')
      .set((eb) => ({ queries: eb('queries', '+', 1), next_query_at: new Date(this.#now().getTime() + delay) }))
      .where('order_no', '=', row.order_no)
      .where('status', '=', row.status)
      .execute();
  }

  // ---- Bank results ------------------------------------------------------------------------------

  /**
   * Applies what the bank confirmed about an order (its answer, a verified callback, a query):
   * money first, under ids derived from the order number, then the status. A PROCESSING order
   * stays (or goes back) in flight. An order whose amount or kind differs from ours is left as
   * it is: that is for reconciliation and an operator, never for the ledger.
   */
  async apply(orderNo: string, bankOrder: BankOrder & { payUrl?: string }, actor: string): Promise<OrderRow> {
    const row = await this.#mustFind(orderNo);
    if (bankOrder.amountFen !== row.amount_fen || bankOrder.kind !== bankKindOf(row.kind)) return row;
    const at = this.#now();
    if (bankOrder.status === 'PROCESSING') {
      const sets = { bank_serial: bankOrder.bankSerial, ...(bankOrder.payUrl ? { pay_url: bankOrder.payUrl } : {}) };
      const moved = await this.#db.transaction((tx) =>
        transition(tx, orderNo, ['IN_FLIGHT', 'UNKNOWN'], 'IN_FLIGHT', { actor, reason: 'bank: PROCESSING', at, sets }),
      );
      return moved ?? this.#mustFind(orderNo);
    }
    if (isTerminal(row.status)) return this.#assertAgrees(row, bankOrder.status);
    if (bankOrder.status === 'SUCCESS') await this.#moveOnSuccess(row);
    else await this.#moveOnFailure(row);
    const final: ChannelOrderStatus = bankOrder.status;
    const sets = {
      bank_serial: bankOrder.bankSerial,
      fail_code: final === 'FAILED' ? (bankOrder.failCode ?? 'BANK_FAILED') : null,
      finished_at: at,
      next_query_at: null,
    };
    const moved = await this.#db.transaction((tx) =>
      transition(tx, orderNo, openStatuses, final, { actor, reason: `bank: ${final}`, at, sets }),
    );
    return moved ?? this.#assertAgrees(await this.#mustFind(orderNo), final);
  }

  /** A terminal order and a bank that says otherwise: a bug or a broken bank, never ignored. */
  #assertAgrees(row: OrderRow, bankStatus: ChannelOrderStatus): OrderRow {
    assert(row.status === bankStatus, `channel order ${row.order_no} is ${row.status} but the bank says ${bankStatus}`);
    return row;
  }

  async #moveOnSuccess(row: OrderRow): Promise<void> {
    const reserve = await this.reserveAccount(row.bank);
    const wallet = u128FromUuid(row.wallet_account);
    if (row.kind === 'WITHDRAW') {
      const [result] = await this.#ledger.createTransfers([
        {
          id: transferIds.post(row.order_no),
          pendingId: transferIds.hold(row.order_no),
          debitAccountId: wallet,
          creditAccountId: reserve,
          amount: 0n,
          ledger: cnyLedger,
          code: ChannelTransferCode.withdrawal,
          flags: TransferFlags.postPendingTransfer,
        },
      ]);
      assertMoved(result, ['pending_transfer_already_posted'], `post of ${row.order_no}`);
      return;
    }
    const [result] = await this.#ledger.createTransfers([
      {
        id: transferIds.topUp(row.order_no),
        debitAccountId: reserve,
        creditAccountId: wallet,
        amount: row.amount_fen,
        userData128: derivedId('channels.order', row.order_no),
        userData64: BigInt(row.user_id),
        ledger: cnyLedger,
        code: ChannelTransferCode.topUp,
      },
    ]);
    assertMoved(result, [], `top-up ${row.order_no}`);
  }

  async #moveOnFailure(row: OrderRow): Promise<void> {
    if (row.kind !== 'WITHDRAW') return;
    const [result] = await this.#ledger.createTransfers([
      {
        id: transferIds.void(row.order_no),
        pendingId: transferIds.hold(row.order_no),
        debitAccountId: u128FromUuid(row.wallet_account),
        creditAccountId: await this.reserveAccount(row.bank),
        amount: 0n,
        ledger: cnyLedger,
        code: ChannelTransferCode.withdrawal,
        flags: TransferFlags.voidPendingTransfer,
      },
    ]);
    assertMoved(result, ['pending_transfer_already_voided'], `void of ${row.order_no}`);
  }

  /** The bank refused the request outright: nothing happened there; a withdrawal's hold is voided. */
  async #fail(orderNo: string, failCode: string, actor: string, reason: string): Promise<OrderRow> {
    const row = await this.#mustFind(orderNo);
    if (isTerminal(row.status)) return row;
    await this.#moveOnFailure(row);
    const at = this.#now();
    const sets = { fail_code: failCode, finished_at: at, next_query_at: null };
    const moved = await this.#db.transaction((tx) =>
      transition(tx, orderNo, ['IN_FLIGHT', 'UNKNOWN'], 'FAILED', { actor, reason, at, sets }),
    );
    return moved ?? this.#mustFind(orderNo);
  }

  async #unknown(orderNo: string, actor: string, reason: string): Promise<OrderRow> {
    const at = this.#now();
    const sets = { next_query_at: new Date(at.getTime() + (limits.channelQueryBackoffMs[0] ?? 1_000)) };
    const moved = await this.#db.transaction((tx) =>
      transition(tx, orderNo, ['IN_FLIGHT', 'UNKNOWN'], 'UNKNOWN', { actor, reason, at, sets }),
    );
    return moved ?? this.#mustFind(orderNo);
  }

  // ---- Callbacks and returns ---------------------------------------------------------------------

  /**
   * A bank's callback: the signature must verify, the timestamp be fresh, the signature unseen,
   * the order ours with the same kind and amount. Anything else is logged and moves nothing.
   * Duplicates (the bank's own retries, re-signed) are harmless: the ledger ids repeat.
   */
  async handleCallback(
    bank: string,
    headers: Record<string, string | undefined>,
    body: string,
  ): Promise<CallbackOutcome> {
    const adapter = this.#adapters.get(bank);
    if (!adapter || !this.#banks.has(bank)) return this.#reject(bank, null, 'unknown_bank', null, body, 404);
    const verified = adapter.verifyCallback(headers, body);
    if (!verified) return this.#reject(bank, null, 'forged', headers['x-bank-signature'] ?? null, body, 401);
    const { order, signature } = verified;
    if (Math.abs(this.#now().getTime() - verified.timestampMs) > limits.channelCallbackSkewMs)
      return this.#reject(bank, order.orderNo, 'stale', signature, body, 400);
    const row = await findOrder(this.#db, order.orderNo);
    if (!row || row.bank !== bank) return this.#reject(bank, order.orderNo, 'unknown_order', signature, body, 404);
    if (row.amount_fen !== order.amountFen || bankKindOf(row.kind) !== order.kind)
      return this.#reject(bank, order.orderNo, 'mismatch', signature, body, 400);
    const logged = await this.#tables()
      .insertInto('channel_callbacks')
      .values({ bank, order_no: order.orderNo, verdict: 'accepted', signature, body, received_at: this.#now() })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!logged) return this.#reject(bank, order.orderNo, 'replay', signature, body, 409);
    await this.apply(order.orderNo, order, 'callback');
    return { status: 200, body: 'success', verdict: 'accepted' };
  }

  async #reject(
    bank: string,
    orderNo: string | null,
    verdict: Exclude<CallbackOutcome['verdict'], 'accepted'>,
    signature: string | null,
    body: string,
    status: number,
  ): Promise<CallbackOutcome> {
    await this.#tables()
      .insertInto('channel_callbacks')
      .values({ bank, order_no: orderNo, verdict, signature, body: body.slice(0, 65_536), received_at: this.#now() })
      .execute();
    this.#onRejected?.({ bank, verdict, orderNo });
    return { status, body: verdict, verdict };
  }

  /**
   * The browser is back from the bank's page. Its parameters must verify, but they are only a
   * hint: the order is confirmed by asking the bank, like any other.
   */
  async handleReturn(bank: string, params: Record<string, string>): Promise<ChannelOrderView> {
    const verified = this.adapter(bank).verifyReturn(params);
    if (!verified)
      throw new ChannelError('parameter_invalid', { param: 'sign', detail: 'the signature does not verify' });
    const row = await findOrder(this.#db, verified.orderNo);
    if (!row || row.bank !== bank) throw new ChannelError('order_not_found', { param: 'order_no' });
    return this.resolve(row.order_no, { waits: [] });
  }

  // ---- Creating and sending ----------------------------------------------------------------------

  async #replay(userId: string, key: string, hash: string): Promise<ChannelOrderView | undefined> {
    const row = await this.#tables()
      .selectFrom('channel_orders')
      .selectAll()
      .where('user_id', '=', userId)
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    if (!row) return undefined;
    refuseReusedKey(
      row.request_hash,
      hash,
      () => new ChannelError('idempotency_key_reused', { param: 'Idempotency-Key' }),
    );
    if (row.kind === 'WITHDRAW' && row.fail_code === 'BALANCE_NOT_ENOUGH') throw new ChannelError('balance_not_enough');
    return orderView(row);
  }

  /**
   * Writes the order (CREATED) on the first candidate bank whose limits take it, checking the
   * per-day limit under a lock on (user, bank, direction), so concurrent orders cannot pass it
   * together. Writes nothing when no bank takes it.
   */
  async #create(
    userId: string,
    candidates: readonly string[],
    order: {
      kind: ChannelOrderKind;
      amount: bigint;
      key: string;
      hash: string;
      cardId: string | null;
      reviewId?: string | null;
    },
  ): Promise<OrderRow> {
    const wallet = await this.#parties.walletOf(userId);
    if (wallet === null) throw new ChannelError('user_not_found');
    const now = this.#now();
    const day = beijingDate(now);
    const outgoing = order.kind === 'WITHDRAW';
    // A bank whose breaker is open would refuse the order unsent: route around it, and write
    // nothing when every candidate is open.
    const open = this.breakerStates();
    const serving = candidates.filter((bank) => open.get(bank) !== 'open');
    if (serving.length === 0 && candidates.length > 0) {
      throw new ChannelError('bank_unavailable', { detail: `${candidates.join(', ')}: refused by the breaker` });
    }
    let refusal: ChannelError | undefined;
    for (const bank of serving) {
      const config = this.#banks.get(bank);
      if (!config) throw new ChannelError('bank_not_found', { param: 'bank' });
      const max = outgoing ? config.payoutMaxFen : config.paymentMaxFen;
      if (order.amount > max) {
        refusal = new ChannelError('payment_limit_exceeded', { param: 'amount' });
        continue;
      }
      const created = await this.#db.transaction(async (tx) => {
        await tx.query('select pg_advisory_xact_lock(hashtext($1))', [`channels/${userId}/${bank}/${outgoing}`]);
        const used = await typed<ChannelTables>(tx)
          .selectFrom('channel_orders')
          // sum(int8) is numeric, which our drivers answer as text: cast back to int8 (bigint).
          .select((eb) => eb.cast<bigint | null>(eb.fn.sum('amount_fen'), 'bigint').as('fen'))
          .where('user_id', '=', userId)
          .where('bank', '=', bank)
          .where('business_date', '=', day)
          .where('status', '<>', 'FAILED')
          .where('kind', outgoing ? '=' : '<>', 'WITHDRAW')
          .executeTakeFirst();
        if ((used?.fen ?? 0n) + order.amount > config.dailyMaxFen) return undefined;
        return insertOrder(tx, { ...order, orderNo: newOrderNo(now), bank, userId, wallet, day, now });
      });
      if (created) return created;
      refusal = new ChannelError('daily_limit_exceeded', { param: 'amount' });
    }
    if (candidates.length > 1) throw new ChannelError('no_bank_available', { param: 'amount' });
    throw refusal ?? new ChannelError('no_bank_available');
  }

  /**
   * Sends a CREATED order to its bank: a withdrawal's amount is held first (pending; a short
   * balance fails the order), then the order is claimed IN_FLIGHT and the bank asked. Whoever
   * loses the claim (a concurrent request, the sweep) reads the order as it stands.
   */
  async #send(row: OrderRow, actor: string): Promise<OrderRow> {
    if (row.kind === 'WITHDRAW' && !(await this.#hold(row))) {
      const at = this.#now();
      const sets = { fail_code: 'BALANCE_NOT_ENOUGH', finished_at: at, next_query_at: null };
      const failed = await this.#db.transaction((tx) =>
        transition(tx, row.order_no, ['CREATED'], 'FAILED', { actor, reason: 'hold refused', at, sets }),
      );
      if (row.review_id !== null) await this.#risk?.dropReview(row.review_id, 'not held: balance not enough');
      return failed ?? this.#mustFind(row.order_no);
    }
    if (row.review_id !== null) {
      // Held for the risk engine's review: the bank hears of it only once an operator approves.
      const at = this.#now();
      const held = await this.#db.transaction((tx) =>
        transition(tx, row.order_no, ['CREATED'], 'REVIEW', {
          actor,
          reason: 'held for review',
          at,
          sets: { next_query_at: null },
        }),
      );
      return held ?? this.#mustFind(row.order_no);
    }
    const at = this.#now();
    const claimed = await this.#db.transaction((tx) =>
      transition(tx, row.order_no, ['CREATED'], 'IN_FLIGHT', {
        actor,
        reason: 'sending to the bank',
        at,
        // If this process dies waiting for the bank, the sweep asks the bank after this.
        sets: { next_query_at: new Date(at.getTime() + limits.channelRequestTimeoutMs * 2) },
      }),
    );
    if (!claimed) return this.#mustFind(row.order_no);
    const { row: after } = await this.#afterRequest(claimed, await this.#request(claimed), actor);
    return after;
  }

  /**
   * An operator's decision on a withdrawal held for review (the risk engine's handler, by
   * `<user>/<key>`): `approve` sends it to the bank, `reject` voids the hold and fails it with
   * RISK_REJECTED. A hold a crash kept from being made is made first; each step is idempotent and
   * each move a compare and set, so a decision applied twice moves nothing twice.
   */
  async #decideHeld(ref: string, verdict: 'approve' | 'reject'): Promise<void> {
    const slash = ref.indexOf('/');
    const row = await this.#tables()
      .selectFrom('channel_orders')
      .selectAll()
      .where('user_id', '=', ref.slice(0, slash))
      .where('idempotency_key', '=', ref.slice(slash + 1))
      .executeTakeFirst();
    assert(row?.review_id, `a reviewed withdrawal ${ref} exists and is held for review`);
    if (row.status !== 'CREATED' && row.status !== 'REVIEW') return;
    const actor = 'risk review';
    const at = this.#now();
    const fail = (failCode: string, reason: string) =>
      this.#db.transaction((tx) =>
        transition(tx, row.order_no, ['CREATED', 'REVIEW'], 'FAILED', {
          actor,
          reason,
          at,
          sets: { fail_code: failCode, finished_at: at, next_query_at: null },
        }),
      );
    if (!(await this.#hold(row))) {
      await fail('BALANCE_NOT_ENOUGH', 'hold refused');
      return;
    }
    if (verdict === 'reject') {
      await this.#moveOnFailure(row);
      await fail('RISK_REJECTED', 'rejected after review');
      return;
    }
    const claimed = await this.#db.transaction((tx) =>
      transition(tx, row.order_no, ['CREATED', 'REVIEW'], 'IN_FLIGHT', {
        actor,
        reason: 'approved after review: sending to the bank',
        at,
        sets: { next_query_at: new Date(at.getTime() + limits.channelRequestTimeoutMs * 2) },
      }),
    );
    if (claimed) await this.#afterRequest(claimed, await this.#request(claimed), actor);
  }

  /** Places a withdrawal's hold; false when the wallet is short. Idempotent by its derived id. */
  async #hold(row: OrderRow): Promise<boolean> {
    const [result] = await this.#ledger.createTransfers([
      {
        id: transferIds.hold(row.order_no),
        debitAccountId: u128FromUuid(row.wallet_account),
        creditAccountId: await this.reserveAccount(row.bank),
        amount: row.amount_fen,
        userData128: derivedId('channels.order', row.order_no),
        userData64: BigInt(row.user_id),
        ledger: cnyLedger,
        code: ChannelTransferCode.withdrawal,
        flags: TransferFlags.pending,
      },
    ]);
    if (result === 'exceeds_credits') return false;
    assertMoved(result, [], `hold of ${row.order_no}`);
    return true;
  }

  /** The order's request to its bank (the same every time: the bank makes a resend idempotent). */
  async #request(row: OrderRow): Promise<BankAnswer<BankOrder & { payUrl?: string }>> {
    const adapter = this.adapter(row.bank);
    const base = this.publicUrl();
    const notifyUrl = `${base}/channels/callbacks/${row.bank}`;
    if (row.kind === 'TOPUP_GATEWAY') {
      return adapter.createGatewayOrder({
        orderNo: row.order_no,
        amountFen: row.amount_fen,
        subject: 'Paybao top-up',
        notifyUrl,
        returnUrl: `${base}/channels/return/${row.bank}`,
      });
    }
    const card = await this.cards.byId(row.card_id ?? '');
    if (row.kind === 'TOPUP_WITHHOLD') {
      return adapter.withhold({
        orderNo: row.order_no,
        agreementNo: card.agreement_no ?? '',
        amountFen: row.amount_fen,
        notifyUrl,
      });
    }
    return adapter.payout({
      orderNo: row.order_no,
      cardNo: card.card_no,
      name: card.name,
      amountFen: row.amount_fen,
      notifyUrl,
    });
  }

  async #mustFind(orderNo: string): Promise<OrderRow> {
    const row = await findOrder(this.#db, orderNo);
    if (!row) throw new ChannelError('order_not_found', { param: 'order_no' });
    return row;
  }

  #tables() {
    return typed<ChannelTables>(this.#db);
  }

  #now(): Date {
    return dateFromNs(this.#clock.nowNs());
  }
}

function bankKindOf(kind: ChannelOrderKind): BankOrder['kind'] {
  return kind === 'TOPUP_GATEWAY' ? 'GATEWAY' : kind === 'TOPUP_WITHHOLD' ? 'WITHHOLD' : 'PAYOUT';
}

async function insertOrder(
  tx: Queryable,
  o: {
    orderNo: string;
    kind: ChannelOrderKind;
    bank: string;
    userId: string;
    wallet: bigint;
    cardId: string | null;
    amount: bigint;
    key: string;
    hash: string;
    day: string;
    now: Date;
    reviewId?: string | null | undefined;
  },
): Promise<OrderRow> {
  const row = await typed<ChannelTables>(tx)
    .insertInto('channel_orders')
    .values({
      order_no: o.orderNo,
      kind: o.kind,
      bank: o.bank,
      user_id: o.userId,
      wallet_account: uuidFromU128(o.wallet),
      card_id: o.cardId,
      amount_fen: o.amount,
      idempotency_key: o.key,
      request_hash: o.hash,
      status: 'CREATED',
      business_date: o.day,
      created_at: o.now,
      updated_at: o.now,
      // A CREATED order still here after this was left by a crash: the sweep sends it (or, one
      // held for review, holds it and waits for the operator).
      next_query_at: new Date(o.now.getTime() + limits.channelRequestTimeoutMs * 2),
      review_id: o.reviewId ?? null,
    })
    .onConflict((oc) => oc.columns(['user_id', 'idempotency_key']).doNothing())
    .returningAll()
    .executeTakeFirst();
  // A concurrent request with the same key won: it is the one that goes on.
  if (!row) throw new ChannelError('idempotency_key_reused', { param: 'Idempotency-Key', detail: 'in progress' });
  return row;
}

function validAmount(text: unknown): bigint {
  const amount = typeof text === 'string' ? parseAmount(text) : undefined;
  if (amount === undefined || amount <= 0n || amount > BigInt(limits.channelAmountFenMax))
    throw new ChannelError('amount_invalid', { param: 'amount' });
  return amount;
}

function validKey(key: unknown): void {
  if (!isIdempotencyKey(key)) throw new ChannelError('parameter_invalid', { param: 'Idempotency-Key' });
}

/** `ok` and `exists` (and the listed already-done answers) mean the money is where it should be. */
function assertMoved(result: string | undefined, alsoFine: readonly string[], what: string): void {
  assertLedgerResult(result, what, alsoFine);
}
