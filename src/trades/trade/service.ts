import { assert } from '../../core/assert.ts';
import type { Clock } from '../../core/clock.ts';
import type { Db, Queryable } from '../../core/db/index.ts';
import { newTradeNo } from '../../core/external-ids.ts';
import { derivedId, u128FromUuid, uuidFromU128 } from '../../core/ids.ts';
import { SweepFailures } from '../../core/jobs.ts';
import { cnyLedger, EscrowTransferCode, tradeTransferCodes } from '../../core/ledger-codes.ts';
import { limits } from '../../core/limits.ts';
import { formatAmount, parseAmount } from '../../core/money.ts';
import { beijingTime, dateFromNs } from '../../core/time.ts';
import {
  assertLedgerResult,
  type CreateTransferResult,
  chainCommitted,
  type Ledger,
  linkChain,
  type TransferInput,
} from '../../ledger/index.ts';
import { isMembersError, validNotifyUrl } from '../../members/index.ts';
import { isRefusal, TradeError } from '../errors.ts';
import { contractOf, defaultContract, type EscrowContract, saveContract } from '../escrow/contracts.ts';
import { ensureEscrowAccounts, escrowAccounts } from '../escrow/escrow-books.ts';
import type { FundingRequest, FundingSource } from './funding.ts';
import { inEscrow } from './state.ts';
import {
  channelBills,
  type FundBill,
  type TradeKey,
  type TradeRow,
  TradeStore,
  type TradeView,
  view,
} from './store.ts';
import { TradeWrites } from './write-batches.ts';

const amountMinFen = 1n;
const amountMaxFen = 100_000_000_00n;

/** Who the money moves between; wired by the platform from the members module. */
export interface TradeParties {
  /** The seller behind an app: member id and wallet account; null for an unknown app. */
  sellerOf(appId: string): Promise<{ sellerId: string; accountId: bigint } | null>;
  /** A buyer's wallet account; null for an unknown member. */
  buyer(userId: string): Promise<{ userId: string; accountId: bigint } | null>;
}

export interface CreateTradeInput {
  appId: string;
  outTradeNo: string;
  totalAmount: string;
  subject: string;
  productCode?: string | undefined;
  /** Alipay's relative timeout: "90m", "2h", "1d", "1c" (today). Default from limits. */
  timeoutExpress?: string | undefined;
  /** Where the cashier page sends the buyer after paying (page.pay / wap.pay). */
  returnUrl?: string | undefined;
  /**
   * The request's own notify URL, which Alipay takes over the app's: this trade's notifications
   * go there. Checked as an app's notify URL is (http or https, at most `notifyUrlLengthMax`).
   */
  notifyUrl?: string | undefined;
  /** A guaranteed (escrow) trade; when absent, the app's contract decides. */
  escrow?: boolean | undefined;
  /** An escrow trade's confirm period after shipment ("10d", "36h"); the contract's when absent. */
  confirmTimeout?: string | undefined;
}

export interface RefundView {
  tradeNo: string;
  outTradeNo: string;
  outRequestNo: string;
  refundAmount: string;
  /** Total refunded on the trade after this refund. */
  refundedTotal: string;
  status: 'PROCESSING' | 'SUCCESS' | 'FAILED';
  /** Whether this call moved money (Alipay's fund_change). */
  fundChange: boolean;
  buyerId: string | null;
  /** Where this refund goes back, as Alipay's refund_detail_item_list names the channels. */
  fundBills: FundBill[];
}

/** A refund's row: how much, how much of it back to Yu'e Bao, and where it stands. */
type RefundRow = { refund_fen: bigint; fund_fen: bigint; status: RefundView['status'] };

const outTradeNoPattern = /^[A-Za-z0-9_\-.]{1,64}$/;

/** The product code of a pre-authorisation's payment (`alipay.trade.pay` with `auth_no`). */
export const holdProductCode = 'PREAUTH_PAY';

/**
 * Trades: create, pay from the wallet, query, refund, close, cancel, and the timeout sweep.
 * Money moves only through the ledger, with ids derived from the trade (see `derivedId`), never
 * inside a trade transaction: a trade transaction claims the step (compare and set on the
 * status), the ledger moves the money idempotently, a second transaction records the outcome
 * and writes the notification to the outbox.
 */
export class Trades {
  private readonly store: TradeStore;
  /** The payment path's statements, grouped across concurrent payments. */
  readonly #writes: TradeWrites;
  /** Contracts read in the last `limits.escrowContractCacheMs` (a write here forgets its app's). */
  readonly #contracts = new Map<string, { contract: EscrowContract; readAtMs: number }>();
  #escrowAccounts: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly parties: TradeParties,
    private readonly clock: Clock,
    /** Yu'e Bao, when the platform wires it: a payment may draw on it (see `FundingSource`). */
    private readonly funding?: FundingSource,
  ) {
    this.store = new TradeStore(clock);
    this.#writes = new TradeWrites(db);
  }

  /** An app's escrow terms: its contract, or the defaults. */
  async contract(appId: string): Promise<EscrowContract> {
    const hit = this.#contracts.get(appId);
    if (hit && performance.now() - hit.readAtMs < limits.escrowContractCacheMs) return hit.contract;
    const contract = (await contractOf(this.db, appId)) ?? defaultContract;
    if (this.#contracts.size >= limits.escrowContractCacheMax) this.#contracts.clear();
    this.#contracts.set(appId, { contract, readAtMs: performance.now() });
    return contract;
  }

  /** The member id of an app's seller; null for an unknown app. */
  async sellerOfApp(appId: string): Promise<string | null> {
    return (await this.parties.sellerOf(appId))?.sellerId ?? null;
  }

  /** Agrees an app's escrow terms (console, CLI); trades created afterwards follow them. */
  async saveContract(appId: string, contract: EscrowContract): Promise<void> {
    if (!(await this.parties.sellerOf(appId))) throw new TradeError('INVALID_PARAMETER', 'app_id');
    await saveContract(this.db, appId, contract, this.#now());
    this.#contracts.delete(appId);
  }

  /** Creates a trade, or returns the same one for a repeated out_trade_no with the same terms. */
  async create(input: CreateTradeInput): Promise<TradeView> {
    const created = await this.#insertTrade(input, null);
    if (created) return view(created);
    const existing = await this.store.find(this.db, input.appId, { outTradeNo: input.outTradeNo });
    if (
      existing.total_fen !== parseTradeAmount(input.totalAmount) ||
      existing.subject !== input.subject ||
      (input.escrow !== undefined && existing.escrow !== input.escrow)
    )
      throw new TradeError('CONTEXT_INCONSISTENT');
    return view(existing);
  }

  /**
   * Inserts a new trade, waiting for its buyer or (`claim`) already claimed by one, with its first
   * transition recorded in the same statement; null when the out_trade_no is taken.
   */
  async #insertTrade(
    input: CreateTradeInput,
    claim: { status: 'PAYING'; buyerId: string; buyerAccount: string; actor: string } | null,
    holdPayment = false,
  ): Promise<TradeRow | null> {
    const total = parseTradeAmount(input.totalAmount);
    if (!outTradeNoPattern.test(input.outTradeNo)) throw new TradeError('INVALID_PARAMETER', 'out_trade_no');
    // A pre-authorisation's payment is opened only by `openHoldPayment`: the sweep leaves it to preauth.
    if (input.productCode === holdProductCode && !holdPayment)
      throw new TradeError('INVALID_PARAMETER', 'product_code PREAUTH_PAY needs auth_no');
    if (!input.subject || input.subject.length > 256) throw new TradeError('INVALID_PARAMETER', 'subject');
    const seller = await this.parties.sellerOf(input.appId);
    if (!seller) throw new TradeError('INVALID_PARAMETER', 'app_id');
    const now = this.#now();
    const expiresAt = new Date(now.getTime() + timeoutMs(input.timeoutExpress));
    const contract = await this.contract(input.appId);
    const escrow = input.escrow ?? contract.escrowDefault;
    const confirmPeriodMs = input.confirmTimeout ? confirmPeriod(input.confirmTimeout) : contract.confirmPeriodMs;
    return this.#writes.insert({
      tradeNo: newTradeNo(now),
      appId: input.appId,
      outTradeNo: input.outTradeNo,
      subject: input.subject,
      totalFen: total,
      status: claim?.status ?? 'WAIT_BUYER_PAY',
      sellerId: seller.sellerId,
      sellerAccount: uuidFromU128(seller.accountId),
      productCode: input.productCode ?? null,
      expiresAt,
      createdAt: now,
      returnUrl: input.returnUrl ?? null,
      notifyUrl: requestNotifyUrl(input.notifyUrl),
      buyerId: claim?.buyerId ?? null,
      buyerAccount: claim?.buyerAccount ?? null,
      actor: claim?.actor ?? null,
      escrow,
      feeBps: escrow ? contract.feeBps : 0,
      confirmPeriodMs: escrow ? confirmPeriodMs : 0,
    });
  }

  /**
   * Opens the trade of a pre-authorisation's settlement (`alipay.trade.pay` with `auth_no`,
   * product code PREAUTH_PAY), already claimed by its buyer: PAYING, so that no other payment
   * claims it and its out_trade_no is taken, while src/preauth moves the money by posting the
   * hold under this trade's payment id. The same out_trade_no with the same terms, buyer and
   * product answers the same trade (a retry); anything else is refused as create would refuse it.
   */
  async openHoldPayment(input: CreateTradeInput, buyerId: string): Promise<TradeView> {
    const buyer = await this.parties.buyer(buyerId);
    assert(buyer, `a frozen order's payer ${buyerId} is a member`);
    const held = { ...input, productCode: holdProductCode, escrow: false };
    const claim = {
      status: 'PAYING' as const,
      buyerId: buyer.userId,
      buyerAccount: uuidFromU128(buyer.accountId),
      actor: `preauth:${buyer.userId}`,
    };
    const row = await this.#insertTrade(held, claim, true);
    if (row) return view(row);
    const existing = await this.store.find(this.db, input.appId, { outTradeNo: input.outTradeNo });
    if (
      existing.product_code !== holdProductCode ||
      existing.buyer_id !== buyer.userId ||
      existing.total_fen !== parseTradeAmount(input.totalAmount) ||
      existing.subject !== input.subject
    )
      throw new TradeError(existing.status === 'WAIT_BUYER_PAY' ? 'CONTEXT_INCONSISTENT' : 'TRADE_HAS_SUCCESS');
    if (existing.status === 'TRADE_CLOSED') throw new TradeError('TRADE_HAS_CLOSE');
    return view(existing);
  }

  /** The hold's post under this trade's payment id has committed: the trade is paid (again: nothing). */
  async recordHoldPaid(tradeNo: string): Promise<void> {
    const [trade] = await this.db.query<TradeRow>('select * from trades where trade_no = $1', [tradeNo]);
    assert(trade?.product_code === holdProductCode, `trade ${tradeNo} is a pre-authorisation's`);
    if (trade.status !== 'PAYING') return;
    await this.#writes.recordPaid({ trade, to: 'TRADE_SUCCESS', actor: 'ledger', at: this.#now() });
  }

  /** The settlement will not happen (the hold expired, or another operation took it): the trade closes. */
  async abandonHoldPayment(tradeNo: string): Promise<void> {
    const [trade] = await this.db.query<TradeRow>('select * from trades where trade_no = $1', [tradeNo]);
    assert(trade?.product_code === holdProductCode, `trade ${tradeNo} is a pre-authorisation's`);
    if (trade.status !== 'PAYING') return;
    const waiting = await this.#backToWaiting(trade);
    if (waiting)
      await this.store.transition(this.db, waiting, 'TRADE_CLOSED', 'preauth', { closed_at: this.#now() }, {});
  }

  /** A trade by Paybao's number alone (the cashier page, which the buyer reaches by a link). */
  async byTradeNo(tradeNo: string): Promise<TradeView> {
    const [row] = await this.db.query<TradeRow>('select * from trades where trade_no = $1', [tradeNo]);
    if (!row) throw new TradeError('TRADE_NOT_EXIST');
    return view(row);
  }

  /**
   * A buyer's trades, newest first, a page at a time: `after` is the last trade_no of the
   * previous page (a trade of this buyer; any other starts from the newest).
   */
  async ofBuyer(buyerId: string, page: { limit: number; after?: string | undefined }): Promise<TradeView[]> {
    const rows = await this.db.query<TradeRow>(
      `select t.* from trades t
        where t.buyer_id = $1
          and ($2::text is null
               or (t.created_at, t.trade_no) < (select created_at, trade_no from trades where trade_no = $2 and buyer_id = $1))
        order by t.created_at desc, t.trade_no desc
        limit $3`,
      [buyerId, page.after ?? null, page.limit],
    );
    return rows.map(view);
  }

  /** The trade, as the app that created it sees it. */
  async query(appId: string, key: TradeKey): Promise<TradeView> {
    return view(await this.store.find(this.db, appId, key));
  }

  /**
   * Pays a waiting trade from the buyer's wallet, or (`fromFund`, the buyer's choice at the
   * cashier) wholly from Yu'e Bao: the shares' redemption and the payment in one linked chain.
   * Paying a trade twice moves money once. `notifyUrl`: the paying request's own, checked as an
   * app's is; it then takes over for this trade.
   */
  async pay(
    appId: string,
    key: TradeKey,
    buyerId: string,
    requestUrl?: string,
    options: { fromFund?: boolean } = {},
  ): Promise<TradeView> {
    const notifyUrl = requestNotifyUrl(requestUrl);
    const buyer = await this.parties.buyer(buyerId);
    if (!buyer) throw new TradeError('PAYMENT_AUTH_CODE_INVALID');
    const trade = await this.store.find(this.db, appId, key);
    if (trade.status !== 'WAIT_BUYER_PAY' && trade.status !== 'PAYING' && trade.status !== 'TRADE_CLOSED')
      throw new TradeError('TRADE_HAS_SUCCESS');
    if (trade.status === 'TRADE_CLOSED') throw new TradeError('TRADE_HAS_CLOSE');
    if (trade.status === 'PAYING') throw new TradeError('TRADE_STATUS_ERROR', 'a payment is in flight');
    if (trade.expires_at <= this.#now()) {
      await this.store.transition(this.db, trade, 'TRADE_CLOSED', 'timeout', { closed_at: this.#now() }, {});
      throw new TradeError('TRADE_HAS_CLOSE');
    }
    // Refused before the claim, writing nothing, when the fund cannot pay it all.
    const source = options.fromFund ? await this.#fundSource(buyer.userId, trade.total_fen) : null;
    // Compare and set: of two payers racing for one trade, exactly one moves it to PAYING.
    const claimed = await this.store.transition(this.db, trade, 'PAYING', `buyer:${buyer.userId}`, {
      buyer_id: buyer.userId,
      buyer_account: uuidFromU128(buyer.accountId),
      paying_at: this.#now(),
      ...(notifyUrl === null ? {} : { notify_url: notifyUrl }),
      ...(source === null ? {} : { fund_source: source, fund_fen: trade.total_fen }),
    });
    if (!claimed) return this.pay(appId, { tradeNo: trade.trade_no }, buyerId, requestUrl, options);
    return view(await this.#settlePayment(claimed));
  }

  /**
   * `alipay.trade.pay`: claims the waiting trade of this out_trade_no (or creates it already
   * claimed by its buyer) and pays it: three statements and one ledger batch. Anything else (the
   * trade paid, closed, or with other terms) answers as create + pay would.
   */
  async createAndPay(input: CreateTradeInput, buyerId: string): Promise<TradeView> {
    const notifyUrl = requestNotifyUrl(input.notifyUrl);
    const buyer = await this.parties.buyer(buyerId);
    if (!buyer) throw new TradeError('PAYMENT_AUTH_CODE_INVALID');
    const claim = {
      status: 'PAYING' as const,
      buyerId: buyer.userId,
      buyerAccount: uuidFromU128(buyer.accountId),
      actor: `buyer:${buyer.userId}`,
    };
    // The merchant usually created the trade first (trade.create, then trade.pay): claim it.
    const row = (await this.#claimWaiting(input, { ...claim, notifyUrl })) ?? (await this.#insertTrade(input, claim));
    if (!row) {
      // Taken, and not waiting with these terms: answer as create + pay would (same trade, or why not).
      const existing = await this.create(input);
      return this.pay(input.appId, { tradeNo: existing.tradeNo }, buyerId, input.notifyUrl);
    }
    return view(await this.#settlePayment(row, { fundShortfall: true }));
  }

  /**
   * Claims a trade that waits for its buyer with exactly these terms and has not timed out, by
   * out_trade_no, in one statement with its transition record; null when there is none.
   */
  async #claimWaiting(
    input: CreateTradeInput,
    claim: { buyerId: string; buyerAccount: string; actor: string; notifyUrl: string | null },
  ): Promise<TradeRow | null> {
    return this.#writes.claim({
      appId: input.appId,
      outTradeNo: input.outTradeNo,
      totalFen: parseTradeAmount(input.totalAmount),
      subject: input.subject,
      buyerId: claim.buyerId,
      buyerAccount: claim.buyerAccount,
      actor: claim.actor,
      at: this.#now(),
      notifyUrl: claim.notifyUrl,
    });
  }

  /**
   * Moves the money of a trade in PAYING and records the outcome. Also how a payment left in
   * PAYING by a crash is finished: the transfer id is the trade's, so it moves money at most once.
   * A trade paid from the fund submits the fund's legs and its own transfer as ONE linked chain.
   * `fundShortfall` (bar-code payments): a balance that does not cover the trade is topped up
   * from the buyer's Yu'e Bao, when its holdings and pool cover the shortfall.
   */
  async #settlePayment(trade: TradeRow, options: { fundShortfall?: boolean } = {}): Promise<TradeRow> {
    assert(trade.buyer_account, 'a paying trade has a buyer account');
    if (trade.escrow) await this.#ensureEscrowAccounts();
    const funding = this.#fundingOf(trade);
    let legs: TransferInput[] = [];
    if (funding && this.funding) {
      try {
        legs = await this.funding.legs(funding);
      } catch (error) {
        if (this.funding.isRefusal(error)) await this.#backToWaiting(trade);
        throw error;
      }
    }
    const results = await this.ledger.createTransfers([
      ...legs,
      {
        id: derivedId('trade.pay', trade.trade_no),
        debitAccountId: u128FromUuid(trade.buyer_account),
        creditAccountId: trade.escrow ? escrowAccounts.escrow : u128FromUuid(trade.seller_account),
        amount: trade.total_fen,
        userData128: derivedId('trade', trade.trade_no),
        ledger: cnyLedger,
        code: trade.escrow ? EscrowTransferCode.payment : tradeTransferCodes.payment,
      },
    ]);
    const paid = chainCommitted(results);
    const result = results[legs.length];
    const fundRefusal =
      funding && this.funding ? await this.funding.settled(funding, results.slice(0, legs.length)) : null;
    if (!paid && !funding && options.fundShortfall && result === 'exceeds_credits') {
      const topped = await this.#topUpFromFund(trade);
      if (topped) return this.#settlePayment(topped);
    }
    const settled = paid
      ? await this.#writes.recordPaid({
          trade,
          to: trade.escrow ? 'WAIT_SELLER_SEND_GOODS' : 'TRADE_SUCCESS',
          actor: 'ledger',
          at: this.#now(),
        })
      : await this.#backToWaiting(trade);
    if (fundRefusal) throw fundRefusal;
    if (!paid) throw paymentError(result);
    // Null: another settler (a concurrent retry, the sweep) recorded the outcome first.
    return settled ?? (await this.store.find(this.db, trade.app_id, { tradeNo: trade.trade_no }));
  }

  /** A refused payment: the trade waits for its buyer again, with no buyer and no fund source. */
  #backToWaiting(trade: TradeRow): Promise<TradeRow | null> {
    return this.store.transition(this.db, trade, 'WAIT_BUYER_PAY', 'ledger', {
      buyer_id: null,
      buyer_account: null,
      fund_source: null,
      fund_fen: 0n,
    });
  }

  /** The fund's part of a paying trade's chain; null when the balance alone pays it. */
  #fundingOf(trade: TradeRow): FundingRequest | null {
    if (trade.fund_source === null || !trade.buyer_id || !trade.buyer_account) return null;
    assert(this.funding, `trade ${trade.trade_no} draws on a fund the platform did not wire`);
    return {
      tradeNo: trade.trade_no,
      buyerId: trade.buyer_id,
      buyerAccount: u128FromUuid(trade.buyer_account),
      source: trade.fund_source,
      fen: trade.fund_fen,
    };
  }

  /** The fund product the buyer pays `fen` from; refused (the fund's reason) when none covers it. */
  async #fundSource(buyerId: string, fen: bigint): Promise<string> {
    if (!this.funding) throw new TradeError('BUYER_BALANCE_NOT_ENOUGH', "Yu'e Bao is not offered here");
    return this.funding.choose(buyerId, fen);
  }

  /**
   * Records on a paying trade whose balance fell short that the fund pays the shortfall; null when
   * the fund cannot (then the balance's refusal stands).
   */
  async #topUpFromFund(trade: TradeRow): Promise<TradeRow | null> {
    if (!this.funding || !trade.buyer_id || !trade.buyer_account) return null;
    const [account] = await this.ledger.lookupAccounts([u128FromUuid(trade.buyer_account)]);
    const balance = account ? account.creditsPosted - account.debitsPosted - account.debitsPending : 0n;
    const shortfall = trade.total_fen - (balance > 0n ? balance : 0n);
    if (shortfall <= 0n) return null;
    let source: string;
    try {
      source = await this.funding.choose(trade.buyer_id, shortfall);
    } catch (error) {
      if (this.funding.isRefusal(error)) return null;
      throw error;
    }
    const [row] = await this.db.query<TradeRow>(
      `update trades set fund_source = $2, fund_fen = $3
        where trade_no = $1 and status = 'PAYING' and fund_source is null returning *`,
      [trade.trade_no, source, shortfall],
    );
    return row ?? null;
  }

  /** Closes an unpaid trade (merchant's close, or the timeout). */
  async close(appId: string, key: TradeKey, actor = `app:${appId}`): Promise<TradeView> {
    const closed = await this.db.transaction(async (tx) => {
      const trade = await this.store.find(tx, appId, key, true);
      if (trade.status === 'TRADE_CLOSED') return trade;
      if (trade.status !== 'WAIT_BUYER_PAY') throw new TradeError('TRADE_STATUS_ERROR');
      return this.store.move(tx, trade, 'TRADE_CLOSED', actor, { closed_at: this.#now() }, {});
    });
    return view(closed);
  }

  /**
   * Cancels a trade: an unpaid one is closed, a paid one is refunded in full (and so closed).
   * Returns which of the two happened, as Alipay's `action` does.
   */
  async cancel(appId: string, key: TradeKey): Promise<{ trade: TradeView; action: 'close' | 'refund' }> {
    const trade = await this.store.find(this.db, appId, key);
    if (trade.status === 'WAIT_BUYER_PAY' || trade.status === 'TRADE_CLOSED') {
      return { trade: await this.close(appId, key), action: 'close' };
    }
    const left = trade.total_fen - trade.refunded_fen - trade.refund_reserved_fen;
    if (left > 0n) {
      await this.refund(
        appId,
        { tradeNo: trade.trade_no },
        { refundAmount: formatAmount(left), outRequestNo: 'cancel' },
      );
    }
    return { trade: await this.query(appId, { tradeNo: trade.trade_no }), action: 'refund' };
  }

  /**
   * Refunds part or all of a paid trade. Idempotent by out_request_no (default: the trade's
   * out_trade_no); concurrent refunds never exceed what was paid, because each one first reserves
   * its amount under the trade's row lock.
   */
  async refund(
    appId: string,
    key: TradeKey,
    request: { refundAmount: string; outRequestNo?: string | undefined; reason?: string | undefined },
  ): Promise<RefundView> {
    const amount = parseAmount(request.refundAmount);
    if (amount === undefined || amount < amountMinFen || amount > amountMaxFen)
      throw new TradeError('REASON_TRADE_REFUND_FEE_ERR');
    const claim = await this.db.transaction(async (tx) => {
      const trade = await this.store.find(tx, appId, key, true);
      const outRequestNo = request.outRequestNo || trade.out_trade_no;
      const existing = await refundRow(tx, trade.trade_no, outRequestNo);
      if (existing) {
        if (existing.refund_fen !== amount) throw new TradeError('CONTEXT_INCONSISTENT', 'out_request_no');
        return { trade, outRequestNo, replay: existing.status, refund: existing };
      }
      // The sweep may not have reached a trade whose refund period is over: finish it here.
      if (trade.status === 'TRADE_SUCCESS' && this.#refundPeriodOver(trade)) {
        await this.#finish(tx, trade);
        return { trade, outRequestNo, replay: 'FINISHED' as const, refund: null };
      }
      if (trade.status === 'TRADE_FINISHED') throw new TradeError('TRADE_HAS_FINISHED');
      if (trade.status !== 'TRADE_SUCCESS' && !inEscrow.includes(trade.status))
        throw new TradeError('TRADE_STATUS_ERROR');
      const refund = await reserveRefund(tx, trade, outRequestNo, amount, request.reason ?? null, this.#now());
      return { trade, outRequestNo, replay: null, refund };
    });
    if (claim.replay === 'FINISHED') throw new TradeError('TRADE_HAS_FINISHED');
    assert(claim.refund, 'a refund claimed has its row');
    if (claim.replay && claim.replay !== 'PROCESSING') {
      const trade = await this.store.find(this.db, appId, { tradeNo: claim.trade.trade_no });
      return refundView(trade, claim.outRequestNo, claim.refund, false);
    }
    return this.#settleRefund(claim.trade, claim.outRequestNo, claim.refund, claim.replay === null);
  }

  /**
   * Moves a reserved refund's money and records the outcome. Its fund part (`fund_fen`, fixed at
   * the reservation) goes back to the buyer's Yu'e Bao through the `FundingSource`, the rest to the
   * balance, in ONE linked chain: both or neither. Every id derives from the refund's key, so a
   * replay, a retry or a second process moves it once.
   */
  async #settleRefund(trade: TradeRow, outRequestNo: string, refund: RefundRow, fresh: boolean): Promise<RefundView> {
    assert(trade.buyer_account, 'a paid trade has a buyer account');
    const amount = refund.refund_fen;
    const payer = trade.escrow ? escrowAccounts.escrow : u128FromUuid(trade.seller_account);
    const tradeRef = derivedId('trade', trade.trade_no);
    const refundKey = `${trade.trade_no}/${outRequestNo}`;
    let fundLegs: TransferInput[] = [];
    if (refund.fund_fen > 0n) {
      assert(this.funding && trade.fund_source && trade.buyer_id, `refund ${refundKey} returns to a fund not wired`);
      fundLegs = await this.funding.refundLegs({
        refundKey,
        tradeRef,
        buyerId: trade.buyer_id,
        source: trade.fund_source,
        payer,
        fen: refund.fund_fen,
      });
    }
    const balanceFen = amount - refund.fund_fen;
    const results = await this.ledger.createTransfers(
      linkChain([
        ...fundLegs,
        ...(balanceFen > 0n
          ? [
              {
                id: derivedId('trade.refund', refundKey),
                debitAccountId: payer,
                creditAccountId: u128FromUuid(trade.buyer_account),
                amount: balanceFen,
                userData128: tradeRef,
                ledger: cnyLedger,
                code: trade.escrow ? EscrowTransferCode.refund : tradeTransferCodes.refund,
              },
            ]
          : []),
      ]),
    );
    const moved = chainCommitted(results);
    const result = results.find((r) => r !== 'linked_event_failed') ?? 'linked_event_failed';
    const after = await this.db.transaction(async (tx) => {
      const current = await this.store.find(tx, trade.app_id, { tradeNo: trade.trade_no }, true);
      const [row] = await tx.query<{ status: string }>(
        'select status from trade_refunds where trade_no = $1 and out_request_no = $2 for update',
        [trade.trade_no, outRequestNo],
      );
      if (row?.status !== 'PROCESSING') return current;
      await tx.query('update trade_refunds set status = $3 where trade_no = $1 and out_request_no = $2', [
        trade.trade_no,
        outRequestNo,
        moved ? 'SUCCESS' : 'FAILED',
      ]);
      const [updated] = await tx.query<TradeRow>(
        `update trades set refund_reserved_fen = refund_reserved_fen - $2,
           refunded_fen = refunded_fen + case when $3 then $2::bigint else 0 end
         where trade_no = $1 returning *`,
        [trade.trade_no, amount.toString(), moved],
      );
      assert(updated, 'the refunded trade exists');
      if (!moved) return updated;
      const done =
        updated.refunded_fen === updated.total_fen
          ? await this.store.move(tx, updated, 'TRADE_CLOSED', 'refund', { closed_at: this.#now() })
          : updated;
      await this.store.notify(tx, done, {
        out_biz_no: outRequestNo,
        refund_fee: formatAmount(done.refunded_fen),
        gmt_refund: beijingTime(this.#now()),
      });
      return done;
    });
    if (!moved) {
      assertLedgerResult(result, `refund ${outRequestNo}`, ['exceeds_credits']);
      throw new TradeError('SELLER_BALANCE_NOT_ENOUGH');
    }
    return refundView(after, outRequestNo, { ...refund, status: 'SUCCESS' }, fresh);
  }

  /** A refund by its out_request_no; null when there is none. */
  async refundQuery(appId: string, key: TradeKey, outRequestNo: string | undefined): Promise<RefundView | null> {
    const trade = await this.store.find(this.db, appId, key);
    const row = await refundRow(this.db, trade.trade_no, outRequestNo || trade.out_trade_no);
    if (!row) return null;
    return refundView(trade, outRequestNo || trade.out_trade_no, row, false);
  }

  /** The money of every paid trade since the beginning: the volume the fraud loss rate is over. */
  async paidVolumeFen(): Promise<bigint> {
    const [row] = await this.db.query<{ fen: bigint }>(
      'select coalesce(sum(total_fen), 0)::int8 as fen from trades where paid_at is not null',
    );
    return row?.fen ?? 0n;
  }

  /**
   * The trade numbers behind ledger references (a transfer's `user_data_128`, which is
   * `derivedId('trade', trade_no)`), among the trades one buyer paid; the wallet's bill names its
   * trades with it. The SQL computes the same derivation as src/core/ids.ts (the first 16 bytes
   * of SHA-256 over "trade", NUL, trade_no), so the lookup needs no stored column.
   */
  async tradeNosByLedgerRef(buyerId: string, refs: readonly bigint[]): Promise<Map<bigint, string>> {
    if (refs.length === 0) return new Map();
    const rows = await this.db.query<{ trade_no: string; ref: string }>(
      `select trade_no, ref from (
         select trade_no,
           encode(substring(sha256(convert_to('trade', 'UTF8') || decode('00', 'hex') || convert_to(trade_no, 'UTF8'))
             from 1 for 16), 'hex')::uuid as ref
         from trades where buyer_id = $1) t
       where ref = any($2::uuid[])`,
      [buyerId, refs.map(uuidFromU128)],
    );
    return new Map(rows.map((r) => [u128FromUuid(r.ref), r.trade_no]));
  }

  /**
   * Records as paid the trades left in PAYING at least `limits.tradePaymentMovedAfterMs` whose
   * payment the ledger has moved (a process died between the transfer and the record), the oldest
   * `tradeSweepBatchMax` of them; returns how many. See `#finishMoved`.
   */
  async finishMovedPayments(failures: SweepFailures): Promise<number> {
    const paying = await this.db.query<TradeRow>(
      `select * from trades where status = 'PAYING' and paying_at <= $1 order by paying_at, trade_no limit $2`,
      [new Date(this.#now().getTime() - limits.tradePaymentMovedAfterMs), limits.tradeSweepBatchMax],
    );
    return this.#finishMoved(paying, failures);
  }

  /**
   * At start-up, before serving: records every payment, of any age, that a crash interrupted after
   * its money moved, so that no merchant's query meets a paid trade still waiting. Returns how many;
   * a trade it could not record goes into `failures` (the caller reports it; the sweep retries it).
   */
  async recoverInterruptedPayments(failures: SweepFailures): Promise<number> {
    let total = 0;
    let after = { at: new Date(0), tradeNo: '' };
    for (;;) {
      const page = await this.db.query<TradeRow>(
        `select * from trades where status = 'PAYING' and (paying_at, trade_no) > ($1, $2)
         order by paying_at, trade_no limit $3`,
        [after.at, after.tradeNo, limits.tradeSweepBatchMax],
      );
      total += await this.#finishMoved(page, failures);
      const last = page.at(-1);
      if (!last?.paying_at || page.length < limits.tradeSweepBatchMax) return total;
      after = { at: last.paying_at, tradeNo: last.trade_no };
    }
  }

  /**
   * Records as paid those of these PAYING trades whose transfer the ledger holds. Only what the
   * ledger did is finished, so this is safe beside a live payer of the same trade: both record by
   * compare and set, and one wins. A trade whose money has not moved is left to its payer (or,
   * once `tradePayingStaleMs` old, to the sweep's full settlement).
   */
  async #finishMoved(paying: readonly TradeRow[], failures: SweepFailures): Promise<number> {
    if (paying.length === 0) return 0;
    const moved = new Set(
      (await this.ledger.lookupTransfers(paying.map((t) => derivedId('trade.pay', t.trade_no)))).map((t) => t.id),
    );
    const recorded = await Promise.allSettled(
      paying
        .filter((t) => moved.has(derivedId('trade.pay', t.trade_no)))
        .map((trade) =>
          this.#writes.recordPaid({
            trade,
            to: trade.escrow ? 'WAIT_SELLER_SEND_GOODS' : 'TRADE_SUCCESS',
            actor: 'ledger',
            at: this.#now(),
          }),
        ),
    );
    // Null: someone else recorded it. A failed record is reported, and the next sweep retries it.
    for (const r of recorded) if (r.status === 'rejected') failures.add(r.reason);
    return recorded.filter((r) => r.status === 'fulfilled' && r.value !== null).length;
  }

  /**
   * Closes unpaid trades whose time is up, finishes payments a crash left in flight, and moves
   * paid trades whose refund period (`limits.tradeRefundPeriodMs`) is over to TRADE_FINISHED.
   * Returns how many trades it touched; at most `limits.tradeSweepBatchMax` of each kind.
   */
  async sweep(): Promise<number> {
    const now = this.#now();
    // A trade another process moved on meanwhile is refused (`isRefusal`): an outcome. Any other
    // failure leaves the rest of the sweep to go on, and is thrown at the end.
    const failures = new SweepFailures();
    const due = await this.db.query<{ app_id: string; trade_no: string }>(
      `select app_id, trade_no from trades where status = 'WAIT_BUYER_PAY' and expires_at <= $1
       order by expires_at limit $2`,
      [now, limits.tradeSweepBatchMax],
    );
    await failures.each(due, (t) => this.close(t.app_id, { tradeNo: t.trade_no }, 'timeout'), isRefusal);
    const moved = await this.finishMovedPayments(failures);
    // A pre-authorisation's payment is the hold's to finish (src/preauth's sweep), never a balance payment.
    const stale = await this.db.query<TradeRow>(
      `select * from trades where status = 'PAYING' and paying_at <= $1
          and product_code is distinct from $3 limit $2`,
      [new Date(now.getTime() - limits.tradePayingStaleMs), limits.tradeSweepBatchMax, holdProductCode],
    );
    // A refused payment (the buyer was short) is settled too: the trade went back to waiting.
    await failures.each(
      stale,
      (t) => this.#settlePayment(t),
      (error) => isRefusal(error) || this.funding?.isRefusal(error) === true,
    );
    const finishing = await this.db.query<{ app_id: string; trade_no: string }>(
      `select app_id, trade_no from trades where status = 'TRADE_SUCCESS' and paid_at <= $1
       order by paid_at limit $2`,
      [new Date(now.getTime() - limits.tradeRefundPeriodMs), limits.tradeSweepBatchMax],
    );
    const finished = await failures.each(finishing, (t) => this.#finishIfDue(t), isRefusal);
    failures.throwIfAny('trade sweep');
    return due.length + moved + stale.length + finished.filter(Boolean).length;
  }

  /** Moves one trade past its refund period to TRADE_FINISHED; false when it is not due (yet). */
  #finishIfDue(t: { app_id: string; trade_no: string }): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const trade = await this.store.find(tx, t.app_id, { tradeNo: t.trade_no }, true);
      if (trade.status !== 'TRADE_SUCCESS' || !this.#refundPeriodOver(trade)) return false;
      // A refund in flight is settled first; a later sweep finishes the trade.
      if (trade.refund_reserved_fen > 0n) return false;
      await this.#finish(tx, trade);
      return true;
    });
  }

  #refundPeriodOver(trade: TradeRow): boolean {
    return trade.paid_at !== null && trade.paid_at.getTime() + limits.tradeRefundPeriodMs <= this.#now().getTime();
  }

  /** TRADE_SUCCESS → TRADE_FINISHED, with its notification, in the caller's transaction. */
  async #finish(tx: Queryable, trade: TradeRow): Promise<void> {
    await this.store.move(tx, trade, 'TRADE_FINISHED', 'refund-period', { closed_at: this.#now() }, {});
  }

  #ensureEscrowAccounts(): Promise<void> {
    this.#escrowAccounts ??= ensureEscrowAccounts(this.ledger).catch((error: unknown) => {
      this.#escrowAccounts = undefined;
      throw error;
    });
    return this.#escrowAccounts;
  }

  #now(): Date {
    return dateFromNs(this.clock.nowNs());
  }
}

/**
 * Claims a refund in the caller's transaction, on a trade read under its row lock: a PROCESSING
 * row and the amount reserved against the trade's budget. `Trades.refund` with the same
 * out_request_no and amount then moves the money (and a retry moves it once).
 */
export async function reserveRefund(
  tx: Queryable,
  trade: TradeRow,
  outRequestNo: string,
  amount: bigint,
  reason: string | null,
  now: Date,
): Promise<RefundRow> {
  if (refundable(trade) < amount) throw new TradeError('REFUND_AMT_NOT_EQUAL_TOTAL');
  const [before] = await tx.query<{ refund_fen: bigint; fund_fen: bigint }>(
    `select coalesce(sum(refund_fen), 0)::bigint refund_fen, coalesce(sum(fund_fen), 0)::bigint fund_fen
       from trade_refunds where trade_no = $1 and status <> 'FAILED'`,
    [trade.trade_no],
  );
  assert(before, 'a sum has a row');
  const fundFen = fundPartOf(trade, amount, before.refund_fen, before.fund_fen);
  await tx.query(
    `insert into trade_refunds (trade_no, out_request_no, refund_fen, fund_fen, reason, status, created_at)
     values ($1, $2, $3, $4, $5, 'PROCESSING', $6)`,
    [trade.trade_no, outRequestNo, amount.toString(), fundFen.toString(), reason, now],
  );
  await tx.query('update trades set refund_reserved_fen = refund_reserved_fen + $2 where trade_no = $1', [
    trade.trade_no,
    amount.toString(),
  ]);
  return { refund_fen: amount, fund_fen: fundFen, status: 'PROCESSING' };
}

/**
 * The part of a refund of `amount` that goes back to Yu'e Bao, the rest to the balance: in
 * proportion to what each paid, counted over the trade's refunds so far (`refundedFen` of which
 * `fundFen` went to the fund) and rounded down, so the refund that completes the trade returns
 * each channel exactly what it paid; never more to a channel than it has left.
 */
export function fundPartOf(t: TradeRow, amount: bigint, refundedFen: bigint, fundFen: bigint): bigint {
  if (t.fund_fen === 0n) return 0n;
  const fundLeft = t.fund_fen - fundFen;
  const balanceLeft = t.total_fen - t.fund_fen - (refundedFen - fundFen);
  const proportional = (t.fund_fen * (refundedFen + amount)) / t.total_fen - fundFen;
  const atMost = [proportional, amount, fundLeft].reduce((a, b) => (a < b ? a : b));
  const atLeast = amount - balanceLeft;
  return atMost > atLeast ? (atMost > 0n ? atMost : 0n) : atLeast > 0n ? atLeast : 0n;
}

function refundRow(q: Queryable, tradeNo: string, outRequestNo: string): Promise<RefundRow | undefined> {
  return q
    .query<RefundRow>(
      'select refund_fen, fund_fen, status from trade_refunds where trade_no = $1 and out_request_no = $2',
      [tradeNo, outRequestNo],
    )
    .then((rows) => rows[0]);
}

/** What is left to refund (or split) of a trade: what was paid, less what has gone or is going. */
export function refundable(t: TradeRow): bigint {
  return t.total_fen - t.refunded_fen - t.refund_reserved_fen - t.royalty_fen - t.royalty_reserved_fen - t.fee_fen;
}

/** A confirm period: "10d", "36h", "90m"; at most `limits.escrowConfirmPeriodMaxMs`. */
export function confirmPeriod(express: string): number {
  const m = /^(\d{1,5})([mhd])$/.exec(express);
  if (!m) throw new TradeError('INVALID_PARAMETER', 'confirm_timeout_express');
  const ms = Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
  if (ms <= 0 || ms > limits.escrowConfirmPeriodMaxMs)
    throw new TradeError('INVALID_PARAMETER', 'confirm_timeout_express');
  return ms;
}

/** A request's notify_url, checked as an app's is; null when the request gave none. */
export function requestNotifyUrl(input: string | undefined): string | null {
  try {
    return validNotifyUrl(input) ?? null;
  } catch (error) {
    if (isMembersError(error)) throw new TradeError('INVALID_PARAMETER', `notify_url: ${error.message}`);
    throw error;
  }
}

function parseTradeAmount(text: string): bigint {
  const fen = typeof text === 'string' ? parseAmount(text) : undefined;
  if (fen === undefined || fen < amountMinFen || fen > amountMaxFen)
    throw new TradeError('INVALID_PARAMETER', 'total_amount');
  return fen;
}

/** Alipay's timeout_express: m(inutes), h(ours), d(ays), or "1c" (until the end of today). */
function timeoutMs(express: string | undefined): number {
  if (!express) return limits.tradeTimeoutDefaultMs;
  const m = /^(\d{1,4})([mhdc])$/.exec(express);
  if (!m) throw new TradeError('INVALID_PARAMETER', 'timeout_express');
  const n = Number(m[1]);
  const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000, c: 86_400_000 }[m[2] as 'm' | 'h' | 'd' | 'c'];
  const ms = n * unitMs;
  if (ms <= 0 || ms > 15 * 86_400_000) throw new TradeError('INVALID_PARAMETER', 'timeout_express');
  return ms;
}

/** A payment the ledger did not take: a short balance, or (any other code) a bug. */
function paymentError(result: CreateTransferResult | undefined): TradeError {
  assertLedgerResult(result, 'payment', ['exceeds_credits']);
  assert(result === 'exceeds_credits', 'a payment the ledger took is never refused');
  return new TradeError('BUYER_BALANCE_NOT_ENOUGH');
}

function refundView(t: TradeRow, outRequestNo: string, refund: RefundRow, fundChange: boolean): RefundView {
  return {
    tradeNo: t.trade_no,
    outTradeNo: t.out_trade_no,
    outRequestNo,
    refundAmount: formatAmount(refund.refund_fen),
    refundedTotal: formatAmount(t.refunded_fen),
    status: refund.status,
    fundChange,
    buyerId: t.buyer_id,
    fundBills: channelBills(refund.refund_fen, refund.fund_fen),
  };
}
