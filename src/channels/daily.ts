import type { Clock } from '../core/clock.ts';
import type { Db } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { beijingOffsetMs, beijingTime, dateFromNs } from '../core/time.ts';
import type { Reconciler, ReconSummary } from './recon.ts';
import type { ReserveReport } from './reserve.ts';
import type { Channels } from './service.ts';

/**
 * The daily work of the channels, due once `limits.reconDailyAtMinute` minutes past Beijing
 * midnight: each bank's statement of the day before is reconciled, and the reserve position is
 * kept as that day's report. `tick()` is safe to call as often as one likes (the server calls it
 * every minute): it does only what the database says is not done yet, so a restart or a second
 * process does not repeat a day, and a day missed while the server was down is caught up.
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
      const [done] = await this.db.query(
        'select 1 from recon_runs where bank = $1 and business_date = $2 and finished_at is not null limit 1',
        [bank.code, yesterday],
      );
      if (!done) ran.push(await this.reconciler.run(bank.code, yesterday));
    }
    const [reported] = await this.db.query('select 1 from reserve_reports where taken_at >= $1 limit 1', [
      new Date(midnightMs),
    ]);
    if (!reported) await this.reserves.snapshot();
    return ran;
  }
}
