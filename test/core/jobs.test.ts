/**
 * The job runner (src/core/jobs.ts), the one way background work runs: a job never overlaps
 * itself even when a run outlasts its interval; `close()` waits for the run in progress and
 * starts no other; a failing run is logged (pino) and counted (the server's prom-client metrics)
 * and the next run still comes; a sweep goes on past a failed item and the runner counts each.
 * A turn the runner's admission refuses (the server's overload protection) is skipped, not run.
 * Intervals are a few milliseconds of real time; nothing asserts how long anything took.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { JobRunner, SweepFailures } from '../../src/core/jobs.ts';
import { createMetrics } from '../../src/server/metrics.ts';

/** A promise with its resolve, to hold a run open until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** A pino logger whose records land in an array. */
function memoryLogger(): { logger: pino.Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) records.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'error' }, stream), records };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

async function metricValue(text: string, name: string, job: string): Promise<number | undefined> {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{job="${job}"}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('JobRunner', () => {
  it('never starts a run while the last one is still going, however long it takes', async () => {
    const { logger } = memoryLogger();
    const jobs = new JobRunner({ logger });
    let running = 0;
    let most = 0;
    const runs: ReturnType<typeof gate>[] = [];
    jobs.every('slow', 1, async () => {
      running++;
      most = Math.max(most, running);
      const g = gate();
      runs.push(g);
      await g.promise;
      running--;
    });
    for (let i = 0; i < 3; i++) {
      await until(() => runs.length === i + 1);
      // Many intervals pass while this run is held open: no second run may start.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(runs).toHaveLength(i + 1);
      runs[i]?.open();
    }
    await jobs.close();
    expect(most).toBe(1);
  });

  it('close() waits for the run in progress and starts no other', async () => {
    const { logger } = memoryLogger();
    const jobs = new JobRunner({ logger });
    const held = gate();
    let started = 0;
    let finished = 0;
    jobs.every('held', 1, async () => {
      started++;
      await held.promise;
      finished++;
    });
    await until(() => started === 1);
    let closed = false;
    const closing = jobs.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(false);
    held.open();
    await closing;
    expect(finished).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(started).toBe(1);
  });

  it('logs and counts a failing run, and the next run still happens', async () => {
    const { logger, records } = memoryLogger();
    const metrics = createMetrics();
    const jobs = new JobRunner({ logger, onRun: metrics.observeJob });
    let runs = 0;
    jobs.every('flaky', 1, async () => {
      runs++;
      if (runs === 1) throw new Error('the bank was down');
    });
    await until(() => runs >= 3);
    await jobs.close();
    const text = await metrics.registry.metrics();
    expect(await metricValue(text, 'paybao_job_failures_total', 'flaky')).toBe(1);
    expect(await metricValue(text, 'paybao_job_duration_seconds_count', 'flaky')).toBe(runs);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ job: 'flaky', msg: 'flaky failed', err: { message: 'the bank was down' } });
  });

  it('a sweep goes on past failed items; the runner logs and counts each of them', async () => {
    const { logger, records } = memoryLogger();
    const metrics = createMetrics();
    const jobs = new JobRunner({ logger, onRun: metrics.observeJob });
    const done: number[] = [];
    jobs.every('sweep', 1, async () => {
      const failures = new SweepFailures();
      const results = await failures.each(
        [1, 2, 3, 4, 5],
        async (n) => {
          if (n === 2) throw new RangeError('row 2 is refused'); // an expected outcome
          if (n % 2 === 1 && n > 1) throw new Error(`row ${n} broke`);
          done.push(n);
          return n;
        },
        (error) => error instanceof RangeError,
      );
      expect(results).toEqual([1, 4]);
      failures.throwIfAny('sweep');
    });
    await until(() => done.length >= 2);
    await jobs.close();
    const text = await metrics.registry.metrics();
    const runs = Number(await metricValue(text, 'paybao_job_duration_seconds_count', 'sweep'));
    expect(await metricValue(text, 'paybao_job_failures_total', 'sweep')).toBe(2 * runs);
    expect(records.slice(0, 2).map((r) => (r.err as { message: string }).message)).toEqual([
      'row 3 broke',
      'row 5 broke',
    ]);
  });

  it('refuses a second job of the same name and any job once closed', async () => {
    const jobs = new JobRunner({ logger: memoryLogger().logger });
    jobs.every('once', 60_000, async () => {});
    expect(() => jobs.every('once', 60_000, async () => {})).toThrow(/already running/);
    await jobs.close();
    expect(() => jobs.every('later', 60_000, async () => {})).toThrow(/closed/);
  });

  it('skips a turn its admission refuses, and runs again once admitted', async () => {
    let admitted = false;
    const asked: string[] = [];
    let runs = 0;
    const jobs = new JobRunner({
      logger: memoryLogger().logger,
      admit: (job) => {
        asked.push(job);
        return admitted;
      },
    });
    jobs.every('sweep', 2, async () => {
      runs++;
    });
    while (asked.length < 3) await new Promise((r) => setTimeout(r, 2));
    expect(runs).toBe(0);
    admitted = true;
    while (runs === 0) await new Promise((r) => setTimeout(r, 2));
    await jobs.close();
    expect(asked.every((job) => job === 'sweep')).toBe(true);
  });
});
