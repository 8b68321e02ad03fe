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
