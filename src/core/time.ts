/** Beijing time (and China's banks') is UTC+8, all year. */
export const beijingOffsetMs = 8 * 3_600_000;

/** Alipay speaks Beijing time (UTC+8) in "yyyy-MM-dd HH:mm:ss", whatever the server's zone. */
export function beijingTime(at: Date): string {
  return new Date(at.getTime() + beijingOffsetMs).toISOString().slice(0, 19).replace('T', ' ');
}

/** A Clock's nanoseconds as a Date (milliseconds). */
export function dateFromNs(ns: bigint): Date {
  return new Date(Number(ns / 1_000_000n));
}

/**
 * Whether `text` is a real calendar day as `YYYY-MM-DD` (`2026-02-30` is not: `Date.parse` would
 * quietly read it as the 2nd of March).
 */
export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const at = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === text;
}
