import type { Selectable } from 'kysely';
import { allocate } from '../../core/allocate.ts';
import { assert } from '../../core/assert.ts';
import type { Clock } from '../../core/clock.ts';
import type { Db } from '../../core/db/index.ts';
import { derivedId, u128FromUuid } from '../../core/ids.ts';
import { SweepFailures } from '../../core/jobs.ts';
import { cnyLedger, EscrowTransferCode } from '../../core/ledger-codes.ts';
import { limits } from '../../core/limits.ts';
import { formatAmount, parseAmount } from '../../core/money.ts';
import { dateFromNs } from '../../core/time.ts';
import { assertLedgerResult, chainCommitted, type Ledger, linkChain, type TransferInput } from '../../ledger/index.ts';
import { isRefusal, TradeError } from '../errors.ts';
import { unsettledAccountOf } from '../escrow/escrow-books.ts';
import type { RoyaltiesTable } from '../tables.ts';
import { refundable, type TradeParties } from '../trade/service.ts';
import { findTrade, type TradeKey, type TradeRow } from '../trade/store.ts';

/** One receiver of `alipay.trade.order.settle`'s `royalty_parameters`. */
export interface RoyaltyParameter {
  /** The receiver's user id (2088…); `trans_in_type` userId. */
  transIn: string;
  /** A fixed amount ("12.34"), or … */
  amount?: string | undefined;
  /** … a percentage of what is left of the trade ("30", "12.5"). */
  amountPercentage?: string | undefined;
  desc?: string | undefined;
}

export interface RoyaltyView {
  tradeNo: string;
  outRequestNo: string;
  /** Paybao's number for the split (Alipay's settle_no). */
  settleNo: string;
  status: 'PROCESSING' | 'SUCCESS' | 'FAILED';
  parts: { transIn: string; amount: string; desc: string | null }[];
  amount: string;
}

type RoyaltyRow = Selectable<RoyaltiesTable>;
type Part = RoyaltyRow['parts'][number];

/**
 * Splits (`alipay.trade.order.settle`): a paid trade's proceeds go to several receivers (a
 * marketplace's commission among them) in one linked chain, all or nothing. The parts come out
 * of what is left of the trade for its seller (what was paid less refunds, fee and earlier
 * splits); percentage parts are shares of that, by the largest remainder method, so parts that
 * add up to 100% take exactly all of it. Idempotent by `out_request_no`: the same request answers
 * the same split; other parameters under the same number are refused.
 *
 * The money comes from where the trade's proceeds are: an escrow trade's released proceeds that
 * are not yet settled, or otherwise the seller's wallet. Plain trades split once paid, escrow
 * trades once released.
 */
export class Royalties {
  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly parties: TradeParties,
    private readonly clock: Clock,
  ) {}

  async settle(
    appId: string,
    key: TradeKey,
    request: { outRequestNo: string; parameters: readonly RoyaltyParameter[] },
  ): Promise<RoyaltyView> {
    const outRequestNo = request.outRequestNo;
    if (typeof outRequestNo !== 'string' || !/^[A-Za-z0-9_\-.]{1,64}$/.test(outRequestNo))
      throw new TradeError('INVALID_PARAMETER', 'out_request_no');
    const params = request.parameters;
    if (!Array.isArray(params) || params.length === 0 || params.length > limits.royaltyReceiversMax)
      throw new TradeError('INVALID_PARAMETER', 'royalty_parameters');
    const receivers = await Promise.all(
      params.map(async (p) => {
        const party = typeof p?.transIn === 'string' ? await this.parties.buyer(p.transIn) : null;
        if (!party) throw new TradeError('ROYALTY_RECEIVER_INVALID', String(p?.transIn ?? ''));
        return party;
      }),
    );
    // A replay is the same request: the same receivers with the same amounts or percentages.
    const fingerprint = JSON.stringify(params.map((p) => [p.transIn, p.amount ?? null, p.amountPercentage ?? null]));
    const claim = await this.db.transaction(async (tx) => {
      const trade = await findTrade(tx, appId, key, true);
      const [existing] = await tx.query<RoyaltyRow>(
        'select * from royalties where trade_no = $1 and out_request_no = $2',
        [trade.trade_no, outRequestNo],
      );
      const plainPaid = !trade.escrow && (trade.status === 'TRADE_SUCCESS' || trade.status === 'TRADE_FINISHED');
      const escrowReleased = trade.escrow && trade.status === 'TRADE_FINISHED';
      if (!existing && !plainPaid && !escrowReleased)
        throw new TradeError('TRADE_STATUS_ERROR', 'a trade splits once paid (escrow: once released)');
      if (existing) {
        if (existing.request !== fingerprint) throw new TradeError('CONTEXT_INCONSISTENT', 'out_request_no');
        return { trade, row: existing, fresh: false };
      }
      const whole = refundable(trade);
      const parts = partsOf(params, whole);
      const amount = parts.reduce((a, p) => a + BigInt(p.amount_fen), 0n);
      if (amount > whole) throw new TradeError('ALLOC_AMOUNT_VALIDATE_ERROR');
      const source = trade.escrow && trade.settlement_no === null ? 'unsettled' : 'wallet';
      const [row] = await tx.query<RoyaltyRow>(
        `insert into royalties (trade_no, out_request_no, app_id, amount_fen, parts, request, source, status, created_at)
         values ($1, $2, $3, $4, $5::jsonb, $6, $7, 'PROCESSING', $8) returning *`,
        [
          trade.trade_no,
          outRequestNo,
          appId,
          amount.toString(),
          JSON.stringify(parts),
          fingerprint,
          source,
          this.#now(),
        ],
      );
      await tx.query('update trades set royalty_reserved_fen = royalty_reserved_fen + $2 where trade_no = $1', [
        trade.trade_no,
        amount.toString(),
      ]);
      assert(row, 'insert returns its row');
      return { trade, row, fresh: true };
    });
    if (claim.row.status !== 'PROCESSING') return royaltyView(claim.row);
    return royaltyView(
      await this.#move(
        claim.trade,
        claim.row,
        receivers.map((r) => r.accountId),
      ),
    );
  }

  /** Moves a claimed split's money (one linked chain) and records the outcome. */
  async #move(trade: TradeRow, row: RoyaltyRow, receiverAccounts: readonly bigint[]): Promise<RoyaltyRow> {
    const source =
      row.source === 'unsettled' ? unsettledAccountOf(trade.seller_id) : u128FromUuid(trade.seller_account);
    const transfers = linkChain(
      row.parts.map(
        (p, i): TransferInput => ({
          id: derivedId('escrow.royalty', `${trade.trade_no}/${row.out_request_no}/${i}`),
          debitAccountId: source,
          creditAccountId: receiverAccounts[i] ?? 0n,
          amount: BigInt(p.amount_fen),
          userData128: derivedId('trade', trade.trade_no),
          ledger: cnyLedger,
          code: EscrowTransferCode.royalty,
        }),
      ),
    );
    const results = await this.ledger.createTransfers(transfers);
    const moved = chainCommitted(results);
    const done = await this.db.transaction(async (tx) => {
      const [locked] = await tx.query<RoyaltyRow>(
        'select * from royalties where trade_no = $1 and out_request_no = $2 for update',
        [row.trade_no, row.out_request_no],
      );
      if (locked?.status !== 'PROCESSING') return locked ?? row;
      const [updated] = await tx.query<RoyaltyRow>(
        `update royalties set status = $3 where trade_no = $1 and out_request_no = $2 returning *`,
        [row.trade_no, row.out_request_no, moved ? 'SUCCESS' : 'FAILED'],
      );
      await tx.query(
        `update trades set royalty_reserved_fen = royalty_reserved_fen - $2,
           royalty_fen = royalty_fen + case when $3 then $2::bigint else 0 end
         where trade_no = $1`,
        [row.trade_no, row.amount_fen.toString(), moved],
      );
      return updated ?? row;
    });
    if (!moved) {
      const failed = results.find((r) => r !== 'ok' && r !== 'exists' && r !== 'linked_event_failed');
      assertLedgerResult(failed, `royalty of ${row.trade_no}`, ['exceeds_credits']);
      throw new TradeError('SELLER_BALANCE_NOT_ENOUGH');
    }
    return done;
  }

  /** Finishes splits a crash left PROCESSING (the same transfer ids: money moves once). */
  async sweep(): Promise<number> {
    const rows = await this.db.query<RoyaltyRow>(
      `select * from royalties where status = 'PROCESSING' and created_at <= $1 limit $2`,
      [new Date(this.#now().getTime() - limits.tradePayingStaleMs), limits.tradeSweepBatchMax],
    );
    // One split failing does not hold up the others; its failure is thrown at the end (a refusal
    // is retried on the next round without one).
    const failures = new SweepFailures();
    const done = await failures.each(rows, (row) => this.#finishStale(row), isRefusal);
    failures.throwIfAny('royalty sweep');
    return done.filter(Boolean).length;
  }

  /** Moves a split a crash left PROCESSING; false when its trade or a receiver is gone. */
  async #finishStale(row: RoyaltyRow): Promise<boolean> {
    const [trade] = await this.db.query<TradeRow>('select * from trades where trade_no = $1', [row.trade_no]);
    if (!trade) return false;
    const accounts = await Promise.all(row.parts.map((p) => this.parties.buyer(p.trans_in)));
    if (accounts.some((a) => !a)) return false;
    await this.#move(
      trade,
      row,
      accounts.map((a) => a?.accountId ?? 0n),
    );
    return true;
  }

  #now(): Date {
    return dateFromNs(this.clock.nowNs());
  }
}

/** The parts in request order: fixed amounts as given, percentages as shares of `whole`. */
function partsOf(params: readonly RoyaltyParameter[], whole: bigint): Part[] {
  // Percentages to 1/10000 of a percent, as integers, so that the split is exact.
  const scale = 1_000_000n;
  const shares: bigint[] = [];
  for (const p of params) {
    if ((p.amount === undefined) === (p.amountPercentage === undefined))
      throw new TradeError('ALLOC_AMOUNT_VALIDATE_ERROR', 'each receiver needs amount or amount_percentage');
    if (p.amountPercentage !== undefined) {
      const m = /^(\d{1,3})(?:\.(\d{1,4}))?$/.exec(String(p.amountPercentage));
      if (!m) throw new TradeError('ALLOC_AMOUNT_VALIDATE_ERROR', 'amount_percentage');
      const share = BigInt(m[1] ?? '0') * 10_000n + BigInt((m[2] ?? '').padEnd(4, '0'));
      if (share <= 0n || share > scale) throw new TradeError('ALLOC_AMOUNT_VALIDATE_ERROR', 'amount_percentage');
      shares.push(share);
    }
  }
  const shareTotal = shares.reduce((a, b) => a + b, 0n);
  if (shareTotal > scale) throw new TradeError('ALLOC_AMOUNT_VALIDATE_ERROR', 'percentages above 100');
  const byShare = shares.length > 0 ? allocate(whole, shares, shareTotal === scale ? undefined : scale) : [];
  let next = 0;
  return params.map((p) => {
    let fen: bigint;
    if (p.amountPercentage !== undefined) {
      fen = byShare[next++] ?? 0n;
    } else {
      const parsed = typeof p.amount === 'string' ? parseAmount(p.amount) : undefined;
      if (parsed === undefined) throw new TradeError('ALLOC_AMOUNT_VALIDATE_ERROR', 'amount');
      fen = parsed;
    }
    if (fen <= 0n) throw new TradeError('ALLOC_AMOUNT_VALIDATE_ERROR', 'a part would be zero');
    const desc = typeof p.desc === 'string' ? p.desc.slice(0, 256) : null;
    return { trans_in: p.transIn, amount_fen: fen.toString(), desc };
  });
}

function royaltyView(r: RoyaltyRow): RoyaltyView {
  return {
    tradeNo: r.trade_no,
    outRequestNo: r.out_request_no,
    settleNo: derivedId('escrow.settle-no', `${r.trade_no}/${r.out_request_no}`).toString().slice(0, 20),
    status: r.status,
    parts: r.parts.map((p) => ({ transIn: p.trans_in, amount: formatAmount(BigInt(p.amount_fen)), desc: p.desc })),
    amount: formatAmount(r.amount_fen),
  };
}
