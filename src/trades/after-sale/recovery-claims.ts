import type { Db } from '../../core/db/index.ts';
import { formatAmount } from '../../core/money.ts';
import { TradeError } from '../errors.ts';
import { type Actor, actorName } from '../escrow/escrow.ts';
import type { DisputeRow } from '../tables.ts';
import type { AfterSaleStore } from './store.ts';

/**
 * What sellers owe the compensation fund: one claim per dispute the fund paid beyond what the
 * seller's wallet gave back. The seller's next settlements repay claims first (`Settlements`); an
 * operator may write off what a claim still owes, a loss counted by the loss rate.
 */
export class RecoveryClaims {
  constructor(
    private readonly db: Db,
    private readonly store: AfterSaleStore,
  ) {}

  /** Records that the seller owes `owed` for this dispute; a retry records the same claim once. */
  async record(d: DisputeRow, owed: bigint): Promise<void> {
    await this.db.query(
      `insert into recovery_claims (dispute_no, seller_id, amount_fen, created_at) values ($1, $2, $3, $4)
       on conflict (dispute_no) do nothing`,
      [d.dispute_no, d.seller_id, owed.toString(), this.store.now()],
    );
  }

  /**
   * An operator gives up on what a recovery claim still owes (the seller is gone): the fund's
   * money is lost, recorded as such and counted by the loss rate. Answers the amount written off
   * (zero for a claim already settled or written off).
   */
  async writeOff(actor: Actor, disputeNo: string): Promise<string> {
    if (actor.kind !== 'operator') throw new TradeError('ACCESS_FORBIDDEN', 'only an operator writes off');
    const [row] = await this.db.query<{ written: bigint }>(
      `with claim as (
         select dispute_no, amount_fen - recovered_fen - written_off_fen as left_fen
         from recovery_claims where dispute_no = $1 for update
       )
       update recovery_claims r set written_off_fen = r.written_off_fen + claim.left_fen, written_off_at = $2
       from claim where r.dispute_no = claim.dispute_no
       returning claim.left_fen as written`,
      [disputeNo, this.store.now()],
    );
    if (!row) throw new TradeError('DISPUTE_NOT_EXIST', 'no recovery claim for this dispute');
    await this.store.logMove(this.db, `claim:${disputeNo}`, 'OWED', 'WRITTEN_OFF', actorName(actor));
    return formatAmount(row.written);
  }

  /**
   * Compensation the fund paid and will not get back (written-off claims), against the volume of
   * escrow trades paid: the escrow side of the loss rate.
   */
  async losses(): Promise<{ lossFen: bigint; lossCount: number; volumeFen: bigint }> {
    const [l] = await this.db.query<{ fen: bigint; n: bigint }>(
      'select coalesce(sum(written_off_fen), 0)::int8 as fen, count(*)::int8 as n from recovery_claims where written_off_fen > 0',
    );
    const [v] = await this.db.query<{ fen: bigint }>(
      'select coalesce(sum(total_fen), 0)::int8 as fen from trades where escrow and paid_at is not null',
    );
    return { lossFen: l?.fen ?? 0n, lossCount: Number(l?.n ?? 0n), volumeFen: v?.fen ?? 0n };
  }
}
