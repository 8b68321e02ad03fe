import { beijingTime, dateFromNs } from '../core/time.ts';

const millisecondsPerDay = 86_400_000;

/** The Beijing date (YYYY-MM-DD) of a clock's nanoseconds: the day a run and its history are for. */
export function beijingDate(ns: bigint): string {
  return beijingTime(dateFromNs(ns)).slice(0, 10);
}

/** The Beijing hour (0–23) of a clock's nanoseconds. */
export function beijingHour(ns: bigint): number {
  return Number(beijingTime(dateFromNs(ns)).slice(11, 13));
}

/** The day `days` before `day` (YYYY-MM-DD). */
export function daysBefore(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - days * millisecondsPerDay).toISOString().slice(0, 10);
}
