/**
 * The one way background work runs: each job repeats on its interval, never overlapping itself
 * (the next run is scheduled only once the last one has ended), every failure is logged and
 * reported to an observer (the server turns that into metrics), and `close()` waits for the runs
 * in progress. Core knows neither pino nor prom-client: the logger and the observer are given.
 */

import { failureLogLevel } from './db/index.ts';

/** The slice of a pino logger the runner needs. */
export interface JobLogger {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** One finished run: how long it took and how many failures it had (0: it succeeded). */
export interface JobRun {
  job: string;
  durationMs: number;
  failures: number;
}

export interface JobRunnerOptions {
  logger: JobLogger;
  /** Called after every run, failed or not (the server's metrics). */
  onRun?: (run: JobRun) => void;
  /**
   * Asked when a run is due: false skips this turn, and the job waits a whole interval for the
   * next (the server's overload protection: background work yields to requests).
   */
  admit?: (job: string) => boolean;
}

interface Job {
  timer: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
}

export class JobRunner {
  readonly #logger: JobLogger;
  readonly #onRun: ((run: JobRun) => void) | undefined;
  readonly #admit: ((job: string) => boolean) | undefined;
  readonly #jobs = new Map<string, Job>();
  #closed = false;

  constructor(options: JobRunnerOptions) {
    this.#logger = options.logger;
    this.#onRun = options.onRun;
    this.#admit = options.admit;
  }

  /** Runs `work` every `intervalMs` from now on, the first time after one interval. */
  every(name: string, intervalMs: number, work: () => Promise<unknown>): void {
    if (this.#closed) throw new Error(`job runner closed: cannot start ${name}`);
    if (this.#jobs.has(name)) throw new Error(`job ${name} is already running`);
    const job: Job = { timer: undefined, running: undefined };
    const schedule = () => {
      if (this.#closed) return;
      job.timer = setTimeout(() => {
        job.timer = undefined;
        if (this.#admit && !this.#admit(name)) return schedule();
        job.running = this.#run(name, work).finally(() => {
          job.running = undefined;
          schedule();
        });
      }, intervalMs);
    };
    this.#jobs.set(name, job);
    schedule();
  }

  /** Starts no more runs and resolves once every run in progress has ended. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#jobs.values()) clearTimeout(job.timer);
    await Promise.all([...this.#jobs.values()].map((job) => job.running));
  }

  async #run(name: string, work: () => Promise<unknown>): Promise<void> {
    const started = performance.now();
    let failures: unknown[] = [];
    try {
      await work();
    } catch (error) {
      // A sweep that went on past its failed items throws them together (see `SweepFailures`).
      failures = error instanceof AggregateError && error.errors.length > 0 ? error.errors : [error];
    }
    for (const error of failures) {
      // A failover's refusals are expected while it lasts: the next round tries again.
      const level = failureLogLevel(error);
      this.#logger[level]({ err: error, job: name }, `${name} failed`);
    }
    this.#onRun?.({ job: name, durationMs: performance.now() - started, failures: failures.length });
  }
}

/**
 * The failures of one sweep, gathered while it goes on past them: each item is tried apart, so
 * that one failing item does not hold up the others (it is retried on the job's next run), and
 * at the end every failure is thrown together, for the job runner to log and count. A failure
 * that `expected` accepts (a row another process moved on meanwhile) is an outcome, not a failure.
 */
export class SweepFailures {
  readonly #errors: unknown[] = [];

  /** Applies `work` to each item in turn; returns the results of the items that succeeded. */
  async each<T, R>(
    items: readonly T[],
    work: (item: T) => Promise<R>,
    expected: (error: unknown) => boolean = () => false,
  ): Promise<R[]> {
    const results: R[] = [];
    for (const item of items) {
      try {
        results.push(await work(item));
      } catch (error) {
        if (!expected(error)) this.#errors.push(error);
      }
    }
    return results;
  }

  /** Records one failure found some other way (a settled promise that was rejected). */
  add(error: unknown): void {
    this.#errors.push(error);
  }

  /** The failures gathered so far, for a caller that reports them itself (start-up). */
  get errors(): readonly unknown[] {
    return this.#errors;
  }

  /** Throws every failure gathered, together, naming the sweep; does nothing when there were none. */
  throwIfAny(sweep: string): void {
    if (this.#errors.length > 0)
      throw new AggregateError(this.#errors, `${sweep}: ${this.#errors.length} items failed`);
  }
}
