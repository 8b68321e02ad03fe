import type { Clock } from '../core/clock.ts';
import { type Db, typed } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { beijingOffsetMs, beijingTime, dateFromNs } from '../core/time.ts';
import type { Reconciler, ReconSummary } from './recon.ts';
import type { ReserveReport } from './reserve.ts';
import type { Channels } from './service.ts';
import type { ChannelTables } from './tables.ts';

/**
 * The daily work of the channels, due once `limits.reconDailyAtMinute` minutes past Beijing
 * midnight: each bank's statement of the day before is reconciled, and the reserve position is
 * kept as that day's report. `tick()` is safe to call as often as one likes (the server calls it
 * every minute, in every process): it does only what the database says is not done yet, each
 * piece by the one process that claimed it (`daily_work`), so a restart or a second process does
 * not repeat a day, and a day missed while the server was down is caught up.
 */
export class DailyChannelWork {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly channels: Channels,
    private readonly reconciler: Reconciler,
    private readonly reserves: ReserveReport,
  ) {}

  /** Runs what is due; answers the reconciliations it ran. */
  async tick(): Promise<ReconSummary[]> {
    const now = dateFromNs(this.clock.nowNs());
    const today = beijingTime(now).slice(0, 10);
    const midnightMs = Date.parse(`${today}T00:00:00Z`) - beijingOffsetMs;
    if (now.getTime() - midnightMs < limits.reconDailyAtMinute * 60_000) return [];
    const yesterday = beijingTime(new Date(midnightMs - 1)).slice(0, 10);
    const ran: ReconSummary[] = [];
    for (const bank of this.channels.banks()) {
      // An operator's `paybao reconcile` of the day counts as done too.
      const done = await this.#tables()
        .selectFrom('recon_runs')
        .select('id')
        .where('bank', '=', bank.code)
        .where('business_date', '=', yesterday)
        .where('finished_at', 'is not', null)
        .limit(1)
        .executeTakeFirst();
      if (done) continue;
      const summary = await this.#once(`recon:${bank.code}`, yesterday, () =>
        this.reconciler.run(bank.code, yesterday),
      );
      if (summary) ran.push(summary);
    }
    const reported = await this.#tables()
      .selectFrom('reserve_reports')
      .select('id')
      .where('taken_at', '>=', new Date(midnightMs))
      .limit(1)
      .executeTakeFirst();
    if (!reported) await this.#once('reserve-report', today, () => this.reserves.snapshot());
    return ran;
  }

  /**
   * Runs `work` if this process claims (job, day): no other claimed it, or its claim went stale.
   * Done, the claim is marked so; failed, it is given up, so that the next tick tries again.
   */
  async #once<T>(job: string, day: string, work: () => Promise<T>): Promise<T | undefined> {
    const now = dateFromNs(this.clock.nowNs());
    const claimed = await this.#tables()
      .insertInto('daily_work')
      .values({ job, day, claimed_at: now })
      .onConflict((oc) =>
        oc
          .columns(['job', 'day'])
          .doUpdateSet((eb) => ({ claimed_at: eb.ref('excluded.claimed_at') }))
          .where('daily_work.done_at', 'is', null)
          .where('daily_work.claimed_at', '<', new Date(now.getTime() - limits.dailyWorkStaleMs)),
      )
      .returning('job')
      .executeTakeFirst();
    if (!claimed) return undefined;
    try {
      const result = await work();
      await this.#tables()
        .updateTable('daily_work')
        .set({ done_at: dateFromNs(this.clock.nowNs()) })
        .where('job', '=', job)
        .where('day', '=', day)
        .execute();
      return result;
    } catch (error) {
      await this.#tables()
        .deleteFrom('daily_work')
        .where('job', '=', job)
        .where('day', '=', day)
        .where('claimed_at', '=', now)
        .where('done_at', 'is', null)
        .execute();
      throw error;
    }
  }

  #tables() {
    return typed<ChannelTables>(this.db);
  }
}
