import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Platform } from '../../platform.ts';
import { latencyWindow, round1 } from './common.ts';
import { createPayers, sleep } from './escrow.ts';
import { inProcessServer, type Server } from './gateway.ts';
import { type Answer, LeanClient, type Prepared } from './lean-client.ts';

/** What payments did in one window of time. */
export interface PaymentWindow {
  count: number;
  perS: number;
  p50: number;
  p99: number;
  max: number;
  /** The event loop's delay over the window (the server's, this process's), p99 in ms. */
  loopDelayP99: number;
}

/** Seconds of payments prepared ahead of their send time (payment codes live 120 s; PGlite serves the codes on its one connection, behind the distribution). */
const preparedAheadS = 30;
/** Payment codes made and requests signed at once by the preparer. */
const preparers = 32;
/** How often a second the sender looks for payments due. */
const sendTicksPerS = 500;

/**
 * Buyers paying at the till at a fixed rate, through the real HTTP gateway: each payment one
 * signed `alipay.trade.pay` (scene `bar_code`, a fresh payment code of the buyer's) on a kept-alive
 * connection to the platform's own server, in this process as the server runs its jobs. The load
 * is open: payment k is due at `start + k / rate` whatever the platform does, and its latency runs
 * from that due time to the signed answer, so a platform that falls behind is charged for the
 * wait (no coordinated omission). Codes are made and requests signed ahead, off the timed path
 * (RSA on libuv's pool), as the buyers' phones and the merchants' tills do elsewhere.
 */
export class GatewayPayments {
  #latencies: number[] = [];
  #since = performance.now();
  readonly #loopDelay = monitorEventLoopDelay({ resolution: 5 });
  #running = false;
  #ready: Prepared[] = [];
  #prepared = 0;
  #sent = 0;
  #inFlight = new Set<Promise<void>>();
  #loops: Promise<void>[] = [];
  #failure: unknown;
  #stopped = false;

  private constructor(
    private readonly platform: Platform,
    private readonly server: Server,
    private readonly client: LeanClient,
    private readonly buyerIds: readonly string[],
    private readonly rate: number,
    private readonly runId: string,
  ) {}

  /** A merchant app, `buyers` funded buyers, and the platform's server listening in this process. */
  static async open(platform: Platform, rate: number, buyers: number): Promise<GatewayPayments> {
    const { appId, buyerIds, merchantKey } = await createPayers(platform, buyers);
    const server = await inProcessServer(platform);
    const platformKey = (await platform.members.platformKeys()).active.publicKeyPem;
    const client = new LeanClient(server.url, appId, merchantKey, platformKey);
    return new GatewayPayments(platform, server, client, buyerIds, rate, Date.now().toString(36));
  }

  /** Prepares the first seconds of payments, then sends at the rate while preparing ahead. */
  async start(): Promise<void> {
    this.#running = true;
    this.#loopDelay.enable();
    const ahead = Array.from({ length: preparers }, () => this.#prepare(() => preparedAheadS * this.rate));
    await Promise.all(ahead);
    const started = performance.now();
    const due = () => ((performance.now() - started) / 1000 + preparedAheadS) * this.rate;
    this.#loops = [...Array.from({ length: preparers }, () => this.#prepare(due, true)), this.#send(started)];
  }

  /** Signs payments until `due()` are ready; with `keep`, goes on until stopped. */
  async #prepare(due: () => number, keep = false): Promise<void> {
    while (this.#running) {
      if (this.#prepared >= due()) {
        if (!keep) return;
        await sleep(50);
        continue;
      }
      const n = this.#prepared++;
      const buyerId = this.buyerIds[n % this.buyerIds.length] as string;
      const code = await this.platform.members.newPaymentCode(buyerId);
      this.#ready.push(
        await this.client.prepareAsync('alipay.trade.pay', {
          out_trade_no: `till-${this.runId}-${n}`,
          total_amount: '1.00',
          subject: 'coffee',
          scene: 'bar_code',
          auth_code: code,
        }),
      );
    }
  }

  /** Sends every payment whose time has come, each on its own connection while it is out. */
  async #send(started: number): Promise<void> {
    while (this.#running) {
      const now = performance.now();
      while (this.#sent < ((now - started) / 1000) * this.rate) {
        const dueAt = started + (this.#sent * 1000) / this.rate;
        const request = this.#ready.shift();
        if (!request) {
          this.#failure ??= new Error('the signed payments ran out before their time: lower --pay-rate');
          return;
        }
        this.#sent++;
        const exchange = this.client.send(request).then(
          (answer) => this.#answered(answer, dueAt),
          (error: unknown) => {
            this.#failure ??= error;
          },
        );
        this.#inFlight.add(exchange);
        exchange.finally(() => this.#inFlight.delete(exchange));
      }
      await sleep(1000 / sendTicksPerS);
    }
  }

  #answered(answer: Answer, dueAt: number): void {
    if (answer.code !== '10000') {
      this.#failure ??= new Error(`alipay.trade.pay failed: ${JSON.stringify(answer)}`);
      return;
    }
    this.#latencies.push(performance.now() - dueAt);
  }

  /** The payments answered since the last mark: rate and latency quantiles; starts a new window. */
  mark(): PaymentWindow {
    if (this.#failure) throw this.#failure;
    const window = {
      ...latencyWindow(this.#latencies, this.#since),
      loopDelayP99: round1(this.#loopDelay.percentile(99) / 1e6),
    };
    this.#loopDelay.reset();
    this.#latencies = [];
    this.#since = performance.now();
    return window;
  }

  /** Stops sending, waits for the answers out, closes the server. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#running = false;
    this.#loopDelay.disable();
    await Promise.allSettled(this.#loops);
    await Promise.allSettled([...this.#inFlight]);
    this.client.close();
    await this.server.close();
  }
}
