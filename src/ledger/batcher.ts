import { limits } from '../core/limits.ts';

interface Queued<Req, Res> {
  request: Req;
  size: number;
  resolve: (r: Res) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit. Callers submit requests; while one batch is in flight, the next gathers. A batch
 * takes whole requests (a request is never split, so a linked chain never spans two batches) up
 * to `batchEventsMax` events, runs them through `execute` as one unit, and answers every caller
 * with its own result, or every caller with the same error if the unit failed. Up to
 * `maxInFlight` batches run at once; `execute` keeps their effects in dispatch order.
 */
export class Batcher<Req, Res> {
  #queue: Array<Queued<Req, Res>> = [];
  #queuedEvents = 0;
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #idle: Array<() => void> = [];

  constructor(
    private readonly execute: (requests: readonly Req[]) => Promise<Res[]>,
    private readonly waitMs: number = limits.batchWaitMs,
    private readonly maxInFlight: number = limits.batchesInFlightMax,
  ) {}

  /** Queues one request of `size` events; resolves once its batch has committed. */
  submit(request: Req, size: number): Promise<Res> {
    if (this.#closed) return Promise.reject(new Error('ledger is shutting down'));
    if (size > limits.submissionEventsMax) {
      return Promise.reject(new RangeError(`a request may carry at most ${limits.submissionEventsMax} events`));
    }
    if (this.#queuedEvents + size > limits.queueEventsMax) {
      return Promise.reject(new Error('ledger queue is full; retry later'));
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
    if (this.#timer || this.#queue.length === 0 || this.#inFlight >= this.maxInFlight) return;
    // Idle: wait a moment for company. Busy: the batch in flight is the wait.
    const wait = this.#inFlight === 0 && this.#queuedEvents < limits.batchEventsMax ? this.waitMs : 0;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#dispatch();
    }, wait);
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.maxInFlight) {
      const batch = this.#take();
      this.#inFlight++;
      this.execute(batch.map((q) => q.request))
        .then(
          (results) => {
            for (const [i, q] of batch.entries()) q.resolve(results[i] as Res);
          },
          (error: unknown) => {
            for (const q of batch) q.reject(error);
          },
        )
        .finally(() => {
          this.#inFlight--;
          if (this.#inFlight === 0 && this.#queue.length === 0) {
            for (const resolve of this.#idle.splice(0)) resolve();
          }
          this.#schedule();
        });
    }
  }

  #take(): Array<Queued<Req, Res>> {
    let events = 0;
    let n = 0;
    while (n < this.#queue.length) {
      const size = this.#queue[n]?.size ?? 0;
      if (n > 0 && events + size > limits.batchEventsMax) break;
      events += size;
      n++;
    }
    this.#queuedEvents -= events;
    return this.#queue.splice(0, n);
  }
}
