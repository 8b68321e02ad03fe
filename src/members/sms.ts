import type { Clock } from '../core/clock.ts';
import type { Queryable } from '../core/db/index.ts';
import { id, u128FromUuid, uuidFromU128 } from '../core/ids.ts';

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
    await this.db.query('insert into members_sms_outbox (id, phone, text, created_at_ns) values ($1, $2, $3, $4)', [
      uuidFromU128(id()),
      message.phone,
      message.text,
      this.clock.nowNs().toString(),
    ]);
  }
}

/** The outbox, newest first; `phone` narrows it to one phone. */
export async function readOutbox(db: Queryable, options: { limit: number; phone?: string }): Promise<OutboxMessage[]> {
  const rows = await db.query<{ id: string; phone: string; text: string; created_at_ns: bigint }>(
    `select id, phone, text, created_at_ns from members_sms_outbox
     where $1::text is null or phone = $1 order by created_at_ns desc, id desc limit $2`,
    [options.phone ?? null, options.limit],
  );
  return rows.map((r) => ({ id: u128FromUuid(r.id), phone: r.phone, text: r.text, createdAtNs: r.created_at_ns }));
}
