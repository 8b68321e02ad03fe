/**
 * The framework-free mechanisms of overload protection, each on a `ManualClock`:
 *
 * - the sliding window forgets buckets older than its window and can leave out the current one;
 * - the token buckets admit a key's burst, then its rate, and one key's storm leaves another's
 *   bucket full; memory stays within `keysMax`;
 * - the concurrency limit gives each class its share (a fifth always left to the top class),
 *   refuses a class whose expected wait passes its share of the queueing bound, and under
 *   pressure holds the requests in flight to max QPS × min RT of the window (Sentinel's BBR);
 * - the circuit breaker opens on an error ratio and on a slow-call ratio once the window holds
 *   enough calls, refuses while open, lets probes through half-open, closes when they succeed
 *   and opens again when one fails.
 */
import { describe, expect, it } from 'vitest';
import { type BreakerState, CircuitBreaker } from '../../src/core/circuit-breaker.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { ConcurrencyLimit } from '../../src/core/concurrency-limit.ts';
import { SlidingWindow } from '../../src/core/sliding-window.ts';
import { TokenBuckets } from '../../src/core/token-bucket.ts';

const calm = { pressured: false, waitMs: 0 };
const pressured = { pressured: true, waitMs: 0 };

describe('SlidingWindow', () => {
  it('keeps the buckets of the last window only, the current one optionally left out', () => {
    const clock = new ManualClock();
    const window = new SlidingWindow({ clock, windowMs: 1000, bucketMs: 100, empty: () => ({ n: 0 }) });
    for (let i = 0; i < 15; i++) {
      window.current().n += i;
      clock.advanceMs(100);
    }
    // Fifteen buckets written, 0..14; the window now starts at bucket 6 (the current one, 15, is empty).
    expect(window.recent().map((b) => b.n)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14]);
    window.current().n = 99;
    expect(window.recent().at(-1)?.n).toBe(99);
    expect(window.recent({ complete: true }).at(-1)?.n).toBe(14);
    clock.advanceMs(5000);
    expect(window.recent()).toEqual([]);
  });

  it('refuses a window that is not a whole number of buckets', () => {
    const clock = new ManualClock();
    expect(() => new SlidingWindow({ clock, windowMs: 150, bucketMs: 100, empty: () => 0 })).toThrow();
  });
});

describe('TokenBuckets', () => {
  it('admits a burst, then the rate, and says when the next token comes', () => {
    const clock = new ManualClock();
    const buckets = new TokenBuckets({ clock, perSecond: 10, burst: 3, keysMax: 10 });
    expect([buckets.take('app-a'), buckets.take('app-a'), buckets.take('app-a')]).toEqual([0, 0, 0]);
    expect(buckets.take('app-a')).toBe(100);
    clock.advanceMs(40);
    expect(buckets.take('app-a')).toBe(60);
    clock.advanceMs(60);
    expect(buckets.take('app-a')).toBe(0);
    expect(buckets.take('app-a')).toBe(100);
    // A long quiet spell refills up to the burst, never beyond.
    clock.advanceSeconds(60);
    expect([0, 1, 2, 3].map(() => buckets.take('app-a'))).toEqual([0, 0, 0, 100]);
  });

  it("lets one key's storm spend only its own tokens", () => {
    const clock = new ManualClock();
    const buckets = new TokenBuckets({ clock, perSecond: 5, burst: 5, keysMax: 10 });
    const storm = Array.from({ length: 100 }, () => buckets.take('storm'));
    expect(storm.filter((wait) => wait === 0)).toHaveLength(5);
    expect(Array.from({ length: 5 }, () => buckets.take('quiet'))).toEqual([0, 0, 0, 0, 0]);
  });

  it('remembers at most keysMax keys, forgetting the one used longest ago (which starts full)', () => {
    const clock = new ManualClock();
    const buckets = new TokenBuckets({ clock, perSecond: 1, burst: 1, keysMax: 2 });
    buckets.take('a');
    buckets.take('b');
    buckets.take('a');
    buckets.take('c');
    expect(buckets.size).toBe(2);
    // b, used longest ago, was forgotten: it starts full; a is remembered empty.
    expect(buckets.take('a')).toBeGreaterThan(0);
    expect(buckets.take('b')).toBe(0);
  });
});

const limitOptions = (clock: ManualClock) => ({
  clock,
  concurrencyMax: 10,
  concurrencyMin: 2,
  sharesPercent: [100, 80, 60, 40, 20],
  windowMs: 1000,
  bucketMs: 100,
  cooldownMs: 1000,
  queueWaitMs: 500,
});

describe('ConcurrencyLimit', () => {
  it("lets each class fill only its share, so a lower class's load never takes the top class's reserve", () => {
    const limiter = new ConcurrencyLimit(limitOptions(new ManualClock()));
    const admitted = (priority: number) => {
      let n = 0;
      while (limiter.tryAcquire(priority, calm).admitted) n++;
      return n;
    };
    // Queries (priority 2, 60% of 10) take 6 places; refunds (80%) 2 more; payments the last 2.
    expect(admitted(2)).toBe(6);
    expect(admitted(4)).toBe(0);
    expect(admitted(1)).toBe(2);
    expect(admitted(0)).toBe(2);
    expect(limiter.inFlight).toBe(10);
    expect(limiter.tryAcquire(0, calm)).toEqual({ admitted: false, reason: 'concurrency' });
    expect([0, 1, 2, 3, 4].map((p) => limiter.limitOf(p, false))).toEqual([10, 8, 6, 4, 2]);
  });

  it('refuses a class whose expected wait passes its share of the queueing bound', () => {
    const limiter = new ConcurrencyLimit(limitOptions(new ManualClock()));
    const load = { pressured: true, waitMs: 250 };
    // 500 ms for payments, 300 for queries, 200 for bills and pages.
    expect(limiter.tryAcquire(0, load).admitted).toBe(true);
    expect(limiter.tryAcquire(2, load).admitted).toBe(true);
    expect(limiter.tryAcquire(3, load)).toEqual({ admitted: false, reason: 'queue' });
    expect(limiter.wouldAdmit(4, load)).toBe(false);
    expect(limiter.wouldAdmit(0, load)).toBe(true);
  });

  it('under pressure, holds the requests in flight to max QPS × min RT of the window (BBR)', () => {
    const clock = new ManualClock();
    const limiter = new ConcurrencyLimit(limitOptions(clock));
    expect(limiter.estimate()).toBeUndefined();
    expect(limiter.limit(true)).toBe(10);
    // 100 ms buckets: 4 answers of 50 ms each in one bucket → 40/s × 0.05 s = 2 in flight;
    // a later bucket with 2 answers of 150 ms lowers neither the max QPS nor raises the min RT.
    const run = (n: number, ms: number) => {
      const starts = Array.from({ length: n }, () => limiter.tryAcquire(0, calm));
      clock.advanceMs(ms);
      for (const a of starts) if (a.admitted) limiter.release(a.startNs, true);
    };
    run(4, 50);
    clock.advanceMs(50);
    run(2, 150);
    clock.advanceMs(100);
    expect(limiter.estimate()).toBe(2);
    // Calm, the ceiling applies; under pressure, the estimate (within the floor of 2).
    expect(limiter.limit(false)).toBe(10);
    expect(limiter.limit(true)).toBe(2);
    expect(limiter.tryAcquire(0, pressured).admitted).toBe(true);
    expect(limiter.tryAcquire(0, pressured).admitted).toBe(true);
    expect(limiter.tryAcquire(0, pressured)).toEqual({ admitted: false, reason: 'concurrency' });
    // Lower classes keep one place each at the least; here they are past it.
    expect(limiter.tryAcquire(3, pressured).admitted).toBe(false);
    // The refusal keeps the adaptive limit in force for the cool-down, pressure or not.
    expect(limiter.limit(false)).toBe(2);
    clock.advanceMs(1000);
    expect(limiter.limit(false)).toBe(10);
  });

  it('with a response-time bound, holds the requests in flight to what it answers that fast at its best rate, pressure or not', () => {
    const clock = new ManualClock();
    const limiter = new ConcurrencyLimit({
      ...limitOptions(clock),
      concurrencyMax: 100,
      concurrencyMin: 2,
      responseTimeMs: 100,
    });
    const blind = new ConcurrencyLimit({ ...limitOptions(clock), concurrencyMax: 100 });
    // Before any answer, the ceiling: nothing to hold to yet.
    expect(limiter.limit(false)).toBe(100);
    // 20 answers a bucket (200/s), two at a time, of 5 ms each.
    for (let bucket = 0; bucket < 3; bucket++) {
      for (let round = 0; round < 10; round++) {
        const held = [limiter, blind].map((l) => [l.tryAcquire(0, calm), l.tryAcquire(0, calm)]);
        clock.advanceMs(5);
        for (const [i, l] of [limiter, blind].entries()) {
          for (const a of held[i] ?? []) if (a.admitted) l.release(a.startNs, true);
        }
      }
      clock.advanceMs(50);
    }
    // 200/s at best × 100 ms (the bound, above the least RT of 5 ms) = 20 in flight, calm or not.
    // BBR alone would allow 200/s × 5 ms = 1 (so its floor, 2), and only under pressure.
    expect(limiter.limit(false)).toBe(20);
    const admitted = Array.from({ length: 25 }, () => limiter.tryAcquire(0, calm)).filter((a) => a.admitted);
    expect(admitted).toHaveLength(20);
    expect(limiter.tryAcquire(0, calm)).toEqual({ admitted: false, reason: 'concurrency' });
    // A lower class is held to its share of it: queries to 60% of 20, already passed.
    expect(limiter.tryAcquire(2, calm).admitted).toBe(false);
    // Without a bound (an app that does not measure its load), the ceiling while calm.
    expect(blind.limit(false)).toBe(100);
    expect(blind.limit(true)).toBe(2);
  });

  it('reads the max QPS over its rate buckets, so that a batch answered at once is not taken for a rate', () => {
    const clock = new ManualClock();
    const limiter = new ConcurrencyLimit({
      ...limitOptions(clock),
      concurrencyMax: 1000,
      windowMs: 2000,
      rateBucketMs: 1000,
      responseTimeMs: 100,
    });
    // A group commit answers 100 requests at once, and nothing else that second: 1,000/s over a
    // 100 ms bucket, 100/s over the second.
    passes(limiter, 100);
    clock.advanceMs(1000);
    // 100/s × 100 ms, not 1,000/s × 100 ms.
    expect(limiter.estimate()).toBe(10);
    expect(limiter.limit(false)).toBe(10);
    // After a lull longer than the RT's window, the rate shown is still remembered.
    const lull = new ConcurrencyLimit({
      ...limitOptions(clock),
      rateBucketMs: 1000,
      rateWindowMs: 10_000,
      responseTimeMs: 100,
    });
    passes(lull, 100);
    clock.advanceMs(1000);
    passes(lull, 2);
    clock.advanceMs(3000);
    expect(lull.limit(false)).toBe(10);
  });

  it('counts only answers that did not fail in the measurements', () => {
    const clock = new ManualClock();
    const limiter = new ConcurrencyLimit(limitOptions(clock));
    const a = limiter.tryAcquire(0, calm);
    if (!a.admitted) throw new Error('admitted');
    clock.advanceMs(10);
    limiter.release(a.startNs, false);
    clock.advanceMs(100);
    expect(limiter.estimate()).toBeUndefined();
    expect(limiter.inFlight).toBe(0);
    expect(() => limiter.release(a.startNs, true)).toThrow();
  });

  it('refuses shares that grow towards the lower classes', () => {
    const clock = new ManualClock();
    expect(() => new ConcurrencyLimit({ ...limitOptions(clock), sharesPercent: [100, 50, 60] })).toThrow();
    expect(() => new ConcurrencyLimit({ ...limitOptions(clock), sharesPercent: [90, 50] })).toThrow();
  });
});

/** `n` answers taking no time, two at a time. */
function passes(limiter: ConcurrencyLimit, n: number): void {
  for (let i = 0; i < n; i += 2) {
    const held = [limiter.tryAcquire(0, calm), limiter.tryAcquire(0, calm)];
    for (const a of held) if (a.admitted) limiter.release(a.startNs, true);
  }
}

const breakerOptions = (clock: ManualClock, changes: BreakerState[] = []) => ({
  clock,
  windowMs: 10_000,
  bucketMs: 1000,
  callsMin: 4,
  errorPercentMax: 50,
  slowCallMs: 2000,
  slowPercentMax: 50,
  openMs: 5000,
  probesMax: 2,
  onStateChange: (state: BreakerState) => changes.push(state),
});

/** One call through the breaker taking `ms`; false when the breaker refused it. */
function call(breaker: CircuitBreaker, clock: ManualClock, ms: number, failed = false): boolean {
  const permit = breaker.tryAcquire();
  if (!permit) return false;
  clock.advanceMs(ms);
  breaker.record(permit, failed);
  return true;
}

describe('CircuitBreaker', () => {
  it('opens on the error ratio once the window holds enough calls, and refuses while open', () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker(breakerOptions(clock));
    // Three failures of three calls: fewer than callsMin, still closed.
    for (let i = 0; i < 3; i++) call(breaker, clock, 10, true);
    expect(breaker.state).toBe('closed');
    call(breaker, clock, 10, false);
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBeUndefined();
  });

  it('opens on the slow-call ratio even when every call succeeded', () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker(breakerOptions(clock));
    call(breaker, clock, 100);
    call(breaker, clock, 100);
    call(breaker, clock, 2500);
    expect(breaker.state).toBe('closed');
    call(breaker, clock, 2500);
    expect(breaker.state).toBe('open');
  });

  it('forgets calls older than the window', () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker(breakerOptions(clock));
    for (let i = 0; i < 3; i++) call(breaker, clock, 10, true);
    clock.advanceSeconds(11);
    call(breaker, clock, 10, true);
    expect(breaker.state).toBe('closed');
  });

  it('lets probes through once open time is up: closes when they all succeed, opens again when one fails', () => {
    const clock = new ManualClock();
    const changes: BreakerState[] = [];
    const breaker = new CircuitBreaker(breakerOptions(clock, changes));
    for (let i = 0; i < 4; i++) call(breaker, clock, 10, true);
    expect(breaker.state).toBe('open');
    clock.advanceMs(4999);
    expect(breaker.tryAcquire()).toBeUndefined();
    clock.advanceMs(1);
    expect(breaker.state).toBe('half_open');
    // Two probes at once; a third call is refused while they run.
    const first = breaker.tryAcquire();
    const second = breaker.tryAcquire();
    expect(first?.probe && second?.probe).toBe(true);
    expect(breaker.tryAcquire()).toBeUndefined();
    if (!first || !second) throw new Error('probes');
    breaker.record(first, false);
    breaker.record(second, true);
    expect(breaker.state).toBe('open');
    clock.advanceMs(5000);
    expect(call(breaker, clock, 10)).toBe(true);
    expect(call(breaker, clock, 10)).toBe(true);
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
    // Closed with a fresh window: one more failure does not reopen it.
    call(breaker, clock, 10, true);
    expect(breaker.state).toBe('closed');
  });

  it('lets a slow probe reopen the breaker', () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker(breakerOptions(clock));
    for (let i = 0; i < 4; i++) call(breaker, clock, 3000);
    expect(breaker.state).toBe('open');
    clock.advanceMs(5000);
    call(breaker, clock, 3000);
    expect(breaker.state).toBe('open');
  });
});
