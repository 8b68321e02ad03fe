import {
  bankMerchantHeader,
  bankSignature,
  bankSignatureHeader,
  bankTimestampHeader,
  callbackSignString,
} from '../core/bank-protocol.ts';
import type { Db } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';

interface CallbackRow {
  id: bigint;
  bank: string;
  merchant_id: string;
  url: string;
  body: string;
  attempts: number;
}

/**
 * Sends the queued callbacks: a signed JSON POST to the order's notify URL, repeated on the
 * schedule `bankSimCallbackRetryDelaysMs` until the platform answers HTTP 200 with the body
 * `success`, then abandoned. Callbacks run on real time, whatever clock dates the orders.
 */
export class CallbackDispatcher {
  readonly #db: Db;
  readonly #secretOf: (bank: string, merchantId: string) => string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(db: Db, secretOf: (bank: string, merchantId: string) => string | undefined) {
    this.#db = db;
    this.#secretOf = secretOf;
  }

  start(onError: (error: unknown) => void): void {
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.runOnce()
        .then(() => undefined)
        .catch(onError)
        .finally(() => {
          this.#running = undefined;
        });
    }, limits.bankSimCallbackPollMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** Sends every due callback once; answers how many were delivered. */
  async runOnce(): Promise<number> {
    const due = await this.#db.query<CallbackRow>(
      `select id, bank, merchant_id, url, body, attempts from banksim_callbacks
        where delivered_at is null and abandoned_at is null and next_at <= $1 order by next_at, id limit $2`,
      [new Date().toISOString(), limits.bankSimCallbackBatchMax],
    );
    const results = await Promise.all(due.map((c) => this.#send(c)));
    return results.filter(Boolean).length;
  }

  async #send(c: CallbackRow): Promise<boolean> {
    let error: string | undefined;
    try {
      const secret = this.#secretOf(c.bank, c.merchant_id);
      if (secret === undefined) throw new Error(`no secret for ${c.bank}/${c.merchant_id}`);
      const timestamp = String(Date.now());
      const response = await fetch(c.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [bankMerchantHeader]: c.merchant_id,
          [bankTimestampHeader]: timestamp,
          [bankSignatureHeader]: bankSignature(secret, callbackSignString(timestamp, c.body)),
        },
        body: c.body,
        signal: AbortSignal.timeout(limits.bankSimCallbackTimeoutMs),
      });
      const text = (await response.text()).trim();
      if (response.status !== 200 || text !== 'success') error = `HTTP ${response.status}: ${text.slice(0, 100)}`;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const now = Date.now();
    if (error === undefined) {
      await this.#db.query('update banksim_callbacks set attempts = attempts + 1, delivered_at = $2 where id = $1', [
        c.id,
        new Date(now).toISOString(),
      ]);
      return true;
    }
    const delay = limits.bankSimCallbackRetryDelaysMs[c.attempts];
    await this.#db.query(
      `update banksim_callbacks set attempts = attempts + 1, last_error = $2, next_at = $3, abandoned_at = $4 where id = $1`,
      [
        c.id,
        error,
        new Date(now + (delay ?? 0)).toISOString(),
        delay === undefined ? new Date(now).toISOString() : null,
      ],
    );
    return false;
  }

  /** The callback log (admin API): what was sent where, how often, and how it ended. */
  async list(orderNo?: string): Promise<unknown[]> {
    return this.#db.query(
      `select id::text, bank, merchant_id, order_no, url, duplicate, attempts, delivered_at, abandoned_at, last_error
         from banksim_callbacks where ($1::text is null or order_no = $1) order by id desc limit 1000`,
      [orderNo ?? null],
    );
  }
}
