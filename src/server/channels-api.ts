/**
 * The channels over HTTP:
 *
 * - `/api/v1/…` for the wallet's owner (bearer session, as the rest of the native API): banks,
 *   top-ups (gateway page or bound card), cards (bind, confirm with the SMS code), withdrawals,
 *   channel orders. TypeBox schemas on every route; refusals are `{type, code, message, param}`.
 * - `/channels/callbacks/:bank` (the bank's signed callbacks; the exact body bytes are verified)
 *   and `/channels/return/:bank` (where the bank's payment page sends the browser back).
 * - `/ops/v1/…` for operators (`PAYBAO_OPERATOR_TOKEN`): reconciliation runs, the queue of
 *   lines to look at (JSON or CSV), resolving them, the loss rate.
 * - `/regulator/v1/reserves` for the regulator (`PAYBAO_REGULATOR_TOKEN`, read-only): the reserve
 *   position at this moment.
 *
 * The routes are thin: `Channels`, `Reconciler` and `ReserveReport` decide.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type Static, Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type CardView,
  type ChannelOrderView,
  type Channels,
  isChannelError,
  type Reconciler,
  type ReserveReport,
} from '../channels/index.ts';
import { limits } from '../core/limits.ts';
import { formatAmount } from '../core/money.ts';
import type { Operators } from '../members/index.ts';
import type { Wallet } from '../wallet/index.ts';
import { IdempotencyKeyHeaders } from './api.ts';
import { errorResponses } from './api-errors.ts';
import { registerApiScope } from './api-scope.ts';
import { requireUser, userOf } from './bearer-user.ts';
import { escapeHtml, page } from './html.ts';
import { guardOperators, type RouteRules } from './operator-guard.ts';
import { challengeFields, paymentContext } from './payment-context.ts';

export interface ChannelsApiDeps {
  channels: Channels;
  wallet: Wallet;
  reconciler: Reconciler;
  reserves: ReserveReport;
  /** Bearer tokens of operators and of the regulator; a route whose token is unset refuses everyone. */
  operatorToken?: string | undefined;
  /** Console operators (`paybao operators create`): their tokens open `/ops/v1` too. */
  operators?: Operators | undefined;
  regulatorToken?: string | undefined;
}

const Strict = { additionalProperties: false } as const;
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);
const errors = errorResponses;
const Amount = Type.String({
  pattern: '^(0|[1-9][0-9]{0,15})(\\.[0-9]{1,2})?$',
  maxLength: 20,
  description: 'Yuan as a decimal string with at most 2 places.',
  examples: ['88.88'],
});
const BankCode = Type.String({
  pattern: '^[A-Z0-9]{2,16}$',
  description: 'A bank code: 2 to 16 capital letters or digits.',
  examples: ['ICBC'],
});
const Order = Type.Object({
  order_no: Type.String(),
  kind: Type.String({ description: 'TOPUP_GATEWAY, TOPUP_WITHHOLD or WITHDRAW' }),
  bank: Type.String(),
  card_id: Nullable(Type.String()),
  amount: Amount,
  status: Type.String({
    description: 'CREATED, REVIEW (held until a reviewer decides), IN_FLIGHT, UNKNOWN (being asked), SUCCESS or FAILED',
  }),
  fail_code: Nullable(Type.String()),
  pay_url: Nullable(Type.String({ description: "The bank's payment page (gateway top-ups in flight)." })),
  created_at: Type.String({ format: 'date-time' }),
  finished_at: Nullable(Type.String({ format: 'date-time' })),
});
/** A bound card as the native APIs show it (the wallet's cards, a merchant's settlement account). */
export const Card = Type.Object({
  card_id: Type.String(),
  bank: Type.String(),
  card_no: Type.String({ description: 'Masked: only the last four digits.' }),
  status: Type.String({ description: 'PENDING until confirmed with the SMS code, then ACTIVE' }),
  created_at: Type.String({ format: 'date-time' }),
});
const TopUpBody = Type.Object(
  {
    amount: Amount,
    method: Type.Union([Type.Literal('gateway'), Type.Literal('card')]),
    bank: Type.Optional(BankCode),
    card_id: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { ...Strict, description: 'gateway: pay on the bank page (bank optional: routed by limits); card: card_id.' },
);
const WithdrawBody = Type.Object(
  { amount: Amount, card_id: Type.String({ maxLength: 64 }), ...challengeFields },
  Strict,
);
export const BindBody = Type.Object(
  {
    bank: BankCode,
    card_no: Type.String({ pattern: '^[0-9]{12,19}$', description: '12 to 19 digits.' }),
    name: Type.String({ minLength: 1, maxLength: limits.channelNameLengthMax }),
    phone: Type.String({ pattern: '^1[0-9]{10}$', description: 'A mainland mobile: 11 digits from 1.' }),
  },
  Strict,
);
export const ConfirmBody = Type.Object(
  { sms_code: Type.String({ pattern: '^[0-9]{6}$', description: 'Six digits.' }) },
  Strict,
);

function orderJson(o: ChannelOrderView): Static<typeof Order> {
  return {
    order_no: o.orderNo,
    kind: o.kind,
    bank: o.bank,
    card_id: o.cardId,
    amount: o.amount,
    status: o.status,
    fail_code: o.failCode,
    pay_url: o.payUrl,
    created_at: o.createdAt.toISOString(),
    finished_at: o.finishedAt?.toISOString() ?? null,
  };
}

export function cardJson(c: CardView): Static<typeof Card> {
  return {
    card_id: c.cardId,
    bank: c.bank,
    card_no: c.cardNo,
    status: c.status,
    created_at: c.createdAt.toISOString(),
  };
}

/** The native API routes of the channels, for the wallet's owner. */
function userRoutes(api: FastifyInstance, { channels, wallet }: ChannelsApiDeps): void {
  requireUser(api, wallet);
  const typed = api.withTypeProvider<TypeBoxTypeProvider>();
  const doc = (summary: string) => ({ summary, tags: ['banks'], security: [{ bearerAuth: [] }] });
  typed.get(
    '/banks',
    { schema: { ...doc('Banks you can top up from, with their limits'), response: { 200: Type.Any(), ...errors } } },
    async () => ({
      data: channels.banks().map((b) => ({
        code: b.code,
        name: b.name,
        payment_max: formatAmount(b.paymentMaxFen),
        daily_max: formatAmount(b.dailyMaxFen),
        payout_max: formatAmount(b.payoutMaxFen),
      })),
    }),
  );
  typed.post(
    '/topups',
    {
      schema: {
        ...doc('Top up the wallet from a bank: on its payment page, or from a bound card'),
        headers: IdempotencyKeyHeaders,
        body: TopUpBody,
        response: { 201: Order, ...errors },
      },
    },
    async (request, reply) => {
      const { amount, method, bank, card_id: cardId } = request.body;
      const idempotencyKey = request.headers['idempotency-key'];
      const order =
        method === 'gateway'
          ? await channels.topUpByGateway(userOf(request), { bank, amount, idempotencyKey })
          : await channels.topUpByCard(userOf(request), { cardId: cardId ?? '', amount, idempotencyKey });
      return reply.code(201).send(orderJson(order));
    },
  );
  typed.post(
    '/withdrawals',
    {
      schema: {
        ...doc('Withdraw from the wallet to a bound card'),
        headers: IdempotencyKeyHeaders,
        body: WithdrawBody,
        response: { 201: Order, ...errors },
      },
    },
    async (request, reply) => {
      const { amount, card_id: cardId } = request.body;
      const idempotencyKey = request.headers['idempotency-key'];
      const context = paymentContext(request, request.body);
      return reply
        .code(201)
        .send(orderJson(await channels.withdraw(userOf(request), { cardId, amount, idempotencyKey }, context)));
    },
  );
  typed.get(
    '/channel-orders/:orderNo',
    {
      schema: {
        ...doc('One of your top-ups or withdrawals'),
        params: Type.Object(
          { orderNo: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Letters, digits, _ and -.' }) },
          Strict,
        ),
        response: { 200: Order, ...errors },
      },
    },
    async (request) => orderJson(await channels.order(userOf(request), request.params.orderNo)),
  );
  typed.get(
    '/cards',
    { schema: { ...doc('Your cards'), response: { 200: Type.Object({ data: Type.Array(Card) }), ...errors } } },
    async (request) => ({ data: (await channels.cards.list(userOf(request))).map(cardJson) }),
  );
  typed.post(
    '/cards',
    {
      schema: {
        ...doc('Bind a card: the bank texts an SMS code to the phone it has for the card'),
        body: BindBody,
        response: { 201: Card, ...errors },
      },
    },
    async (request, reply) => {
      const { bank, card_no: cardNo, name, phone } = request.body;
      return reply.code(201).send(cardJson(await channels.cards.bind(userOf(request), { bank, cardNo, name, phone })));
    },
  );
  typed.post(
    '/cards/:cardId/confirm',
    {
      schema: {
        ...doc('Confirm a card binding with the SMS code'),
        params: Type.Object({ cardId: Type.String({ maxLength: 64 }) }, Strict),
        body: ConfirmBody,
        response: { 200: Card, ...errors },
      },
    },
    async (request) =>
      cardJson(await channels.cards.confirm(userOf(request), request.params.cardId, request.body.sms_code)),
  );
}

/** The bank's side: callbacks (raw body, signature over its exact bytes) and the browser's return. */
function bankRoutes(scope: FastifyInstance, { channels }: ChannelsApiDeps): void {
  // The signature covers the exact bytes: keep every body as the string it arrived as.
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: limits.apiBodyBytesMax * 4 }, (_req, body, done) =>
    done(null, body),
  );
  scope.post<{ Params: { bank: string }; Body: string }>('/channels/callbacks/:bank', async (request, reply) => {
    const headers: Record<string, string | undefined> = {};
    for (const name of ['x-bank-merchant', 'x-bank-timestamp', 'x-bank-signature']) {
      const value = request.headers[name];
      headers[name] = typeof value === 'string' ? value : undefined;
    }
    const body = typeof request.body === 'string' ? request.body : '';
    const outcome = await channels.handleCallback(request.params.bank, headers, body);
    if (outcome.verdict !== 'accepted')
      request.log.warn({ bank: request.params.bank, verdict: outcome.verdict }, 'bank callback refused');
    return reply.code(outcome.status).type('text/plain').send(outcome.body);
  });
  scope.get<{ Params: { bank: string }; Querystring: Record<string, string> }>(
    '/channels/return/:bank',
    async (request, reply) => {
      reply.type('text/html; charset=utf-8');
      try {
        const order = await channels.handleReturn(request.params.bank, request.query);
        return returnPage(order);
      } catch (error) {
        if (isChannelError(error)) {
          const body = `<div class="card result FAILED"><h2 id="title">未能核实 · Not verified</h2><p>${escapeHtml(error.message)}</p>${backToWallet}</div>`;
          return reply.code(400).send(page('Paybao', 'Not verified', body));
        }
        throw error;
      }
    },
  );
}

const backToWallet = '<p class="center"><a id="back" href="/app">返回钱包 · Back to the wallet</a></p>';

/** Where the bank's page sends the browser back: the top-up's outcome in words, and the way back. */
function returnPage(order: ChannelOrderView): string {
  const outcome = {
    SUCCESS: { title: '充值成功 · Top-up successful', icon: '✓', words: '到账 · Credited to your wallet' },
    FAILED: { title: '充值失败 · Top-up failed', icon: '✕', words: '未扣款 · No money moved' },
  }[order.status as 'SUCCESS' | 'FAILED'] ?? {
    title: '充值处理中 · Top-up in progress',
    icon: '…',
    words: '银行处理中 · The bank is working on it',
  };
  const kind = order.status === 'SUCCESS' || order.status === 'FAILED' ? order.status : 'pending';
  const body = `<div class="card result ${kind}"><div class="icon">${outcome.icon}</div>
  <h2 id="title">${outcome.title}</h2><div class="amount"><small>¥</small>${escapeHtml(order.amount)}</div>
  <p id="status" data-status="${escapeHtml(order.status)}">${outcome.words}</p>
  <p class="muted">订单号 · Order <span class="nowrap">${escapeHtml(order.orderNo)}</span></p>${backToWallet}</div>`;
  return page('Paybao', outcome.title, body);
}

/** A bearer token compared in constant time (hashes first, so lengths do not leak). */
function tokenGuard(expected: string | undefined) {
  const want = expected ? createHash('sha256').update(expected).digest() : undefined;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const match = /^Bearer ([^\s]+)$/i.exec(request.headers.authorization ?? '');
    const got = createHash('sha256')
      .update(match?.[1] ?? '')
      .digest();
    const byToken = want !== undefined && match !== null && timingSafeEqual(got, want);
    if (!byToken) {
      return reply.code(401).send({
        type: 'authentication_error',
        code: 'credentials_invalid',
        message: 'send the right bearer token',
        param: 'Authorization',
      });
    }
  };
}

/** The operators' API: finance's (an administrator's too), every change in the audit log. */
const opsRules: RouteRules = {
  'POST /reconciliations': {
    roles: ['finance'],
    audit: 'reconciliation.run',
    target: (r) => {
      const b = r.body as { bank?: string; date?: string };
      return `${b.bank}/${b.date}`;
    },
  },
  'GET /reconciliation-items': { roles: ['finance'] },
  'POST /reconciliation-items/:id/resolve': { roles: ['finance'], audit: 'reconciliation.resolve' },
  'GET /loss-rate': { roles: ['finance'] },
  'GET /reserves': { roles: ['finance'] },
};

/** Operators: reconciliation runs, the queue (JSON or CSV), resolutions, the loss rate. */
function operatorRoutes(scope: FastifyInstance, deps: ChannelsApiDeps): void {
  if (deps.operators) {
    guardOperators(scope, {
      operators: deps.operators,
      prefix: '/ops/v1',
      rules: opsRules,
      scriptToken: deps.operatorToken,
    });
  } else {
    scope.addHook('onRequest', tokenGuard(deps.operatorToken));
  }
  const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
  const Day = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'A day: YYYY-MM-DD.' });
  typed.post(
    '/reconciliations',
    { schema: { body: Type.Object({ bank: BankCode, date: Day }, Strict) } },
    async (request) => deps.reconciler.run(request.body.bank, request.body.date),
  );
  typed.get(
    '/reconciliation-items',
    {
      schema: {
        querystring: Type.Object(
          {
            bank: Type.Optional(BankCode),
            date: Type.Optional(Day),
            state: Type.Optional(Type.Union([Type.Literal('OPEN'), Type.Literal('RESOLVED')])),
            format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
          },
          Strict,
        ),
      },
    },
    async (request, reply) => {
      const { format, ...filter } = request.query;
      const items = await deps.reconciler.items(filter);
      if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(deps.reconciler.csv(items));
      return { data: items };
    },
  );
  typed.post(
    '/reconciliation-items/:id/resolve',
    {
      schema: {
        params: Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$', description: 'Digits.' }) }, Strict),
        body: Type.Object(
          {
            action: Type.Union([Type.Literal('dismiss'), Type.Literal('write_off')]),
            note: Type.String({ minLength: 1, maxLength: 500 }),
          },
          Strict,
        ),
      },
    },
    async (request) => deps.reconciler.resolve(request.params.id, request.body.action, request.body.note),
  );
  typed.get('/loss-rate', async () => {
    const { losses, volume, lossCount, perHundredThousand } = await deps.reconciler.lossRate();
    return { losses, volume, lossCount, perHundredThousand };
  });
  typed.get('/reserves', async () => deps.reserves.position());
}

/** The regulator: the reserve position, read-only, with credentials of its own. */
function regulatorRoutes(scope: FastifyInstance, deps: ChannelsApiDeps): void {
  scope.addHook('onRequest', tokenGuard(deps.regulatorToken));
  scope.get('/reserves', async () => deps.reserves.position());
}

/** Mounts the channels' routes (see the file comment). Register after `registerApi`. */
export async function registerChannelsApi(app: FastifyInstance, deps: ChannelsApiDeps): Promise<void> {
  const scoped = (prefix: string, routes: (scope: FastifyInstance, deps: ChannelsApiDeps) => void) =>
    registerApiScope(app, prefix, (scope) => routes(scope, deps));
  await scoped('/api/v1', userRoutes);
  await scoped('', bankRoutes);
  await scoped('/ops/v1', operatorRoutes);
  await scoped('/regulator/v1', regulatorRoutes);
}
