/**
 * The password-login throttle: wrong passwords are counted per phone and per client address in
 * the database (so that every process on it counts together, as the SMS codes' limits do), and
 * once either count is full the next attempts are refused without the password being checked,
 * until the window that started with the first wrong password has passed.
 *
 * An attempt is counted before the password is checked and given back when it was right. Counting
 * first is what makes the limit hold under concurrency: a hundred guesses sent at once are each
 * counted by one atomic statement, so no more than the limit of them ever reach the check.
 */
import type { Clock } from '../core/clock.ts';
import type { Queryable } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';

/** Who is trying: the phone (normalized; absent when malformed) and the client's address. */
export interface LoginAttempt {
  phone: string | undefined;
  /** The client address as the HTTP edge groups it (an IPv6 /64); absent for in-process callers. */
  clientAddress: string | undefined;
}

export type ThrottleVerdict = { allowed: true; keys: string[] } | { allowed: false; retryAfterMs: number };

const windowNs = BigInt(limits.loginFailureWindowMs) * 1_000_000n;

/** The counters an attempt touches, each with its own limit. */
function counters(attempt: LoginAttempt): { key: string; max: number }[] {
  const out: { key: string; max: number }[] = [];
  if (attempt.phone !== undefined) out.push({ key: `phone:${attempt.phone}`, max: limits.loginFailuresPerPhoneMax });
  if (attempt.clientAddress) {
    out.push({ key: `address:${attempt.clientAddress}`, max: limits.loginFailuresPerAddressMax });
  }
  return out;
}

export class LoginThrottle {
  constructor(
    private readonly db: Queryable,
    private readonly clock: Clock,
  ) {}

  /**
   * Counts one attempt against the phone and the address (a window that has ended starts again
   * at one) and says whether it may go on to the password check: refused when any count is now
   * over its limit, with the time until that window ends.
   */
  async begin(attempt: LoginAttempt): Promise<ThrottleVerdict> {
    const wanted = counters(attempt);
    if (wanted.length === 0) return { allowed: true, keys: [] };
    const now = this.clock.nowNs();
    const rows = await this.db.query<{ key: string; failures: number; window_start_ns: bigint }>(
      `insert into members_login_failures as f (key, window_start_ns, failures)
       select k, $2::bigint, 1 from unnest($1::text[]) as k
       on conflict (key) do update set
         failures = case when f.window_start_ns <= $3::bigint then 1 else f.failures + 1 end,
         window_start_ns = case when f.window_start_ns <= $3::bigint then $2::bigint else f.window_start_ns end
       returning key, failures, window_start_ns`,
      [wanted.map((c) => c.key), now.toString(), (now - windowNs).toString()],
    );
    let retryAfterNs = 0n;
    for (const row of rows) {
      const max = wanted.find((c) => c.key === row.key)?.max ?? 0;
      if (row.failures > max) {
        const left = row.window_start_ns + windowNs - now;
        if (left > retryAfterNs) retryAfterNs = left;
      }
    }
    if (retryAfterNs > 0n) return { allowed: false, retryAfterMs: Number((retryAfterNs + 999_999n) / 1_000_000n) };
    return { allowed: true, keys: wanted.map((c) => c.key) };
  }

  /** The password was right: the attempt `begin` counted is given back. */
  async succeeded(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.query(
      `update members_login_failures set failures = failures - 1
       where key = any($1::text[]) and failures > 0 and window_start_ns > $2::bigint`,
      [keys, (this.clock.nowNs() - windowNs).toString()],
    );
  }

  /** The password was wrong: the attempt stays counted; counters of ended windows are dropped. */
  async failed(): Promise<void> {
    await this.db.query('delete from members_login_failures where window_start_ns <= $1::bigint', [
      (this.clock.nowNs() - windowNs).toString(),
    ]);
  }
}
