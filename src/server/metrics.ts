import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BreakerState } from '../core/circuit-breaker.ts';
import type { JobRun } from '../core/jobs.ts';
import { limits } from '../core/limits.ts';
import type { BatchStats } from '../ledger/index.ts';
import type { RiskStats } from '../risk/index.ts';

/**
 * The metrics of one process (or one test app): a registry of its own rather than prom-client's
 * global one, so that several apps in one process never collide on a metric name.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Pass as `onBatch` to `openPlatform`: records every committed ledger batch. */
  readonly observeBatch: (stats: BatchStats) => void;
  /** Pass as `onRun` to the `JobRunner`: records every background job's run and failures. */
  readonly observeJob: (run: JobRun) => void;
  /** Serves the risk engine's counts (decisions by path and decision, shadow rules fired). */
  readonly watchRisk: (stats: RiskStats) => void;
  /** The overload protection's counts per request class (src/server/overload.ts). */
  readonly overload: OverloadMetrics;
  /** Reports each bank's circuit breaker from now on (`Channels.breakerStates`). */
  watchBreakers(states: () => ReadonlyMap<string, BreakerState>): void;
}

/** Why a request was refused: its class's share of the concurrency limit, the queueing bound, or its app's or user's rate. */
export type ShedReason = 'concurrency' | 'queue' | 'rate';

export interface OverloadMetrics {
  admitted(requestClass: string): void;
  shed(requestClass: string, reason: ShedReason): void;
  /** Time from a request's arrival to its handler's start. */
  queued(requestClass: string, seconds: number): void;
  /** Time from a request's arrival to its answer (the console's p99 of payments). */
  answered(requestClass: string, seconds: number): void;
  /** Reports each class's concurrency limit and the requests in flight from now on. */
  watch(source: { limits(): ReadonlyMap<string, number>; inFlight(): number }): void;
}

const breakerValues: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

function overloadMetrics(registry: Registry): OverloadMetrics {
  let source: Parameters<OverloadMetrics['watch']>[0] | undefined;
  const admitted = new Counter({
    name: 'paybao_requests_admitted_total',
    help: 'Requests admitted by the overload protection, per class (payment, refund, query, report, background).',
    labelNames: ['class'],
    registers: [registry],
  });
  const shed = new Counter({
    name: 'paybao_requests_shed_total',
    help: 'Requests refused early (nothing read, nothing written), per class and reason (concurrency, queue, rate).',
    labelNames: ['class', 'reason'],
    registers: [registry],
  });
  const queue = new Histogram({
    name: 'paybao_request_queue_seconds',
    help: "Time from a request's arrival to its handler's start (parsing, guards, waiting for the event loop), per class.",
    labelNames: ['class'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const answered = new Histogram({
    name: 'paybao_request_duration_seconds',
    help: "Time from an admitted request's arrival to its answer, per class.",
    labelNames: ['class'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'paybao_concurrency_limit',
    help: "Requests of each class that may be in flight now: the class's share of the adaptive limit.",
    labelNames: ['class'],
    registers: [registry],
    collect() {
      for (const [requestClass, limit] of source?.limits() ?? []) this.set({ class: requestClass }, limit);
    },
  });
  new Gauge({
    name: 'paybao_requests_in_flight',
    help: 'Requests admitted and not yet answered, over every class.',
    registers: [registry],
    collect() {
      this.set(source?.inFlight() ?? 0);
    },
  });
  return {
    admitted: (requestClass) => admitted.inc({ class: requestClass }),
    shed: (requestClass, reason) => shed.inc({ class: requestClass, reason }),
    queued: (requestClass, seconds) => queue.observe({ class: requestClass }, seconds),
    answered: (requestClass, seconds) => answered.observe({ class: requestClass }, seconds),
    watch(watched) {
      source = watched;
    },
  };
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const batchEvents = new Histogram({
    name: 'paybao_ledger_batch_events',
    help: 'Events (accounts, transfers, expiry sweeps) applied per committed ledger batch.',
    // Powers of four up to the batch limit: a busy engine shows up in the top buckets.
    buckets: [1, 4, 16, 64, 256, 1024, 4096, limits.batchEventsMax],
    registers: [registry],
  });
  const batchDuration = new Histogram({
    name: 'paybao_ledger_batch_duration_seconds',
    help: 'Wall time of one ledger batch, from its first query to its commit.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const jobDuration = new Histogram({
    name: 'paybao_job_duration_seconds',
    help: 'Wall time of one run of a background job (sweeps, settlement, daily channel work).',
    labelNames: ['job'],
    buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [registry],
  });
  const jobFailures = new Counter({
    name: 'paybao_job_failures_total',
    help: 'Failures in background job runs (a sweep counts each item that failed; the next run retries it).',
    labelNames: ['job'],
    registers: [registry],
  });
  let risk: RiskStats | undefined;
  /** A counter that reads its values from a map of counts when scraped. */
  const countsOf = (name: string, help: string, labels: string[], read: () => Map<string, number> | undefined) =>
    new Counter({
      name,
      help,
      labelNames: labels,
      registers: [registry],
      collect() {
        this.reset();
        for (const [key, count] of read() ?? []) {
          const values = key.split(':');
          this.inc(Object.fromEntries(labels.map((l, i) => [l, values[i] ?? ''])), count);
        }
      },
    });
  countsOf(
    'paybao_risk_decisions_total',
    'Decisions of the risk engine applied to payments, by path and decision.',
    ['path', 'decision'],
    () => risk?.decisions,
  );
  countsOf(
    'paybao_risk_shadow_fired_total',
    'Shadow rules that fired (recorded, never applied), by rule name.',
    ['rule'],
    () => risk && new Map([...risk.shadowFired].map(([name, n]) => [name.replaceAll(':', ' '), n])),
  );
  let breakers: (() => ReadonlyMap<string, BreakerState>) | undefined;
  new Gauge({
    name: 'paybao_bank_breaker_state',
    help: "Each bank's circuit breaker: 0 closed (calls go through), 1 half-open (probes), 2 open (calls refused).",
    labelNames: ['bank'],
    registers: [registry],
    collect() {
      for (const [bank, state] of breakers?.() ?? []) this.set({ bank }, breakerValues[state]);
    },
  });
  return {
    registry,
    overload: overloadMetrics(registry),
    watchBreakers(states) {
      breakers = states;
    },
    watchRisk(stats) {
      risk = stats;
    },
    observeJob(run) {
      jobDuration.observe({ job: run.job }, run.durationMs / 1000);
      // Touched at zero too, so that a job's series exists before its first failure.
      jobFailures.inc({ job: run.job }, run.failures);
    },
    observeBatch(stats) {
      batchEvents.observe(stats.events);
      batchDuration.observe(stats.durationMs / 1000);
    },
  };
}
