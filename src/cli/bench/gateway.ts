import { type ChildProcess, spawn } from 'node:child_process';
import { sign as asyncSign, createPrivateKey, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SingleBar } from 'cli-progress';
import type { FastifyInstance } from 'fastify';
import { legacyResponseKey, rsaVerify, signLegacyRequest } from '../../gateway/index.ts';
import { verifyLedger } from '../../ledger/index.ts';
import { openPlatform, type Platform } from '../../platform.ts';
import { buildPlatformApp } from '../../server/index.ts';
import { dropSchema, quantile, readDurability, round1 } from './common.ts';

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
  /** Write a CPU profile of the server process (`node --cpu-prof`) into this directory. */
  serverCpuProf?: string | undefined;
  databaseUrl?: string | undefined;
  /** Seconds of each RSA measurement. */
  rsaSeconds?: number;
}

export interface GatewayBenchResult {
  engine: string;
  server: 'child-process' | 'in-process';
  paid_trades: number;
  clients: number;
  buyers: number;
  paid_tps: number;
  requests_per_s: number;
  /** Latency of one paid trade: create + pay, as the client sees it. */
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** RSA-2048 SHA256 signatures per second on one thread (node:crypto, synchronous). */
  rsa_sign_per_s: number;
  /** The same on every core at once (node:crypto async, libuv thread pool). */
  rsa_sign_all_cores_per_s: number;
  rsa_verify_per_s: number;
  cores: number;
  /** Paid trades/s that RSA alone allows when all cores do nothing but the 2 platform signatures per trade. */
  rsa_bound_server_only_tps: number;
  /** The same when the merchant's 2 request signatures run on this machine too (as in this bench). */
  rsa_bound_with_client_tps: number;
  /** CPU seconds spent by the server process and by the load generator during the timed run. */
  server_cpu_s: number;
  client_cpu_s: number;
  wall_s: number;
  response_signatures_checked: number;
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

  const schema = options.databaseUrl ? `bench_gw_${Date.now()}` : undefined;
  const dataDir = options.databaseUrl ? undefined : mkdtempSync(join(tmpdir(), 'paybao-bench-gw-'));
  const platformOptions = { databaseUrl: options.databaseUrl, databaseSchema: schema, dataDir };
  let platform: Platform | undefined = await openPlatform(platformOptions);
  let server: Server | undefined;
  try {
    const durability = await readDurability(platform.db);
    log(`engine ${platform.db.engine}; synchronous_commit=${durability.synchronous_commit} fsync=${durability.fsync}`);

    // The merchant: a fresh key pair and an app.
    const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const merchantPublicKeyPem = merchant.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const app = await platform.members.createApp({ name: 'Bench Shop', merchantPublicKeyPem });
    const platformPublicKey = app.alipayPublicKey;

    // Buyers, funded for every trade they will pay, and one payment code per trade.
    const warmup = Math.min(500, Math.max(50, Math.floor(options.trades / 20)));
    const total = warmup + options.trades;
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
    const trade = async (i: number): Promise<number> => {
      const outTradeNo = `b${runId}-${i}`;
      const t0 = performance.now();
      const created = await client.call('alipay.trade.create', {
        out_trade_no: outTradeNo,
        total_amount: amount,
        subject,
      });
      if (created.code !== '10000') throw new Error(`trade.create failed: ${JSON.stringify(created)}`);
      const paid = await client.call('alipay.trade.pay', {
        out_trade_no: outTradeNo,
        scene: 'bar_code',
        auth_code: codes[i] as string,
        total_amount: amount,
        subject,
      });
      if (paid.code !== '10000' || paid.trade_no !== created.trade_no) {
        throw new Error(`trade.pay failed: ${JSON.stringify(paid)}`);
      }
      return performance.now() - t0;
    };

    await runLoad(warmup, options.clients, (n) => trade(n), 'warm-up', log);
    const cpuBefore = process.cpuUsage();
    const serverCpuBefore = server.cpuSeconds();
    const run = await runLoad(options.trades, options.clients, (n) => trade(warmup + n), 'trades', log);
    const clientCpu = process.cpuUsage(cpuBefore);
    const serverCpu = server.cpuSeconds() - serverCpuBefore;
    const codeAgeS = seconds(codesAt);
    if (codeAgeS * 1000 > 120_000) log(`warning: the run outlasted the payment codes' TTL (${codeAgeS.toFixed(0)} s)`);

    client.close();
    await server.close();
    server = undefined;
    platform ??= await openPlatform(platformOptions);
    await checkBooks(platform, app.sellerId, buyerIds, perBuyer, total, log);

    const sorted = [...run.latenciesMs].sort((a, b) => a - b);
    const paidTps = options.trades / run.seconds;
    const clientCpuS = (clientCpu.user + clientCpu.system) / 1e6;
    return {
      engine: platform.db.engine,
      server: options.inProcess ? 'in-process' : 'child-process',
      paid_trades: options.trades,
      clients: options.clients,
      buyers: options.buyers,
      paid_tps: Math.round(paidTps),
      requests_per_s: Math.round(paidTps * 2),
      p50_ms: round1(quantile(sorted, 0.5)),
      p99_ms: round1(quantile(sorted, 0.99)),
      max_ms: round1(sorted[sorted.length - 1] ?? 0),
      rsa_sign_per_s: rsa.signPerS,
      rsa_sign_all_cores_per_s: rsaAllCores,
      rsa_verify_per_s: rsa.verifyPerS,
      cores,
      rsa_bound_server_only_tps: Math.round(rsaAllCores / 2),
      rsa_bound_with_client_tps: Math.round(rsaAllCores / 4),
      server_cpu_s: round1(options.inProcess ? 0 : serverCpu),
      client_cpu_s: round1(clientCpuS),
      wall_s: round1(run.seconds),
      response_signatures_checked: client.checked,
      ...durability,
    };
  } finally {
    await server?.close().catch(() => {});
    await platform?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (options.databaseUrl && schema) await dropSchema(options.databaseUrl, schema);
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
  const threads = Number(process.env.UV_THREADPOOL_SIZE || 4);
  await Promise.all(Array.from({ length: threads }, worker));
  return Math.round(n / seconds(started));
}

// ---- the client ----

type Answer = Record<string, unknown> & { code?: string; trade_no?: string };

/**
 * What a merchant's SDK does for one legacy call, without the SDK's own overhead: sign the
 * parameters (RSA2, `signLegacyRequest`), POST the form over a kept-alive connection, parse the
 * `<method>_response`, and check the platform's signature on every `checkEvery`-th response.
 */
class LeanClient {
  readonly #url: URL;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 4096 });
  #timestamp = '';
  #timestampAt = 0;
  #calls = 0;
  checked = 0;

  constructor(
    base: string,
    private readonly appId: string,
    private readonly privateKey: KeyObject,
    private readonly platformPublicKey: string,
    private readonly checkEvery = 50,
  ) {
    this.#url = new URL('/gateway.do', base);
  }

  /** The local time as `yyyy-MM-dd HH:mm:ss` (what `alipay-sdk` sends). */
  #now(): string {
    const now = Date.now();
    if (now - this.#timestampAt >= 1000) {
      const d = new Date(now - new Date().getTimezoneOffset() * 60_000);
      this.#timestamp = d.toISOString().slice(0, 19).replace('T', ' ');
      this.#timestampAt = now - (now % 1000);
    }
    return this.#timestamp;
  }

  async call(method: string, bizContent: Record<string, string>): Promise<Answer> {
    const params = signLegacyRequest(
      {
        app_id: this.appId,
        method,
        format: 'JSON',
        charset: 'utf-8',
        sign_type: 'RSA2',
        timestamp: this.#now(),
        version: '1.0',
        biz_content: JSON.stringify(bizContent),
      },
      this.privateKey,
    );
    const body = await this.#post(new URLSearchParams(params).toString());
    const key = legacyResponseKey(method);
    const parsed = JSON.parse(body) as Record<string, unknown>;
    const answer = parsed[key] as Answer | undefined;
    if (!answer) throw new Error(`no ${key} in ${body}`);
    if (++this.#calls % this.checkEvery === 0) {
      const start = body.indexOf(':') + 1;
      const end = body.lastIndexOf(',"sign":');
      if (!rsaVerify(body.slice(start, end), String(parsed.sign), this.platformPublicKey)) {
        throw new Error(`the response signature does not verify: ${body}`);
      }
      this.checked++;
    }
    return answer;
  }

  #post(form: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(
        this.#url,
        {
          method: 'POST',
          agent: this.#agent,
          headers: {
            'content-type': 'application/x-www-form-urlencoded;charset=utf-8',
            'content-length': Buffer.byteLength(form),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${text}`));
            else resolve(text);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(form);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
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

// ---- the server ----

interface Server {
  kind: string;
  url: string;
  /** CPU seconds the server's process has used so far (0 in process: it is this process). */
  cpuSeconds(): number;
  close(): Promise<void>;
}

async function inProcessServer(platform: Platform): Promise<Server> {
  let url = '';
  const app: FastifyInstance = await buildPlatformApp({ platform, publicUrl: () => url });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { kind: 'in-process', url, cpuSeconds: () => 0, close: () => app.close() };
}

/** `paybao start` in a child process on the same database, logging warnings only. */
async function childServer(
  options: GatewayBenchOptions,
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
  };
  delete env.NODE_OPTIONS;
  if (options.databaseUrl) {
    env.DATABASE_URL = options.databaseUrl;
    env.PAYBAO_DB_SCHEMA = schema;
  } else {
    delete env.DATABASE_URL;
    env.PAYBAO_DATA_DIR = dataDir;
  }
  const child = spawn(process.execPath, [...nodeArgs, bin, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => log(`server: ${chunk.toString().trimEnd()}`));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Paybao is running at (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    exited.then((code) => reject(new Error(`paybao start exited with ${code} before listening`)));
  });
  return {
    kind: `child process ${child.pid}`,
    url,
    cpuSeconds: () => processCpuSeconds(child),
    async close() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`paybao start exited with ${code}`);
    },
  };
}

/** utime + stime of a live child from /proc (Linux); 0 elsewhere. */
function processCpuSeconds(child: ChildProcess): number {
  try {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
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

async function pool<T>(n: number, concurrency: number, make: (i: number) => Promise<T>): Promise<T[]> {
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

const seconds = (since: number) => (performance.now() - since) / 1000;
