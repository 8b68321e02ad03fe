/**
 * The clock is injected everywhere so that tests can move time (pending timeouts, auto-confirm,
 * daily income) without sleeping.
 */
export interface Clock {
  /** Wall-clock time in nanoseconds since the Unix epoch. */
  nowNs(): bigint;
}

const startNs = BigInt(Date.now()) * 1_000_000n;
const startHr = process.hrtime.bigint();

/** Real time: the epoch at start plus a monotonic high-resolution offset. */
export const systemClock: Clock = {
  nowNs: () => startNs + (process.hrtime.bigint() - startHr),
};

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  #ns: bigint;
  constructor(startMs = Date.UTC(2026, 10, 11)) {
    this.#ns = BigInt(startMs) * 1_000_000n;
  }
  nowNs(): bigint {
    return this.#ns;
  }
  advanceMs(ms: number): void {
    this.#ns += BigInt(ms) * 1_000_000n;
  }
  advanceSeconds(s: number): void {
    this.advanceMs(s * 1000);
  }
}
