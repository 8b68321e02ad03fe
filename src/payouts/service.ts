import type { Updateable } from 'kysely';
import { assert } from '../core/assert.ts';
import type { Clock } from '../core/clock.ts';
import { type Db, type Queryable, typed } from '../core/db/index.ts';
import { dailyNumber } from '../core/external-ids.ts';
import { derivedId, u128FromUuid, uuidFromU128 } from '../core/ids.ts';
import { SweepFailures } from '../core/jobs.ts';
import { cnyLedger, payoutTransferCodes } from '../core/ledger-codes.ts';
import { limits } from '../core/limits.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import { dateFromNs } from '../core/time.ts';
import { assertLedgerResult, type CreateTransferResult, type Ledger } from '../ledger/index.ts';
import { neitherSupported, type Risk } from '../risk/index.ts';
import { PayoutError, type PayoutErrorCode } from './errors.ts';
import type { PayoutRow, PayoutTables } from './tables.ts';

/** Alipay's bounds for TRANS_ACCOUNT_NO_PWD: 0.10 to 100,000,000.00 yuan. */
const amountMinFen = 10n;
const amountMaxFen = 100_000_000_00n;
const outBizNoPattern = /^[A-Za-z0-9_\-.]{1,64}$/;

/** How a payee is named: the 16-digit user id, or the logon id (the phone). */
export type PayeeIdentityType = 'ALIPAY_USER_ID' | 'ALIPAY_LOGON_ID';
const identityTypes: readonly string[] = ['ALIPAY_USER_ID', 'ALIPAY_LOGON_ID'] satisfies PayeeIdentityType[];

/** Who the money moves between; wired by the platform from the members module. */
export interface PayoutParties {
  /** The merchant behind an app: member id and wallet account; null for an unknown app. */
  payerOf(appId: string): Promise<{ payerId: string; accountId: bigint } | null>;
  /** The member a payee identity names; null when there is none. */
  payee(identity: string, type: PayeeIdentityType): Promise<{ userId: string; accountId: bigint } | null>;
}

export interface TransferInput {
  appId: string;
  outBizNo: string;
  transAmount: string;
  productCode: string | undefined;
  bizScene: string | undefined;
  payeeIdentity: string;
  payeeIdentityType: string;
  orderTitle?: string | undefined;
  remark?: string | undefined;
}

/** A transfer is named by the merchant's out_biz_no or by Paybao's order_id / pay_fund_order_id. */
export interface PayoutKey {
  outBizNo?: string | undefined;
  orderId?: string | undefined;
  payFundOrderId?: string | undefined;
}

/** A transfer as the merchant sees it (`status` in Alipay's words: DEALING while in flight). */
export interface PayoutView {
  orderId: string;
  payFundOrderId: string;
  outBizNo: string;
  appId: string;
  amount: string;
  status: 'SUCCESS' | 'DEALING' | 'FAIL';
  payeeId: string;
  /** When the money moved; null unless SUCCESS. */
  paidAt: Date | null;
  /** Why it failed; null unless FAIL. */
  errorCode: PayoutErrorCode | null;
}

/**
 * Payouts: a merchant pays a member from its wallet (`alipay.fund.trans.uni.transfer`).
 *
 * Idempotent by (app, out_biz_no): the row is written first (PROCESSING), then the ledger moves
 * the money under a transfer id derived from (app, out_biz_no), then a second transaction records
 * the outcome. A retry, a concurrent duplicate or the sweep after a crash all submit that same
 * id, so the money moves at most once; the ledger's answer (`ok`/`exists`) is the truth the row
 * follows.
 */
export class Payouts {
  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly parties: PayoutParties,
    private readonly clock: Clock,
    /** The risk engine, asked before a payout is written; none in the module's own tests. */
    private readonly risk: Risk | undefined = undefined,
  ) {}

  /** Pays, or answers the earlier outcome for a repeated out_biz_no with the same parameters. */
  async transfer(input: TransferInput): Promise<PayoutView> {
    const request = validate(input);
    const existing = await this.#find(this.db, input.appId, { outBizNo: request.outBizNo });
    if (existing) return this.#replay(existing, request);
    const payer = await this.parties.payerOf(input.appId);
    if (!payer) throw new PayoutError('INVALID_PARAMETER', 'app_id');
    const payee = await this.parties.payee(request.payeeIdentity, request.payeeIdentityType);
    if (!payee) throw new PayoutError('PAYEE_NOT_EXIST');
    if (payee.accountId === payer.accountId) throw new PayoutError('PAYER_PAYEE_CANNOT_SAME');
    // A merchant's server cannot confirm a payment nor wait for a reviewer: the engine allows or refuses.
    await this.risk?.assess(
      {
        path: 'payout',
        userId: payer.payerId,
        payeeId: payee.userId,
        amountFen: request.amount,
        ref: `${input.appId}/${request.outBizNo}`,
      },
      { supports: neitherSupported, fingerprint: `${input.appId}/${request.outBizNo}/${request.amount}` },
    );
    const now = this.#now();
    const created = await typed<PayoutTables>(this.db)
      .insertInto('payouts')
      .values({
        order_id: newOrderId(now),
        pay_fund_order_id: newOrderId(now),
        app_id: input.appId,
        out_biz_no: request.outBizNo,
        amount_fen: request.amount,
        payer_id: payer.payerId,
        payer_account: uuidFromU128(payer.accountId),
        payee_id: payee.userId,
        payee_account: uuidFromU128(payee.accountId),
        payee_identity: request.payeeIdentity,
        payee_identity_type: request.payeeIdentityType,
        order_title: request.orderTitle ?? null,
        remark: request.remark ?? null,
        status: 'PROCESSING',
        created_at: now,
      })
      .onConflict((oc) => oc.columns(['app_id', 'out_biz_no']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (created) return this.#settle(created);
    // A concurrent request with the same out_biz_no wrote its row first.
    const raced = await this.#find(this.db, input.appId, { outBizNo: request.outBizNo });
    assert(raced, 'the conflicting payout row exists');
    return this.#replay(raced, request);
  }

  /** The transfer, as the app that made it sees it; throws ORDER_NOT_EXIST. */
  async query(appId: string, key: PayoutKey): Promise<PayoutView> {
    if (!key.outBizNo && !key.orderId && !key.payFundOrderId)
      throw new PayoutError('INVALID_PARAMETER', 'out_biz_no or order_id is required');
    const row = await this.#find(this.db, appId, key);
    if (!row) throw new PayoutError('ORDER_NOT_EXIST');
    return view(row);
  }

  /** Finishes transfers a crash left PROCESSING. Returns how many it finished. */
  async sweep(): Promise<number> {
    const stale = await typed<PayoutTables>(this.db)
      .selectFrom('payouts')
      .selectAll()
      .where('status', '=', 'PROCESSING')
      .where('created_at', '<=', new Date(this.#now().getTime() - limits.payoutProcessingStaleMs))
      .orderBy('created_at')
      .limit(limits.payoutSweepBatchMax)
      .execute();
    // One transfer failing does not hold up the others; each failure is thrown at the end.
    const failures = new SweepFailures();
    const finished = await failures.each(stale, (row) => this.#settle(row));
    failures.throwIfAny('payout sweep');
    return finished.length;
  }

  async #replay(row: PayoutRow, request: ValidRequest): Promise<PayoutView> {
    const same =
      row.amount_fen === request.amount &&
      row.payee_identity === request.payeeIdentity &&
      row.payee_identity_type === request.payeeIdentityType &&
      row.order_title === (request.orderTitle ?? null) &&
      row.remark === (request.remark ?? null);
    if (!same) throw new PayoutError('PAYMENT_INFO_INCONSISTENCY');
    if (row.status === 'SUCCESS') return view(row);
    if (row.status === 'PROCESSING') return this.#settle(row);
    // FAIL (the payer was short): the same out_biz_no may try again, under the same transfer id.
    const claimed = await typed<PayoutTables>(this.db)
      .updateTable('payouts')
      .set({ status: 'PROCESSING', error_code: null })
      .where('order_id', '=', row.order_id)
      .where('status', '=', 'FAIL')
      .returningAll()
      .executeTakeFirst();
    return this.#settle(claimed ?? row);
  }

  /** Moves the money of a payout and records what the ledger answered. */
  async #settle(row: PayoutRow): Promise<PayoutView> {
    const [result] = await this.ledger.createTransfers([
      {
        id: derivedId('payout', `${row.app_id}/${row.out_biz_no}`),
        debitAccountId: u128FromUuid(row.payer_account),
        creditAccountId: u128FromUuid(row.payee_account),
        amount: row.amount_fen,
        userData128: derivedId('payout.order', row.order_id),
        ledger: cnyLedger,
        code: payoutTransferCodes.payout,
      },
    ]);
    const moved = result === 'ok' || result === 'exists';
    const short = result === 'exceeds_credits';
    assertLedgerResult(result, `payout ${row.order_id}`, ['exceeds_credits']);
    const after = await this.db.transaction(async (tx) => {
      const current = await typed<PayoutTables>(tx)
        .selectFrom('payouts')
        .selectAll()
        .where('order_id', '=', row.order_id)
        .forUpdate()
        .executeTakeFirst();
      assert(current, 'the payout being settled exists');
      // Money moved: the row says SUCCESS, whatever an earlier attempt wrote. Short: only an
      // attempt still PROCESSING becomes FAIL, never one that another attempt saw succeed.
      if (moved && current.status !== 'SUCCESS') {
        return updated(tx, row.order_id, { status: 'SUCCESS', error_code: null, paid_at: this.#now() });
      }
      if (short && current.status === 'PROCESSING') {
        return updated(tx, row.order_id, { status: 'FAIL', error_code: 'PAYER_BALANCE_NOT_ENOUGH' });
      }
      return current;
    });
    if (after.status === 'SUCCESS') return view(after);
    throw payoutError(result);
  }

  async #find(q: Queryable, appId: string, key: PayoutKey): Promise<PayoutRow | undefined> {
    const [column, value] = key.orderId
      ? (['order_id', key.orderId] as const)
      : key.payFundOrderId
        ? (['pay_fund_order_id', key.payFundOrderId] as const)
        : (['out_biz_no', key.outBizNo] as const);
    // Another app's transfer is indistinguishable from a missing one.
    const row = await typed<PayoutTables>(q)
      .selectFrom('payouts')
      .selectAll()
      .where('app_id', '=', appId)
      .where(column, '=', value ?? '')
      .executeTakeFirst();
    if (row && key.outBizNo && row.out_biz_no !== key.outBizNo) return undefined;
    return row;
  }

  #now(): Date {
    return dateFromNs(this.clock.nowNs());
  }
}

interface ValidRequest {
  outBizNo: string;
  amount: bigint;
  payeeIdentity: string;
  payeeIdentityType: PayeeIdentityType;
  orderTitle: string | undefined;
  remark: string | undefined;
}

function validate(input: TransferInput): ValidRequest {
  const bad = (what: string) => new PayoutError('INVALID_PARAMETER', what);
  if (typeof input.outBizNo !== 'string' || !outBizNoPattern.test(input.outBizNo)) throw bad('out_biz_no');
  const amount = typeof input.transAmount === 'string' ? parseAmount(input.transAmount) : undefined;
  if (amount === undefined || amount < amountMinFen || amount > amountMaxFen) throw bad('trans_amount');
  if (input.productCode !== 'TRANS_ACCOUNT_NO_PWD') throw bad('product_code must be TRANS_ACCOUNT_NO_PWD');
  if (input.bizScene !== undefined && input.bizScene !== 'DIRECT_TRANSFER')
    throw bad('biz_scene must be DIRECT_TRANSFER');
  if (!identityTypes.includes(input.payeeIdentityType)) throw bad('payee_info.identity_type');
  if (!input.payeeIdentity || input.payeeIdentity.length > 100) throw bad('payee_info.identity');
  if (input.orderTitle !== undefined && input.orderTitle.length > 128) throw bad('order_title');
  if (input.remark !== undefined && input.remark.length > 200) throw bad('remark');
  return {
    outBizNo: input.outBizNo,
    amount,
    payeeIdentity: input.payeeIdentity,
    payeeIdentityType: input.payeeIdentityType as PayeeIdentityType,
    orderTitle: input.orderTitle,
    remark: input.remark,
  };
}

async function updated(tx: Queryable, orderId: string, sets: Updateable<PayoutTables['payouts']>): Promise<PayoutRow> {
  const row = await typed<PayoutTables>(tx)
    .updateTable('payouts')
    .set(sets)
    .where('order_id', '=', orderId)
    .returningAll()
    .executeTakeFirst();
  assert(row, 'the payout being updated exists');
  return row;
}

/** A payout the ledger did not take: a short balance, or (any other code) a bug. */
function payoutError(result: CreateTransferResult | undefined): PayoutError {
  assertLedgerResult(result, 'payout', ['exceeds_credits']);
  assert(result === 'exceeds_credits', 'a payout the ledger took is never refused');
  return new PayoutError('PAYER_BALANCE_NOT_ENOUGH');
}

/** Alipay-shaped fund order number: date (Beijing), "11007", then 19 random digits. */
function newOrderId(now: Date): string {
  return dailyNumber('', now, 19, '11007');
}

function view(row: PayoutRow): PayoutView {
  return {
    orderId: row.order_id,
    payFundOrderId: row.pay_fund_order_id,
    outBizNo: row.out_biz_no,
    appId: row.app_id,
    amount: formatAmount(row.amount_fen),
    status: row.status === 'PROCESSING' ? 'DEALING' : row.status,
    payeeId: row.payee_id,
    paidAt: row.paid_at,
    errorCode: row.error_code,
  };
}
