/**
 * The console's live platform figures, drawn from the very counters `/metrics` serves (one
 * process's: a fleet's are the sum of its processes' scrapes): payments per second, their p99
 * answer time, ledger batches (per second, events per batch), the notification backlog, and
 * shed requests. Each reading takes a sample of the counters; rates are over the last
 * `liveWindowMs` of samples (the page asks every few seconds), totals since the process started.
 */
import type { Registry } from 'prom-client';
import { limits } from '../core/limits.ts';

interface Sample {
  atMs: number;
  payments: number;
  /** Cumulative counts of the payment class's answer times at or under each bound (seconds). */
  paymentBuckets: Map<number, number>;
  batches: number;
  batchEvents: number;
  batchBuckets: Map<number, number>;
  shed: number;
  shedPayments: number;
}

export interface LiveFigures {
  at: string;
  /** Seconds the rates below are computed over (0 on the first reading). */
  windowS: number;
  paymentsPerS: number;
  /** The 99th percentile of payments' answer times in the window, in ms (an upper bound of its bucket); null with none. */
  paymentP99Ms: number | null;
  ledgerBatchesPerS: number;
  /** Mean events per ledger batch in the window, and the 99th percentile's bucket bound. */
  ledgerBatchEventsMean: number | null;
  ledgerBatchEventsP99: number | null;
  /** Shed requests per second in the window, and since the process started (all classes; payments of them). */
  shedPerS: number;
  shedTotal: number;
  shedPaymentsTotal: number;
  paymentsTotal: number;
  /** Notifications not yet delivered, and those due now (the dispatcher is behind by these). */
  notificationBacklog: number;
  notificationsDue: number;
}

type MetricValue = { value: number; labels: Record<string, string | number>; metricName?: string };

async function values(registry: Registry, name: string): Promise<MetricValue[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  return (await metric.get()).values as MetricValue[];
}

const sum = (vs: readonly MetricValue[]) => vs.reduce((total, v) => total + v.value, 0);

function buckets(vs: readonly MetricValue[], keep: (v: MetricValue) => boolean): Map<number, number> {
  const out = new Map<number, number>();
  for (const v of vs) {
    if (!v.metricName?.endsWith('_bucket') || !keep(v)) continue;
    const le = v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le);
    out.set(le, (out.get(le) ?? 0) + v.value);
  }
  return out;
}

/** The smallest bucket bound under which 99% of the window's observations fall; null with none. */
function p99(now: Map<number, number>, then: Map<number, number> | undefined): number | null {
  const bounds = [...now.keys()].sort((a, b) => a - b);
  const total = (now.get(Number.POSITIVE_INFINITY) ?? 0) - (then?.get(Number.POSITIVE_INFINITY) ?? 0);
  if (total <= 0) return null;
  for (const bound of bounds) {
    const count = (now.get(bound) ?? 0) - (then?.get(bound) ?? 0);
    if (count >= total * 0.99) return bound;
  }
  return null;
}

export class LiveFigureSampler {
  readonly #samples: Sample[] = [];

  constructor(
    private readonly registry: Registry,
    private readonly backlog: () => Promise<{ undelivered: number; due: number }>,
  ) {}

  async #sample(): Promise<Sample> {
    const [admitted, duration, batch, shed] = await Promise.all([
      values(this.registry, 'paybao_requests_admitted_total'),
      values(this.registry, 'paybao_request_duration_seconds'),
      values(this.registry, 'paybao_ledger_batch_events'),
      values(this.registry, 'paybao_requests_shed_total'),
    ]);
    const payment = (v: MetricValue) => v.labels.class === 'payment';
    return {
      atMs: performance.now(),
      payments: sum(admitted.filter(payment)),
      paymentBuckets: buckets(duration, payment),
      batches: sum(batch.filter((v) => v.metricName?.endsWith('_count'))),
      batchEvents: sum(batch.filter((v) => v.metricName?.endsWith('_sum'))),
      batchBuckets: buckets(batch, () => true),
      shed: sum(shed),
      shedPayments: sum(shed.filter(payment)),
    };
  }

  /** Takes a sample and answers the figures over the window behind it. */
  async read(): Promise<LiveFigures> {
    const [now, backlog] = await Promise.all([this.#sample(), this.backlog()]);
    // The oldest sample still inside the window (or the newest before it), if any.
    const then =
      this.#samples.find((s) => now.atMs - s.atMs <= limits.liveWindowMs) ?? this.#samples[this.#samples.length - 1];
    this.#samples.push(now);
    while (
      this.#samples.length > limits.liveSamplesMax ||
      (this.#samples.length > 1 && now.atMs - (this.#samples[0]?.atMs ?? now.atMs) > 2 * limits.liveWindowMs)
    )
      this.#samples.shift();
    const seconds = then ? (now.atMs - then.atMs) / 1000 : 0;
    const rate = (a: number, b: number | undefined) => (seconds > 0 && b !== undefined ? (a - b) / seconds : 0);
    const batches = now.batches - (then?.batches ?? 0);
    const p99Payment = p99(now.paymentBuckets, then?.paymentBuckets);
    return {
      at: new Date().toISOString(),
      windowS: Math.round(seconds * 10) / 10,
      paymentsPerS: round(rate(now.payments, then?.payments)),
      paymentP99Ms: p99Payment === null ? null : p99Payment === Number.POSITIVE_INFINITY ? null : p99Payment * 1000,
      ledgerBatchesPerS: round(rate(now.batches, then?.batches)),
      ledgerBatchEventsMean: batches > 0 ? round((now.batchEvents - (then?.batchEvents ?? 0)) / batches) : null,
      ledgerBatchEventsP99: batches > 0 ? finite(p99(now.batchBuckets, then?.batchBuckets)) : null,
      shedPerS: round(rate(now.shed, then?.shed)),
      shedTotal: now.shed,
      shedPaymentsTotal: now.shedPayments,
      paymentsTotal: now.payments,
      notificationBacklog: backlog.undelivered,
      notificationsDue: backlog.due,
    };
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
const finite = (n: number | null) => (n === null || !Number.isFinite(n) ? null : n);
