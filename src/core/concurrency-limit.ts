/**
 * An adaptive concurrency limit shared by priority classes, in the style of Alibaba Sentinel's
 * BBR system rule (and Kratos' port of it): a process answering `maxPass` requests a second at
 * best, each taking `minRt` at least, has `maxPass × minRt` requests in flight when it runs at
 * its best; more in flight only queue. So while the process is under pressure, a request is
 * admitted only while the requests in flight stay under that product, measured over a sliding
 * window; when it is not, only the configured ceiling applies.
 *
 * Classes share the one count of requests in flight, each up to its share of the limit (the top
 * class 100%): a lower class is refused first, and what it may not take stays free for the
 * classes above it (Stripe keeps a fifth of its capacity for critical traffic this way). A
 * request that would wait for the event loop longer than its class's share of the queueing bound
 * is refused too: an answer that comes too late is worth less than a refusal that comes at once.
 */
import type { Clock } from './clock.ts';
import { SlidingWindow } from './sliding-window.ts';

export interface ConcurrencyLimitOptions {
  clock: Clock;
  /** The ceiling: requests in flight at most, whatever the measurements say. */
  concurrencyMax: number;
  /** The floor of the adaptive limit: so few in flight are always admitted (top class). */
  concurrencyMin: number;
  /** Each class's share of the limit and of the queueing bound, in percent, top class first. */
  sharesPercent: readonly number[];
  /** The window of the measurements and its buckets. */
  windowMs: number;
  bucketMs: number;
  /** After a refusal, the adaptive limit stays in force this long even if the pressure is gone. */
  cooldownMs: number;
  /** The longest wait the top class accepts before it is refused (lower classes: their share). */
  queueWaitMs: number;
}

/** What the caller knows of the process's state when a request arrives. */
export interface Load {
  /** Whether the process is under pressure (a slow event loop, a full heap). */
  readonly pressured: boolean;
  /** How long a request arriving now can expect to wait before it runs (the event loop's delay). */
  readonly waitMs: number;
}

export type Admission =
  | { readonly admitted: true; readonly startNs: bigint }
  | { readonly admitted: false; readonly reason: 'concurrency' | 'queue' };

interface Counts {
  /** Requests answered without failing in this bucket. */
  passed: number;
  rtSumMs: number;
}

export class ConcurrencyLimit {
  readonly #options: ConcurrencyLimitOptions;
  readonly #window: SlidingWindow<Counts>;
  #inFlight = 0;
  #lastShedNs: bigint | undefined;

  constructor(options: ConcurrencyLimitOptions) {
    const shares = options.sharesPercent;
    if (shares[0] !== 100 || shares.some((s, i) => s <= 0 || s > (shares[i - 1] ?? 100)))
      throw new Error('class shares start at 100% and never grow towards the lower classes');
    if (!(options.concurrencyMin >= 1) || options.concurrencyMax < options.concurrencyMin)
      throw new Error('the concurrency floor is at least 1 and not above the ceiling');
    this.#options = options;
    this.#window = new SlidingWindow({ ...options, empty: () => ({ passed: 0, rtSumMs: 0 }) });
  }

  /** Requests admitted and not yet released. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The number of classes (priority 0 is the top). */
  get classes(): number {
    return this.#options.sharesPercent.length;
  }

  /**
   * Admits a request of `priority` (0 is the top class), or says why not. An admitted request
   * must be released once, with its start, when it ends.
   */
  tryAcquire(priority: number, load: Load): Admission {
    const share = this.#share(priority);
    if (load.waitMs > (this.#options.queueWaitMs * share) / 100) return this.#shed('queue');
    if (this.#inFlight >= this.#limitFor(share, this.limit(load.pressured))) return this.#shed('concurrency');
    this.#inFlight++;
    return { admitted: true, startNs: this.#options.clock.nowNs() };
  }

  /**
   * Whether a request of `priority` would be admitted now, without taking a place: for work
   * that is not a request (a background sweep's round), which yields to requests.
   */
  wouldAdmit(priority: number, load: Load): boolean {
    const share = this.#share(priority);
    if (load.waitMs > (this.#options.queueWaitMs * share) / 100) return false;
    return this.#inFlight < this.#limitFor(share, this.limit(load.pressured));
  }

  /** Ends an admitted request; only answers that did not fail feed the measurements. */
  release(startNs: bigint, succeeded: boolean): void {
    if (this.#inFlight <= 0) throw new Error('a concurrency limit released more often than acquired');
    this.#inFlight--;
    if (!succeeded) return;
    const counts = this.#window.current();
    counts.passed++;
    counts.rtSumMs += Number(this.#options.clock.nowNs() - startNs) / 1e6;
  }

  /**
   * The limit of the top class now: under pressure (or shortly after a refusal), max QPS × min
   * RT over the window within [floor, ceiling]; otherwise the ceiling.
   */
  limit(pressured: boolean): number {
    const { concurrencyMax, concurrencyMin, cooldownMs, clock } = this.#options;
    const cooling =
      this.#lastShedNs !== undefined && clock.nowNs() - this.#lastShedNs < BigInt(cooldownMs) * 1_000_000n;
    if (!pressured && !cooling) return concurrencyMax;
    const estimate = this.estimate();
    if (estimate === undefined) return concurrencyMax;
    return Math.min(concurrencyMax, Math.max(concurrencyMin, estimate));
  }

  /** The limit of `priority`'s class now. */
  limitOf(priority: number, pressured: boolean): number {
    return this.#limitFor(this.#share(priority), this.limit(pressured));
  }

  /** max QPS × min RT over the window's finished buckets; undefined before any answer. */
  estimate(): number | undefined {
    const buckets = this.#window.recent({ complete: true }).filter((b) => b.passed > 0);
    if (buckets.length === 0) return undefined;
    const maxPassPerS = Math.max(...buckets.map((b) => b.passed)) * (1000 / this.#window.bucketMs);
    const minRtMs = Math.min(...buckets.map((b) => b.rtSumMs / b.passed));
    return Math.ceil((maxPassPerS * minRtMs) / 1000);
  }

  #share(priority: number): number {
    const share = this.#options.sharesPercent[priority];
    if (share === undefined) throw new Error(`no class of priority ${priority}`);
    return share;
  }

  /** A class's part of the limit; every class keeps at least one place, so it is never starved outright. */
  #limitFor(share: number, limit: number): number {
    return Math.max(1, Math.floor((limit * share) / 100));
  }

  #shed(reason: 'concurrency' | 'queue'): Admission {
    this.#lastShedNs = this.#options.clock.nowNs();
    return { admitted: false, reason };
  }
}
