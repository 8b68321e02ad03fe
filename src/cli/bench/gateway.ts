import { type ChildProcess, spawn } from 'node:child_process';
import { sign as asyncSign, createPrivateKey, createSign, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { SingleBar } from 'cli-progress';
import type { FastifyInstance } from 'fastify';
import { rsaVerify, verifyNotification } from '../../gateway/index.ts';
import { verifyLedger } from '../../ledger/index.ts';
import { openPlatform, type Platform } from '../../platform.ts';
import { buildPlatformApp } from '../../server/index.ts';
import { benchStorage, quantile, readDurability, round1, round2 } from './common.ts';
import { type Answer, LeanClient, type Prepared } from './lean-client.ts';
import { PgStats, type PgStatsPerTrade } from './pg-stats.ts';

/** Options of `paybao bench gateway`. */
export interface GatewayBenchOptions {
  json: boolean;
  /** Paid trades to run (each one `alipay.trade.create` + `alipay.trade.pay`), after the warm-up. */
  trades: number;
  /** Buyers paying, round robin; each gets a wallet funded for all its trades. */
  buyers: number;
  /** Concurrent clients, each with one trade in flight. */
  clients: number;
  /** Run the server inside this process instead of a child `paybao start` (shares the event loop). */
  inProcess: boolean;
  /**
   * When the clients sign: `ahead` (every request signed before the timed run, as if the merchants
   * ran on other machines), `live` (as they send, on this machine's cores), or `both` (two timed runs).
   */
  sign: 'ahead' | 'live' | 'both';
  /**
   * Give the app a notify URL (a sink in this process answering `success`), so that every paid
   * trade also costs a signed notification, and wait at the end until every one has arrived.
   */
  notify?: boolean;
  /** Write a CPU profile of the server process (`node --cpu-prof`) into this directory. */
  serverCpuProf?: string | undefined;
  databaseUrl?: string | undefined;
  /** Seconds of each RSA measurement. */
  rsaSeconds?: number;
}

/** One timed run of `trades` paid trades (on PostgreSQL also the server's WAL and statements per trade). */
interface PhaseResult extends Partial<PgStatsPerTrade> {
  paid_tps: number;
  /** Latency of one paid trade: create + pay, as the client sees it. */
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** CPU seconds spent during the run by the server process, the load generator, and the whole machine. */
  server_cpu_s: number;
  /**
   * Core-milliseconds per paid trade of the server's main thread: the one event loop that parses,
   * decides and answers every request (the signatures run on libuv's pool). It bounds one process
   * at 1000 / this paid trades/s, however many cores.
   */
  server_loop_cpu_ms_per_trade: number;
  client_cpu_s: number;
  /** Everything: server, load generator, the database, the kernel. */
  machine_cpu_s: number;
  /** `machine_cpu_s` per paid trade, in core-milliseconds: what one paid trade costs this machine. */
  machine_cpu_ms_per_trade: number;
  wall_s: number;
}

export interface GatewayBenchResult extends PhaseResult {
  engine: string;
  server: 'child-process' | 'in-process';
  paid_trades: number;
  clients: number;
  buyers: number;
  /** Which run the headline figures are from: requests signed ahead or live. */
  signed: 'ahead' | 'live';
  requests_per_s: number;
  /** The live-signing run's figures when both ran (`live_paid_tps`, …). */
  [live: `live_${string}`]: number;
  /** RSA-2048 SHA256 signatures per second on one thread (node:crypto, synchronous). */
  rsa_sign_per_s: number;
  /** The same on every core at once (node:crypto async, libuv thread pool). */
  rsa_sign_all_cores_per_s: number;
  rsa_verify_per_s: number;
  cores: number;
  /** Core-milliseconds of the 2 platform signatures of one paid trade (from the all-cores rate). */
  rsa_cpu_ms_per_trade: number;
  /** Paid trades/s that RSA alone allows when all cores do nothing but the 2 platform signatures per trade. */
  rsa_bound_server_only_tps: number;
  /** The same when the merchant's 2 request signatures run on this machine too (the live run). */
  rsa_bound_with_client_tps: number;
  response_signatures_checked: number;
  /** Requests sent again after the platform's busy answer (its overload protection refused them). */
  busy_retries: number;
  /** With `--notify`: TRADE_SUCCESS notifications received, how many were verified, and how long
   * after the last paid trade the last one arrived. */
  notifications_received?: number;
  notification_signatures_checked?: number;
  notify_drain_s?: number;
  synchronous_commit: string;
  fsync: string;
}

const amount = '1.00';
const amountFen = 100n;
const subject = 'bench';

/**
 * `paybao bench gateway`: a merchant app and N buyers on a fresh database, the real HTTP server,
 * and concurrent SDK-style clients doing `alipay.trade.create` + `alipay.trade.pay` (bar code, a
 * fresh payment code per trade) over HTTP with real RSA2 signatures. In the same run, this
 * machine's RSA-2048 signing rate, since every response carries one platform signature.
 */
export async function benchGateway(options: GatewayBenchOptions): Promise<GatewayBenchResult> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const rsa = measureRsa(options.rsaSeconds ?? 1);
  const rsaAllCores = await measureRsaAllCores(options.rsaSeconds ?? 1);
  const cores = availableParallelism();
  log(
    `RSA-2048 SHA256: ${rsa.signPerS} signs/s on one thread, ${rsaAllCores} on all ${cores} cores; ` +
      `${rsa.verifyPerS} verifies/s`,
  );

  const storage = benchStorage('gw', options.databaseUrl);
  const { schema, dataDir, platformOptions } = storage;
  let platform: Platform | undefined = await openPlatform(platformOptions);
  let server: Server | undefined;
  let sink: NotifySink | undefined;
  let pgStats: PgStats | undefined;
  try {
    const durability = await readDurability(platform.db);
    log(`engine ${platform.db.engine}; synchronous_commit=${durability.synchronous_commit} fsync=${durability.fsync}`);

    // The merchant: a fresh key pair and an app.
    const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const merchantPublicKeyPem = merchant.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const platformKey = (await platform.members.platformKeys()).active;
    const platformPublicKey = platformKey.publicKeyPem;
    sink = options.notify ? await NotifySink.start(platformPublicKey) : undefined;
    const app = await platform.members.createApp({ name: 'Bench Shop', merchantPublicKeyPem, notifyUrl: sink?.url });

    // Buyers, funded for every trade they will pay, and one payment code per trade.
    const warmup = Math.min(500, Math.max(50, Math.floor(options.trades / 20)));
    const phases = options.sign === 'both' ? 2 : 1;
    const total = warmup + phases * options.trades;
    const perBuyer = BigInt(Math.ceil(total / options.buyers));
    let started = performance.now();
    const buyerIds = await pool(options.buyers, 32, async (i) => {
      const phone = `139${String(i).padStart(8, '0')}`;
      const user = await (platform as Platform).members.createUser({
        phone,
        password: 'bench password',
        openingBalance: perBuyer * amountFen,
      });
      return user.userId;
    });
    log(`created ${options.buyers} buyers in ${seconds(started).toFixed(1)} s`);
    started = performance.now();
    const codesAt = performance.now();
    const codes = await pool(total, 64, (i) =>
      (platform as Platform).members.newPaymentCode(buyerIds[i % buyerIds.length] as string),
    );
    log(`generated ${total} payment codes in ${seconds(started).toFixed(1)} s`);

    // The server.
    if (options.inProcess) {
      server = await inProcessServer(platform);
    } else {
      await platform.close();
      platform = undefined;
      server = await childServer(options, schema, dataDir, log);
    }
    log(`server (${server.kind}) at ${server.url}`);

    const client = new LeanClient(server.url, app.appId, merchant.privateKey, platformPublicKey);
    const runId = Date.now().toString(36);
    const createBiz = (i: number) => ({ out_trade_no: `b${runId}-${i}`, total_amount: amount, subject });
    const payBiz = (i: number) => ({ ...createBiz(i), scene: 'bar_code', auth_code: codes[i] as string });
    const pair = (created: Answer, paid: Answer) => {
      if (created.code !== '10000') throw new Error(`trade.create failed: ${JSON.stringify(created)}`);
      if (paid.code !== '10000' || paid.trade_no !== created.trade_no) {
        throw new Error(`trade.pay failed: ${JSON.stringify(paid)}`);
      }
    };
    // Signing as it sends, as a merchant's SDK does.
    const live = async (i: number): Promise<number> => {
      const t0 = performance.now();
      const created = await client.call('alipay.trade.create', createBiz(i));
      pair(created, await client.call('alipay.trade.pay', payBiz(i)));
      return performance.now() - t0;
    };
    await runLoad(warmup, options.clients, live, 'warm-up', log);

    pgStats = options.databaseUrl ? await PgStats.open(options.databaseUrl) : undefined;
    const measure = async (
      name: string,
      first: number,
      trade: (i: number) => Promise<number>,
    ): Promise<PhaseResult> => {
      const pgBefore = await pgStats?.snapshot();
      const cpuBefore = process.cpuUsage();
      const serverCpuBefore = (server as Server).cpuSeconds();
      const loopCpuBefore = (server as Server).loopCpuSeconds();
      const machineBefore = machineCpuSeconds();
      const run = await runLoad(options.trades, options.clients, (n) => trade(first + n), name, log);
      const clientCpu = process.cpuUsage(cpuBefore);
      const machineCpu = machineCpuSeconds() - machineBefore;
      const pgAfter = await pgStats?.snapshot();
      const sorted = [...run.latenciesMs].sort((x, y) => x - y);
      return {
        paid_tps: Math.round(options.trades / run.seconds),
        p50_ms: round1(quantile(sorted, 0.5)),
        p99_ms: round1(quantile(sorted, 0.99)),
        max_ms: round1(sorted[sorted.length - 1] ?? 0),
        server_cpu_s: round1(options.inProcess ? 0 : (server as Server).cpuSeconds() - serverCpuBefore),
        server_loop_cpu_ms_per_trade: round2(
          ((server as Server).loopCpuSeconds() - loopCpuBefore) * (1000 / options.trades),
        ),
        client_cpu_s: round1((clientCpu.user + clientCpu.system) / 1e6),
        machine_cpu_s: round1(machineCpu),
        machine_cpu_ms_per_trade: round2((machineCpu * 1000) / options.trades),
        wall_s: round1(run.seconds),
        ...(pgBefore && pgAfter ? PgStats.perTrade(pgBefore, pgAfter, options.trades) : {}),
      };
    };

    // Signed ahead: every request of the run signed before the clock starts (each within the
    // gateway's timestamp window), so the machine's cores serve only the platform.
    let ahead: PhaseResult | undefined;
    let next = warmup;
    if (options.sign !== 'live') {
      const first = next;
      started = performance.now();
      const prepared: { create: Prepared; pay: Prepared }[] = [];
      for (let n = 0; n < options.trades; n++) {
        prepared.push({
          create: client.prepare('alipay.trade.create', createBiz(first + n)),
          pay: client.prepare('alipay.trade.pay', payBiz(first + n)),
        });
        // Let the notify sink answer meanwhile: a merchant that stops answering for longer than
        // notifyTimeoutMs gets its notifications again only at the 4-minute retry.
        if (n % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
      }
      log(`signed ${options.trades * 2} requests ahead in ${seconds(started).toFixed(1)} s`);
      ahead = await measure('ahead', first, async (i) => {
        const request = prepared[i - first] as { create: Prepared; pay: Prepared };
        const t0 = performance.now();
        const created = await client.send(request.create);
        pair(created, await client.send(request.pay));
        return performance.now() - t0;
      });
      next += options.trades;
    }
    const liveResult = options.sign !== 'ahead' ? await measure('live', next, live) : undefined;
    const codeAgeS = seconds(codesAt);
    if (codeAgeS * 1000 > 120_000) log(`warning: the run outlasted the payment codes' TTL (${codeAgeS.toFixed(0)} s)`);
    const drainS = sink ? await sink.drained(total, log) : undefined;

    client.close();
    await server.close();
    server = undefined;
    platform ??= await openPlatform(platformOptions);
    await checkBooks(platform, app.sellerId, buyerIds, perBuyer, total, log);

    const headline = (ahead ?? liveResult) as PhaseResult;
    return {
      engine: platform.db.engine,
      server: options.inProcess ? 'in-process' : 'child-process',
      paid_trades: options.trades,
      clients: options.clients,
      buyers: options.buyers,
      signed: ahead ? 'ahead' : 'live',
      ...headline,
      requests_per_s: headline.paid_tps * 2,
      ...(ahead && liveResult ? prefixed('live_', liveResult) : {}),
      rsa_sign_per_s: rsa.signPerS,
      rsa_sign_all_cores_per_s: rsaAllCores,
      rsa_verify_per_s: rsa.verifyPerS,
      cores,
      rsa_cpu_ms_per_trade: round2((2 * cores * 1000) / rsaAllCores),
      rsa_bound_server_only_tps: Math.round(rsaAllCores / 2),
      rsa_bound_with_client_tps: Math.round(rsaAllCores / 4),
      response_signatures_checked: client.checked,
      busy_retries: client.busyRetries,
      ...(sink
        ? {
            notifications_received: sink.received.size,
            notification_signatures_checked: sink.checked,
            notify_drain_s: drainS,
          }
        : {}),
      ...durability,
    };
  } finally {
    sink?.close();
    await pgStats?.close();
    await server?.close().catch(() => {});
    await platform?.close();
    await storage.remove();
  }
}

// ---- RSA ----

function measureRsa(durationS: number): { signPerS: number; verifyPerS: number } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const data = Buffer.from('{"code":"10000","msg":"Success","trade_no":"2026112622001400000000000001"}');
  const rate = (fn: () => void) => {
    const until = performance.now() + durationS * 1000;
    const started = performance.now();
    let n = 0;
    while (performance.now() < until) {
      fn();
      n++;
    }
    return Math.round(n / seconds(started));
  };
  const signature = createSign('RSA-SHA256').update(data).sign(privateKey);
  return {
    signPerS: rate(() => createSign('RSA-SHA256').update(data).sign(privateKey)),
    verifyPerS: rate(() => rsaVerify(data.toString(), signature.toString('base64'), publicKey)),
  };
}

/** Signatures per second with one signature in flight per thread-pool thread (every core busy). */
async function measureRsaAllCores(durationS: number): Promise<number> {
  const key = createPrivateKey(
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  const data = Buffer.from('bench');
  const until = performance.now() + durationS * 1000;
  const started = performance.now();
  let n = 0;
  const worker = async () => {
    while (performance.now() < until) {
      await new Promise<void>((resolve, reject) =>
        asyncSign('sha256', data, key, (error) => (error ? reject(error) : resolve())),
      );
      n++;
    }
  };
  // UV_THREADPOOL_SIZE is libuv's own setting, read by Node at start-up, not the platform's: a
  // bench-only knob, read here (not in src/config.ts) only to know how many threads Node has.
  const threads = Number(process.env.UV_THREADPOOL_SIZE || 4);
  await Promise.all(Array.from({ length: threads }, worker));
  return Math.round(n / seconds(started));
}

/** Runs `total` trades from `clients` concurrent clients; answers each trade's latency. */
async function runLoad(
  total: number,
  clients: number,
  trade: (n: number) => Promise<number>,
  name: string,
  log: (s: string) => void,
): Promise<{ seconds: number; latenciesMs: number[] }> {
  const bar = new SingleBar({
    format: `${name.padEnd(8)} [{bar}] {percentage}% {value}/{total} {tps}/s`,
    stream: process.stderr,
  });
  bar.start(total, 0, { tps: 0 });
  const latenciesMs: number[] = [];
  let issued = 0;
  const started = performance.now();
  const worker = async () => {
    while (issued < total) {
      const n = issued++;
      latenciesMs.push(await trade(n));
      const done = latenciesMs.length;
      if (done % 64 === 0 || done === total) {
        bar.update(done, { tps: Math.round(done / seconds(started)) });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(clients, total) }, worker));
  } finally {
    bar.stop();
  }
  const s = seconds(started);
  log(`${name}: ${total} paid trades in ${s.toFixed(1)} s = ${Math.round(total / s)}/s`);
  return { seconds: s, latenciesMs };
}

// ---- the merchant's notify URL ----

/** The merchant's notify endpoint: answers `success`, verifies every `checkEvery`-th signature. */
class NotifySink {
  readonly received = new Set<string>();
  checked = 0;
  #lastAtMs = 0;

  private constructor(
    private readonly server: HttpServer,
    readonly url: string,
    private readonly platformPublicKey: string,
    private readonly checkEvery = 50,
  ) {
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
        if (form.trade_status === 'TRADE_SUCCESS' && form.trade_no) this.received.add(form.trade_no);
        this.#lastAtMs = performance.now();
        let ok = true;
        if (this.received.size % this.checkEvery === 0) {
          ok = verifyNotification(form, this.platformPublicKey);
          if (ok) this.checked++;
        }
        res.end(ok ? 'success' : 'fail');
        if (!ok) process.stderr.write(`a notification does not verify: ${JSON.stringify(form)}\n`);
      });
    });
  }

  static async start(platformPublicKey: string): Promise<NotifySink> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new NotifySink(server, `http://127.0.0.1:${port}/notify`, platformPublicKey);
  }

  /** Waits until `total` trades have been notified; answers how long it took after now. */
  async drained(total: number, log: (s: string) => void): Promise<number> {
    const from = performance.now();
    const deadline = from + 120_000;
    while (this.received.size < total && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (this.received.size < total) {
      throw new Error(`only ${this.received.size} of ${total} TRADE_SUCCESS notifications arrived in 120 s`);
    }
    const s = Math.max(0, (this.#lastAtMs - from) / 1000);
    log(`notifications: all ${total} arrived, the last ${s.toFixed(1)} s after the last paid trade`);
    return round1(s);
  }

  close(): void {
    this.server.close();
  }
}

// ---- the server ----

export interface Server {
  kind: string;
  url: string;
  /** CPU seconds the server's process has used so far (0 in process: it is this process). */
  cpuSeconds(): number;
  /** The same for its main thread alone: the event loop (JavaScript, HTTP, the driver), not the pool's RSA. */
  loopCpuSeconds(): number;
  close(): Promise<void>;
  /** SIGKILL, as a crash: no request finishes, nothing is flushed (a child only). */
  kill(): Promise<void>;
}

export async function inProcessServer(platform: Platform): Promise<Server> {
  let url = '';
  const app: FastifyInstance = await buildPlatformApp({ platform, publicUrl: () => url });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    kind: 'in-process',
    url,
    cpuSeconds: () => 0,
    loopCpuSeconds: () => 0,
    close: () => app.close(),
    kill: () => Promise.reject(new Error('a server in this process cannot be killed alone')),
  };
}

/**
 * `paybao start` in a child process on the same database, logging warnings only; `env` adds
 * settings of the server's (the drill's rates and bounds).
 */
export async function childServer(
  options: { databaseUrl?: string | undefined; serverCpuProf?: string | undefined; env?: Record<string, string> },
  schema: string | undefined,
  dataDir: string | undefined,
  log: (s: string) => void,
): Promise<Server> {
  const bin = fileURLToPath(new URL('../../../bin/paybao.js', import.meta.url));
  const nodeArgs = options.serverCpuProf ? ['--cpu-prof', '--cpu-prof-dir', options.serverCpuProf] : [];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    PAYBAO_BANK_SIM: 'off',
    ...options.env,
  };
  delete env.NODE_OPTIONS;
  if (options.databaseUrl) {
    env.DATABASE_URL = options.databaseUrl;
    env.PAYBAO_DB_SCHEMA = schema;
  } else {
    delete env.DATABASE_URL;
    env.PAYBAO_DATA_DIR = dataDir;
    env.PAYBAO_DEMO = 'off';
  }
  const child = spawn(process.execPath, [...nodeArgs, bin, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => log(`server: ${chunk.toString().trimEnd()}`));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let listening = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      // Once it listens, what the server logs (warnings and errors: LOG_LEVEL) is the bench's to show.
      if (listening) return log(`server: ${chunk.toString().trimEnd()}`);
      out += chunk.toString();
      const m = /Paybao is running at (\S+)/.exec(out);
      if (m?.[1]) {
        listening = true;
        resolve(m[1]);
      }
    });
    exited.then((code) => reject(new Error(`paybao start exited with ${code} before listening`)));
  });
  return {
    kind: `child process ${child.pid}`,
    url,
    cpuSeconds: () => processCpuSeconds(child),
    loopCpuSeconds: () => processCpuSeconds(child, true),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`paybao start exited with ${code}`);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * utime + stime of a live child from /proc (Linux), or of its main thread alone (`mainThread`: the
 * event loop, whose thread has the process's id); 0 elsewhere.
 */
function processCpuSeconds(child: ChildProcess, mainThread = false): number {
  try {
    const stat = readFileSync(`/proc/${child.pid}/${mainThread ? `task/${child.pid}/` : ''}stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

// ---- the books ----

/** The ledger balances, every buyer paid exactly its trades, and the merchant got all of them. */
async function checkBooks(
  platform: Platform,
  sellerId: string,
  buyerIds: readonly string[],
  perBuyer: bigint,
  total: number,
  log: (s: string) => void,
): Promise<void> {
  const violations = await verifyLedger(platform.db);
  if (violations.length > 0) throw new Error(`the books do not balance after the run: ${JSON.stringify(violations)}`);
  const merchant = await platform.members.walletBalance(sellerId);
  if (merchant !== BigInt(total) * amountFen) {
    throw new Error(`the merchant holds ${merchant} fen, expected ${BigInt(total) * amountFen}`);
  }
  let spent = 0n;
  for (const buyerId of buyerIds) spent += perBuyer * amountFen - (await platform.members.walletBalance(buyerId));
  if (spent !== BigInt(total) * amountFen) throw new Error(`buyers spent ${spent} fen, expected ${total * 100}`);
  const [row] = await platform.db.query<{ n: string }>(
    "select count(*)::text as n from trades where status = 'TRADE_SUCCESS'",
  );
  if (Number(row?.n) !== total) throw new Error(`${row?.n} trades succeeded, expected ${total}`);
  log(`books verified: ledger balances, ${total} trades paid, merchant holds ${merchant} fen`);
}

// ---- helpers ----

export async function pool<T>(n: number, concurrency: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await make(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}

/** CPU seconds every core of this machine has been busy since boot (Linux /proc/stat; 0 elsewhere). */
export function machineCpuSeconds(): number {
  try {
    const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
    const [user, nice, system, , , irq, softirq, steal] = (cpu ?? '').split(/ +/).slice(1).map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / 100;
  } catch {
    return 0;
  }
}

function prefixed<T extends object>(prefix: string, value: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [`${prefix}${k}`, v]));
}

export const seconds = (since: number) => (performance.now() - since) / 1000;
