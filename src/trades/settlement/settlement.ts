import type { Selectable } from 'kysely';
import { assert } from '../../core/assert.ts';
import type { Clock } from '../../core/clock.ts';
import type { Db, Queryable } from '../../core/db/index.ts';
import { dailyNumber } from '../../core/external-ids.ts';
import { derivedId } from '../../core/ids.ts';
import { cnyLedger, EscrowTransferCode } from '../../core/ledger-codes.ts';
import { limits } from '../../core/limits.ts';
import { formatAmount, minFen } from '../../core/money.ts';
import { dateFromNs } from '../../core/time.ts';
import { chainCommitted, type Ledger, linkChain, type TransferInput } from '../../ledger/index.ts';
import { TradeError } from '../errors.ts';
import { escrowAccounts, unsettledAccountOf } from '../escrow/escrow-books.ts';
import type { SettlementItemsTable, SettlementsTable } from '../tables.ts';
import type { TradeParties } from '../trade/service.ts';

type SettlementRow = Selectable<SettlementsTable>;

/** A statement line as the settlement reads it (its settlement known). */
type ItemRow = Omit<Selectable<SettlementItemsTable>, 'settlement_no'>;

export interface SettlementView {
  settlementNo: string;
  sellerId: string;
  /** What the seller's released trades left for it (paid, less refunds, fee and splits). */
  grossAmount: string;
  /** Taken back for the compensation fund (recovery claims). */
  recoveryAmount: string;
  /** What reached the seller's wallet in one transfer. */
  payoutAmount: string;
  tradeCount: number;
  status: SettlementRow['status'];
  createdAt: Date;
  settledAt: Date | null;
  /** Where the payout went from the wallet: a bank order number, 'wallet' (stayed), or null (not yet). */
  payoutDestination: string | null;
}

/** The statement of a settlement: every trade in it, and every recovery it collected. */
export interface SettlementStatement extends SettlementView {
  trades: {
    tradeNo: string;
    outTradeNo: string;
    totalAmount: string;
    refundedAmount: string;
    feeAmount: string;
    royaltyAmount: string;
    amount: string;
    releasedAt: Date;
  }[];
  recoveries: { disputeNo: string; amount: string }[];
}

/**
 * The settlement job: merges each seller's released escrow trades into one payout with a
 * statement listing every trade. Until the bank channels land, the payout goes from the seller's
 * unsettled proceeds to its wallet (withdrawable) as one transfer; open recovery claims are
 * collected first, into the compensation fund.
 *
 * One settlement is a saga of three steps: a transaction claims the trades (their
 * `settlement_no`), writes the statement and the recoveries it takes (claims under their row
 * locks, oldest first), all as PROCESSING; the ledger moves the money as one linked chain whose
 * ids derive from the settlement number; a last statement marks it SETTLED. A crash leaves a
 * PROCESSING settlement that the next run finishes with the same ids.
 */
/**
 * Where settled payouts go next, once they are in the sellers' wallets: the platform wires the
 * bank channels here (one batch payout per bank to the sellers' cards, idempotent by settlement
 * number). Answers, per settlement, where it went (a bank order number), null to leave it in the
 * wallet, or undefined to try again on the next run.
 */
export type SettlementPayout = (settlements: readonly SettlementView[]) => Promise<(string | null | undefined)[]>;

export class Settlements {
  /** Given by the platform (the bank channels); absent, payouts stay in the wallet. */
  readonly #payout: SettlementPayout | undefined;

  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly parties: TradeParties,
    private readonly clock: Clock,
    options: { payout?: SettlementPayout | undefined } = {},
  ) {
    this.#payout = options.payout;
  }

  /** Settles every seller with released, unsettled trades; returns the settlements made. */
  async run(onProgress?: (done: number, total: number) => void): Promise<SettlementView[]> {
    const stale = await this.db.query<SettlementRow>(`select * from settlements where status = 'PROCESSING'`);
    for (const s of stale) await this.#pay(s);
    const sellers = await this.db.query<{ seller_id: string }>(
      `select distinct seller_id from trades
       where escrow and status = 'TRADE_FINISHED' and settlement_no is null and royalty_reserved_fen = 0
       limit $1`,
      [limits.settlementSellersMax],
    );
    const made: SettlementView[] = [];
    for (const [i, { seller_id }] of sellers.entries()) {
      const s = await this.#claim(seller_id);
      if (s) made.push(settlementView(await this.#pay(s)));
      onProgress?.(i + 1, sellers.length);
    }
    await this.#sendPayouts();
    return made;
  }

  /**
   * Sends settled payouts on (to the sellers' banks) that have not gone yet, including those a
   * crash or a refusing bank left behind; each settlement's destination is written once.
   */
  async #sendPayouts(): Promise<void> {
    const payout = this.#payout;
    if (!payout) return;
    const waiting = await this.db.query<SettlementRow>(
      `select * from settlements where status = 'SETTLED' and payout_destination is null and payout_fen > 0
       order by created_at limit $1`,
      [limits.settlementSellersMax],
    );
    if (waiting.length === 0) return;
    const destinations = await payout(waiting.map(settlementView));
    for (const [i, s] of waiting.entries()) {
      const destination = destinations[i];
      if (destination === undefined) continue; // not sent this time: the next run tries again
      await this.db.query(
        'update settlements set payout_destination = $2 where settlement_no = $1 and payout_destination is null',
        [s.settlement_no, destination ?? 'wallet'],
      );
    }
  }

  async #claim(sellerId: string): Promise<SettlementRow | null> {
    return this.db.transaction(async (tx) => {
      const now = this.#now();
      const settlementNo = newSettlementNo(now);
      const items = await tx.query<ItemRow>(
        `with picked as (
           select trade_no from trades
           where seller_id = $1 and escrow and status = 'TRADE_FINISHED' and settlement_no is null
             and royalty_reserved_fen = 0
           order by released_at limit $3 for update
         ), claimed as (
           update trades t set settlement_no = $2 from picked where t.trade_no = picked.trade_no
           returning t.trade_no, t.out_trade_no, t.total_fen, t.refunded_fen, t.fee_fen, t.royalty_fen,
             t.total_fen - t.refunded_fen - t.fee_fen - t.royalty_fen as amount_fen, t.released_at
         )
         select * from claimed order by released_at, trade_no`,
        [sellerId, settlementNo, limits.settlementTradesMax],
      );
      if (items.length === 0) return null;
      const gross = items.reduce((a, t) => a + t.amount_fen, 0n);
      const recoveries = await this.#takeRecoveries(tx, sellerId, gross);
      const recovery = recoveries.reduce((a, r) => a + r.amount, 0n);
      const [row] = await tx.query<SettlementRow>(
        `insert into settlements (settlement_no, seller_id, gross_fen, recovery_fen, payout_fen, trade_count, status,
           created_at)
         values ($1, $2, $3, $4, $5, $6, 'PROCESSING', $7) returning *`,
        [
          settlementNo,
          sellerId,
          gross.toString(),
          recovery.toString(),
          (gross - recovery).toString(),
          items.length,
          now,
        ],
      );
      await tx.query(
        `insert into settlement_items (settlement_no, trade_no, out_trade_no, total_fen, refunded_fen, fee_fen,
           royalty_fen, amount_fen, released_at)
         select $1, * from unnest($2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[],
           $9::timestamptz[])`,
        [
          settlementNo,
          items.map((t) => t.trade_no),
          items.map((t) => t.out_trade_no),
          items.map((t) => t.total_fen.toString()),
          items.map((t) => t.refunded_fen.toString()),
          items.map((t) => t.fee_fen.toString()),
          items.map((t) => t.royalty_fen.toString()),
          items.map((t) => t.amount_fen.toString()),
          items.map((t) => t.released_at),
        ],
      );
      for (const r of recoveries) {
        await tx.query(
          'insert into settlement_recoveries (settlement_no, dispute_no, amount_fen) values ($1, $2, $3)',
          [settlementNo, r.disputeNo, r.amount.toString()],
        );
      }
      assert(row, 'insert returns its row');
      return row;
    });
  }

  /** Takes up to `available` from the seller's open recovery claims, oldest first, under their locks. */
  async #takeRecoveries(
    tx: Queryable,
    sellerId: string,
    available: bigint,
  ): Promise<{ disputeNo: string; amount: bigint }[]> {
    const claims = await tx.query<{ dispute_no: string; amount_fen: bigint; recovered_fen: bigint }>(
      `select dispute_no, amount_fen - written_off_fen as amount_fen, recovered_fen from recovery_claims
       where seller_id = $1 and recovered_fen + written_off_fen < amount_fen
       order by created_at, dispute_no for update`,
      [sellerId],
    );
    const taken: { disputeNo: string; amount: bigint }[] = [];
    let left = available;
    for (const c of claims) {
      if (left === 0n) break;
      const amount = minFen(c.amount_fen - c.recovered_fen, left);
      await tx.query('update recovery_claims set recovered_fen = recovered_fen + $2 where dispute_no = $1', [
        c.dispute_no,
        amount.toString(),
      ]);
      taken.push({ disputeNo: c.dispute_no, amount });
      left -= amount;
    }
    return taken;
  }

  /** Moves a PROCESSING settlement's money (same ids on every try) and marks it SETTLED. */
  async #pay(s: SettlementRow): Promise<SettlementRow> {
    const seller = await this.parties.buyer(s.seller_id);
    assert(seller, `settled seller ${s.seller_id} is a member`);
    const legs: TransferInput[] = [];
    const ref = derivedId('settlement', s.settlement_no);
    if (s.recovery_fen > 0n)
      legs.push({
        id: derivedId('escrow.settlement-recovery', s.settlement_no),
        debitAccountId: unsettledAccountOf(s.seller_id),
        creditAccountId: escrowAccounts.compensationFund,
        amount: s.recovery_fen,
        userData128: ref,
        ledger: cnyLedger,
        code: EscrowTransferCode.recoveryAtSettlement,
      });
    if (s.payout_fen > 0n)
      legs.push({
        id: derivedId('escrow.settlement', s.settlement_no),
        debitAccountId: unsettledAccountOf(s.seller_id),
        creditAccountId: seller.accountId,
        amount: s.payout_fen,
        userData128: ref,
        ledger: cnyLedger,
        code: EscrowTransferCode.settlement,
      });
    linkChain(legs);
    if (legs.length > 0) {
      const results = await this.ledger.createTransfers(legs);
      assert(chainCommitted(results), `settlement ${s.settlement_no}: ${results.join(', ')}`);
    }
    const [done] = await this.db.query<SettlementRow>(
      `update settlements set status = 'SETTLED', settled_at = coalesce(settled_at, $2)
       where settlement_no = $1 returning *`,
      [s.settlement_no, this.#now()],
    );
    return done ?? s;
  }

  /** A settlement's statement, for the app whose seller it paid. */
  async statement(sellerId: string, settlementNo: string): Promise<SettlementStatement> {
    const [s] = await this.db.query<SettlementRow>(
      'select * from settlements where settlement_no = $1 and seller_id = $2',
      [settlementNo, sellerId],
    );
    if (!s) throw new TradeError('SETTLEMENT_NOT_EXIST');
    const items = await this.db.query<ItemRow>(
      'select * from settlement_items where settlement_no = $1 order by released_at, trade_no',
      [settlementNo],
    );
    const recoveries = await this.db.query<{ dispute_no: string; amount_fen: bigint }>(
      'select dispute_no, amount_fen from settlement_recoveries where settlement_no = $1 order by dispute_no',
      [settlementNo],
    );
    return {
      ...settlementView(s),
      trades: items.map((t) => ({
        tradeNo: t.trade_no,
        outTradeNo: t.out_trade_no,
        totalAmount: formatAmount(t.total_fen),
        refundedAmount: formatAmount(t.refunded_fen),
        feeAmount: formatAmount(t.fee_fen),
        royaltyAmount: formatAmount(t.royalty_fen),
        amount: formatAmount(t.amount_fen),
        releasedAt: t.released_at,
      })),
      recoveries: recoveries.map((r) => ({ disputeNo: r.dispute_no, amount: formatAmount(r.amount_fen) })),
    };
  }

  /** A seller's settlements, newest first. */
  async list(sellerId: string, limit = 50): Promise<SettlementView[]> {
    const rows = await this.db.query<SettlementRow>(
      'select * from settlements where seller_id = $1 order by created_at desc limit $2',
      [sellerId, Math.min(Math.max(1, limit), 500)],
    );
    return rows.map(settlementView);
  }

  #now(): Date {
    return dateFromNs(this.clock.nowNs());
  }
}

function newSettlementNo(now: Date): string {
  return dailyNumber('ST', now, 12);
}

function settlementView(s: SettlementRow): SettlementView {
  return {
    settlementNo: s.settlement_no,
    sellerId: s.seller_id,
    grossAmount: formatAmount(s.gross_fen),
    recoveryAmount: formatAmount(s.recovery_fen),
    payoutAmount: formatAmount(s.payout_fen),
    tradeCount: s.trade_count,
    status: s.status,
    createdAt: s.created_at,
    settledAt: s.settled_at,
    payoutDestination: s.payout_destination,
  };
}
