import { beijingOffsetMs } from '../../core/time.ts';
import type { Platform } from '../../platform.ts';
import { quantile, round1 } from './common.ts';
import { pool } from './gateway.ts';
import type { Answer, Exchange, LeanClient, Prepared } from './lean-client.ts';
import type { Miss, OpenLoopHandlers, Shot } from './open-loop.ts';

/**
 * The drill's mix, in percent of the requests offered: pay, query (a paid trade), and the tenth
 * split among partial refunds, bill links and a page. Each kind names the server's class it falls
 * in (docs/overload.md), which decides who is shed first.
 */
export const mix = [
  { kind: 'pay', percent: 70, serverClass: 'payment' },
  { kind: 'query', percent: 20, serverClass: 'query' },
  { kind: 'refund', percent: 4, serverClass: 'refund' },
  { kind: 'bill', percent: 3, serverClass: 'report' },
  { kind: 'page', percent: 3, serverClass: 'query' },
] as const;

export type Kind = (typeof mix)[number]['kind'];
export const kinds: readonly Kind[] = mix.map((m) => m.kind);

const gatewayMethods: Record<Exclude<Kind, 'page'>, string> = {
  pay: 'alipay.trade.pay',
  query: 'alipay.trade.query',
  refund: 'alipay.trade.refund',
  bill: 'alipay.data.dataservice.bill.downloadurl.query',
};
/** The page: the wallet's sign-in page, a GET of the query class that reads no table. */
const pagePath = '/wallet/withdraw';
const payAmount = '1.00';
const refundAmount = '0.01';
/** Requests signed at once (RSA on libuv's pool, both cores). */
const signersAtOnce = 64;

export interface MixShot extends Shot {
  kind: Kind;
  /** The trade a payment creates, or the one a query or refund names. */
  outTradeNo?: string;
}

/** What one kind of request met in one step. */
export interface KindFigures {
  offered: number;
  /** Answered with the real answer (gateway `10000`, a page's 200). */
  admitted: number;
  /** Refused by design: the gateway's system-busy answer with Retry-After, a 503 or 429 page. */
  shed: number;
  /** Answered otherwise: a business refusal or an unexpected 5xx (`unexpected_5xx` counts those). */
  errors: number;
  /** Sent and not answered within the generator's wait. */
  timeouts: number;
  /** Never sent: no connection came free within the generator's wait. */
  unsent: number;
  /** Latency of the admitted answers, from each request's due time. */
  p50_ms: number;
  p99_ms: number;
}

/** The trades the drill has paid (acknowledged `10000`), and those whose payment was shed. */
export class Trades {
  readonly acknowledged = new Map<string, string>();
  readonly shedPayments: string[] = [];
  readonly paid: string[] = [];
  #queried = 0;
  #refunded = 0;

  /** A paid trade to query: round robin over every trade paid so far. */
  toQuery(): string | undefined {
    return this.paid.length === 0 ? undefined : this.paid[this.#queried++ % this.paid.length];
  }

  /** A paid trade to refund a little of, from the oldest on, each one rarely twice. */
  toRefund(): string | undefined {
    return this.paid.length === 0 ? undefined : this.paid[this.#refunded++ % this.paid.length];
  }
}

/** Builds the signed requests of one step: `payPerS` payments a second and the mix in proportion. */
export class MixBuilder {
  #seq = 0;
  readonly #runId = Date.now().toString(36);

  constructor(
    private readonly client: LeanClient,
    private readonly host: string,
    private readonly platform: Platform,
    private readonly buyerIds: readonly string[],
    private readonly trades: Trades,
  ) {}

  /**
   * The step's shots, sorted by due time: each kind evenly spaced at its rate, the kinds offset
   * from each other. `payOnly` leaves out everything but payments (the warm-up).
   */
  async build(payPerS: number, seconds: number, payOnly = false): Promise<MixShot[]> {
    const plan = mix
      .filter((m) => !payOnly || m.kind === 'pay')
      .map((m, index) => ({ kind: m.kind, perS: (payPerS * m.percent) / 70, offset: index / mix.length }));
    const dues = plan.flatMap(({ kind, perS, offset }) =>
      Array.from({ length: Math.round(perS * seconds) }, (_, i) => ({ kind, dueMs: ((i + offset) * 1000) / perS })),
    );
    const payments = dues.filter((d) => d.kind === 'pay').length;
    const codes = await this.platform.members.newPaymentCodes(
      Array.from({ length: payments }, (_, i) => this.buyerIds[i % this.buyerIds.length] as string),
    );
    let codesSpent = 0;
    const shots = await pool(dues.length, signersAtOnce, async (i) => {
      const { kind, dueMs } = dues[i] as { kind: Kind; dueMs: number };
      const code = kind === 'pay' ? codes[codesSpent++] : undefined;
      return { ...(await this.#request(kind, code)), kind, dueMs };
    });
    return shots.sort((a, b) => a.dueMs - b.dueMs);
  }

  async #request(kind: Kind, code: string | undefined): Promise<{ bytes: Buffer; outTradeNo?: string }> {
    if (kind === 'page') return { bytes: Buffer.from(`GET ${pagePath} HTTP/1.1\r\nHost: ${this.host}\r\n\r\n`) };
    const seq = this.#seq++;
    const biz = this.#biz(kind, seq, code);
    const prepared: Prepared = await this.client.prepareAsync(gatewayMethods[kind], biz, { publicInQuery: true });
    return { bytes: prepared.bytes, outTradeNo: biz.out_trade_no };
  }

  #biz(kind: Exclude<Kind, 'page'>, seq: number, code: string | undefined): Record<string, string> {
    switch (kind) {
      case 'pay':
        return {
          out_trade_no: `d11-${this.#runId}-${seq}`,
          total_amount: payAmount,
          subject: 'Double 11',
          scene: 'bar_code',
          auth_code: code as string,
        };
      case 'query':
        return { out_trade_no: this.trades.toQuery() as string };
      case 'refund':
        return {
          out_trade_no: this.trades.toRefund() as string,
          refund_amount: refundAmount,
          out_request_no: `r-${this.#runId}-${seq}`,
        };
      case 'bill':
        // Yesterday's bill in Beijing: a bill that exists, whose link is issued at once.
        return {
          bill_type: 'trade',
          bill_date: new Date(Date.now() + beijingOffsetMs - 86_400_000).toISOString().slice(0, 10),
        };
    }
  }
}

/** Counts one step's answers by kind, and the latencies of the admitted ones. */
export class Tally implements OpenLoopHandlers<MixShot> {
  readonly #counts = new Map<Kind, Omit<KindFigures, 'p50_ms' | 'p99_ms'>>();
  readonly #latencies = new Map<Kind, number[]>();
  /** Answers that were 5xx (or the gateway's system error) without being a designed refusal. */
  unexpected5xx = 0;
  /** A few of the errors, to say what went wrong. */
  readonly errorSamples: string[] = [];
  /** The admitted payments' latencies by the second of the step they were due in. */
  readonly #payBySecond: number[][] = [];

  constructor(
    private readonly client: LeanClient,
    private readonly trades: Trades,
  ) {
    for (const kind of kinds) {
      this.#counts.set(kind, { offered: 0, admitted: 0, shed: 0, errors: 0, timeouts: 0, unsent: 0 });
      this.#latencies.set(kind, []);
    }
  }

  answered(shot: MixShot, exchange: Exchange, latencyMs: number): void {
    const outcome = this.#outcome(shot, exchange);
    const counts = this.#count(shot.kind);
    counts[outcome]++;
    if (outcome === 'admitted') this.#latencies.get(shot.kind)?.push(latencyMs);
    if (outcome === 'admitted' && shot.kind === 'pay') {
      const second = Math.floor(shot.dueMs / 1000);
      const latencies = this.#payBySecond[second] ?? [];
      latencies.push(latencyMs);
      this.#payBySecond[second] = latencies;
    }
  }

  /** The admitted payments' p99 for each second of the step (how the protection settles). */
  payP99BySecond(): number[] {
    return Array.from(this.#payBySecond, (l) =>
      round1(
        quantile(
          (l ?? []).sort((a, b) => a - b),
          0.99,
        ),
      ),
    );
  }

  missed(shot: MixShot, why: Miss, _latencyMs: number, error?: unknown): void {
    const counts = this.#count(shot.kind);
    if (why === 'failed') {
      counts.errors++;
      this.#sample(`${shot.kind}: ${String(error)}`);
    } else counts[why === 'timeout' ? 'timeouts' : 'unsent']++;
  }

  #count(kind: Kind) {
    const counts = this.#counts.get(kind) as Omit<KindFigures, 'p50_ms' | 'p99_ms'>;
    counts.offered++;
    return counts;
  }

  #outcome(shot: MixShot, exchange: Exchange): 'admitted' | 'shed' | 'errors' {
    const designed = /\r\nretry-after:/i.test(exchange.head);
    if (shot.kind === 'page') {
      if (exchange.status === 200) return 'admitted';
      if ((exchange.status === 503 || exchange.status === 429) && designed) return 'shed';
      return this.#error(shot, exchange, exchange.status >= 500);
    }
    if (exchange.status !== 200) return this.#error(shot, exchange, exchange.status >= 500);
    // The busy answer is known by its header and code without parsing it (most answers at 3×).
    if (
      designed &&
      exchange.body.includes('"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error"')
    ) {
      if (shot.kind === 'pay' && shot.outTradeNo) this.trades.shedPayments.push(shot.outTradeNo);
      return 'shed';
    }
    let answer: Answer;
    try {
      answer = this.client.answerOf(gatewayMethods[shot.kind], exchange.body);
    } catch (error) {
      this.#sample(`${shot.kind}: ${String(error)}`);
      return 'errors';
    }
    if (answer.code === '10000') {
      if (shot.kind === 'pay' && shot.outTradeNo) this.#paid(shot.outTradeNo, String(answer.trade_no));
      return 'admitted';
    }
    // Alipay's system error without Retry-After is the gateway's form of a 500.
    return this.#error(shot, exchange, answer.code === '20000');
  }

  #paid(outTradeNo: string, tradeNo: string): void {
    this.trades.acknowledged.set(outTradeNo, tradeNo);
    this.trades.paid.push(outTradeNo);
  }

  #error(shot: MixShot, exchange: Exchange, serverError: boolean): 'errors' {
    if (serverError) this.unexpected5xx++;
    this.#sample(`${shot.kind}: ${exchange.head.split('\r\n')[0]} ${exchange.body.slice(0, 300)}`);
    return 'errors';
  }

  #sample(text: string): void {
    if (this.errorSamples.length < 5) this.errorSamples.push(text);
  }

  /** The figures of every kind. */
  figures(): Record<Kind, KindFigures> {
    const out = {} as Record<Kind, KindFigures>;
    for (const kind of kinds) {
      const sorted = (this.#latencies.get(kind) ?? []).sort((a, b) => a - b);
      out[kind] = {
        ...(this.#counts.get(kind) as Omit<KindFigures, 'p50_ms' | 'p99_ms'>),
        p50_ms: round1(quantile(sorted, 0.5)),
        p99_ms: round1(quantile(sorted, 0.99)),
      };
    }
    return out;
  }
}
