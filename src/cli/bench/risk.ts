import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { limits } from '../../core/limits.ts';
import { openPlatform } from '../../platform.ts';
import { isRiskError, type RiskPath, type RiskRequest, Velocity } from '../../risk/index.ts';
import { dropSchema, quantile, readDurability, round1, round2 } from './common.ts';
import { seededUserId, seedUsers } from './redpacket.ts';

export interface RiskBenchOptions {
  json: boolean;
  /** Users paying (seeded in bulk, not timed). */
  users: number;
  /** Decisions timed. */
  decisions: number;
  /** Seconds of the baseline: each decision reads its counters from the database. */
  baselineSeconds: number;
  databaseUrl?: string | undefined;
}

export interface RiskBenchResult {
  engine: string;
  users: number;
  rules: number;
  decisions: number;
  decisions_per_s: number;
  p50_us: number;
  p99_us: number;
  p999_us: number;
  max_ms: number;
  /** Decisions that were not `allow` (refusals, challenges: each writes its record first). */
  held_back_share: number;
  /** The decisions' p99 over allowed payments alone (no record to write). */
  allow_p99_us: number;
  baseline_decisions_per_s: number;
  baseline_p99_us: number;
  ratio: number;
  counter_keys: number;
  /** Decisions/s over each tenth of the timed run, in order. */
  decisions_per_s_by_tenth: string;
  synchronous_commit: string;
  fsync: string;
}

/** A Double 11 rule set: limits on amounts and velocity, young accounts, new payees, lists, regions. */
const rules = [
  { name: 'huge', condition: { kind: 'amount', over: '50000.00' }, action: 'deny' },
  { name: 'large for users', condition: { kind: 'amount', over: '5000.00', tiers: ['user'] }, action: 'challenge' },
  {
    name: 'burst',
    condition: { kind: 'velocity', dimension: 'user', window_seconds: 60, max_count: 20 },
    action: 'challenge',
  },
  {
    name: 'daily money',
    condition: { kind: 'velocity', dimension: 'user', window_seconds: 86_400, max_amount: '50000.00' },
    action: 'review',
  },
  {
    name: 'device farm',
    condition: { kind: 'velocity', dimension: 'device', window_seconds: 600, max_count: 200 },
    action: 'deny',
  },
  {
    name: 'address storm',
    condition: { kind: 'velocity', dimension: 'address', window_seconds: 60, max_count: 500 },
    action: 'challenge',
    mode: 'shadow',
  },
  { name: 'young and big', condition: { kind: 'new_account', days: 1, over: '20000.00' }, action: 'review' },
  { name: 'first time, big', condition: { kind: 'new_payee', over: '3000.00' }, action: 'challenge', mode: 'shadow' },
  { name: 'listed', condition: { kind: 'list', list: 'user' }, action: 'deny' },
  { name: 'elsewhere', condition: { kind: 'region' }, action: 'challenge', mode: 'shadow' },
] as const;

const paths: RiskPath[] = ['trade_pay', 'cashier_pay', 'transfer'];

/** A payment of the mix: mostly small, one in a thousand large, mostly from the payer's own phone and network. */
function payment(i: number, users: number, random: () => number): RiskRequest {
  const user = Math.floor(random() * users);
  const large = random() < 0.001;
  const fen = BigInt(large ? 600_000 + Math.floor(random() * 10_000_000) : 100 + Math.floor(random() * 30_000));
  return {
    path: paths[i % paths.length] ?? 'transfer',
    userId: seededUserId(user),
    // A few regular payees; one payment in fifty to someone new.
    payeeId: seededUserId((user + 1 + (random() < 0.02 ? Math.floor(random() * users) : i % 5)) % users),
    merchantId: seededUserId(user % 1000),
    amountFen: fen,
    // A phone of one's own and a home network; one payment in twenty from elsewhere.
    device: `device-${user}`,
    address: random() < 0.05 ? `10.${128 + (i % 100)}.${i & 255}.1` : `10.${(user >> 8) & 127}.${user & 255}.1`,
  };
}

/** A small deterministic generator, so that runs on two engines decide the same payments. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * `paybao bench risk`: the risk engine's decisions in process, on a Double 11 rule set (ten rules:
 * amounts, velocity per user, device and address, young accounts, new payees, the user list,
 * regions), for N users paying, their facts warmed by one payment each (not timed); then D
 * decisions timed one at a time, the sync round running every `riskSyncMs` as in the server. In
 * the same run, the baseline: each decision reads its payer's counters from the database (one
 * statement), the way a risk check without memory would.
 */
export async function benchRisk(options: RiskBenchOptions): Promise<RiskBenchResult> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const schema = options.databaseUrl ? `bench_risk_${Date.now()}` : undefined;
  const dataDir = options.databaseUrl ? undefined : mkdtempSync(join(tmpdir(), 'paybao-bench-risk-'));
  const platform = await openPlatform({ databaseUrl: options.databaseUrl, databaseSchema: schema, dataDir });
  try {
    const durability = await readDurability(platform.db);
    log(`engine ${platform.db.engine}; synchronous_commit=${durability.synchronous_commit} fsync=${durability.fsync}`);
    const { risk } = platform;
    await seedUsers(platform.db, platform.ledger, options.users, log);
    for (const rule of rules) await risk.createRule(rule, 'bench');
    await risk.setRegion('10.0.0.0/9', 'east');
    await risk.setRegion('10.128.0.0/9', 'west');
    await risk.addListEntry({ list: 'user', value: seededUserId(options.users - 1), reason: 'bench' }, 'bench');
    const random = mulberry32(11);
    const decide = async (request: RiskRequest): Promise<boolean> => {
      try {
        return (await risk.assess(request, { supports: new Set(), fingerprint: 'bench' })).decision === 'allow';
      } catch (error) {
        if (isRiskError(error, 'payment_denied', 'challenge_required')) return false;
        throw error;
      }
    };

    log(`warming ${options.users} users' facts (one payment each, not timed)`);
    for (let u = 0; u < options.users; u++) {
      await decide({ ...payment(u, options.users, random), userId: seededUserId(u) });
    }
    await risk.sync();

    log(`timing ${options.decisions} decisions`);
    const bar = new SingleBar({
      format: 'decisions {bar} {value}/{total} {eta}s',
      hideCursor: true,
      stream: process.stderr,
    });
    bar.start(options.decisions, 0);
    const latencies = new Float64Array(options.decisions);
    const allowed: number[] = [];
    let syncing: Promise<void> | undefined;
    let lastSync = performance.now();
    const started = performance.now();
    // Decisions/s over each tenth of the run: whether the engine slows as its memory fills.
    const segment = Math.max(1, Math.floor(options.decisions / 10));
    const segments: number[] = [];
    let segmentStarted = started;
    for (let i = 0; i < options.decisions; i++) {
      const request = payment(i, options.users, random);
      const t0 = performance.now();
      const allow = await decide(request);
      const took = performance.now() - t0;
      latencies[i] = took;
      if (allow) allowed.push(took);
      // The server's sync job, on its own schedule, beside the decisions.
      if (t0 - lastSync >= limits.riskSyncMs && !syncing) {
        lastSync = t0;
        syncing = risk.sync().finally(() => {
          syncing = undefined;
        });
      }
      if (i % 10_000 === 0) bar.update(i);
      if (i > 0 && i % segment === 0) {
        const now = performance.now();
        segments.push(Math.round(segment / ((now - segmentStarted) / 1000)));
        segmentStarted = now;
      }
    }
    const elapsedS = (performance.now() - started) / 1000;
    bar.update(options.decisions);
    bar.stop();
    await syncing;
    const sorted = [...latencies].sort((a, b) => a - b);
    allowed.sort((a, b) => a - b);

    log(`baseline: each decision reads its counters from the database, ${options.baselineSeconds} s`);
    const baseline: number[] = [];
    const since = Velocity.bucketOf(Date.now() - limits.riskWindowMaxMs);
    const baselineStarted = performance.now();
    for (let i = 0; performance.now() - baselineStarted < options.baselineSeconds * 1000; i++) {
      const request = payment(i, options.users, random);
      const keys = [`user:${request.userId}`, `device:${request.device}`, `address:${request.address}`];
      const t0 = performance.now();
      await platform.db.query(
        'select key, sum(count)::int8 n, sum(amount_fen)::int8 fen from risk_counters where key = any($1::text[]) and bucket >= $2 group by key',
        [keys, since],
      );
      baseline.push(performance.now() - t0);
    }
    const baselinePerS = baseline.length / ((performance.now() - baselineStarted) / 1000);
    baseline.sort((a, b) => a - b);
    const perS = options.decisions / elapsedS;
    return {
      engine: platform.db.engine,
      users: options.users,
      rules: rules.length,
      decisions: options.decisions,
      decisions_per_s: Math.round(perS),
      p50_us: Math.round(quantile(sorted, 0.5) * 1000),
      p99_us: Math.round(quantile(sorted, 0.99) * 1000),
      p999_us: Math.round(quantile(sorted, 0.999) * 1000),
      max_ms: round1(sorted[sorted.length - 1] ?? 0),
      held_back_share: round2((100 * (options.decisions - allowed.length)) / options.decisions) / 100,
      allow_p99_us: Math.round(quantile(allowed, 0.99) * 1000),
      baseline_decisions_per_s: Math.round(baselinePerS),
      baseline_p99_us: Math.round(quantile(baseline, 0.99) * 1000),
      ratio: round1(perS / baselinePerS),
      counter_keys: risk.velocity.size,
      decisions_per_s_by_tenth: segments.join(' '),
      ...durability,
    };
  } finally {
    await platform.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (schema && options.databaseUrl) await dropSchema(options.databaseUrl, schema);
  }
}
