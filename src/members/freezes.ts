import type { Clock } from '../core/clock.ts';
import { type Db, typed } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { dateFromNs } from '../core/time.ts';
import { MembersError } from './errors.ts';
import type { MemberTables } from './tables.ts';

/** Why and by whom an account is frozen. */
export interface Freeze {
  userId: string;
  reason: string;
  frozenBy: string;
  frozenAt: Date;
}

/**
 * Account freezes (an operator's, with a reason): a frozen member may log in, see its money and
 * receive refunds and transfers, but pays, transfers and withdraws nothing. The payment paths ask
 * `isFrozen` before any money moves (the risk engine's gate, which every money-out path passes,
 * and the redemption of a payment code).
 *
 * A payment must not read a table for this: each process keeps the set of frozen accounts in
 * memory and reads it again when it is older than `freezeSyncMs`. A freeze holds at once in the
 * process that made it and within that time in every other; an unfreeze likewise.
 */
export class Freezes {
  #frozen = new Set<string>();
  /** Whether `#frozen` holds every frozen account (false past `frozenAccountsCacheMax`). */
  #complete = true;
  #loadedAtMs = Number.NEGATIVE_INFINITY;
  #loading: Promise<void> | undefined;
  /** Counts this process's freezes and unfreezes: a reading begun before one is not kept. */
  #changes = 0;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  #tables() {
    return typed<MemberTables>(this.db);
  }

  /** Whether the member is frozen now (see the class comment for how fresh the answer is). */
  async isFrozen(userId: string): Promise<boolean> {
    if (performance.now() - this.#loadedAtMs > limits.freezeSyncMs) await this.#reload();
    if (this.#frozen.has(userId)) return true;
    if (this.#complete) return false;
    return (await this.get(userId)) !== null;
  }

  /** Throws `account_frozen` when the member is frozen. */
  async refuseFrozen(userId: string): Promise<void> {
    if (await this.isFrozen(userId)) throw new MembersError('account_frozen');
  }

  #reload(): Promise<void> {
    this.#loading ??= (async () => {
      try {
        const changes = this.#changes;
        const rows = await this.#tables()
          .selectFrom('members_freezes')
          .select('user_id')
          .limit(limits.frozenAccountsCacheMax + 1)
          .execute();
        if (changes !== this.#changes) return;
        this.#complete = rows.length <= limits.frozenAccountsCacheMax;
        this.#frozen = new Set(rows.slice(0, limits.frozenAccountsCacheMax).map((r) => r.user_id));
        this.#loadedAtMs = performance.now();
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }

  /** The freeze of a member, or null. */
  async get(userId: string): Promise<Freeze | null> {
    const row = await this.#tables()
      .selectFrom('members_freezes')
      .selectAll()
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row ? { userId: row.user_id, reason: row.reason, frozenBy: row.frozen_by, frozenAt: row.frozen_at } : null;
  }

  /** The freezes of these members (those frozen among them). */
  async of(userIds: readonly string[]): Promise<Map<string, Freeze>> {
    if (userIds.length === 0) return new Map();
    const rows = await this.#tables()
      .selectFrom('members_freezes')
      .selectAll()
      .where('user_id', 'in', userIds)
      .execute();
    return new Map(
      rows.map((r) => [
        r.user_id,
        { userId: r.user_id, reason: r.reason, frozenBy: r.frozen_by, frozenAt: r.frozen_at },
      ]),
    );
  }

  /**
   * Freezes a member (the caller has checked that it exists). Freezing a frozen member again
   * keeps the first freeze and answers it. Throws RangeError for a blank or long reason.
   */
  async freeze(userId: string, reason: string, by: string): Promise<Freeze> {
    const why = checkReason(reason);
    await this.#tables()
      .insertInto('members_freezes')
      .values({ user_id: userId, reason: why, frozen_by: by, frozen_at: dateFromNs(this.clock.nowNs()) })
      .onConflict((oc) => oc.column('user_id').doNothing())
      .execute();
    this.#changes++;
    this.#frozen.add(userId);
    const freeze = await this.get(userId);
    if (!freeze) throw new MembersError('user_not_found');
    return freeze;
  }

  /** Lifts a freeze. Throws `account_not_frozen`, RangeError for a blank or long reason. */
  async unfreeze(userId: string, reason: string): Promise<Freeze> {
    checkReason(reason);
    const row = await this.#tables()
      .deleteFrom('members_freezes')
      .where('user_id', '=', userId)
      .returningAll()
      .executeTakeFirst();
    this.#changes++;
    this.#frozen.delete(userId);
    if (!row) throw new MembersError('account_not_frozen');
    return { userId: row.user_id, reason: row.reason, frozenBy: row.frozen_by, frozenAt: row.frozen_at };
  }
}

function checkReason(reason: string): string {
  if (typeof reason !== 'string' || !reason.trim() || reason.length > limits.operatorReasonLengthMax)
    throw new RangeError(`reason: 1 to ${limits.operatorReasonLengthMax} characters`);
  return reason.trim();
}
