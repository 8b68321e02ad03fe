/**
 * The simulator's HTTP API (see docs/bank-sim.md). Merchant routes under `/banks/:bank/` are
 * signed (HMAC-SHA256, `sign.ts`); bodies are JSON, amounts decimal strings in yuan.
 *
 *   POST /banks/:bank/gateway/orders              {order_no, amount, subject, notify_url?, return_url?} → order + pay_url
 *   GET  /banks/:bank/gateway/pay/:token          the payment page (HTML)
 *   POST /banks/:bank/gateway/pay/:token          form card_no, password → 303 to return_url (signed) or a result page
 *   POST /banks/:bank/agreements                  {request_no, card_no, name, phone} → {agreement_no, status: PENDING}, SMS sent
 *   POST /banks/:bank/agreements/:no/confirm      {sms_code} → {agreement_no, status: ACTIVE}
 *   POST /banks/:bank/withholdings                {order_no, agreement_no, amount, notify_url?} → order
 *   POST /banks/:bank/payouts                     {order_no, card_no, name, amount, notify_url?} → order
 *   POST /banks/:bank/payouts/batches             {batch_no, items: [payout…]} → {batch_no, items: [order…]}
 *   GET  /banks/:bank/payouts/batches/:batchNo    → the batch
 *   GET  /banks/:bank/orders/:orderNo             → order {status: PROCESSING | SUCCESS | FAILED, fail_code, bank_serial…}
 *   GET  /banks/:bank/statements/:date            → CSV (date YYYY-MM-DD, Beijing)
 *
 * Admin routes (unsigned, for the test harness and the operator; bind the simulator to
 * localhost): GET /admin/banks, POST /admin/banks/:bank/customers, GET /admin/sms?phone=,
 * GET|PUT /admin/faults, GET /admin/books, GET /admin/callbacks?order_no=, GET /health.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import {
  bankMerchantHeader,
  bankSignature,
  bankSignatureHeader,
  bankTimestampHeader,
  requestSignString,
  sameSignature,
} from '../core/bank-protocol.ts';
import type { Db } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { parseAmount } from '../core/money.ts';
import { Banks, type PayoutInput } from './bank.ts';
import { verifyBooks } from './books.ts';
import type { CallbackDispatcher } from './callbacks.ts';
import { parseFaults } from './config.ts';
import { BankSimError, errorCatalog } from './errors.ts';
import type { Faults } from './faults.ts';
import { payPage, resultPage } from './page.ts';
import { signParams } from './sign.ts';

export interface BankSimAppOptions {
  db: Db;
  banks: Banks;
  faults: Faults;
  callbacks: CallbackDispatcher;
  /** Where the simulator is reached from outside, for the pay URLs it hands out. */
  publicUrl: () => string;
  logger?: Logger | undefined;
}

type Body = Record<string, unknown>;

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

const patterns = {
  order_no: /^[A-Za-z0-9_-]{1,64}$/,
  batch_no: /^[A-Za-z0-9_-]{1,64}$/,
  request_no: /^[A-Za-z0-9_-]{1,64}$/,
  agreement_no: /^[A-Z0-9]{1,64}$/,
  card_no: /^\d{16,19}$/,
  phone: /^1\d{10}$/,
  sms_code: /^\d{6}$/,
  name: /^\P{Cc}{1,64}$/u,
  subject: /^\P{Cc}{1,256}$/u,
} as const;

function field(body: Body, name: keyof typeof patterns): string {
  const v = body[name];
  if (typeof v !== 'string' || !patterns[name].test(v))
    throw new BankSimError('INVALID_REQUEST', `${name} is missing or malformed`);
  return v;
}

function urlField(body: Body, name: 'notify_url' | 'return_url'): string | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > 1024 || !/^https?:\/\//.test(v) || !URL.canParse(v))
    throw new BankSimError('INVALID_REQUEST', `${name} must be an http(s) URL`);
  return v;
}

function amountField(body: Body): bigint {
  const v = body.amount;
  const fen = typeof v === 'string' ? parseAmount(v) : undefined;
  if (fen === undefined || fen <= 0n || fen > BigInt(limits.bankSimAmountFenMax))
    throw new BankSimError('INVALID_AMOUNT');
  return fen;
}

function asBody(request: FastifyRequest): Body {
  const b = request.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b))
    throw new BankSimError('INVALID_REQUEST', 'send a JSON object');
  return b as Body;
}

function payoutItem(body: Body): PayoutInput {
  return {
    orderNo: field(body, 'order_no'),
    cardNo: field(body, 'card_no'),
    name: field(body, 'name'),
    amountFen: amountField(body),
    notifyUrl: urlField(body, 'notify_url'),
  };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

export async function buildBankSimApp(options: BankSimAppOptions): Promise<FastifyInstance> {
  const { banks, faults } = options;
  const app: FastifyInstance = options.logger
    ? Fastify({ loggerInstance: options.logger as FastifyBaseLogger, bodyLimit: limits.bankSimBodyBytesMax })
    : Fastify({ logger: false, bodyLimit: limits.bankSimBodyBytesMax });
  // Hanging requests end when the simulator closes, so a shutdown never waits out a fault.
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    request.rawBody = body as string;
    try {
      done(null, body === '' ? undefined : JSON.parse(body as string));
    } catch {
      done(new BankSimError('INVALID_REQUEST', 'the body is not JSON'), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (error instanceof BankSimError)
      return reply.code(error.status).send({ code: error.code, message: error.message });
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'bank simulator failed');
      return reply.code(500).send({ code: 'SYSTEM_ERROR', message: 'internal error' });
    }
    const code = status === 413 ? 'BODY_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_REQUEST';
    return reply.code(status).send({ code, message: error.message });
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send({ code: 'NOT_FOUND', message: errorCatalog.NOT_FOUND.message }),
  );

  /** Checks the bank and the signature; answers the merchant id. */
  function authenticate(request: FastifyRequest<{ Params: { bank: string } }>): string {
    const { bank } = request.params;
    if (!banks.hasBank(bank)) throw new BankSimError('BANK_NOT_FOUND', bank);
    const merchantId = String(request.headers[bankMerchantHeader] ?? '');
    const timestamp = String(request.headers[bankTimestampHeader] ?? '');
    const signature = String(request.headers[bankSignatureHeader] ?? '');
    const secret = banks.secretOf(bank, merchantId);
    if (!secret || !/^\d{1,15}$/.test(timestamp)) throw new BankSimError('INVALID_SIGNATURE');
    if (Math.abs(Date.now() - Number(timestamp)) > limits.bankSimTimestampSkewMs)
      throw new BankSimError('INVALID_SIGNATURE', 'stale timestamp');
    const expected = bankSignature(
      secret,
      requestSignString(request.method, request.url, timestamp, request.rawBody ?? ''),
    );
    if (!sameSignature(signature, expected)) throw new BankSimError('INVALID_SIGNATURE');
    return merchantId;
  }

  /** Ends a request without an answer, as the fault setting says: held and then dropped, or dropped. */
  async function noAnswer(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.hijack();
    if (faults.config.timeoutMode === 'hang') await sleep(faults.config.hangMs, closing.signal);
    request.raw.socket.destroy();
  }

  /**
   * Runs a signed write under the fault setting. `subject` names what the write is about, so the
   * same seed meets the same order with the same fault.
   */
  async function write<T>(
    request: FastifyRequest<{ Params: { bank: string } }>,
    reply: FastifyReply,
    kind: string,
    subjectOf: (body: Body) => string,
    run: (merchantId: string, body: Body) => Promise<T>,
  ): Promise<T | undefined> {
    const merchantId = authenticate(request);
    const body = asBody(request);
    const subject = `${request.params.bank}/${merchantId}/${kind}/${subjectOf(body)}`;
    const latency = faults.latencyMs(subject);
    if (latency > 0) await sleep(latency, closing.signal);
    const fault = faults.forWrite(subject);
    if (fault === 'error') throw new BankSimError('SYSTEM_BUSY');
    if (fault === 'timeoutBefore') {
      await noAnswer(request, reply);
      return undefined;
    }
    const result = await run(merchantId, body);
    if (fault === 'timeoutAfter') {
      await noAnswer(request, reply);
      return undefined;
    }
    return result;
  }

  async function read<T>(
    request: FastifyRequest<{ Params: { bank: string } }>,
    run: (merchantId: string) => Promise<T>,
  ): Promise<T> {
    const merchantId = authenticate(request);
    const latency = faults.latencyMs(`${request.params.bank}/${merchantId}/read/${request.url}`);
    if (latency > 0) await sleep(latency, closing.signal);
    return run(merchantId);
  }

  registerMerchantRoutes(app, options, { write, read });
  registerPageRoutes(app, options);
  registerAdminRoutes(app, options);
  app.get('/health', async () => ({ status: 'ok' }));
  return app;
}

type Write = <T>(
  request: FastifyRequest<{ Params: { bank: string } }>,
  reply: FastifyReply,
  kind: string,
  subjectOf: (body: Body) => string,
  run: (merchantId: string, body: Body) => Promise<T>,
) => Promise<T | undefined>;
type Read = <T>(
  request: FastifyRequest<{ Params: { bank: string } }>,
  run: (merchantId: string) => Promise<T>,
) => Promise<T>;

function registerMerchantRoutes(
  app: FastifyInstance,
  { banks, publicUrl }: BankSimAppOptions,
  { write, read }: { write: Write; read: Read },
): void {
  type P<T = object> = { Params: { bank: string } & T };
  const orderNoOf = (b: Body) => String(b.order_no ?? '');

  app.post<P>('/banks/:bank/gateway/orders', (request, reply) =>
    write(request, reply, 'gateway', orderNoOf, async (merchantId, body) => {
      const order = await banks.createGatewayOrder(request.params.bank, merchantId, {
        orderNo: field(body, 'order_no'),
        amountFen: amountField(body),
        subject: field(body, 'subject'),
        notifyUrl: urlField(body, 'notify_url'),
        returnUrl: urlField(body, 'return_url'),
      });
      const { page_token: token, ...rest } = order;
      return { ...rest, pay_url: `${publicUrl()}/banks/${rest.bank}/gateway/pay/${token}` };
    }),
  );

  app.post<P>('/banks/:bank/agreements', (request, reply) =>
    write(
      request,
      reply,
      'bind',
      (b) => String(b.request_no ?? ''),
      (merchantId, body) =>
        banks.bind(request.params.bank, merchantId, {
          requestNo: field(body, 'request_no'),
          cardNo: field(body, 'card_no'),
          name: field(body, 'name'),
          phone: field(body, 'phone'),
        }),
    ),
  );

  app.post<P<{ agreementNo: string }>>('/banks/:bank/agreements/:agreementNo/confirm', (request, reply) =>
    write(
      request,
      reply,
      'confirm',
      () => request.params.agreementNo,
      (merchantId, body) =>
        banks.confirmBinding(request.params.bank, merchantId, request.params.agreementNo, field(body, 'sms_code')),
    ),
  );

  app.post<P>('/banks/:bank/withholdings', (request, reply) =>
    write(request, reply, 'withhold', orderNoOf, (merchantId, body) =>
      banks.withhold(request.params.bank, merchantId, {
        orderNo: field(body, 'order_no'),
        agreementNo: field(body, 'agreement_no'),
        amountFen: amountField(body),
        notifyUrl: urlField(body, 'notify_url'),
      }),
    ),
  );

  app.post<P>('/banks/:bank/payouts', (request, reply) =>
    write(request, reply, 'payout', orderNoOf, (merchantId, body) =>
      banks.payout(request.params.bank, merchantId, payoutItem(body)),
    ),
  );

  app.post<P>('/banks/:bank/payouts/batches', (request, reply) =>
    write(
      request,
      reply,
      'batch',
      (b) => String(b.batch_no ?? ''),
      (merchantId, body) => {
        const batchNo = field(body, 'batch_no');
        const items = body.items;
        if (!Array.isArray(items) || items.length === 0)
          throw new BankSimError('INVALID_REQUEST', 'items must be a non-empty array');
        if (items.length > limits.bankSimBatchItemsMax) throw new BankSimError('BATCH_TOO_LARGE');
        const parsed = items.map((item) => {
          if (typeof item !== 'object' || item === null)
            throw new BankSimError('INVALID_REQUEST', 'each item is an object');
          return payoutItem(item as Body);
        });
        if (new Set(parsed.map((p) => p.orderNo)).size !== parsed.length)
          throw new BankSimError('INVALID_REQUEST', 'order numbers repeat within the batch');
        return banks.batchPayout(request.params.bank, merchantId, batchNo, parsed);
      },
    ),
  );

  app.get<P<{ batchNo: string }>>('/banks/:bank/payouts/batches/:batchNo', (request) =>
    read(request, (merchantId) => banks.queryBatch(request.params.bank, merchantId, request.params.batchNo)),
  );

  app.get<P<{ orderNo: string }>>('/banks/:bank/orders/:orderNo', (request) =>
    read(request, (merchantId) => banks.query(request.params.bank, merchantId, request.params.orderNo)),
  );

  app.get<P<{ date: string }>>('/banks/:bank/statements/:date', async (request, reply) => {
    const csv = await read(request, (merchantId) => {
      const { date } = request.params;
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)))
        throw new BankSimError('INVALID_REQUEST', 'date must be YYYY-MM-DD');
      return banks.statement(request.params.bank, merchantId, date);
    });
    return reply.type('text/csv; charset=utf-8').send(csv);
  });
}

function registerPageRoutes(app: FastifyInstance, { banks }: BankSimAppOptions): void {
  type P = { Params: { bank: string; token: string } };
  const bankName = async (code: string) => (await banks.bank(code)).name;
  const htmlError = (reply: FastifyReply, error: unknown) => {
    if (error instanceof BankSimError) return reply.code(error.status).type('text/html').send(`<p>${error.code}</p>`);
    throw error;
  };

  app.get<P>('/banks/:bank/gateway/pay/:token', async (request, reply) => {
    try {
      const order = await banks.gatewayOrder(request.params.bank, request.params.token);
      return reply.type('text/html; charset=utf-8').send(payPage(await bankName(order.bank), request.url, order));
    } catch (error) {
      return htmlError(reply, error);
    }
  });

  app.post<P & { Body: Record<string, string> }>('/banks/:bank/gateway/pay/:token', async (request, reply) => {
    try {
      const form = (request.body ?? {}) as Record<string, string>;
      const { bank, token } = request.params;
      const page = await banks.gatewayOrder(bank, token);
      const name = await bankName(bank);
      const result = await banks.payGateway(bank, token, String(form.card_no ?? ''), String(form.password ?? ''));
      const order = { ...result.order, subject: page.subject };
      if (result.retry)
        return reply.type('text/html; charset=utf-8').send(payPage(name, request.url, order, result.retry));
      const secret = banks.secretOf(bank, order.merchant_id);
      if (page.return_url && secret) {
        const url = new URL(page.return_url);
        for (const [k, v] of Object.entries(signParams(secret, Banks.returnParams(order)))) url.searchParams.set(k, v);
        return reply.redirect(url.toString(), 303);
      }
      return reply.type('text/html; charset=utf-8').send(resultPage(name, order));
    } catch (error) {
      return htmlError(reply, error);
    }
  });
}

function registerAdminRoutes(app: FastifyInstance, { db, banks, faults, callbacks }: BankSimAppOptions): void {
  app.get('/admin/banks', async () => ({ banks: await banks.listBanks() }));
  app.post<{ Params: { bank: string } }>('/admin/banks/:bank/customers', async (request, reply) => {
    const body = asBody(request);
    const balance = body.balance ?? '0.00';
    if (typeof balance !== 'string' || parseAmount(balance) === undefined) throw new BankSimError('INVALID_AMOUNT');
    const created = await banks.addCustomer(request.params.bank, {
      name: field(body, 'name'),
      cardNo: field(body, 'card_no'),
      phone: field(body, 'phone'),
      password: typeof body.password === 'string' ? body.password : '123456',
      balance,
    });
    return reply.code(created ? 201 : 200).send({ created });
  });
  app.get<{ Querystring: { phone?: string } }>('/admin/sms', async (request) => ({
    messages: await banks.smsOutbox(request.query.phone),
  }));
  app.get('/admin/faults', async () => faults.config);
  app.put('/admin/faults', async (request) => {
    try {
      faults.set(parseFaults(asBody(request)));
    } catch (error) {
      if (error instanceof BankSimError) throw error;
      throw new BankSimError('INVALID_REQUEST', error instanceof Error ? error.message : String(error));
    }
    return faults.config;
  });
  app.get('/admin/books', async () => verifyBooks(db));
  app.get<{ Querystring: { order_no?: string } }>('/admin/callbacks', async (request) => ({
    callbacks: await callbacks.list(request.query.order_no),
  }));
}
