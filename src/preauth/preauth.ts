import { assert } from '../core/assert.ts';
import type { Clock } from '../core/clock.ts';
import type { Db, Queryable } from '../core/db/index.ts';
import { dailyNumber } from '../core/external-ids.ts';
import { u128FromUuid, uuidFromU128 } from '../core/ids.ts';
import { SweepFailures } from '../core/jobs.ts';
import { limits } from '../core/limits.ts';
import { minFen } from '../core/money.ts';
import { dateFromNs } from '../core/time.ts';
import { type CreateTransferResult, chainCommitted, type Ledger, linkChain } from '../ledger/index.ts';
import { creditAdvanceAccount, holdChain, repayment, repaymentId } from './books.ts';
import { type CreditAsk, CreditServices, type CreditServiceView } from './credit-services.ts';
import { isPreauthError, PreauthError } from './errors.ts';
import type { OperationRow, OperationType, OrderRow } from './tables.ts';
import { type OperationView, type OrderView, operationView, orderView } from './views.ts';

/** Who the money moves between; wired by the platform from the members module. */
export interface PreauthParties {
  /** The merchant behind an app: member id and wallet account; null for an unknown app. */
  payeeOf(appId: string): Promise<{ userId: string; accountId: bigint } | null>;
  /** A member's wallet account; null for an unknown member. */
  payer(userId: string): Promise<{ userId: string; accountId: bigint } | null>;
}

/** A settlement's trade, as the trades module opens it. */
export interface HoldTradeInput {
  appId: string;
  outTradeNo: string;
  totalFen: bigint;
  subject: string;
  buyerId: string;
  notifyUrl?: string | undefined;
}

/**
 * The trades a settlement pays (`alipay.trade.pay` with `auth_no`), wired by the platform to
 * src/trades, which preauth never imports. The trade is opened claimed by the payer before the
 * money moves (its out_trade_no is taken, and no other payment may claim it), paid when the
 * hold's post has committed, closed when the settlement did not happen.
 */
export interface PreauthTrades {
  /** Opens the trade (or finds it again, with the same terms): its trade_no; throws the trades' refusal. */
  open(input: HoldTradeInput): Promise<string>;
  /** The settlement's money moved: the trade is paid (a second call does nothing). */
  paid(tradeNo: string): Promise<void>;
  /** The settlement will not happen: the trade is closed (a second call does nothing). */
  abandoned(tradeNo: string): Promise<void>;
}

/**
 * The credit score behind deposit-free freezes (src/credit, wired by the platform): a user's
 * score, or null when there is too little data to score them (N/A).
 */
export interface CreditScores {
  creditScore(userId: string): Promise<number | null>;
}

/**
 * What credit-based freezes read of other modules, wired by the platform: the users' scores
 * (src/credit) and, when given, who may have no credit at all. Each app's terms (threshold, cap)
 * are its credit service, this module's own (`CreditServices`).
 */
export interface CreditService {
  scores: CreditScores;
  /**
   * Whether the user is barred from credit-based freezes (the dishonest-debtor list, wired by the
   * platform); absent: nobody is. A restricted payer's credit-based freeze is refused
   * (`buyer_restricted`), writing nothing; their plain fund freezes are not.
   */
  restricted?(userId: string): Promise<boolean>;
}

/**
 * Where a debt is collected from besides the wallet, wired by the platform: the payer's Yu'e Bao
 * (a fast redemption into the wallet) and a bound card (quick pay into the wallet). Each moves up
 * to `fen` into the user's wallet under `key` (the same key answers the same order, never a
 * second one) and answers what it moved now; an operating refusal (no holdings, the day's fast
 * limit, no active card, the bank's refusal or an outcome not yet known) is 0n, and the next
 * round of the sweep asks again under the next key.
 */
export interface DebtSources {
  fromFund(userId: string, fen: bigint, key: string): Promise<bigint>;
  fromCard(userId: string, fen: bigint, key: string): Promise<bigint>;
}

export interface FreezeInput {
  appId: string;
  outOrderNo: string;
  outRequestNo: string;
  orderTitle: string;
  amountFen: bigint;
  /** An app freeze: how long the user has to confirm it (1 minute to 15 days, 15 minutes by default). */
  payTimeoutMs?: number | undefined;
  /** After how long the freeze expires and unfreezes itself (`limits.preauthTermDefaultMs` by default). */
  termMs?: number | undefined;
  notifyUrl?: string | undefined;
  /**
   * The freeze asks for credit (`extra_param`'s serviceId and category, `creditAskOf`): it must
   * name the app's open credit service. Absent: a plain fund freeze, held in full.
   */
  credit?: CreditAsk | undefined;
}

export interface UnfreezeInput {
  authNo: string;
  outRequestNo: string;
  amountFen: bigint;
  remark?: string | undefined;
}

export interface SettleInput {
  authNo: string;
  outTradeNo: string;
  amountFen: bigint;
  subject: string;
  /** COMPLETE: the rest is unfrozen with this payment; NOT_COMPLETE: the rest stays frozen. */
  complete: boolean;
  notifyUrl?: string | undefined;
}

/** An operation to insert on a claimed order. */
type NewOperation = Omit<
  OperationRow,
  'operation_id' | 'auth_no' | 'status' | 'created_at' | 'finished_at' | 'collect_fen' | 'advance_fen'
> & { collect_fen?: bigint; advance_fen?: bigint };

const outNoPattern = /^[A-Za-z0-9_\-.]{1,64}$/;

/**
 * Pre-authorisation: fund freezes on the ledger. A freeze order holds money from the payer's
 * wallet as a pending transfer to the payee's (see books.ts); a payment posts part of it to the
 * payee as a trade, an unfreeze voids part, the term's end voids the rest. Each order has at most
 * one operation in flight: it is claimed in one transaction (the order row locked, its
 * idempotency key inserted, `in_flight` set), moved in the ledger under derived ids, and
 * recorded by compare and set on `in_flight`. An operation that finds another in flight finishes
 * it first (its chain is idempotent), then tries again. So an order's amounts are only ever
 * changed by the one operation that ended the live hold, and the ledger refuses any second end:
 * nothing is both spent and released, nor more than frozen, however the calls interleave.
 */
export class Preauths {
  /** The credit services the platform granted apps: what a credit-based freeze must name. */
  readonly creditServices: CreditServices;

  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly parties: PreauthParties,
    private readonly trades: PreauthTrades,
    private readonly clock: Clock,
    private readonly credit?: CreditService,
    private readonly debtSources?: DebtSources,
  ) {
    this.creditServices = new CreditServices(db, clock, async (appId) => (await parties.payeeOf(appId)) !== null);
  }

  /**
   * `alipay.fund.auth.order.freeze`: the merchant scanned the payer's code; the money is held at
   * once. The same out_order_no and out_request_no with the same terms answers the same freeze.
   */
  async freeze(input: FreezeInput, payerId: string): Promise<OperationView> {
    const checked = await this.#checkFreeze(input);
    const payer = await this.parties.payer(payerId);
    if (!payer) throw new PreauthError('auth_code_invalid');
    const existing = await this.#existingFreeze(input);
    if (existing) return this.#replayFreeze(existing, payer.userId);
    const service = await this.#serviceFor(input.appId, input.credit);
    const split = await this.#split(service, payer.userId, input.amountFen);
    const now = this.#now();
    const authNo = newAuthNo(now);
    const operationId = newOperationId(now);
    const inserted = await this.db.transaction(async (tx) => {
      const order = await insertOrder(tx, {
        authNo,
        input,
        kind: 'BAR_CODE',
        payee: checked.payee,
        payer,
        split,
        termS: checked.termS,
        payExpiresAt: null,
        expiresAt: new Date(now.getTime() + checked.termS * 1000),
        inFlight: operationId,
        now,
      });
      if (!order) return null;
      await insertOperation(tx, operationId, authNo, freezeOperation(input, split, checked.termS), now);
      return order;
    });
    // Another request took this out_order_no meanwhile: answer as its replay would.
    if (!inserted) return this.freeze(input, payerId);
    return this.#finishFreeze(inserted, operationId);
  }

  /**
   * Whether a new freeze asking for credit may go on, before anything is written or spent (the
   * gateway asks before it spends the payer's code): the app's open service, and the payer (when
   * known) not restricted. A repeat of a freeze already made is left to `freeze`, which answers it
   * as it was. Throws `credit_service_not_open`, `credit_service_mismatch`, `buyer_restricted`.
   * The freeze checks all of it again.
   */
  async checkCreditAsk(input: FreezeInput, payerId: string | null): Promise<void> {
    if (!input.credit) return;
    const [made] = await this.db.query('select 1 from preauth_orders where app_id = $1 and out_order_no = $2', [
      input.appId,
      input.outOrderNo,
    ]);
    if (made) return;
    await this.#serviceFor(input.appId, input.credit);
    if (payerId !== null && (await this.credit?.restricted?.(payerId))) throw new PreauthError('buyer_restricted');
  }

  /**
   * `alipay.fund.auth.order.app.freeze`: an order that waits (INIT) for its payer to confirm it
   * at the cashier within `pay_timeout`; nothing is held yet. A repeat with the same terms answers
   * the same order.
   */
  async createAppFreeze(input: FreezeInput): Promise<OrderView> {
    const checked = await this.#checkFreeze(input);
    const payTimeoutMs = input.payTimeoutMs ?? limits.preauthPayTimeoutDefaultMs;
    if (
      !Number.isInteger(payTimeoutMs) ||
      payTimeoutMs < limits.preauthPayTimeoutMinMs ||
      payTimeoutMs > limits.preauthPayTimeoutMaxMs
    )
      throw new PreauthError('invalid_parameter', { param: 'pay_timeout', detail: 'from 1m to 15d' });
    const existing = await this.#existingFreeze(input);
    if (existing) return orderView(existing.order);
    // Refused now, writing nothing, when the freeze asks for credit the app has no service for.
    await this.#serviceFor(input.appId, input.credit);
    const now = this.#now();
    const authNo = newAuthNo(now);
    const split = { creditFen: 0n, fundFen: input.amountFen };
    const created = await this.db.transaction(async (tx) => {
      const order = await insertOrder(tx, {
        authNo,
        input,
        kind: 'APP',
        payee: checked.payee,
        payer: null,
        split,
        termS: checked.termS,
        payExpiresAt: new Date(now.getTime() + payTimeoutMs),
        expiresAt: null,
        inFlight: null,
        now,
      });
      if (order)
        await insertOperation(tx, newOperationId(now), authNo, freezeOperation(input, split, checked.termS), now);
      return order;
    });
    if (!created) return this.createAppFreeze(input);
    return orderView(created);
  }

  /** The order behind the cashier's confirm page (the payer reaches it by its link). */
  async orderByAuthNo(authNo: string): Promise<OrderView> {
    return orderView(await this.#order(this.db, authNo));
  }

  /**
   * The payer confirms an app freeze at the cashier: the money is held now (the credit score,
   * when the merchant offers credit, waives part). A short balance refuses and leaves the order
   * waiting, so that the payer may top up and confirm again before `pay_timeout`.
   */
  async confirmAppFreeze(authNo: string, payerId: string): Promise<OperationView> {
    const payer = await this.parties.payer(payerId);
    if (!payer) throw new PreauthError('payer_not_match');
    const preview = await this.#order(this.db, authNo);
    // The credit service is read again: withdrawn since the order was made, the confirmation is refused.
    const service = await this.#orderService(preview);
    const split = await this.#split(service, payer.userId, preview.amount_fen);
    const claimed = await this.db.transaction(async (tx) => {
      const order = await this.#order(tx, authNo, true);
      const [op] = await tx.query<OperationRow>(
        `select * from preauth_operations where auth_no = $1 and operation_type = 'FREEZE'`,
        [authNo],
      );
      assert(op, `order ${authNo} has its freeze operation`);
      if (order.status === 'AUTHORIZED' && order.payer_id === payer.userId) return { order, op, replay: true };
      if (order.payer_id !== null && order.payer_id !== payer.userId) throw new PreauthError('payer_not_match');
      if (order.status !== 'INIT') throw statusError(order);
      if (order.in_flight !== null) throw new PreauthError('busy');
      const now = this.#now();
      if (order.pay_expires_at && order.pay_expires_at <= now) throw new PreauthError('order_already_closed');
      const expiresAt = new Date(now.getTime() + order.term_s * 1000);
      const [updated] = await tx.query<OrderRow>(
        `update preauth_orders set payer_id = $2, payer_account = $3, in_flight = $4, credit_fen = $5, fund_fen = $6,
           expires_at = $7 where auth_no = $1 returning *`,
        [
          authNo,
          payer.userId,
          uuidFromU128(payer.accountId),
          op.operation_id,
          split.creditFen,
          split.fundFen,
          expiresAt,
        ],
      );
      const [claimedOp] = await tx.query<OperationRow>(
        `update preauth_operations set fund_fen = $2, credit_fen = $3, new_hold_fen = $2, created_at = $4
          where operation_id = $1 returning *`,
        [op.operation_id, split.fundFen, split.creditFen, now],
      );
      return { order: updated as OrderRow, op: claimedOp as OperationRow, replay: false };
    });
    if (claimed.replay) return operationView(claimed.order, claimed.op);
    return this.#finishFreeze(claimed.order, claimed.op.operation_id);
  }

  /**
   * `alipay.fund.auth.order.unfreeze`: releases `amountFen` of what is still frozen (credit
   * first, then funds). Idempotent by out_request_no on the order.
   */
  async unfreeze(appId: string, input: UnfreezeInput): Promise<OperationView> {
    checkOutNo(input.outRequestNo, 'out_request_no');
    checkAmount(input.amountFen);
    const op = await this.#operate(
      appId,
      input.authNo,
      input.outRequestNo,
      (order, now) => {
        const { creditFen, fundFen } = takeFrom(order, input.amountFen);
        return {
          request_key: input.outRequestNo,
          out_request_no: input.outRequestNo,
          operation_type: 'UNFREEZE',
          amount_fen: input.amountFen,
          fund_fen: fundFen,
          credit_fen: creditFen,
          hold_seq: order.hold_seq,
          new_hold_fen: order.rest_fund_fen - fundFen,
          hold_timeout_s: remainingS(order, now),
          complete: false,
          trade_no: null,
          out_trade_no: null,
          remark: input.remark ?? null,
        };
      },
      { type: 'UNFREEZE', amountFen: input.amountFen },
    );
    return this.#view(op);
  }

  /**
   * `alipay.trade.pay` with `auth_no`: pays a trade of `amountFen` from the frozen money (funds
   * first, then the credit-guaranteed part), by posting that much of the hold to the payee. With
   * `complete` the rest is unfrozen in the same chain; without, it stays frozen. Idempotent by
   * out_trade_no on the order. Answers the operation and the trade's number.
   */
  async settle(appId: string, input: SettleInput): Promise<OperationView> {
    checkOutNo(input.outTradeNo, 'out_trade_no');
    checkAmount(input.amountFen);
    const requestKey = `trade:${input.outTradeNo}`;
    const order = await this.#orderOf(appId, input.authNo);
    const replay = await this.#operation(this.db, order.auth_no, requestKey);
    if (replay) {
      if (replay.amount_fen !== input.amountFen || replay.complete !== input.complete)
        throw new PreauthError('out_request_no_conflict', { param: 'out_trade_no' });
      return this.#view(await this.#finish(replay));
    }
    // Refused before the trade is opened, writing nothing: the claim checks all of it again.
    checkOperable(order, this.#now());
    if (input.amountFen > order.rest_fund_fen + order.rest_credit_fen) throw new PreauthError('request_amount_exceed');
    // A credit-guaranteed part is collected from the payer's wallet as far as its balance goes now.
    const available = input.amountFen > order.rest_fund_fen ? await this.#available(order) : 0n;
    const tradeNo = await this.trades.open({
      appId,
      outTradeNo: input.outTradeNo,
      totalFen: input.amountFen,
      subject: input.subject,
      buyerId: order.payer_id as string,
      notifyUrl: input.notifyUrl,
    });
    let op: OperationRow;
    try {
      op = await this.#operate(
        appId,
        input.authNo,
        requestKey,
        (o, now) => {
          const { creditFen, fundFen } = payFrom(o, input.amountFen);
          const collectFen = creditFen < available ? creditFen : available;
          return {
            collect_fen: collectFen,
            advance_fen: creditFen - collectFen,
            request_key: requestKey,
            out_request_no: null,
            operation_type: 'PAY',
            amount_fen: input.amountFen,
            fund_fen: fundFen,
            credit_fen: creditFen,
            hold_seq: o.hold_seq,
            new_hold_fen: input.complete ? 0n : o.rest_fund_fen - fundFen,
            hold_timeout_s: remainingS(o, now),
            complete: input.complete,
            trade_no: tradeNo,
            out_trade_no: input.outTradeNo,
            remark: null,
          };
        },
        { type: 'PAY', amountFen: input.amountFen },
      );
    } catch (error) {
      // The claim lost a race (another operation took what was frozen): the trade never pays.
      if (isPreauthError(error)) await this.trades.abandoned(tradeNo);
      throw error;
    }
    return this.#view(op);
  }

  /** `alipay.fund.auth.operation.detail.query`: the order, and one operation of it (the last when none is named). */
  async query(
    appId: string,
    key: { authNo?: string | undefined; outOrderNo?: string | undefined },
    operation: {
      operationId?: string | undefined;
      outRequestNo?: string | undefined;
      operationType?: OperationType | undefined;
    } = {},
  ): Promise<{ order: OrderView; operation: OperationView | null }> {
    const order = key.authNo
      ? await this.#orderOf(appId, key.authNo)
      : await this.#orderByOutOrderNo(appId, key.outOrderNo);
    const [op] = await this.db.query<OperationRow>(
      `select * from preauth_operations where auth_no = $1
          and ($2::text is null or operation_id = $2) and ($3::text is null or out_request_no = $3)
          and ($4::text is null or operation_type = $4)
        order by created_at desc, operation_id desc limit 1`,
      [order.auth_no, operation.operationId || null, operation.outRequestNo || null, operation.operationType || null],
    );
    if (!op && (operation.operationId || operation.outRequestNo)) throw new PreauthError('operation_not_exist');
    return { order: orderView(order), operation: op ? operationView(order, op) : null };
  }

  /**
   * The sweep: app freezes nobody confirmed within `pay_timeout` close; freezes past their term
   * expire (the rest unfrozen, the hold voided or already expired in the ledger); operations a
   * crash left in flight are finished. At most `preauthSweepBatchMax` of each; returns how many.
   */
  async sweep(): Promise<number> {
    const now = this.#now();
    const failures = new SweepFailures();
    const unconfirmed = await this.db.query<{ auth_no: string }>(
      `update preauth_orders set status = 'CLOSED', finished_at = $1
        where auth_no in (select auth_no from preauth_orders where status = 'INIT' and in_flight is null
                            and pay_expires_at <= $1 order by pay_expires_at limit $2)
          and status = 'INIT' and in_flight is null
        returning auth_no`,
      [now, limits.preauthSweepBatchMax],
    );
    if (unconfirmed.length > 0) {
      await this.db.query(
        `update preauth_operations set status = 'CLOSED', finished_at = $2 where auth_no = any($1::text[]) and status = 'INIT'`,
        [unconfirmed.map((r) => r.auth_no), now],
      );
    }
    const due = await this.db.query<{ app_id: string; auth_no: string }>(
      `select app_id, auth_no from preauth_orders where status = 'AUTHORIZED' and expires_at <= $1
        order by expires_at limit $2`,
      [now, limits.preauthSweepBatchMax],
    );
    await failures.each(due, (o) => this.expire(o.app_id, o.auth_no), isPreauthError);
    const stale = await this.db.query<OperationRow>(
      `select op.* from preauth_orders o join preauth_operations op on op.operation_id = o.in_flight
        where o.in_flight is not null and op.created_at <= $1 limit $2`,
      [new Date(now.getTime() - limits.preauthSweepIntervalMs), limits.preauthSweepBatchMax],
    );
    await failures.each(stale, (op) => this.#finish(op), isPreauthError);
    const [collected = 0] = await failures.each([null], () => this.collectDebts());
    failures.throwIfAny('preauth sweep');
    return unconfirmed.length + due.length + stale.length + collected;
  }

  /** Ends a freeze whose term is over: what is still frozen is unfrozen. */
  async expire(appId: string, authNo: string): Promise<OperationView> {
    const op = await this.#operate(
      appId,
      authNo,
      'expire',
      (order) => ({
        request_key: 'expire',
        out_request_no: null,
        operation_type: 'EXPIRE',
        amount_fen: order.rest_fund_fen + order.rest_credit_fen,
        fund_fen: order.rest_fund_fen,
        credit_fen: order.rest_credit_fen,
        hold_seq: order.hold_seq,
        new_hold_fen: 0n,
        hold_timeout_s: 0,
        complete: true,
        trade_no: null,
        out_trade_no: null,
        remark: 'the freeze term is over',
      }),
      { type: 'EXPIRE', expiring: true },
    );
    return this.#view(op);
  }

  // ---- the claim, the ledger, the record ------------------------------------------------------

  /**
   * Claims an operation on the order and finishes it: the one saga of this module. An operation
   * already recorded under `requestKey` is answered again (finished first, if it is in flight).
   */
  async #operate(
    appId: string,
    authNo: string,
    requestKey: string,
    build: (order: OrderRow, now: Date) => NewOperation,
    options: { type: OperationType; amountFen?: bigint; expiring?: boolean },
  ): Promise<OperationRow> {
    for (let attempt = 0; attempt < limits.preauthClaimAttemptsMax; attempt++) {
      const claim = await this.db.transaction(async (tx): Promise<{ op: OperationRow } | { busy: OperationRow }> => {
        const order = await this.#order(tx, authNo, true);
        if (order.app_id !== appId) throw new PreauthError('auth_order_not_exist');
        const now = this.#now();
        const existing = await this.#operation(tx, authNo, requestKey);
        if (existing) {
          // A replay: the same operation, whatever the order holds now; other terms are refused.
          if (
            existing.operation_type !== options.type ||
            (options.amountFen !== undefined && existing.amount_fen !== options.amountFen)
          )
            throw new PreauthError('out_request_no_conflict');
          return { op: existing };
        }
        if (order.in_flight !== null) {
          const [busy] = await tx.query<OperationRow>('select * from preauth_operations where operation_id = $1', [
            order.in_flight,
          ]);
          assert(busy, `order ${authNo}'s operation in flight exists`);
          return { busy: busy as OperationRow };
        }
        if (options.expiring) {
          if (order.status !== 'AUTHORIZED' || !order.expires_at || order.expires_at > now) throw statusError(order);
        } else checkOperable(order, now);
        const op = await insertOperation(tx, newOperationId(now), authNo, build(order, now), now);
        await tx.query('update preauth_orders set in_flight = $2 where auth_no = $1', [authNo, op.operation_id]);
        return { op };
      });
      if ('op' in claim) return this.#finish(claim.op);
      // Another operation is in flight: finish it (idempotent), then claim again.
      await this.#finish(claim.busy).catch((error: unknown) => {
        if (!isPreauthError(error)) throw error;
      });
    }
    throw new PreauthError('busy');
  }

  /**
   * Moves an operation's money (again, if it moved before: the ids are derived) and records the
   * outcome. Safe beside another finisher of the same operation: both submit the same chain, and
   * the record is a compare and set on the order's `in_flight`.
   */
  async #finish(op: OperationRow): Promise<OperationRow> {
    if (op.status !== 'INIT') return op;
    const order = await this.#order(this.db, op.auth_no);
    if (op.advance_fen > 0n) await this.#ensureCreditAdvances();
    const chain = linkChain(holdChain(order, op));
    const results = chain.length > 0 ? await this.ledger.createTransfers(chain) : [];
    // An expiry whose hold the ledger's own timeout already voided: released all the same.
    const expiredAlready = op.operation_type === 'EXPIRE' && results[0] === 'pending_transfer_expired';
    if (chain.length === 0 || chainCommitted(results) || expiredAlready) {
      if (op.operation_type === 'PAY') await this.trades.paid(op.trade_no as string);
      return this.#recordSuccess(op);
    }
    const refusal = refusalOf(results);
    if (refusal === 'exceeds_credits' && op.operation_type === 'PAY' && op.collect_fen > 0n) {
      // The payer's balance fell since the claim: the platform advances the credit part instead.
      const [moved] = await this.db.query<OperationRow>(
        `update preauth_operations set advance_fen = advance_fen + collect_fen, collect_fen = 0
          where operation_id = $1 and status = 'INIT' and collect_fen = $2 returning *`,
        [op.operation_id, op.collect_fen],
      );
      const [again] = moved
        ? [moved]
        : await this.db.query<OperationRow>('select * from preauth_operations where operation_id = $1', [
            op.operation_id,
          ]);
      return this.#finish(again as OperationRow);
    }
    return this.#recordRefusal(op, refusal);
  }

  #creditAdvances: Promise<void> | undefined;

  /** The platform's credit advances account, created once (`exists` on a second process). */
  #ensureCreditAdvances(): Promise<void> {
    this.#creditAdvances ??= this.ledger.createAccounts([creditAdvanceAccount]).then(
      ([result]) => {
        assert(result === 'ok' || result === 'exists', `credit advances account: ${result}`);
      },
      (error: unknown) => {
        this.#creditAdvances = undefined;
        throw error;
      },
    );
    return this.#creditAdvances;
  }

  /** A payer's available balance now: posted credits less posted and pending debits. */
  async #available(order: OrderRow): Promise<bigint> {
    const [account] = await this.ledger.lookupAccounts([u128FromUuid(order.payer_account as string)]);
    if (!account) return 0n;
    const available = account.creditsPosted - account.debitsPosted - account.debitsPending;
    return available > 0n ? available : 0n;
  }

  /**
   * What a user owes for credit-guaranteed settlements the platform advanced: the open amount,
   * how many debts, since when. The credit score reads it (a strong negative while open).
   */
  async overdueDebt(userId: string): Promise<{ openFen: bigint; debts: number; oldestAt: Date | null }> {
    const [row] = await this.db.query<{ open_fen: bigint; debts: bigint; oldest_at: Date | null }>(
      `select coalesce(sum(amount_fen - repaid_fen), 0)::bigint open_fen, count(*) debts, min(created_at) oldest_at
         from preauth_debts where user_id = $1 and repaid_fen < amount_fen`,
      [userId],
    );
    return { openFen: row?.open_fen ?? 0n, debts: Number(row?.debts ?? 0n), oldestAt: row?.oldest_at ?? null };
  }

  /**
   * Collects open debts from their users' wallets, as far as each balance goes, after moving what
   * the wallet lacks into it from the user's Yu'e Bao, then a bound card (`DebtSources`, when
   * wired): one repayment per debt and round, its id derived from (debt, amount repaid so far), so
   * a retried or concurrent round moves each part once. At most `preauthSweepBatchMax` debts;
   * returns how many it collected from.
   */
  async collectDebts(): Promise<number> {
    const open = await this.db.query<{
      operation_id: string;
      user_id: string;
      user_account: string;
      amount_fen: bigint;
      repaid_fen: bigint;
    }>(
      `select operation_id, user_id, user_account, amount_fen, repaid_fen from preauth_debts
        where repaid_fen < amount_fen order by created_at limit $1`,
      [limits.preauthSweepBatchMax],
    );
    let collected = 0;
    for (const debt of open) {
      const account = u128FromUuid(debt.user_account);
      const id = repaymentId(debt.operation_id, debt.repaid_fen);
      // A repayment a crash left unrecorded is recorded with the amount it moved.
      let [moved] = await this.ledger.lookupTransfers([id]);
      if (!moved) {
        const due = debt.amount_fen - debt.repaid_fen;
        let available = await this.#availableIn(account);
        if (available < due && this.debtSources) {
          await this.#topUpForDebt(debt, due - available);
          available = await this.#availableIn(account);
        }
        const fen = minFen(available, due);
        if (fen <= 0n) continue;
        await this.#ensureCreditAdvances();
        const [result] = await this.ledger.createTransfers([
          repayment(debt.operation_id, debt.repaid_fen, account, fen),
        ]);
        if (result === 'exceeds_credits') continue;
        assert(result === 'ok' || result === 'exists', `debt repayment: ${result}`);
        [moved] = await this.ledger.lookupTransfers([id]);
      }
      assert(moved, 'a repayment the ledger took is found');
      const done = await this.db.query(
        `update preauth_debts set repaid_fen = repaid_fen + $3,
           repaid_at = case when repaid_fen + $3 = amount_fen then $4::timestamptz end
          where operation_id = $1 and repaid_fen = $2 returning 1`,
        [debt.operation_id, debt.repaid_fen, moved.amount, this.#now()],
      );
      collected += done.length;
    }
    return collected;
  }

  /** What a wallet can pay now: posted credits less posted and pending debits (never below zero). */
  async #availableIn(account: bigint): Promise<bigint> {
    const [a] = await this.ledger.lookupAccounts([account]);
    const available = a ? a.creditsPosted - a.debitsPosted - a.debitsPending : 0n;
    return available > 0n ? available : 0n;
  }

  /**
   * Moves `shortFen` into a debtor's wallet from their Yu'e Bao, then what is still short from a
   * bound card. The keys name the debt, how much of it was repaid and the amount asked, so a
   * round that is retried asks the same orders again and a later round (after a repayment, or
   * for another amount) asks new ones.
   */
  async #topUpForDebt(
    debt: { operation_id: string; user_id: string; repaid_fen: bigint },
    shortFen: bigint,
  ): Promise<void> {
    const sources = this.debtSources;
    assert(sources, 'debt sources are wired');
    const key = (source: string, fen: bigint) => `pd${source}-${debt.operation_id}-${debt.repaid_fen}-${fen}`;
    const fromFund = await sources.fromFund(debt.user_id, shortFen, key('f', shortFen));
    assert(fromFund >= 0n && fromFund <= shortFen, `the fund moved ${fromFund} of ${shortFen}`);
    const rest = shortFen - fromFund;
    if (rest > 0n) {
      const fromCard = await sources.fromCard(debt.user_id, rest, key('c', rest));
      assert(fromCard >= 0n && fromCard <= rest, `the card moved ${fromCard} of ${rest}`);
    }
  }

  async #recordSuccess(op: OperationRow): Promise<OperationRow> {
    return this.db.transaction(async (tx) => {
      const [order] = await tx.query<OrderRow>(
        'select * from preauth_orders where auth_no = $1 and in_flight = $2 for update',
        [op.auth_no, op.operation_id],
      );
      // Recorded already by another finisher.
      if (!order) return (await this.#operation(tx, op.auth_no, op.request_key)) as OperationRow;
      const now = this.#now();
      const next = afterSuccess(order, op, now);
      await tx.query(
        `update preauth_orders set status = $2, rest_fund_fen = $3, rest_credit_fen = $4, paid_fund_fen = $5,
           paid_credit_fen = $6, unfrozen_fund_fen = $7, unfrozen_credit_fen = $8, hold_seq = $9, in_flight = null,
           authorized_at = coalesce(authorized_at, $10), finished_at = $11
         where auth_no = $1`,
        [
          op.auth_no,
          next.status,
          next.rest_fund_fen,
          next.rest_credit_fen,
          next.paid_fund_fen,
          next.paid_credit_fen,
          next.unfrozen_fund_fen,
          next.unfrozen_credit_fen,
          next.hold_seq,
          now,
          next.status === 'AUTHORIZED' ? null : now,
        ],
      );
      const [done] = await tx.query<OperationRow>(
        `update preauth_operations set status = 'SUCCESS', finished_at = $2 where operation_id = $1 returning *`,
        [op.operation_id, now],
      );
      // What the platform advanced for the payer is their debt until collected.
      if (op.operation_type === 'PAY' && op.advance_fen > 0n) {
        await tx.query(
          `insert into preauth_debts (operation_id, user_id, user_account, amount_fen, created_at)
           values ($1, $2, $3, $4, $5)`,
          [op.operation_id, order.payer_id, order.payer_account, op.advance_fen, now],
        );
      }
      return done as OperationRow;
    });
  }

  /**
   * The ledger refused the operation's chain. A hold past its timeout (the term ran out between
   * the claim and the chain): the order is closed as expired, everything still frozen unfrozen.
   * A short balance on a freeze: a scanned freeze is forgotten (nothing was written that stays),
   * an app freeze waits for its payer again. Anything else is a bug.
   */
  async #recordRefusal(op: OperationRow, result: CreateTransferResult): Promise<never> {
    if (op.operation_type === 'PAY') await this.trades.abandoned(op.trade_no as string);
    const now = this.#now();
    if (result === 'exceeds_credits' && op.operation_type === 'FREEZE') {
      await this.db.transaction(async (tx) => {
        const [order] = await tx.query<OrderRow>(
          'select * from preauth_orders where auth_no = $1 and in_flight = $2 for update',
          [op.auth_no, op.operation_id],
        );
        if (!order) return;
        if (order.kind === 'BAR_CODE') {
          await tx.query('delete from preauth_operations where auth_no = $1', [op.auth_no]);
          await tx.query('delete from preauth_orders where auth_no = $1', [op.auth_no]);
        } else {
          await tx.query(
            `update preauth_orders set payer_id = null, payer_account = null, in_flight = null, expires_at = null
              where auth_no = $1`,
            [op.auth_no],
          );
        }
      });
      throw new PreauthError('payer_balance_not_enough');
    }
    assert(result === 'pending_transfer_expired', `preauth ${op.operation_type} refused by the ledger: ${result}`);
    await this.db.transaction(async (tx) => {
      const [order] = await tx.query<OrderRow>(
        'select * from preauth_orders where auth_no = $1 and in_flight = $2 for update',
        [op.auth_no, op.operation_id],
      );
      if (!order) return;
      await tx.query(
        `update preauth_orders set status = 'CLOSED', unfrozen_fund_fen = unfrozen_fund_fen + rest_fund_fen,
           unfrozen_credit_fen = unfrozen_credit_fen + rest_credit_fen, rest_fund_fen = 0, rest_credit_fen = 0,
           hold_seq = hold_seq + 1, in_flight = null, finished_at = $2
         where auth_no = $1`,
        [op.auth_no, now],
      );
      await tx.query(`update preauth_operations set status = 'CLOSED', finished_at = $2 where operation_id = $1`, [
        op.operation_id,
        now,
      ]);
    });
    throw new PreauthError('order_already_closed', { detail: 'the freeze expired' });
  }

  async #finishFreeze(order: OrderRow, operationId: string): Promise<OperationView> {
    const [op] = await this.db.query<OperationRow>('select * from preauth_operations where operation_id = $1', [
      operationId,
    ]);
    assert(op, `freeze operation ${operationId} exists`);
    const done = await this.#finish(op);
    return operationView(await this.#order(this.db, order.auth_no), done);
  }

  // ---- reads and checks ------------------------------------------------------------------------

  async #checkFreeze(input: FreezeInput): Promise<{ payee: { userId: string; accountId: bigint }; termS: number }> {
    checkOutNo(input.outOrderNo, 'out_order_no');
    checkOutNo(input.outRequestNo, 'out_request_no');
    checkAmount(input.amountFen);
    if (!input.orderTitle || input.orderTitle.length > 100)
      throw new PreauthError('invalid_parameter', { param: 'order_title' });
    const termMs = input.termMs ?? limits.preauthTermDefaultMs;
    if (!Number.isInteger(termMs) || termMs < limits.preauthPayTimeoutMinMs || termMs > limits.preauthTermMaxMs)
      throw new PreauthError('invalid_parameter', { param: 'freeze_term' });
    const payee = await this.parties.payeeOf(input.appId);
    if (!payee) throw new PreauthError('invalid_parameter', { param: 'app_id' });
    return { payee, termS: Math.ceil(termMs / 1000) };
  }

  /** A freeze with this out_order_no: its order and freeze operation, or null. Other terms are refused. */
  async #existingFreeze(input: FreezeInput): Promise<{ order: OrderRow; op: OperationRow } | null> {
    const [order] = await this.db.query<OrderRow>(
      'select * from preauth_orders where app_id = $1 and out_order_no = $2',
      [input.appId, input.outOrderNo],
    );
    if (!order) return null;
    const [op] = await this.db.query<OperationRow>(
      `select * from preauth_operations where auth_no = $1 and operation_type = 'FREEZE'`,
      [order.auth_no],
    );
    if (
      !op ||
      op.out_request_no !== input.outRequestNo ||
      order.amount_fen !== input.amountFen ||
      order.credit_service_id !== (input.credit?.serviceId ?? null)
    )
      throw new PreauthError('out_order_no_conflict');
    return { order, op };
  }

  async #replayFreeze(existing: { order: OrderRow; op: OperationRow }, payerId: string): Promise<OperationView> {
    if (existing.order.payer_id !== payerId || existing.order.kind !== 'BAR_CODE')
      throw new PreauthError('out_order_no_conflict');
    const done = await this.#finish(existing.op);
    return operationView(await this.#order(this.db, existing.order.auth_no), done);
  }

  /**
   * The open credit service a freeze asking `ask` uses (null for a plain fund freeze). Throws
   * `credit_service_not_open`, `credit_service_mismatch`.
   */
  async #serviceFor(appId: string, ask: CreditAsk | undefined): Promise<CreditServiceView | null> {
    if (!ask) return null;
    if (!this.credit) throw new PreauthError('credit_service_not_open');
    return this.creditServices.serviceFor(appId, ask);
  }

  /** The credit service an app freeze asked for, read again at its confirmation: still open, or refused. */
  async #orderService(order: OrderRow): Promise<CreditServiceView | null> {
    if (order.credit_service_id === null) return null;
    const service = await this.creditServices.of(order.app_id);
    if (!this.credit || service?.status !== 'ACTIVE' || service.serviceId !== order.credit_service_id)
      throw new PreauthError('credit_service_not_open');
    return service;
  }

  /**
   * How much of a freeze the payer's score guarantees (credit) and how much is held (fund): with
   * the app's service, at or above its threshold up to its cap is credit; below it, or with no
   * score (N/A), all of it is held. A restricted payer asking for credit is refused.
   */
  async #split(
    service: CreditServiceView | null,
    payerId: string,
    amountFen: bigint,
  ): Promise<{ creditFen: bigint; fundFen: bigint }> {
    const none = { creditFen: 0n, fundFen: amountFen };
    if (!service || !this.credit) return none;
    if (await this.credit.restricted?.(payerId)) throw new PreauthError('buyer_restricted');
    const score = await this.credit.scores.creditScore(payerId);
    if (score === null || score < service.scoreThreshold) return none;
    const creditFen = amountFen < service.waiverMaxFen ? amountFen : service.waiverMaxFen;
    return { creditFen, fundFen: amountFen - creditFen };
  }

  async #order(q: Queryable, authNo: string, lock = false): Promise<OrderRow> {
    const [order] = await q.query<OrderRow>(
      `select * from preauth_orders where auth_no = $1${lock ? ' for update' : ''}`,
      [authNo],
    );
    if (!order) throw new PreauthError('auth_order_not_exist');
    return order;
  }

  async #orderOf(appId: string, authNo: string): Promise<OrderRow> {
    const order = await this.#order(this.db, authNo);
    if (order.app_id !== appId) throw new PreauthError('auth_order_not_exist');
    return order;
  }

  async #orderByOutOrderNo(appId: string, outOrderNo: string | undefined): Promise<OrderRow> {
    if (!outOrderNo) throw new PreauthError('invalid_parameter', { param: 'auth_no' });
    const [order] = await this.db.query<OrderRow>(
      'select * from preauth_orders where app_id = $1 and out_order_no = $2',
      [appId, outOrderNo],
    );
    if (!order) throw new PreauthError('auth_order_not_exist');
    return order;
  }

  async #operation(q: Queryable, authNo: string, requestKey: string): Promise<OperationRow | undefined> {
    const [op] = await q.query<OperationRow>(
      'select * from preauth_operations where auth_no = $1 and request_key = $2',
      [authNo, requestKey],
    );
    return op;
  }

  async #view(op: OperationRow): Promise<OperationView> {
    if (op.status === 'CLOSED') throw new PreauthError('order_already_closed');
    return operationView(await this.#order(this.db, op.auth_no), op);
  }

  #now(): Date {
    return dateFromNs(this.clock.nowNs());
  }
}

// ---- pure helpers ----------------------------------------------------------------------------

function newAuthNo(now: Date): string {
  return dailyNumber('', now, 14, '21');
}

function newOperationId(now: Date): string {
  return dailyNumber('', now, 14, '31');
}

function checkOutNo(value: string, param: string): void {
  if (typeof value !== 'string' || !outNoPattern.test(value)) throw new PreauthError('invalid_parameter', { param });
}

function checkAmount(fen: bigint): void {
  if (typeof fen !== 'bigint' || fen <= 0n || fen > limits.preauthAmountFenMax)
    throw new PreauthError('invalid_parameter', { param: 'amount' });
}

/** An order an unfreeze or a payment may act on now; else the refusal its state calls for. */
function checkOperable(order: OrderRow, now: Date): void {
  if (order.status !== 'AUTHORIZED') throw statusError(order);
  if (order.expires_at && order.expires_at <= now)
    throw new PreauthError('order_already_closed', { detail: 'the freeze expired' });
}

function statusError(order: OrderRow): PreauthError {
  if (order.status === 'INIT') return new PreauthError('order_not_authorized');
  if (order.status === 'FINISH') return new PreauthError('order_already_finish');
  return new PreauthError('order_already_closed');
}

/** The seconds left of an order's term, rounded up, so that the next hold never expires before the order. */
function remainingS(order: OrderRow, now: Date): number {
  assert(order.expires_at, 'an authorised order has its term');
  return Math.max(1, Math.ceil((order.expires_at.getTime() - now.getTime()) / 1000));
}

/** An unfreeze takes the credit-guaranteed part first: it holds nothing, the funds do. */
function takeFrom(order: OrderRow, amountFen: bigint): { creditFen: bigint; fundFen: bigint } {
  if (amountFen > order.rest_fund_fen + order.rest_credit_fen) throw new PreauthError('request_amount_exceed');
  const creditFen = amountFen < order.rest_credit_fen ? amountFen : order.rest_credit_fen;
  return { creditFen, fundFen: amountFen - creditFen };
}

/** A payment takes the funds first: they are held; the credit-guaranteed rest must be collected. */
function payFrom(order: OrderRow, amountFen: bigint): { creditFen: bigint; fundFen: bigint } {
  if (amountFen > order.rest_fund_fen + order.rest_credit_fen) throw new PreauthError('request_amount_exceed');
  const fundFen = amountFen < order.rest_fund_fen ? amountFen : order.rest_fund_fen;
  return { creditFen: amountFen - fundFen, fundFen };
}

function freezeOperation(
  input: FreezeInput,
  split: { creditFen: bigint; fundFen: bigint },
  termS: number,
): NewOperation {
  return {
    request_key: input.outRequestNo,
    out_request_no: input.outRequestNo,
    operation_type: 'FREEZE',
    amount_fen: input.amountFen,
    fund_fen: split.fundFen,
    credit_fen: split.creditFen,
    hold_seq: 0,
    new_hold_fen: split.fundFen,
    hold_timeout_s: termS,
    complete: false,
    trade_no: null,
    out_trade_no: null,
    remark: null,
  };
}

/** The order's amounts after an operation succeeded. */
export function afterSuccess(order: OrderRow, op: OperationRow, now: Date): OrderRow {
  const next = { ...order };
  switch (op.operation_type) {
    case 'FREEZE':
      next.status = 'AUTHORIZED';
      next.rest_fund_fen = op.fund_fen;
      next.rest_credit_fen = op.credit_fen;
      next.hold_seq = 0;
      break;
    case 'UNFREEZE':
    case 'EXPIRE':
      next.rest_fund_fen -= op.fund_fen;
      next.rest_credit_fen -= op.credit_fen;
      next.unfrozen_fund_fen += op.fund_fen;
      next.unfrozen_credit_fen += op.credit_fen;
      break;
    case 'PAY':
      next.rest_fund_fen -= op.fund_fen;
      next.rest_credit_fen -= op.credit_fen;
      next.paid_fund_fen += op.fund_fen;
      next.paid_credit_fen += op.credit_fen;
      if (op.complete) {
        next.unfrozen_fund_fen += next.rest_fund_fen;
        next.unfrozen_credit_fen += next.rest_credit_fen;
        next.rest_fund_fen = 0n;
        next.rest_credit_fen = 0n;
      }
      break;
  }
  if (op.operation_type !== 'FREEZE' && op.fund_fen + op.new_hold_fen > 0n) next.hold_seq = op.hold_seq + 1;
  assert(next.rest_fund_fen === op.new_hold_fen || op.operation_type === 'EXPIRE', 'the hold follows the order');
  assert(next.rest_fund_fen >= 0n && next.rest_credit_fen >= 0n, 'never more than frozen');
  if (op.operation_type === 'EXPIRE') next.status = 'CLOSED';
  else if (next.rest_fund_fen + next.rest_credit_fen === 0n)
    next.status = next.paid_fund_fen + next.paid_credit_fen > 0n ? 'FINISH' : 'CLOSED';
  next.finished_at = next.status === 'AUTHORIZED' ? null : now;
  return next;
}

/** The refusal behind a chain that did not commit: its first result that is not the chain's echo. */
function refusalOf(results: readonly CreateTransferResult[]): CreateTransferResult {
  const refusal = results.find((r) => r !== 'ok' && r !== 'exists' && r !== 'linked_event_failed');
  assert(refusal, 'an uncommitted chain has a refusal');
  return refusal;
}

interface OrderInsert {
  authNo: string;
  input: FreezeInput;
  kind: 'BAR_CODE' | 'APP';
  payee: { userId: string; accountId: bigint };
  payer: { userId: string; accountId: bigint } | null;
  split: { creditFen: bigint; fundFen: bigint };
  termS: number;
  payExpiresAt: Date | null;
  expiresAt: Date | null;
  inFlight: string | null;
  now: Date;
}

async function insertOrder(tx: Queryable, o: OrderInsert): Promise<OrderRow | null> {
  const [row] = await tx.query<OrderRow>(
    `insert into preauth_orders (auth_no, app_id, out_order_no, order_title, kind, payee_id, payee_account, payer_id,
       payer_account, amount_fen, credit_fen, fund_fen, status, in_flight, term_s, pay_expires_at, expires_at,
       notify_url, created_at, credit_service_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'INIT', $13, $14, $15, $16, $17, $18, $19)
     on conflict (app_id, out_order_no) do nothing returning *`,
    [
      o.authNo,
      o.input.appId,
      o.input.outOrderNo,
      o.input.orderTitle,
      o.kind,
      o.payee.userId,
      uuidFromU128(o.payee.accountId),
      o.payer?.userId ?? null,
      o.payer ? uuidFromU128(o.payer.accountId) : null,
      o.input.amountFen,
      o.split.creditFen,
      o.split.fundFen,
      o.inFlight,
      o.termS,
      o.payExpiresAt,
      o.expiresAt,
      o.input.notifyUrl ?? null,
      o.now,
      o.input.credit?.serviceId ?? null,
    ],
  );
  return row ?? null;
}

async function insertOperation(
  tx: Queryable,
  operationId: string,
  authNo: string,
  op: NewOperation,
  now: Date,
): Promise<OperationRow> {
  const [row] = await tx.query<OperationRow>(
    `insert into preauth_operations (operation_id, auth_no, request_key, out_request_no, operation_type, amount_fen,
       fund_fen, credit_fen, hold_seq, new_hold_fen, hold_timeout_s, complete, trade_no, out_trade_no, remark,
       status, created_at, collect_fen, advance_fen)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'INIT', $16, $17, $18) returning *`,
    [
      operationId,
      authNo,
      op.request_key,
      op.out_request_no,
      op.operation_type,
      op.amount_fen,
      op.fund_fen,
      op.credit_fen,
      op.hold_seq,
      op.new_hold_fen,
      op.hold_timeout_s,
      op.complete,
      op.trade_no,
      op.out_trade_no,
      op.remark,
      now,
      op.collect_fen ?? 0n,
      op.advance_fen ?? 0n,
    ],
  );
  return row as OperationRow;
}

export type { OperationType };
