import type { Queryable } from '../core/db/index.ts';

/** A red packet whose books do not hold, as found by `verifyRedPackets`. */
export interface RedPacketViolation {
  kind: 'red_packet_shares_differ' | 'red_packet_balance_differs';
  detail: string;
}

/**
 * Checks every red packet against its ledger account. For a sent packet:
 *
 * - what it was sent with = the shares drawn + what is left to draw (the refund, once expired);
 * - its account's posted balance (credits − debits) = what is left to draw + the shares drawn and
 *   not paid yet; once an expired packet is closed, zero (everything paid or refunded).
 *
 * Packets still FUNDING or FAILED have no money to check (a FUNDING one may be between its send
 * transfer and its row: the sweep finishes it). Returns the violations; empty means they hold.
 * `paybao ledger verify` runs it after the ledger's own checks.
 */
export async function verifyRedPackets(q: Queryable): Promise<RedPacketViolation[]> {
  const exists = await q.query(
    "select 1 from pg_tables where tablename = 'social_red_packets' and schemaname = current_schema()",
  );
  if (exists.length === 0) return [];
  const rows = await q.query<{
    packet_id: string;
    status: string;
    amount_fen: bigint;
    remaining_fen: bigint;
    refunded_fen: bigint | null;
    closed: boolean;
    drawn: bigint;
    unpaid: bigint;
    balance: bigint;
  }>(
    `select p.packet_id, p.status, p.amount_fen, p.remaining_fen, p.refunded_fen, p.closed_at is not null closed,
            coalesce(sum(g.amount_fen), 0)::bigint drawn,
            coalesce(sum(g.amount_fen) filter (where g.paid_at is null), 0)::bigint unpaid,
            a.credits_posted - a.debits_posted balance
       from social_red_packets p
       join ledger_accounts a on a.id = p.account_id
       left join social_red_packet_grabs g on g.packet_id = p.packet_id
      where p.status in ('OPEN', 'FINISHED', 'EXPIRED')
      group by p.packet_id, a.id`,
  );
  const out: RedPacketViolation[] = [];
  for (const r of rows) {
    if (r.drawn + r.remaining_fen !== r.amount_fen)
      out.push({
        kind: 'red_packet_shares_differ',
        detail: `${r.packet_id}: drawn ${r.drawn} + left ${r.remaining_fen} ≠ sent ${r.amount_fen}`,
      });
    const expected = r.status === 'EXPIRED' && r.closed ? 0n : r.remaining_fen + r.unpaid;
    // An expired packet not yet closed may have refunded already (the sweep closes it next).
    const refundedNotClosed = r.status === 'EXPIRED' && !r.closed && r.balance === r.unpaid;
    if (r.balance !== expected && !refundedNotClosed)
      out.push({
        kind: 'red_packet_balance_differs',
        detail: `${r.packet_id} (${r.status}): account ${r.balance}, expected ${expected}`,
      });
  }
  return out;
}
