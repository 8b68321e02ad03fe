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
  /**
   * When set, the limit is always in force, pressure or not (`#boundedLimit`): max QPS × max(min
   * RT, this bound), the requests the process answers within the bound at the best rate it has
   * shown. A queue that forms behind the event loop (the database, a CPU shared with it) never
   * shows as loop delay, and a surge admitted at the ceiling waits for seconds before any delay
   * is measured; the bound, above BBR's min RT, leaves group commit the concurrency its batches
   * need, and the rate room to grow.
   */
  responseTimeMs?: number | undefined;
  /**
   * The buckets the max QPS is read over (`bucketMs` when unset). Group commit answers a batch's
   * requests at once, so a short bucket catches a burst, not a rate: over 100 ms buckets the
   * drill saw the best "rate" at several times the rate sustained, and the limit let requests
   * queue that many times longer than meant.
   */
  rateBucketMs?: number | undefined;
  /**
   * How long the max QPS is remembered (`windowMs` when unset). Longer than the RT's window, so
   * that after a lull the limit starts from the rate the process has shown, not from the lull's.
   */
  rateWindowMs?: number | undefined;
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
  /** Answers counted over the longer buckets of the max QPS (the same window when they are not longer). */
  readonly #rates: SlidingWindow<Counts>;
  #inFlight = 0;
  #lastShedNs: bigint | undefined;
  /** `estimate()` as of the bucket it was computed in. */
  #estimated: { bucket: bigint; value: number | undefined } | undefined;

  constructor(options: ConcurrencyLimitOptions) {
    const shares = options.sharesPercent;
    if (shares[0] !== 100 || shares.some((s, i) => s <= 0 || s > (shares[i - 1] ?? 100)))
      throw new Error('class shares start at 100% and never grow towards the lower classes');
    if (!(options.concurrencyMin >= 1) || options.concurrencyMax < options.concurrencyMin)
      throw new Error('the concurrency floor is at least 1 and not above the ceiling');
    this.#options = options;
    this.#window = new SlidingWindow({ ...options, empty: () => ({ passed: 0, rtSumMs: 0 }) });
    const rateBucketMs = options.rateBucketMs ?? options.bucketMs;
    const rateWindowMs = options.rateWindowMs ?? options.windowMs;
    this.#rates =
      rateBucketMs === options.bucketMs && rateWindowMs === options.windowMs
        ? this.#window
        : new SlidingWindow({
            clock: options.clock,
            windowMs: rateWindowMs,
            bucketMs: rateBucketMs,
            empty: () => ({ passed: 0, rtSumMs: 0 }),
          });
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
    if (this.#rates !== this.#window) this.#rates.current().passed++;
  }

  /**
   * The limit of the top class now. Without a response-time bound: under pressure (or shortly
   * after a refusal), max QPS × min RT over the window within [floor, ceiling]; otherwise the
   * ceiling. With a bound, see `#boundedLimit`.
   */
  limit(pressured: boolean): number {
    const { concurrencyMax, concurrencyMin, cooldownMs, clock } = this.#options;
    if (this.#options.responseTimeMs !== undefined) return this.#boundedLimit();
    const cooling =
      this.#lastShedNs !== undefined && clock.nowNs() - this.#lastShedNs < BigInt(cooldownMs) * 1_000_000n;
    if (!pressured && !cooling) return concurrencyMax;
    const estimate = this.estimate();
    if (estimate === undefined) return concurrencyMax;
    return Math.min(concurrencyMax, Math.max(concurrencyMin, estimate));
  }

  /**
   * With a response-time bound the limit is always in force: the requests answered within the
   * bound at the best rate shown, max QPS × max(min RT, bound). Below the bound the rate can
   * still grow (throughput = in flight / RT); at it, requests queue no longer than the bound.
   * With no rate shown yet (just started, or idle past the rate's window), the ceiling: nothing
   * to hold to (the floor there refused a fresh server's first closed-loop clients).
   */
  #boundedLimit(): number {
    const { concurrencyMax, concurrencyMin } = this.#options;
    const estimate = this.estimate();
    if (estimate === undefined) return concurrencyMax;
    return Math.min(concurrencyMax, Math.max(concurrencyMin, estimate));
  }

  /** The limit of `priority`'s class now. */
  limitOf(priority: number, pressured: boolean): number {
    return this.#limitFor(this.#share(priority), this.limit(pressured));
  }

  /**
   * max QPS × min RT over the window's finished buckets (min RT raised to the response-time
   * bound, when there is one); undefined before any answer.
   */
  estimate(): number | undefined {
    // The finished buckets change only when a bucket ends: one computation per bucket, not one
    // per request (every admission reads it).
    const bucketNs = BigInt(Math.min(this.#window.bucketMs, this.#rates.bucketMs)) * 1_000_000n;
    const bucket = this.#options.clock.nowNs() / bucketNs;
    if (this.#estimated?.bucket !== bucket) this.#estimated = { bucket, value: this.#estimateNow() };
    return this.#estimated.value;
  }

  #estimateNow(): number | undefined {
    const buckets = this.#window.recent({ complete: true }).filter((b) => b.passed > 0);
    const rates = this.#rates.recent({ complete: true }).filter((b) => b.passed > 0);
    const bound = this.#options.responseTimeMs;
    // With a bound, a rate remembered past the RT's window still counts (the bound stands for the RT).
    if (rates.length === 0 || (buckets.length === 0 && bound === undefined)) return undefined;
    const maxPassPerS = Math.max(...rates.map((b) => b.passed)) * (1000 / this.#rates.bucketMs);
    const minRtMs = buckets.length === 0 ? 0 : Math.min(...buckets.map((b) => b.rtSumMs / b.passed));
    return Math.ceil((maxPassPerS * Math.max(minRtMs, bound ?? 0)) / 1000);
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
