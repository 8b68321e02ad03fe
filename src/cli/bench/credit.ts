import { existsSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SingleBar } from 'cli-progress';
import { limits } from '../../core/limits.ts';
import { dateFromNs } from '../../core/time.ts';
import { openPlatform } from '../../platform.ts';
import { benchStorage, quantile, readDurability, round1, round2 } from './common.ts';
import { seededUserId, seedUsers } from './redpacket.ts';

export interface CreditBenchOptions {
  json: boolean;
  /** Users scored by the nightly run (seeded in bulk, not timed). */
  users: number;
  /** Seconds of the one-query-per-user baseline. */
  baselineSeconds: number;
  /** Online reads a second, and for how many seconds. */
  readRate: number;
  readSeconds: number;
  /** Chunks of the nightly run scored at once (PostgreSQL); `limits.creditBatchChunksInFlight` when absent. */
  chunksInFlight?: number | undefined;
  databaseUrl?: string | undefined;
}

export interface CreditBenchResult {
  engine: string;
  users: number;
  trades: number;
  scored: number;
  not_applicable: number;
  nightly_seconds: number;
  nightly_users_per_s: number;
  chunk_users: number;
  chunks_in_flight: number;
  /** CPU seconds this process (the scoring, node-postgres) spent in the nightly run. */
  nightly_node_cpu_s: number;
  /** The share of the nightly run in which some task of the machine waited for a core (Linux; null elsewhere). */
  nightly_cpu_pressure_percent: number | null;
  baseline_users_per_s: number;
  ratio: number;
  online_reads: number;
  online_reads_per_s: number;
  online_p50_ms: number;
  online_p99_ms: number;
  online_max_ms: number;
  /**
   * What the machine did to the reads, on Linux (null elsewhere): this process's event-loop delay
   * p99, the time its main thread waited for a core, and the share of the read phase in which some
   * task of the machine waited for a core (`/proc/pressure/cpu`).
   */
  online_loop_delay_p99_ms: number | null;
  online_node_runqueue_wait_ms: number | null;
  online_cpu_pressure_percent: number | null;
  synchronous_commit: string;
  fsync: string;
}

const dayNs = 86_400_000_000_000n;
const seedChunk = 20_000;

/**
 * The bench's records, set-based (not timed): each user `i` is `i % 1000` days old and paid
 * `i % 7` trades over the last year (so a user in seven has none and is N/A), one in four of them
 * escrow trades finished; one user in three verified a real name; one in five is friends with the
 * next.
 */
export async function benchSeed(
  db: import('../../core/db/index.ts').Db,
  users: number,
  nowNs: bigint,
  log: (line: string) => void,
) {
  const started = performance.now();
  const now = dateFromNs(nowNs);
  for (let first = 0; first < users; first += seedChunk) {
    const ids = Array.from({ length: Math.min(seedChunk, users - first) }, (_, k) => seededUserId(first + k));
    const nums = ids.map((_, k) => first + k);
    await db.query(
      `update members m set created_at_ns = $3::int8 - (t.i % 1000)::int8 * $4::int8
         from unnest($1::text[], $2::int[]) as t(u, i) where m.user_id = t.u`,
      [ids, nums, nowNs, dayNs],
    );
    await db.query(
      `insert into trades (trade_no, app_id, out_trade_no, subject, total_fen, status, seller_id, seller_account,
                           buyer_id, buyer_account, expires_at, created_at, paid_at, escrow, released_at)
       select 'BENCH' || t.i || '-' || k, '2021000000000001', 'bench-' || t.i || '-' || k, 'bench',
              100 + (t.i * 7 + k * 13) % 20000,
              case when k % 4 = 0 then 'TRADE_FINISHED' else 'TRADE_SUCCESS' end,
              '2088' || lpad(((t.i + k) % 40)::text, 12, '0'), '00000000-0000-7000-8000-000000000001',
              t.u, '00000000-0000-7000-8000-000000000002', p.at, p.at, p.at, k % 4 = 0,
              case when k % 4 = 0 then p.at end
         from unnest($1::text[], $2::int[]) as t(u, i)
         cross join lateral generate_series(1, t.i % 7) as k
         cross join lateral (select $3::timestamptz - ((t.i * 31 + k * 17) % 360) * interval '1 day' as at) p`,
      [ids, nums, now],
    );
    await db.query(
      `insert into credit_real_names (user_id, real_name, id_sha256, verified_at)
       select t.u, 'bench', md5(t.u) || md5(t.u || 'x'), $2::timestamptz from unnest($1::text[]) with ordinality as t(u, n)
        where (t.n - 1) % 3 = 0`,
      [ids, now],
    );
    await db.query(
      `insert into social_friends (user_id, friend_id, since)
       select a, b, $3::timestamptz from unnest($1::text[], $2::text[]) as t(a, b)
       union all
       select b, a, $3::timestamptz from unnest($1::text[], $2::text[]) as t(a, b)`,
      [
        ids.filter((_, k) => (first + k) % 5 === 0 && first + k + 1 < users),
        ids.filter((_, k) => (first + k) % 5 === 0 && first + k + 1 < users).map((u) => String(BigInt(u) + 1n)),
        now,
      ],
    );
  }
  await db.exec('analyze members; analyze trades; analyze credit_real_names; analyze social_friends');
  const [{ n } = { n: 0 }] = await db.query<{ n: number }>('select count(*)::int as n from trades');
  log(`seeded ${users} users' records (${n} trades) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return n;
}

/**
 * `paybao bench credit`: the nightly scoring of N users (users/s: chunks of set-based statements,
 * `Credit.run`), against the naive baseline in the same run — one features query and one insert
 * per user — and the online read (`Credit.score`) offered at a steady rate: its p50 and p99.
 */
export async function benchCredit(options: CreditBenchOptions): Promise<CreditBenchResult> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const storage = benchStorage('credit', options.databaseUrl);
  const platform = await openPlatform(storage.platformOptions);
  try {
    const durability = await readDurability(platform.db);
    log(`engine ${platform.db.engine}; synchronous_commit=${durability.synchronous_commit} fsync=${durability.fsync}`);
    await seedUsers(platform.db, platform.ledger, options.users, log);
    const trades = await benchSeed(platform.db, options.users, platform.clock.nowNs(), log);

    log(`nightly scoring of ${options.users} users`);
    const bar = new SingleBar({
      format: 'credit {bar} {value}/{total} users {eta}s',
      hideCursor: true,
      stream: process.stderr,
    });
    bar.start(options.users, 0);
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const nightlyBefore = machineWaits();
    const report = await platform.credit.run({
      onProgress: (done) => bar.update(done),
      chunksInFlight: options.chunksInFlight,
    });
    const nightlySeconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const nightlyAfter = machineWaits();
    bar.stop();
    const counts = await platform.db.query<{ scored: number; na: number }>(
      'select count(score)::int as scored, (count(*) - count(score))::int as na from credit_score_history where day = $1',
      [report.day],
    );

    log(`baseline: one features query and one insert per user, ${options.baselineSeconds} s`);
    let baselineUsers = 0;
    const baselineStarted = performance.now();
    while (performance.now() - baselineStarted < options.baselineSeconds * 1000) {
      const userId = seededUserId((baselineUsers * 7919) % options.users);
      const s = await platform.credit.score(userId);
      await platform.db.query(
        `insert into credit_score_history (user_id, day, score, band, reasons, balance_fen)
         values ($1, '2000-01-01', $2, $3, $4, 0)
         on conflict (user_id, day) do update set score = excluded.score`,
        [userId, s.score, s.band, s.reasons.join(',')],
      );
      baselineUsers++;
    }
    const baselinePerS = baselineUsers / ((performance.now() - baselineStarted) / 1000);

    log(`online reads: ${options.readRate}/s for ${options.readSeconds} s`);
    const total = options.readRate * options.readSeconds;
    const latencies: number[] = [];
    const inFlight: Promise<void>[] = [];
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const machineBefore = machineWaits();
    const readsStarted = performance.now();
    for (let i = 0; i < total; i++) {
      const due = readsStarted + (i * 1000) / options.readRate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const userId = seededUserId((i * 104_729) % options.users);
      // Latency from when the read was due: a late start counts against it (open loop). A read
      // due within the timer's millisecond is sent at once, before it is due: it counts from
      // when it was sent, never less than its own time.
      const from = Math.min(due, performance.now());
      inFlight.push(
        platform.credit.score(userId).then(() => {
          latencies.push(performance.now() - from);
        }),
      );
    }
    await Promise.all(inFlight);
    const readsSeconds = (performance.now() - readsStarted) / 1000;
    loop.disable();
    const machine = machineWaits();
    latencies.sort((a, b) => a - b);
    const nightlyPerS = options.users / nightlySeconds;
    return {
      engine: platform.db.engine,
      users: options.users,
      trades,
      scored: counts[0]?.scored ?? 0,
      not_applicable: counts[0]?.na ?? 0,
      nightly_seconds: round1(nightlySeconds),
      nightly_users_per_s: Math.round(nightlyPerS),
      chunk_users: limits.creditBatchUsersMax,
      chunks_in_flight:
        platform.db.engine === 'postgres' ? (options.chunksInFlight ?? limits.creditBatchChunksInFlight) : 1,
      nightly_node_cpu_s: round1((cpu.user + cpu.system) / 1e6),
      nightly_cpu_pressure_percent: pressurePercent(nightlyBefore, nightlyAfter, nightlySeconds),
      baseline_users_per_s: Math.round(baselinePerS),
      ratio: round1(nightlyPerS / baselinePerS),
      online_reads: latencies.length,
      online_reads_per_s: Math.round(latencies.length / readsSeconds),
      online_p50_ms: round2(quantile(latencies, 0.5)),
      online_p99_ms: round2(quantile(latencies, 0.99)),
      online_max_ms: round2(latencies.at(-1) ?? 0),
      online_loop_delay_p99_ms: round2(loop.percentile(99) / 1e6),
      online_node_runqueue_wait_ms:
        machine && machineBefore ? round1((machine.runQueueNs - machineBefore.runQueueNs) / 1e6) : null,
      online_cpu_pressure_percent: pressurePercent(machineBefore, machine, readsSeconds),
      ...durability,
    };
  } finally {
    await platform.close();
    await storage.remove();
  }
}

/**
 * Linux's count of the time this process's main thread has waited for a core (ns, the second
 * field of `/proc/self/schedstat`) and of the time some task of the machine has (µs, `some
 * total` of `/proc/pressure/cpu`); undefined where they cannot be read.
 */
function machineWaits(): { runQueueNs: number; pressureUs: number } | undefined {
  if (!existsSync('/proc/self/schedstat') || !existsSync('/proc/pressure/cpu')) return undefined;
  const runQueueNs = Number(readFileSync('/proc/self/schedstat', 'utf8').split(' ')[1]);
  const pressure = /^some .*total=(\d+)$/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
  if (!Number.isFinite(runQueueNs) || !pressure?.[1]) return undefined;
  return { runQueueNs, pressureUs: Number(pressure[1]) };
}

type Waits = ReturnType<typeof machineWaits>;

/** The share (%) of `seconds` in which some task waited for a core, between two readings. */
function pressurePercent(before: Waits, after: Waits, seconds: number): number | null {
  return before && after ? round1((after.pressureUs - before.pressureUs) / 1e4 / seconds) : null;
}
