import type { Db } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';

/**
 * The outbox's backlog for the console: notifications not yet delivered (retrying, or given up
 * at `infinity`), and those due now. Counted through the due index, each up to
 * `notificationBacklogCountMax` (a larger backlog reads as that many).
 */
export async function notificationBacklog(db: Db, now: Date): Promise<{ undelivered: number; due: number }> {
  const [row] = await db.query<{ undelivered: bigint; due: bigint }>(
    `select
       (select count(*) from (select 1 from trade_notifications where delivered_at is null limit $2) u)::bigint undelivered,
       (select count(*) from (select 1 from trade_notifications
          where delivered_at is null and next_attempt_at <= $1 limit $2) d)::bigint due`,
    [now, limits.notificationBacklogCountMax],
  );
  return { undelivered: Number(row?.undelivered ?? 0n), due: Number(row?.due ?? 0n) };
}
