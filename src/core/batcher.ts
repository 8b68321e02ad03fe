import { limits } from './limits.ts';

interface Queued<Req, Res> {
  request: Req;
  size: number;
  resolve: (r: Res) => void;
  reject: (e: unknown) => void;
}

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
 * at once.
 */
export class Batcher<Req, Res> {
  #queue: Array<Queued<Req, Res>> = [];
  #queuedEvents = 0;
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #idle: Array<() => void> = [];
  readonly #waitMs: number;
  readonly #maxInFlight: number;
  readonly #batchEventsMax: number;
  readonly #submissionEventsMax: number;
  readonly #queueEventsMax: number;
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
    this.#isolateFailures = options.isolateFailures ?? false;
    this.#name = options.name ?? 'ledger';
  }

  /** Queues one request of `size` events; resolves once its batch has committed. */
  submit(request: Req, size = 1): Promise<Res> {
    if (this.#closed) return Promise.reject(new Error(`${this.#name} is shutting down`));
    if (size > this.#submissionEventsMax) {
      return Promise.reject(new RangeError(`a request may carry at most ${this.#submissionEventsMax} events`));
    }
    if (this.#queuedEvents + size > this.#queueEventsMax) {
      return Promise.reject(new Error(`${this.#name} queue is full; retry later`));
    }
    return new Promise<Res>((resolve, reject) => {
      this.#queue.push({ request, size, resolve, reject });
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
    if (this.#inFlight === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#timer || this.#queue.length === 0 || this.#inFlight >= this.#maxInFlight) return;
    // Idle: wait a moment for company. Busy: the batch in flight is the wait.
    const wait = this.#inFlight === 0 && this.#queuedEvents < this.#batchEventsMax ? this.#waitMs : 0;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#dispatch();
    }, wait);
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.#maxInFlight) {
      const batch = this.#take();
      this.#inFlight++;
      this.#run(batch).finally(() => {
        this.#inFlight--;
        if (this.#inFlight === 0 && this.#queue.length === 0) {
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

  #take(): Array<Queued<Req, Res>> {
    let events = 0;
    let n = 0;
    while (n < this.#queue.length) {
      const size = this.#queue[n]?.size ?? 0;
      if (n > 0 && events + size > this.#batchEventsMax) break;
      events += size;
      n++;
    }
    this.#queuedEvents -= events;
    return this.#queue.splice(0, n);
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
