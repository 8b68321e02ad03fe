import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { limits } from '../core/limits.ts';
import type { BatchStats } from '../ledger/index.ts';

/**
 * The metrics of one process (or one test app): a registry of its own rather than prom-client's
 * global one, so that several apps in one process never collide on a metric name.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Pass as `onBatch` to `openPlatform`: records every committed ledger batch. */
  readonly observeBatch: (stats: BatchStats) => void;
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
  return {
    registry,
    observeBatch(stats) {
      batchEvents.observe(stats.events);
      batchDuration.observe(stats.durationMs / 1000);
    },
  };
}
