import type { Clock } from '../core/clock.ts';
import type { Db } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { beijingTime, dateFromNs } from '../core/time.ts';
import { postForm } from './post-form.ts';

/** What the dispatcher needs from the rest of the platform. */
export interface NotificationChannel {
  /**
   * The app's notify URL; null only when it has none (the notification is then dropped as
   * delivered). Rejects when it cannot tell (the database failed): the notification is kept and
   * retried on the normal schedule, since a passing outage must never drop a merchant's news.
   */
  notifyUrlOf(appId: string): Promise<string | null>;
  /** Adds `sign` (and `sign_type`, …) to the form, with the platform's key, as Alipay signs. */
  sign(form: Record<string, string>): Record<string, string> | Promise<Record<string, string>>;
  /** Delivers one form; resolves with the response body. Defaults to an HTTP POST. */
  post?(url: string, form: Record<string, string>): Promise<string>;
}

interface Due {
  id: bigint;
  app_id: string;
  payload: Record<string, string>;
  attempts: number;
  /** The trade's own notify URL (the request's `notify_url`), which Alipay takes over the app's. */
  notify_url: string | null;
}

/** Where a notification goes: a URL, none at all (`null`), or a lookup that failed. */
type UrlLookup = { url: string | null } | { error: unknown };

/** What one attempt came to, as written back to the outbox and to its log of attempts. */
interface Outcome {
  id: bigint;
  attempts: number;
  deliveredAt: Date | null;
  nextAttemptAt: Date | 'infinity';
  at: Date;
  url: string | null;
  result: 'success' | 'rejected' | 'failed' | 'no_url';
  /** The merchant's answer, or the error, cut short. */
  detail: string | null;
}

/**
 * Delivers the trade notifications of the outbox: a signed form POST to the app's notify URL,
 * retried at 4m, 10m, 10m, 1h, 2h, 6h and 15h until the merchant answers exactly `success`.
 * A round claims due rows by pushing their next attempt past the timeout (so two processes never
 * post the same row at once), posts outside any transaction, up to `notifyConcurrencyMax` at
 * once, then records every outcome in one statement. A full round is followed at once by the
 * next, so that the outbox keeps up with payments.
 */
export class NotificationDispatcher {
  #timer: NodeJS.Timeout | undefined;
  /** The round under way, if any: `stop()` waits for it, so that storage can close after. */
  #running: Promise<unknown> | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly channel: NotificationChannel,
    /** Told of a round that failed (the database, most likely); the next round comes as usual. */
    private readonly onRoundFailed: (error: unknown) => void = () => {},
  ) {}

  /** One round; returns how many notifications were delivered. */
  async dispatchDue(): Promise<number> {
    return (await this.#round()).delivered;
  }

  async #round(): Promise<{ claimed: number; delivered: number }> {
    const now = this.#now();
    const claimed = await this.db.transaction(async (tx) => {
      const rows = await tx.query<Due>(
        `select n.id, n.app_id, n.payload, n.attempts, t.notify_url from trade_notifications n
         left join trades t on t.trade_no = n.trade_no
         where n.delivered_at is null and n.next_attempt_at <= $1
         order by n.next_attempt_at limit $2 for update of n skip locked`,
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
    if (claimed.length === 0) return { claimed: 0, delivered: 0 };
    // One lookup per app and round, however many of its notifications are due.
    const urls = new Map<string, Promise<UrlLookup>>();
    const urlOf = (row: Due): Promise<UrlLookup> => {
      if (row.notify_url) return Promise.resolve({ url: row.notify_url });
      const known = urls.get(row.app_id);
      if (known) return known;
      const url = this.channel.notifyUrlOf(row.app_id).then(
        (found) => ({ url: found }),
        (error: unknown) => ({ error }),
      );
      urls.set(row.app_id, url);
      return url;
    };
    const outcomes: Outcome[] = [];
    let next = 0;
    const worker = async () => {
      while (next < claimed.length) {
        const row = claimed[next++] as Due;
        outcomes.push(await this.#attempt(row, await urlOf(row)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(limits.notifyConcurrencyMax, claimed.length) }, worker));
    // One statement records every outcome and logs every attempt (the merchant portal shows them).
    await this.db.query(
      `with o as (
         select * from unnest($1::int8[], $2::int[], $3::timestamptz[], $4::timestamptz[],
                              $5::timestamptz[], $6::text[], $7::text[], $8::text[])
           as o(id, attempts, delivered_at, next_attempt_at, at, url, result, detail)
       ), moved as (
         update trade_notifications n set attempts = o.attempts, delivered_at = o.delivered_at,
           next_attempt_at = o.next_attempt_at
         from o where n.id = o.id
       )
       insert into trade_notification_attempts (notification_id, attempt, at, url, outcome, detail)
       select id, attempts, at, url, result, detail from o
       on conflict (notification_id, attempt) do nothing`,
      [
        outcomes.map((o) => o.id.toString()),
        outcomes.map((o) => o.attempts),
        outcomes.map((o) => o.deliveredAt?.toISOString() ?? null),
        outcomes.map((o) => (o.nextAttemptAt === 'infinity' ? 'infinity' : o.nextAttemptAt.toISOString())),
        outcomes.map((o) => o.at.toISOString()),
        outcomes.map((o) => o.url),
        outcomes.map((o) => o.result),
        outcomes.map((o) => o.detail),
      ],
    );
    return { claimed: claimed.length, delivered: outcomes.filter((o) => o.deliveredAt !== null).length };
  }

  /**
   * Posts one notification. Only a known absence of any notify URL drops it as delivered; a
   * lookup that failed counts as a failed attempt, retried on the schedule like a merchant's `fail`.
   */
  async #attempt(row: Due, lookup: UrlLookup): Promise<Outcome> {
    const url = 'url' in lookup ? lookup.url : undefined;
    const at = this.#now();
    let result: Outcome['result'] = url === null ? 'no_url' : 'failed';
    let detail: string | null = 'error' in lookup ? errorText(lookup.error) : null;
    if (url) {
      try {
        const form = await this.channel.sign({
          ...row.payload,
          notify_id: `${row.id}`,
          notify_time: beijingTime(at),
        });
        const body = await (this.channel.post ?? postForm)(url, form);
        result = body.trim() === 'success' ? 'success' : 'rejected';
        detail = body.trim().slice(0, limits.notifyAttemptDetailCharsMax);
      } catch (error) {
        result = 'failed';
        detail = errorText(error);
      }
    }
    const ok = result === 'success' || result === 'no_url';
    const attempts = row.attempts + 1;
    const delay = limits.notifyRetryDelaysMs[attempts - 1];
    return {
      id: row.id,
      attempts,
      deliveredAt: ok ? this.#now() : null,
      // After the last retry the row stays undelivered with no next attempt: an operator's to see.
      nextAttemptAt: ok || delay === undefined ? 'infinity' : new Date(this.#now().getTime() + delay),
      at,
      url: url ?? null,
      result,
      detail,
    };
  }

  /**
   * Dispatches until `stop()`. `admit`, asked before each round, may skip it (the server's
   * overload protection: notifications yield to requests); the next is tried an interval later.
   */
  start(intervalMs: number = limits.notifyPollIntervalMs, admit: () => boolean = () => true): void {
    if (this.#timer) return;
    const tick = async () => {
      if (!admit()) {
        if (this.#timer) this.#timer = setTimeout(tick, intervalMs);
        return;
      }
      const running = this.#round().catch((error: unknown) => {
        this.onRoundFailed(error);
        return { claimed: 0 };
      });
      this.#running = running;
      const round = await running;
      // A full round means more are due: go on at once.
      if (this.#timer) this.#timer = setTimeout(tick, round.claimed === limits.notifyBatchMax ? 0 : intervalMs);
    };
    this.#timer = setTimeout(tick, 0); // what is due already goes at once
  }

  /** Stops dispatching; resolves once a round under way has ended (its posts and their outcomes). */
  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #now(): Date {
    return dateFromNs(this.clock.nowNs());
  }
}

/** An error as the log of attempts keeps it: its message, cut short. */
function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.slice(0, limits.notifyAttemptDetailCharsMax);
}
