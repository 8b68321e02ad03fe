import type { Clock } from '../core/clock.ts';
import { type Queryable, typed } from '../core/db/index.ts';
import { id, u128FromUuid, uuidFromU128 } from '../core/ids.ts';
import type { MemberTables } from './tables.ts';

/** One text message to one phone. */
export interface SmsMessage {
  phone: string;
  text: string;
}

/** A message as the development outbox keeps it. */
export interface OutboxMessage extends SmsMessage {
  id: bigint;
  createdAtNs: bigint;
}

/**
 * Sends text messages. Production plugs in a carrier's API; development and tests use
 * `OutboxSmsSender`, which keeps every message in a table that `paybao sms list` prints.
 */
export interface SmsSender {
  /**
   * Sends `message`; resolves once the carrier has accepted it and rejects when it refused it.
   * It is called outside any database transaction, and may be slow.
   */
  send(message: SmsMessage): Promise<void>;
}

/** The development sender: every message goes into `members_sms_outbox`, nothing leaves the box. */
export class OutboxSmsSender implements SmsSender {
  constructor(
    private readonly db: Queryable,
    private readonly clock: Clock,
  ) {}
  async send(message: SmsMessage): Promise<void> {
    await typed<MemberTables>(this.db)
      .insertInto('members_sms_outbox')
      .values({ id: uuidFromU128(id()), phone: message.phone, text: message.text, created_at_ns: this.clock.nowNs() })
      .execute();
  }
}

/** The outbox, newest first; `phone` narrows it to one phone. */
export async function readOutbox(db: Queryable, options: { limit: number; phone?: string }): Promise<OutboxMessage[]> {
  let query = typed<MemberTables>(db)
    .selectFrom('members_sms_outbox')
    .select(['id', 'phone', 'text', 'created_at_ns'])
    .orderBy('created_at_ns', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit);
  if (options.phone !== undefined) query = query.where('phone', '=', options.phone);
  const rows = await query.execute();
  return rows.map((r) => ({ id: u128FromUuid(r.id), phone: r.phone, text: r.text, createdAtNs: r.created_at_ns }));
}
