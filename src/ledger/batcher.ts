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
 * with its own result, or every caller with the same error if the unit failed.
 */
export class Batcher<Req, Res> {
  #queue: Array<Queued<Req, Res>> = [];
  #queuedEvents = 0;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #idle: Array<() => void> = [];

  constructor(
    private readonly execute: (requests: readonly Req[]) => Promise<Res[]>,
    private readonly waitMs: number = limits.batchWaitMs,
  ) {}

  /** Queues one request of `size` events; resolves once its batch has committed. */
  submit(request: Req, size: number): Promise<Res> {
    if (this.#closed) return Promise.reject(new Error('ledger is shutting down'));
    if (size > limits.batchEventsMax) {
      return Promise.reject(new RangeError(`a request may carry at most ${limits.batchEventsMax} events`));
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
    if (!this.#running && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#running || this.#timer) return;
    if (this.#queuedEvents >= limits.batchEventsMax || this.waitMs <= 0) {
      this.#timer = setTimeout(() => this.#run(), 0);
    } else {
      this.#timer = setTimeout(() => this.#run(), this.waitMs);
    }
  }

  async #run(): Promise<void> {
    this.#timer = undefined;
    if (this.#running) return;
    this.#running = true;
    while (this.#queue.length > 0) {
      const batch = this.#take();
      try {
        const results = await this.execute(batch.map((q) => q.request));
        for (const [i, q] of batch.entries()) q.resolve(results[i] as Res);
      } catch (error) {
        for (const q of batch) q.reject(error);
      }
    }
    this.#running = false;
    for (const resolve of this.#idle.splice(0)) resolve();
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
