import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { type Db, openDb } from '../../core/db/index.ts';
import { derivedId, u128FromUuid, uuidFromU128 } from '../../core/ids.ts';
import { AccountCode, cnyLedger, SocialTransferCode } from '../../core/ledger-codes.ts';
import { limits } from '../../core/limits.ts';
import { formatAmount } from '../../core/money.ts';
import { AccountFlags, type Ledger, verifyLedger } from '../../ledger/index.ts';
import { openPlatform, type Platform } from '../../platform.ts';
import { drawLucky, grabTransferId, isSocialError, verifyRedPackets } from '../../social/index.ts';
import { dropSchema, quantile, readDurability, round1 } from './common.ts';

export interface RedPacketBenchOptions {
  json: boolean;
  /** Shares of the campaign packet. */
  shares: number;
  /** Users who grab at once (each tries once); more users than shares: the rest find it all grabbed. */
  users: number;
  /** Simulated clients grabbing at once (each a loop of one grab at a time). */
  clients: number;
  /** Seconds of the baseline: each grab its own transaction holding the packet row's lock. */
  baselineSeconds: number;
  verify: boolean;
  databaseUrl?: string | undefined;
}

export interface RedPacketBenchResult {
  engine: string;
  shares: number;
  users: number;
  clients: number;
  setup_s: number;
  /** From the first grab until the last share was taken. */
  grab_s: number;
  grabs_per_s: number;
  grab_p50_ms: number;
  grab_p99_ms: number;
  /** Grab batches of the packet (one row lock, one ledger submission each): grabs per batch on average. */
  grabs_per_batch: number;
  baseline_grabs_per_s: number;
  baseline_p99_ms: number;
  baseline_connections: number;
  ratio: number;
  synchronous_commit: string;
  fsync: string;
}

/** A share is 1.00 yuan on average. */
const meanShareFen = 100n;
const userChunk = 8190;
const firstUserId = 2088_7000_0000_0000n;

/**
 * `paybao bench redpacket`: one merchant campaign packet of N shares, grabbed by M users at once
 * through `RedPackets.grab` (C simulated clients in process, one grab at a time each: the domain's
 * own path, without HTTP, whose cost `bench gateway` measures). The users are set up in bulk, not
 * timed. In the same run, the baseline: the usual way, each grab one database transaction that
 * locks the packet row, draws, writes the share and the packet's remainder, commits, then pays.
 */
export async function benchRedPacket(options: RedPacketBenchOptions): Promise<RedPacketBenchResult> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const schema = options.databaseUrl ? `bench_redpacket_${Date.now()}` : undefined;
  const dataDir = options.databaseUrl ? undefined : mkdtempSync(join(tmpdir(), 'paybao-bench-redpacket-'));
  const platform = await openPlatform({ databaseUrl: options.databaseUrl, databaseSchema: schema, dataDir });
  try {
    const durability = await readDurability(platform.db);
    log(`engine ${platform.db.engine}; synchronous_commit=${durability.synchronous_commit} fsync=${durability.fsync}`);
    const setupStarted = performance.now();
    const amountFen = BigInt(options.shares) * meanShareFen;
    const sender = await platform.members.createUser({
      phone: '15900000000',
      password: 'bench-redpacket-sender',
      openingBalance: amountFen * 2n,
    });
    await seedUsers(platform.db, platform.ledger, options.users, log);
    const packet = async (key: string) =>
      (
        await platform.social.redPackets.send(sender.userId, key, {
          kind: 'LUCKY',
          amount: formatAmount(amountFen),
          shares: options.shares,
          campaign: true,
          greeting: 'Double 11',
        })
      ).packet.packetId;
    const rain = await packet('bench-rain');
    const baselinePacket = await packet('bench-baseline');
    const setupS = (performance.now() - setupStarted) / 1000;

    const batches = await countBatches(platform.db, rain);
    const run = await grabAll(platform, rain, options);
    const grabsPerBatch = run.grabs / Math.max(1, (await countBatches(platform.db, rain)) - batches);
    log(
      `campaign: ${run.grabs} shares grabbed by ${options.users} users in ${run.seconds.toFixed(1)} s (${Math.round(run.grabs / run.seconds)}/s), p99 ${run.p99} ms`,
    );
    if (run.grabs !== options.shares) throw new Error(`grabbed ${run.grabs} of ${options.shares} shares`);

    const baseline = await runBaseline(platform, baselinePacket, schema, options, log);
    if (options.verify) {
      const started = performance.now();
      const violations = [...(await verifyLedger(platform.db)), ...(await verifyRedPackets(platform.db))];
      if (violations.length > 0) throw new Error(`the books do not hold: ${JSON.stringify(violations.slice(0, 5))}`);
      log(`books verified in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    const perS = run.grabs / run.seconds;
    return {
      engine: platform.db.engine,
      shares: options.shares,
      users: options.users,
      clients: options.clients,
      setup_s: round1(setupS),
      grab_s: round1(run.seconds),
      grabs_per_s: Math.round(perS),
      grab_p50_ms: run.p50,
      grab_p99_ms: run.p99,
      grabs_per_batch: Math.round(grabsPerBatch),
      baseline_grabs_per_s: Math.round(baseline.perS),
      baseline_p99_ms: baseline.p99,
      baseline_connections: baseline.connections,
      ratio: round1(perS / baseline.perS),
      ...durability,
    };
  } finally {
    await platform.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (options.databaseUrl && schema) await dropSchema(options.databaseUrl, schema);
  }
}

/** Every user tries once, from `clients` loops at once; the clock stops when the last share is taken. */
async function grabAll(
  platform: Platform,
  packetId: string,
  options: RedPacketBenchOptions,
): Promise<{ grabs: number; seconds: number; p50: number; p99: number }> {
  const bar = new SingleBar({
    format: 'grab [{bar}] {percentage}% {value}/{total} shares {gps}/s',
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 5_000,
  });
  bar.start(options.shares, 0, { gps: 0 });
  const latencies: number[] = [];
  let next = 0;
  let grabs = 0;
  let lastShareAt = 0;
  const started = performance.now();
  const client = async () => {
    while (next < options.users) {
      const userId = seededUserId(next++);
      const t0 = performance.now();
      try {
        await platform.social.redPackets.grab(userId, packetId);
        latencies.push(performance.now() - t0);
        lastShareAt = performance.now();
        if (++grabs % 1000 === 0) bar.update(grabs, { gps: Math.round(grabs / ((lastShareAt - started) / 1000)) });
      } catch (error) {
        if (!isSocialError(error, 'all_grabbed')) throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  bar.update(grabs);
  bar.stop();
  latencies.sort((a, b) => a - b);
  return {
    grabs,
    seconds: (lastShareAt - started) / 1000,
    p50: round1(quantile(latencies, 0.5)),
    p99: round1(quantile(latencies, 0.99)),
  };
}

/** Batches are not counted anywhere: a batch's shares share one `grabbed_at`, so distinct instants count them. */
async function countBatches(db: Db, packetId: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    'select count(distinct grabbed_at)::int n from social_red_packet_grabs where packet_id = $1',
    [packetId],
  );
  return row?.n ?? 0;
}

/**
 * The usual way, for the ratio: each grab one transaction that locks the packet row, reads what
 * is left, draws a share, writes it and the packet's remainder, and commits; then the ledger pays
 * it (one submission per grab: the ledger's group commit gathers concurrent ones, as it would
 * for any caller). From 16 connections at once on PostgreSQL (they queue on the row lock), 1 on
 * PGlite; each user grabs once.
 */
async function runBaseline(
  platform: Platform,
  packetId: string,
  schema: string | undefined,
  options: RedPacketBenchOptions,
  log: (s: string) => void,
): Promise<{ perS: number; p99: number; connections: number }> {
  const connections = options.databaseUrl ? 16 : 1;
  const db = options.databaseUrl
    ? await openDb({ databaseUrl: options.databaseUrl, schema, poolMax: connections })
    : platform.db;
  const [packet] = await db.query<{ account_id: string }>(
    'select account_id::text from social_red_packets where packet_id = $1',
    [packetId],
  );
  const account = u128FromUuid(packet?.account_id ?? '');
  const bounds = {
    shareMinFen: BigInt(limits.redPacketShareFenMin),
    shareMaxFen: BigInt(limits.redPacketShareFenMax),
  };
  const deadline = performance.now() + options.baselineSeconds * 1000;
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (performance.now() < deadline && next < options.users) {
      const userId = seededUserId(next++);
      const t0 = performance.now();
      const amount = await db.transaction(async (tx) => {
        const [row] = await tx.query<{ remaining_fen: bigint; remaining_shares: number; shares: number }>(
          'select remaining_fen, remaining_shares, shares from social_red_packets where packet_id = $1 for update',
          [packetId],
        );
        if (!row || row.remaining_shares === 0) return 0n;
        const draw = drawLucky(row.remaining_fen, row.remaining_shares, bounds);
        const now = new Date();
        await tx.query(
          `insert into social_red_packet_grabs (packet_id, user_id, seq, amount_fen, low_fen, high_fen, grabbed_at)
           values ($1, $2, $3, $4, $5, $6, $7)`,
          [packetId, userId, row.shares - row.remaining_shares + 1, draw.amountFen, draw.lowFen, draw.highFen, now],
        );
        await tx.query(
          'update social_red_packets set remaining_fen = remaining_fen - $2, remaining_shares = remaining_shares - 1 where packet_id = $1',
          [packetId, draw.amountFen],
        );
        return draw.amountFen;
      });
      if (amount === 0n) break;
      const [paid] = await platform.ledger.createTransfers([
        {
          id: grabTransferId(packetId, userId),
          debitAccountId: account,
          creditAccountId: walletOf(userId),
          amount,
          ledger: cnyLedger,
          code: SocialTransferCode.redPacketGrab,
          userData128: u128FromUuid(packetId),
          userData64: BigInt(userId),
        },
      ]);
      if (paid !== 'ok') throw new Error(`baseline grab refused: ${paid}`);
      await db.query('update social_red_packet_grabs set paid_at = now() where packet_id = $1 and user_id = $2', [
        packetId,
        userId,
      ]);
      latencies.push(performance.now() - t0);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  const seconds = (performance.now() - started) / 1000;
  if (db !== platform.db) await db.close();
  latencies.sort((a, b) => a - b);
  log(
    `baseline (a transaction and a row lock per grab, ${connections} connections): ${latencies.length} in ${seconds.toFixed(1)} s`,
  );
  return { perS: latencies.length / seconds, p99: round1(quantile(latencies, 0.99)), connections };
}

const walletOf = (userId: string) => derivedId('bench.redpacket.wallet', userId);

/** The user id of the bench's user `i` (`seedUsers` makes users 0 to n − 1). */
export const seededUserId = (i: number) => String(firstUserId + BigInt(i));

/**
 * N users in bulk (not timed): wallets in ledger submissions, `members` rows by `unnest`, with a
 * password hash nobody can log in with — a hundred thousand scrypt hashes would measure scrypt.
 */
export async function seedUsers(db: Db, ledger: Ledger, n: number, log: (s: string) => void): Promise<void> {
  const started = performance.now();
  for (let first = 0; first < n; first += userChunk) {
    const ids = Array.from({ length: Math.min(userChunk, n - first) }, (_, k) => seededUserId(first + k));
    const results = await ledger.createAccounts(
      ids.map((userId) => ({
        id: walletOf(userId),
        ledger: cnyLedger,
        code: AccountCode.userWallet,
        flags: AccountFlags.debitsMustNotExceedCredits,
        userData64: BigInt(userId),
      })),
    );
    const bad = results.find((r) => r !== 'ok' && r !== 'exists');
    if (bad) throw new Error(`bench redpacket setup: ${bad}`);
    await db.query(
      `insert into members (user_id, kind, phone, password_hash, wallet_account_id, created_at_ns)
       select u, 'user', '151' || lpad(i::text, 8, '0'), 'bench: no login', w::uuid, $4
         from unnest($1::text[], $2::text[], $3::int[]) as t(u, w, i)`,
      [ids, ids.map((u) => uuidFromU128(walletOf(u))), ids.map((_, k) => first + k), BigInt(Date.now()) * 1_000_000n],
    );
  }
  log(`seeded ${n} users in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
