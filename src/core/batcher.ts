import { limits } from './limits.ts';

interface Queued<Req, Res> {
  request: Req;
  size: number;
  resolve: (r: Res) => void;
  reject: (e: unknown) => void;
}

/**
 * Which queue a request waits in. `interactive` is someone waiting (a payment); `bulk` is a
 * background job's page (a distribution to a million holders). A batch takes every interactive
 * request waiting, then bulk ones up to `bulkBatchEventsMax` events; while a batch with bulk
 * requests is out, nothing else is sent (a batch beside it would only wait for the ledger's lock
 * and cost a transaction of its own): an interactive request waits for at most that batch, and
 * rides in front of the next, never behind the job's whole queue.
 */
export type Lane = 'interactive' | 'bulk';

/** How a batcher groups: the ledger's limits unless told otherwise. */
export interface BatcherOptions {
  /** How long an idle batcher waits for company before dispatching. */
  waitMs?: number;
  /** Batches executing at once; `execute` keeps their effects in dispatch order if that matters. */
  maxInFlight?: number;
  /** Events one batch may carry (a request of `size` events counts `size`). */
  batchEventsMax?: number;
  /** Events one request may carry. */
  submissionEventsMax?: number;
  /** Events queued behind the batches in flight before callers are refused. */
  queueEventsMax?: number;
  /** Events one batch of the bulk lane may carry (a bulk request is never split either). */
  bulkBatchEventsMax?: number;
  /**
   * When a batch of several requests fails, run each of them alone, so that one bad request
   * fails only its caller (for statements whose requests are independent of each other).
   */
  isolateFailures?: boolean;
  /** What a refused caller reads when the batcher is closed or full. */
  name?: string;
}

/**
 * Group commit. Callers submit requests; while one batch is in flight, the next gathers. A batch
 * takes whole requests (a request is never split, so a linked chain never spans two batches) up
 * to `batchEventsMax` events, runs them through `execute` as one unit, and answers every caller
 * with its own result, or every caller with the same error if the unit failed (or, with
 * `isolateFailures`, each with its own outcome of running alone). Up to `maxInFlight` batches run
 * at once. Requests of the bulk lane wait while any interactive request does (see `Lane`).
 */
export class Batcher<Req, Res> {
  #queue: Array<Queued<Req, Res>> = [];
  #bulk: Array<Queued<Req, Res>> = [];
  #queuedEvents = 0;
  #inFlight = 0;
  #bulkInFlight = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #idle: Array<() => void> = [];
  readonly #waitMs: number;
  readonly #maxInFlight: number;
  readonly #batchEventsMax: number;
  readonly #submissionEventsMax: number;
  readonly #queueEventsMax: number;
  readonly #bulkBatchEventsMax: number;
  readonly #isolateFailures: boolean;
  readonly #name: string;

  constructor(
    private readonly execute: (requests: readonly Req[]) => Promise<Res[]>,
    options: BatcherOptions = {},
  ) {
    this.#waitMs = options.waitMs ?? limits.batchWaitMs;
    this.#maxInFlight = options.maxInFlight ?? limits.batchesInFlightMax;
    this.#batchEventsMax = options.batchEventsMax ?? limits.batchEventsMax;
    this.#submissionEventsMax = options.submissionEventsMax ?? limits.submissionEventsMax;
    this.#queueEventsMax = options.queueEventsMax ?? limits.queueEventsMax;
    this.#bulkBatchEventsMax = options.bulkBatchEventsMax ?? limits.bulkBatchEventsMax;
    this.#isolateFailures = options.isolateFailures ?? false;
    this.#name = options.name ?? 'ledger';
  }

  /** Queues one request of `size` events in `lane`; resolves once its batch has committed. */
  submit(request: Req, size = 1, lane: Lane = 'interactive'): Promise<Res> {
    if (this.#closed) return Promise.reject(new Error(`${this.#name} is shutting down`));
    if (size > this.#submissionEventsMax) {
      return Promise.reject(new RangeError(`a request may carry at most ${this.#submissionEventsMax} events`));
    }
    if (this.#queuedEvents + size > this.#queueEventsMax) {
      return Promise.reject(new Error(`${this.#name} queue is full; retry later`));
    }
    return new Promise<Res>((resolve, reject) => {
      (lane === 'bulk' ? this.#bulk : this.#queue).push({ request, size, resolve, reject });
      this.#queuedEvents += size;
      this.#schedule();
    });
  }

  /** Refuses new requests and resolves when every queued one has been answered. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.drained();
  }

  /** Resolves when nothing is queued or in flight. */
  drained(): Promise<void> {
    if (this.#idleNow()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #idleNow(): boolean {
    return this.#inFlight === 0 && this.#queue.length === 0 && this.#bulk.length === 0;
  }

  /** Whether a batch could be taken now: something queued, and no bulk batch out. */
  #takeable(): boolean {
    if (this.#bulkInFlight) return false;
    return this.#queue.length > 0 || this.#bulk.length > 0;
  }

  #schedule(): void {
    if (this.#timer || !this.#takeable() || this.#inFlight >= this.#maxInFlight) return;
    // Idle: wait a moment for company. Busy: the batch in flight is the wait.
    const wait = this.#inFlight === 0 && this.#queuedEvents < this.#batchEventsMax ? this.#waitMs : 0;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#dispatch();
    }, wait);
  }

  #dispatch(): void {
    while (this.#takeable() && this.#inFlight < this.#maxInFlight) {
      // Every interactive request waiting, and bulk ones behind them while no bulk batch is out:
      // a payment rides with a page rather than costing the ledger a transaction of its own.
      const batch = this.#take(this.#queue, this.#batchEventsMax);
      const bulk = !this.#bulkInFlight && this.#bulk.length > 0;
      if (bulk) batch.push(...this.#take(this.#bulk, this.#bulkBatchEventsMax));
      this.#inFlight++;
      if (bulk) this.#bulkInFlight = true;
      this.#run(batch).finally(() => {
        this.#inFlight--;
        if (bulk) this.#bulkInFlight = false;
        if (this.#idleNow()) {
          for (const resolve of this.#idle.splice(0)) resolve();
        }
        this.#schedule();
      });
    }
  }

  async #run(batch: Array<Queued<Req, Res>>): Promise<void> {
    try {
      const results = await this.execute(batch.map((q) => q.request));
      for (const [i, q] of batch.entries()) q.resolve(results[i] as Res);
    } catch (error) {
      if (!this.#isolateFailures || batch.length === 1) {
        for (const q of batch) q.reject(error);
        return;
      }
      await Promise.all(batch.map((q) => this.#run([q])));
    }
  }

  /** Whole requests from the front of `queue`, up to `eventsMax` events (at least one, if any). */
  #take(queue: Array<Queued<Req, Res>>, eventsMax: number): Array<Queued<Req, Res>> {
    let events = 0;
    let n = 0;
    while (n < queue.length) {
      const size = queue[n]?.size ?? 0;
      if (n > 0 && events + size > eventsMax) break;
      events += size;
      n++;
    }
    this.#queuedEvents -= events;
    return queue.splice(0, n);
  }
}

/**
 * Runs `run` on the first request of each key and answers null for the later ones of a key (they
 * lost the race to the first), keeping every answer in its request's place.
 */
export async function firstPerKey<Req, Res>(
  items: readonly Req[],
  key: (item: Req) => string,
  run: (unique: readonly Req[]) => Promise<(Res | null)[]>,
): Promise<(Res | null)[]> {
  const seen = new Set<string>();
  const firsts: number[] = [];
  for (const [i, item] of items.entries()) {
    const k = key(item);
    if (seen.has(k)) continue;
    seen.add(k);
    firsts.push(i);
  }
  if (firsts.length === items.length) return run(items);
  const answers = await run(firsts.map((i) => items[i] as Req));
  const out: (Res | null)[] = items.map(() => null);
  for (const [j, i] of firsts.entries()) out[i] = answers[j] ?? null;
  return out;
}
