import type { Clock } from '../core/clock.ts';
import { type Db, type Queryable, typed } from '../core/db/index.ts';
import { id, uuidFromU128 } from '../core/ids.ts';
import { limits } from '../core/limits.ts';
import type { SocialTables } from './tables.ts';

export type NoticeKind = 'red_packet_refunded' | 'collection_reminder' | 'collection_paid';

export interface Notice {
  noticeId: string;
  kind: NoticeKind;
  message: string;
  /** What it is about: a packet's or a collection's id. */
  ref: string;
  createdAt: Date;
}

/**
 * What users are told in the wallet: a red packet's refund, a collection's reminder, a share
 * paid. One notice per (user, kind, thing): telling again (a sweep run twice) writes nothing.
 */
export class Notices {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Tells each of `userIds` once. */
  async tell(userIds: readonly string[], kind: NoticeKind, ref: string, message: string, q: Queryable = this.db) {
    if (userIds.length === 0) return;
    const now = new Date(Number(this.clock.nowNs() / 1_000_000n));
    await typed<SocialTables>(q)
      .insertInto('social_notices')
      .values(
        userIds.map((user_id) => ({ notice_id: uuidFromU128(id()), user_id, kind, message, ref, created_at: now })),
      )
      .onConflict((oc) => oc.columns(['user_id', 'kind', 'ref']).doNothing())
      .execute();
  }

  /** A user's notices, newest first. */
  async list(userId: string): Promise<Notice[]> {
    const rows = await typed<SocialTables>(this.db)
      .selectFrom('social_notices')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .limit(limits.noticesListMax)
      .execute();
    return rows.map((r) => ({
      noticeId: r.notice_id,
      kind: r.kind as NoticeKind,
      message: r.message,
      ref: r.ref,
      createdAt: r.created_at,
    }));
  }
}
