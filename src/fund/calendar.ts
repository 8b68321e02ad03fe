import type { Queryable } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { beijingOffsetMs } from '../core/time.ts';

/**
 * The trading calendar: a trading day is a weekday (Beijing) that is not a holiday in
 * `fund_holidays` (configured by the operator: the exchanges publish each year's closures). Days
 * are `YYYY-MM-DD` text.
 */

/** The Beijing day and minute of the day of an instant given in nanoseconds. */
export function beijingDayAndMinute(ns: bigint): { day: string; minute: number } {
  const at = new Date(Number(ns / 1_000_000n) + beijingOffsetMs);
  return { day: at.toISOString().slice(0, 10), minute: at.getUTCHours() * 60 + at.getUTCMinutes() };
}

/** The day `n` days after `day` (negative: before). */
export function addDays(day: string, n: number): string {
  const at = new Date(`${day}T00:00:00Z`);
  at.setUTCDate(at.getUTCDate() + n);
  return at.toISOString().slice(0, 10);
}

function isWeekend(day: string): boolean {
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
  return weekday === 0 || weekday === 6;
}

/** The days of an order: the trade day it counts for, and the day it is confirmed (due). */
export interface OrderDays {
  /** The Beijing day the request was made. */
  requestedDay: string;
  /** The trading day whose orders it joins: today before the cut-off on a trading day, else the next. */
  tradeDay: string;
  /** The next trading day after the trade day (T+1): shares confirmed and earning, or money paid. */
  dueDay: string;
}

export class TradingCalendar {
  constructor(private readonly db: Queryable) {}

  /** Adds (or renames) a holiday. */
  async addHoliday(day: string, name: string): Promise<void> {
    await this.db.query(
      'insert into fund_holidays (day, name) values ($1, $2) on conflict (day) do update set name = excluded.name',
      [day, name],
    );
  }

  async isTradingDay(day: string): Promise<boolean> {
    if (isWeekend(day)) return false;
    const rows = await this.db.query('select 1 from fund_holidays where day = $1', [day]);
    return rows.length === 0;
  }

  /** The first trading day after `day`. */
  async nextTradingDay(day: string): Promise<string> {
    const last = addDays(day, limits.fundCalendarLookaheadDays);
    const rows = await this.db.query<{ day: string }>('select day from fund_holidays where day > $1 and day <= $2', [
      day,
      last,
    ]);
    const holidays = new Set(rows.map((r) => r.day));
    for (let next = addDays(day, 1); next <= last; next = addDays(next, 1)) {
      if (!isWeekend(next) && !holidays.has(next)) return next;
    }
    throw new Error(`no trading day within ${limits.fundCalendarLookaheadDays} days after ${day}`);
  }

  /**
   * The days of an order made at `ns`: before 15:00 Beijing on a trading day it joins that day
   * (T) and is confirmed on the next trading day (T+1); after the cut-off, or on a day without
   * trading, it joins the next trading day and is confirmed one trading day after that.
   */
  async orderDays(ns: bigint): Promise<OrderDays> {
    const { day, minute } = beijingDayAndMinute(ns);
    const beforeCutoff = minute < limits.fundCutoffBeijingMinute;
    const tradeDay = beforeCutoff && (await this.isTradingDay(day)) ? day : await this.nextTradingDay(day);
    return { requestedDay: day, tradeDay, dueDay: await this.nextTradingDay(tradeDay) };
  }
}
