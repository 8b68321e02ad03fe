/**
 * A circuit breaker around one outside system (a bank), as resilience4j and Sentinel's degrade
 * rules have it: CLOSED lets every call through and counts, over a sliding window, the calls
 * that failed and those that were slow; once enough calls were counted and either share reaches
 * its threshold, the breaker OPENs and refuses every call at once, without making it, for
 * `openMs`. Then it is HALF_OPEN: a few probe calls go through; if all succeed in time it
 * closes (with a fresh window), and the first that fails or is slow opens it again.
 *
 * A refused call is never made: the caller can tell its outside system was not asked, which is
 * not the same as a call that went out and got no answer.
 */
import type { Clock } from './clock.ts';
import { SlidingWindow } from './sliding-window.ts';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  clock: Clock;
  windowMs: number;
  bucketMs: number;
  /** Calls the window must hold before its ratios count. */
  callsMin: number;
  /** The breaker opens when at least this share of the window's calls failed, in percent. */
  errorPercentMax: number;
  /** A call slower than this is slow, whatever its outcome. */
  slowCallMs: number;
  /** The breaker opens when at least this share of the window's calls were slow, in percent. */
  slowPercentMax: number;
  /** How long an open breaker refuses before it lets probes through. */
  openMs: number;
  /** Probe calls in the half-open state; all must succeed for the breaker to close. */
  probesMax: number;
  /** Told of every change of state (metrics, logs). */
  onStateChange?: (state: BreakerState) => void;
}

interface Counts {
  calls: number;
  failed: number;
  slow: number;
}

/** A permit for one call: its start, and whether it is a half-open probe. */
export interface BreakerPermit {
  readonly startNs: bigint;
  readonly probe: boolean;
}

export class CircuitBreaker {
  readonly #options: CircuitBreakerOptions;
  readonly #window: SlidingWindow<Counts>;
  #state: BreakerState = 'closed';
  #openedNs = 0n;
  #probesStarted = 0;
  #probesPassed = 0;

  constructor(options: CircuitBreakerOptions) {
    if (!(options.callsMin >= 1) || !(options.probesMax >= 1)) throw new Error('a breaker counts at least one call');
    this.#options = options;
    this.#window = new SlidingWindow({ ...options, empty: () => ({ calls: 0, failed: 0, slow: 0 }) });
  }

  /** The state now (an open breaker whose time is up reads as half-open). */
  get state(): BreakerState {
    if (this.#state === 'open' && this.#openTimeUp()) this.#move('half_open');
    return this.#state;
  }

  /** A permit for one call, or undefined: the breaker refuses it, and the call must not be made. */
  tryAcquire(): BreakerPermit | undefined {
    const state = this.state;
    const startNs = this.#options.clock.nowNs();
    if (state === 'closed') return { startNs, probe: false };
    if (state === 'open' || this.#probesStarted >= this.#options.probesMax) return undefined;
    this.#probesStarted++;
    return { startNs, probe: true };
  }

  /**
   * Records how a call made under `permit` ended: `failed` when it failed for the outside
   * system's reasons (no answer, a 5xx), not when it answered a refusal; its time is measured
   * from the permit.
   */
  record(permit: BreakerPermit, failed: boolean): void {
    const durationMs = Number(this.#options.clock.nowNs() - permit.startNs) / 1e6;
    if (permit.probe) {
      // A probe's outcome counts only in the half-open state it was let through in.
      if (this.#state !== 'half_open') return;
      if (failed || durationMs > this.#options.slowCallMs) {
        this.#open();
        return;
      }
      this.#probesPassed++;
      if (this.#probesPassed >= this.#options.probesMax) {
        this.#window.reset();
        this.#move('closed');
      }
      return;
    }
    // A call let through before the breaker opened changes nothing once it is open.
    if (this.#state !== 'closed') return;
    const counts = this.#window.current();
    counts.calls++;
    if (failed) counts.failed++;
    if (durationMs > this.#options.slowCallMs) counts.slow++;
    this.#check();
  }

  #check(): void {
    const { callsMin, errorPercentMax, slowPercentMax } = this.#options;
    let calls = 0;
    let failed = 0;
    let slow = 0;
    for (const b of this.#window.recent()) {
      calls += b.calls;
      failed += b.failed;
      slow += b.slow;
    }
    if (calls < callsMin) return;
    if (failed * 100 >= errorPercentMax * calls || slow * 100 >= slowPercentMax * calls) this.#open();
  }

  #open(): void {
    this.#openedNs = this.#options.clock.nowNs();
    this.#move('open');
  }

  #openTimeUp(): boolean {
    return this.#options.clock.nowNs() - this.#openedNs >= BigInt(this.#options.openMs) * 1_000_000n;
  }

  #move(state: BreakerState): void {
    this.#probesStarted = 0;
    this.#probesPassed = 0;
    if (this.#state === state) return;
    this.#state = state;
    this.#options.onStateChange?.(state);
  }
}
