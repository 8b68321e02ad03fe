/**
 * The bank channel adapter: the one narrow contract through which the platform talks to a bank,
 * and its implementation for the bank protocol of docs/bank-sim.md (JSON over HTTP, HMAC-SHA256
 * signatures with a shared secret). The bank is an outside system: this file imports nothing of
 * src/banksim; the protocol's published facts (order kinds and statuses, headers, signed strings)
 * are in src/core/bank-protocol.ts, which the simulator speaks too.
 */

import type { BankOrderKind, BankOrderStatus } from '../core/bank-protocol.ts';
import * as protocol from '../core/bank-protocol.ts';
import { parseCsv } from '../core/csv.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import type { ChannelBankConfig } from './config.ts';

/** An order as the bank reports it, normalised (amounts in fen). */
export interface BankOrder {
  orderNo: string;
  kind: BankOrderKind;
  amountFen: bigint;
  status: BankOrderStatus;
  /** Why the bank failed it (`INSUFFICIENT_BALANCE` …); null unless FAILED. */
  failCode: string | null;
  bankSerial: string;
  /** When the bank created it (Beijing, `YYYY-MM-DD HH:mm:ss`): the day whose statement lists it. */
  createdAt?: string | undefined;
}

/**
 * What a call to the bank came to. Only `ok` and `refused` are definite: `refused` means the bank
 * turned the request down and did nothing. `unknown` (no answer in time, a dropped connection,
 * a 5xx) means the bank may or may not have acted; the caller must find out by querying.
 */
export type BankAnswer<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'refused'; code: string; message: string }
  | { kind: 'unknown'; reason: string };

/** One line of a bank's daily statement. */
export interface StatementLine {
  bankSerial: string;
  orderNo: string;
  kind: string;
  amountFen: bigint;
  status: BankOrderStatus;
  time: string;
}

/** A callback whose signature verified, with what makes it unique (to spot replays). */
export interface VerifiedCallback {
  order: BankOrder;
  timestampMs: number;
  signature: string;
}

/** The parameters the bank's payment page sends the browser back with, verified. */
export interface VerifiedReturn {
  orderNo: string;
  amountFen: bigint;
  status: BankOrderStatus;
}

/**
 * A bank, as the platform needs it. Every method that reaches the bank answers a `BankAnswer`
 * and never throws for the bank's failures; it throws only for programmer errors. Writes are
 * idempotent at the bank by their order (or request) number: sending the same one again with
 * the same parameters answers the same order and moves nothing more.
 */
export interface BankAdapter {
  /** The bank's code (`ICBC`). */
  readonly code: string;
  /**
   * Opens a gateway payment: the customer pays on the bank's page at `payUrl`; the bank then
   * calls `notifyUrl` and sends the browser to `returnUrl`.
   */
  createGatewayOrder(input: {
    orderNo: string;
    amountFen: bigint;
    subject: string;
    notifyUrl: string;
    returnUrl: string;
  }): Promise<BankAnswer<BankOrder & { payUrl: string }>>;
  /** Asks to bind a card for withholding; the bank texts an SMS code to the card's phone. */
  requestAgreement(input: {
    requestNo: string;
    cardNo: string;
    name: string;
    phone: string;
  }): Promise<BankAnswer<{ agreementNo: string; status: string }>>;
  /** Confirms a binding with the SMS code; `status` is ACTIVE once it took. */
  confirmAgreement(agreementNo: string, smsCode: string): Promise<BankAnswer<{ agreementNo: string; status: string }>>;
  /** Debits the bound card (quick pay); final in its answer. */
  withhold(input: {
    orderNo: string;
    agreementNo: string;
    amountFen: bigint;
    notifyUrl: string;
  }): Promise<BankAnswer<BankOrder>>;
  /** Pays to a card from the platform's account at the bank; final in its answer. */
  payout(input: {
    orderNo: string;
    cardNo: string;
    name: string;
    amountFen: bigint;
    notifyUrl: string;
  }): Promise<BankAnswer<BankOrder>>;
  /**
   * Pays many cards in one request (the merged seller payouts); answers each item's order in
   * request order. Optional: without it, payouts go one by one. A batch the bank did not answer
   * is unknown for every item, and each is settled by its own query.
   */
  payoutBatch?(input: {
    batchNo: string;
    items: readonly { orderNo: string; cardNo: string; name: string; amountFen: bigint }[];
    notifyUrl: string;
  }): Promise<BankAnswer<BankOrder[]>>;
  /** The order as the bank has it now; `refused` with code ORDER_NOT_FOUND when it has none. */
  query(orderNo: string): Promise<BankAnswer<BankOrder>>;
  /** The order a callback reports, or null when its signature (or shape) does not verify. */
  verifyCallback(headers: Record<string, string | undefined>, body: string): VerifiedCallback | null;
  /** The browser's return parameters, or null when their signature does not verify. */
  verifyReturn(params: Record<string, string>): VerifiedReturn | null;
  /** The statement of a Beijing day (`YYYY-MM-DD`): one line per order created that day. */
  fetchStatement(date: string): Promise<BankAnswer<StatementLine[]>>;
}

const statuses: readonly string[] = protocol.bankOrderStatuses;
const kinds: readonly string[] = protocol.bankOrderKinds;

/** The bank's order JSON → BankOrder; null when it is not one. */
function orderOf(json: unknown): BankOrder | null {
  if (typeof json !== 'object' || json === null) return null;
  const o = json as Record<string, unknown>;
  const amountFen = typeof o.amount === 'string' ? parseAmount(o.amount) : undefined;
  if (typeof o.order_no !== 'string' || amountFen === undefined) return null;
  if (typeof o.status !== 'string' || !statuses.includes(o.status)) return null;
  if (typeof o.kind !== 'string' || !kinds.includes(o.kind)) return null;
  return {
    orderNo: o.order_no,
    kind: o.kind as BankOrderKind,
    amountFen,
    status: o.status as BankOrderStatus,
    failCode: typeof o.fail_code === 'string' ? o.fail_code : null,
    bankSerial: typeof o.bank_serial === 'string' ? o.bank_serial : '',
    createdAt: typeof o.created_at === 'string' ? o.created_at : undefined,
  };
}

/** The adapter for the bank protocol of docs/bank-sim.md. */
export class HttpBankAdapter implements BankAdapter {
  readonly code: string;
  readonly #config: ChannelBankConfig;

  constructor(config: ChannelBankConfig) {
    this.code = config.code;
    this.#config = config;
  }

  async createGatewayOrder(input: {
    orderNo: string;
    amountFen: bigint;
    subject: string;
    notifyUrl: string;
    returnUrl: string;
  }): Promise<BankAnswer<BankOrder & { payUrl: string }>> {
    const answer = await this.#call('POST', 'gateway/orders', {
      order_no: input.orderNo,
      amount: formatAmount(input.amountFen),
      subject: input.subject,
      notify_url: input.notifyUrl,
      return_url: input.returnUrl,
    });
    if (answer.kind !== 'ok') return answer;
    const order = orderOf(answer.value);
    const payUrl = (answer.value as { pay_url?: unknown }).pay_url;
    if (!order || typeof payUrl !== 'string') return { kind: 'unknown', reason: 'malformed answer' };
    return { kind: 'ok', value: { ...order, payUrl } };
  }

  async requestAgreement(input: {
    requestNo: string;
    cardNo: string;
    name: string;
    phone: string;
  }): Promise<BankAnswer<{ agreementNo: string; status: string }>> {
    const answer = await this.#call('POST', 'agreements', {
      request_no: input.requestNo,
      card_no: input.cardNo,
      name: input.name,
      phone: input.phone,
    });
    return agreementOf(answer);
  }

  async confirmAgreement(
    agreementNo: string,
    smsCode: string,
  ): Promise<BankAnswer<{ agreementNo: string; status: string }>> {
    const answer = await this.#call('POST', `agreements/${encodeURIComponent(agreementNo)}/confirm`, {
      sms_code: smsCode,
    });
    return agreementOf(answer);
  }

  async withhold(input: {
    orderNo: string;
    agreementNo: string;
    amountFen: bigint;
    notifyUrl: string;
  }): Promise<BankAnswer<BankOrder>> {
    return orderAnswer(
      await this.#call('POST', 'withholdings', {
        order_no: input.orderNo,
        agreement_no: input.agreementNo,
        amount: formatAmount(input.amountFen),
        notify_url: input.notifyUrl,
      }),
    );
  }

  async payout(input: {
    orderNo: string;
    cardNo: string;
    name: string;
    amountFen: bigint;
    notifyUrl: string;
  }): Promise<BankAnswer<BankOrder>> {
    return orderAnswer(
      await this.#call('POST', 'payouts', {
        order_no: input.orderNo,
        card_no: input.cardNo,
        name: input.name,
        amount: formatAmount(input.amountFen),
        notify_url: input.notifyUrl,
      }),
    );
  }

  async payoutBatch(input: {
    batchNo: string;
    items: readonly { orderNo: string; cardNo: string; name: string; amountFen: bigint }[];
    notifyUrl: string;
  }): Promise<BankAnswer<BankOrder[]>> {
    const answer = await this.#call('POST', 'payouts/batches', {
      batch_no: input.batchNo,
      items: input.items.map((item) => ({
        order_no: item.orderNo,
        card_no: item.cardNo,
        name: item.name,
        amount: formatAmount(item.amountFen),
        notify_url: input.notifyUrl,
      })),
    });
    if (answer.kind !== 'ok') return answer;
    const items = (answer.value as { items?: unknown }).items;
    if (!Array.isArray(items) || items.length !== input.items.length)
      return { kind: 'unknown', reason: 'malformed batch answer' };
    const orders = items.map(orderOf);
    if (orders.some((o) => !o)) return { kind: 'unknown', reason: 'malformed batch answer' };
    return { kind: 'ok', value: orders as BankOrder[] };
  }

  async query(orderNo: string): Promise<BankAnswer<BankOrder>> {
    return orderAnswer(await this.#call('GET', `orders/${encodeURIComponent(orderNo)}`));
  }

  verifyCallback(headers: Record<string, string | undefined>, body: string): VerifiedCallback | null {
    const timestamp = headers[protocol.bankTimestampHeader];
    const signature = headers[protocol.bankSignatureHeader];
    if (headers[protocol.bankMerchantHeader] !== this.#config.merchantId) return null;
    if (!timestamp || !signature || !/^\d{1,15}$/.test(timestamp)) return null;
    const expected = protocol.bankSignature(this.#config.secret, protocol.callbackSignString(timestamp, body));
    if (!protocol.sameSignature(signature, expected)) return null;
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return null;
    }
    const bank = (json as { bank?: unknown } | null)?.bank;
    const order = orderOf(json);
    if (!order || bank !== this.code) return null;
    return { order, timestampMs: Number(timestamp), signature };
  }

  verifyReturn(params: Record<string, string>): VerifiedReturn | null {
    const { sign } = params;
    if (typeof sign !== 'string') return null;
    const expected = protocol.bankSignature(this.#config.secret, protocol.paramsSignString(params));
    if (!protocol.sameSignature(sign, expected)) return null;
    const amountFen = parseAmount(params.amount ?? '');
    const status = params.status ?? '';
    if (params.bank !== this.code || params.merchant_id !== this.#config.merchantId) return null;
    if (!params.order_no || amountFen === undefined || !statuses.includes(status)) return null;
    return { orderNo: params.order_no, amountFen, status: status as BankOrderStatus };
  }

  async fetchStatement(date: string): Promise<BankAnswer<StatementLine[]>> {
    const answer = await this.#call('GET', `statements/${date}`, undefined, 'text');
    if (answer.kind !== 'ok') return answer;
    const lines = parseStatement(String(answer.value));
    return lines ? { kind: 'ok', value: lines } : { kind: 'unknown', reason: 'malformed statement' };
  }

  /** One signed request; classifies what came back (never throws for the bank's failures). */
  async #call(
    method: 'GET' | 'POST',
    route: string,
    body?: unknown,
    as: 'json' | 'text' = 'json',
  ): Promise<BankAnswer<unknown>> {
    const path = `/banks/${encodeURIComponent(this.code)}/${route}`;
    const text = body === undefined ? '' : JSON.stringify(body);
    const timestamp = String(Date.now());
    const headers: Record<string, string> = {
      [protocol.bankMerchantHeader]: this.#config.merchantId,
      [protocol.bankTimestampHeader]: timestamp,
      [protocol.bankSignatureHeader]: protocol.bankSignature(
        this.#config.secret,
        protocol.requestSignString(method, path, timestamp, text),
      ),
    };
    if (text) headers['content-type'] = 'application/json';
    let status: number;
    let out: string;
    try {
      const response = await fetch(`${this.#config.baseUrl}${path}`, {
        method,
        headers,
        body: text || undefined,
        signal: AbortSignal.timeout(this.#config.requestTimeoutMs),
      });
      status = response.status;
      out = await response.text();
    } catch (error) {
      return { kind: 'unknown', reason: error instanceof Error ? error.message : String(error) };
    }
    // A 5xx (503 SYSTEM_BUSY included) is treated as unknown: querying settles it either way.
    if (status >= 500) return { kind: 'unknown', reason: `HTTP ${status}` };
    if (status >= 400) {
      let code = `HTTP_${status}`;
      let message = out.slice(0, 200);
      try {
        const json = JSON.parse(out) as { code?: unknown; message?: unknown };
        if (typeof json.code === 'string') code = json.code;
        if (typeof json.message === 'string') message = json.message;
      } catch {}
      return { kind: 'refused', code, message };
    }
    if (as === 'text') return { kind: 'ok', value: out };
    try {
      return { kind: 'ok', value: JSON.parse(out) as unknown };
    } catch {
      return { kind: 'unknown', reason: 'malformed answer' };
    }
  }
}

function orderAnswer(answer: BankAnswer<unknown>): BankAnswer<BankOrder> {
  if (answer.kind !== 'ok') return answer;
  const order = orderOf(answer.value);
  return order ? { kind: 'ok', value: order } : { kind: 'unknown', reason: 'malformed answer' };
}

function agreementOf(answer: BankAnswer<unknown>): BankAnswer<{ agreementNo: string; status: string }> {
  if (answer.kind !== 'ok') return answer;
  const a = answer.value as { agreement_no?: unknown; status?: unknown };
  if (typeof a.agreement_no !== 'string' || typeof a.status !== 'string')
    return { kind: 'unknown', reason: 'malformed answer' };
  return { kind: 'ok', value: { agreementNo: a.agreement_no, status: a.status } };
}

/** The statement CSV → lines; null when a line does not parse (the whole file is then distrusted). */
export function parseStatement(csv: string): StatementLine[] | null {
  const rows = parseCsv(csv);
  if (rows?.[0]?.join(',') !== 'bank_serial,order_no,kind,amount,status,time') return null;
  const lines: StatementLine[] = [];
  for (const row of rows.slice(1)) {
    const [bankSerial, orderNo, kind, amount, status, time] = row;
    const amountFen = parseAmount(amount ?? '');
    if (!bankSerial || !orderNo || !kind || amountFen === undefined || !statuses.includes(status ?? '')) return null;
    lines.push({ bankSerial, orderNo, kind, amountFen, status: status as BankOrderStatus, time: time ?? '' });
  }
  return lines;
}
