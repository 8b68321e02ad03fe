import type { Clock } from '../core/clock.ts';
import type { Db } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { beijingTime, dateFromNs } from '../core/time.ts';

/** What the dispatcher needs from the rest of the platform. */
export interface NotificationChannel {
  /** The app's notify URL; null when it has none (the notification is dropped as delivered). */
  notifyUrlOf(appId: string): Promise<string | null>;
  /** Adds `sign` (and `sign_type`, …) to the form, with the platform's key, as Alipay signs. */
  sign(form: Record<string, string>): Record<string, string>;
  /** Delivers one form; resolves with the response body. Defaults to an HTTP POST. */
  post?(url: string, form: Record<string, string>): Promise<string>;
}

interface Due {
  id: bigint;
  app_id: string;
  payload: Record<string, string>;
  attempts: number;
}

/**
 * Delivers the trade notifications of the outbox: a signed form POST to the app's notify URL,
 * retried at 4m, 10m, 10m, 1h, 2h, 6h and 15h until the merchant answers exactly `success`.
 * A round claims due rows by pushing their next attempt past the timeout (so two processes never
 * post the same row at once), posts outside any transaction, then records the outcome.
 */
export class NotificationDispatcher {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly channel: NotificationChannel,
  ) {}

  /** One round; returns how many notifications were delivered. */
  async dispatchDue(): Promise<number> {
    const now = this.#now();
    const claimed = await this.db.transaction(async (tx) => {
      const rows = await tx.query<Due>(
        `select id, app_id, payload, attempts from trade_notifications
         where delivered_at is null and next_attempt_at <= $1
         order by next_attempt_at limit $2 for update skip locked`,
        [now, limits.notifyBatchMax],
      );
      if (rows.length > 0) {
        await tx.query('update trade_notifications set next_attempt_at = $2 where id = any($1::int8[])', [
          `{${rows.map((r) => r.id).join(',')}}`,
          new Date(now.getTime() + limits.notifyTimeoutMs * 2),
        ]);
      }
      return rows;
    });
    let delivered = 0;
    for (const row of claimed) if (await this.#deliver(row)) delivered++;
    return delivered;
  }

  async #deliver(row: Due): Promise<boolean> {
    const url = await this.channel.notifyUrlOf(row.app_id);
    let ok = url === null;
    if (url) {
      const form = this.channel.sign({
        ...row.payload,
        notify_id: `${row.id}`,
        notify_time: beijingTime(this.#now()),
      });
      try {
        const body = await (this.channel.post ?? postForm)(url, form);
        ok = body.trim() === 'success';
      } catch {
        ok = false;
      }
    }
    const attempts = row.attempts + 1;
    const delay = limits.notifyRetryDelaysMs[attempts - 1];
    await this.db.query(
      `update trade_notifications set attempts = $2, delivered_at = $3, next_attempt_at = $4 where id = $1`,
      [
        row.id.toString(),
        attempts,
        ok ? this.#now() : null,
        // After the last retry the row stays undelivered with no next attempt: an operator's to see.
        ok || delay === undefined ? 'infinity' : new Date(this.#now().getTime() + delay),
      ],
    );
    return ok;
  }

  start(intervalMs: number = limits.notifyPollIntervalMs): void {
    if (this.#timer) return;
    const tick = async () => {
      await this.dispatchDue().catch(() => {});
      if (this.#timer) this.#timer = setTimeout(tick, intervalMs);
    };
    this.#timer = setTimeout(tick, intervalMs);
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #now(): Date {
    return dateFromNs(this.clock.nowNs());
  }
}

async function postForm(url: string, form: Record<string, string>): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
    body: new URLSearchParams(form).toString(),
    signal: AbortSignal.timeout(limits.notifyTimeoutMs),
  });
  return response.text();
}
