/**
 * The native API: JSON under `/api/v1` for the wallet's owner (login, balance, bills, transfers,
 * payment codes, trade detail), described by OpenAPI 3 at `/docs/json` with Swagger UI at `/docs`.
 * Every route has TypeBox schemas; every refusal, the framework's included, answers
 * `{type, code, message, param}` (`refusals.ts`: the wallet's catalog, schema misses in words),
 * so bad input gets a 4xx in that shape and never a 500. The routes are thin: the `Wallet` decides.
 */
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import {
  type Static,
  type TSchema,
  Type,
  type TypeBoxTypeProvider,
  TypeBoxValidatorCompiler,
} from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { assert } from '../core/assert.ts';
import { idempotencyKeyPattern } from '../core/idempotency.ts';
import { limits } from '../core/limits.ts';
import { formatAmount } from '../core/money.ts';
import type { Fund, FundOverview, OrderDays, OrderView } from '../fund/index.ts';
import type { User } from '../members/index.ts';
import type { DisputeView, RefundCaseView, TradeView } from '../trades/index.ts';
import {
  type BillEntry,
  type BuyerEscrow,
  billTypeNames,
  isWalletError,
  type Wallet,
  WalletError,
} from '../wallet/index.ts';
import { apiErrorProperties } from './api-errors.ts';
import { noteSessionUser } from './overload.ts';
import { challengeFields, paymentContext } from './payment-context.ts';
import { clientAddress, docsPolicy, loginRateLimit } from './web-security.ts';

export interface ApiDeps {
  wallet: Wallet;
  /** Yu'e Bao: holdings, income, the 7-day yield, purchases and redemptions. */
  fund: Fund;
  /** The buyer's side of escrow trades (confirm receipt, refund requests, disputes). */
  buyerEscrow: BuyerEscrow;
}

const prefix = '/api/v1';

// ---- Schemas -------------------------------------------------------------------------------

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Strict = { additionalProperties: false } as const;

const ApiError = Type.Object(apiErrorProperties, { $id: 'ApiError', title: 'ApiError' });
const errorRef = Type.Ref('ApiError');
const errors = { '4xx': errorRef, '5xx': errorRef };

const Phone = Type.String({
  pattern: '^\\+?[0-9][0-9 -]{6,22}$',
  maxLength: 24,
  description: 'A mainland mobile (13800138000) or E.164 (+8613800138000).',
  examples: ['13800138000'],
});
const UserId = Type.String({ pattern: '^2088[0-9]{12}$', description: '16 digits from 2088.' });
const Amount = Type.String({
  pattern: '^(0|[1-9][0-9]{0,15})(\\.[0-9]{1,2})?$',
  maxLength: 20,
  description: 'Yuan as a decimal string with at most 2 places; never a number.',
  examples: ['88.88'],
});
const Time = Type.String({ format: 'date-time' });

const LoginBody = Type.Object(
  {
    phone: Phone,
    password: Type.Optional(Type.String({ minLength: 1, maxLength: limits.passwordLengthMax })),
    sms_code: Type.Optional(
      Type.String({ pattern: '^[0-9]{6}$', description: 'Six digits, from POST /api/v1/sms-codes.' }),
    ),
  },
  { ...Strict, description: 'Give password or sms_code.' },
);
const Session = Type.Object({
  token: Type.String({ description: 'Send as `Authorization: Bearer <token>`.' }),
  token_type: Type.Literal('Bearer'),
  user_id: UserId,
  expires_at: Time,
});
const SmsBody = Type.Object({ phone: Phone }, Strict);
const Me = Type.Object({ user_id: UserId, logon_id: Type.String({ description: 'The masked phone.' }) });
const Balance = Type.Object({ currency: Type.Literal('CNY'), available: Amount });
const BillsQuery = Type.Object(
  {
    // Digits, not an integer schema: type conversion would take "1.5", "1e1" and "0x10" for numbers.
    limit: Type.Optional(
      Type.String({
        pattern: '^[1-9][0-9]{0,2}$',
        description: `Entries per page, 1 to ${limits.billsPageMax}; ${limits.billsPageDefault} by default.`,
      }),
    ),
    cursor: Type.Optional(
      Type.String({
        pattern: '^[0-9]{1,19}$',
        description: 'next_cursor of the previous page (up to 19 digits); opaque.',
      }),
    ),
    direction: Type.Optional(
      Type.Union([Type.Literal('in'), Type.Literal('out')], {
        description: 'Only money in (in) or only money out (out); both by default.',
      }),
    ),
  },
  Strict,
);
const BillParams = Type.Object(
  { id: Type.String({ pattern: '^[0-9a-f-]{36}$', description: "An entry's id, as the bill lists it." }) },
  Strict,
);
const Bill = Type.Object({
  id: Type.String({ description: 'The ledger transfer id.' }),
  type: Type.Union(
    billTypeNames.map((t) => Type.Literal(t)),
    {
      description:
        'By ledger transfer code: 1 opening_balance; 100 and 120 (escrow) trade_payment; 101, 121 and 414 (to the ' +
        "buyer's Yu'e Bao) trade_refund; " +
        '124 royalty (a split); 125 settlement (released escrow money); 127 compensation (from the fund); ' +
        '128 recovery (taken back for the fund); 200 transfer; 300 topup (from a bank); 301 withdrawal (to a bank); ' +
        "110 payout (a merchant's transfer); 400 fund_purchase, 406 and 407 fund_redemption, 411 fund_payment " +
        "(Yu'e Bao's shares redeemed to pay a trade); 700 preauth_freeze (a deposit frozen for a merchant; its " +
        'settlement is trade_payment, its release preauth_unfreeze), 701 trade_payment (a credit-guaranteed part ' +
        'collected), 703 preauth_repayment (a debt for a credit advance repaid); other for anything else.',
    },
  ),
  direction: Type.Union([Type.Literal('in'), Type.Literal('out')]),
  amount: Amount,
  counterparty_user_id: Nullable(UserId),
  trade_no: Nullable(Type.String()),
  memo: Nullable(Type.String()),
  time: Time,
});
const Bills = Type.Object({ data: Type.Array(Bill), has_more: Type.Boolean(), next_cursor: Nullable(Type.String()) });
/** The one Idempotency-Key header of the native API's money-moving POSTs (`core/idempotency.ts`). */
export const IdempotencyKeyHeaders = Type.Object({
  'idempotency-key': Type.String({
    minLength: limits.idempotencyKeyLengthMin,
    maxLength: limits.idempotencyKeyLengthMax,
    pattern: idempotencyKeyPattern,
    description:
      'Printable ASCII without spaces, required. The same key with the same body answers the first result again; with another body, 409 idempotency_key_reused.',
  }),
});
const TransferBody = Type.Object(
  {
    to_user_id: Type.Optional(UserId),
    to_phone: Type.Optional(Phone),
    amount: Amount,
    memo: Type.Optional(Type.String({ maxLength: limits.transferMemoLengthMax })),
    source: Type.Optional(
      Type.Union([Type.Literal('balance'), Type.Literal('fund')], {
        description:
          "Where the money comes from: the balance (the default), or Yu'e Bao (its shares, redeemed at once).",
      }),
    ),
    ...challengeFields,
  },
  { ...Strict, description: 'Give to_user_id or to_phone.' },
);
const Transfer = Type.Object({
  id: Type.String({ description: 'The ledger transfer id, derived from you and the Idempotency-Key.' }),
  status: Type.Union([Type.Literal('succeeded'), Type.Literal('in_review')], {
    description: 'in_review: the money is held until a reviewer decides; send the request again to see the outcome.',
  }),
  from_user_id: UserId,
  to_user_id: UserId,
  amount: Amount,
  memo: Type.String(),
  created_at: Time,
});
const PaymentCode = Type.Object({
  payment_code: Type.String({ pattern: '^28[0-9]{16}$', description: '18 digits from 28.' }),
  expires_in_s: Type.Integer(),
});
const TradeParams = Type.Object(
  { tradeNo: Type.String({ pattern: '^[0-9]{1,64}$', description: 'A trade number: digits.' }) },
  Strict,
);
const Trade = Type.Object({
  trade_no: Type.String(),
  out_trade_no: Type.String(),
  status: Type.String(),
  subject: Type.String(),
  total_amount: Amount,
  refunded_amount: Amount,
  seller_id: UserId,
  buyer_id: Nullable(UserId),
  created_at: Time,
  paid_at: Nullable(Time),
  closed_at: Nullable(Time),
  escrow: Nullable(
    Type.Object(
      {
        logistics_company: Nullable(Type.String()),
        logistics_no: Nullable(Type.String()),
        shipped_at: Nullable(Time),
        confirm_deadline: Nullable(Time),
        released_at: Nullable(Time),
        fee_amount: Amount,
        refund_request_open: Type.Boolean(),
      },
      { description: 'Escrow (guaranteed) trades only: the money waits until you confirm receipt.' },
    ),
  ),
});
const TradesQuery = Type.Object(
  {
    limit: BillsQuery.properties.limit,
    after: Type.Optional(
      Type.String({ pattern: '^[0-9]{1,64}$', description: 'next_after of the previous page: a trade number.' }),
    ),
  },
  Strict,
);
const Trades = Type.Object({
  data: Type.Array(Trade),
  has_more: Type.Boolean(),
  next_after: Nullable(Type.String({ description: 'Pass as `after` for the next page; null on the last.' })),
});
const Reason = Type.String({ minLength: 1, maxLength: 512 });
const TrackingNo = Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$', description: 'Letters, digits and dashes.' });
const CaseParams = Type.Object(
  { caseNo: Type.String({ pattern: '^RC[0-9]{8,40}$', description: 'RC and digits.' }) },
  Strict,
);
const DisputeParams = Type.Object(
  { disputeNo: Type.String({ pattern: '^DP[0-9]{8,40}$', description: 'DP and digits.' }) },
  Strict,
);
const RefundRequestBody = Type.Object(
  {
    amount: Amount,
    reason: Reason,
    need_return: Type.Optional(Type.Boolean({ description: 'Send the goods back first (after shipment only).' })),
  },
  Strict,
);
const ReturnBody = Type.Object(
  { logistics_company: Type.String({ minLength: 1, maxLength: 64 }), logistics_no: TrackingNo },
  Strict,
);
const DisputeBody = Type.Object(
  { claim_amount: Type.Optional(Amount), reason: Reason },
  { ...Strict, description: 'Without claim_amount, the claim is the refused refund (or what is left of the trade).' },
);
const RefundCase = Type.Object({
  case_no: Type.String(),
  trade_no: Type.String(),
  status: Type.String({
    description:
      'WAIT_SELLER_AGREE, WAIT_BUYER_RETURN_GOODS, WAIT_SELLER_CONFIRM_GOODS, SELLER_REFUSE_BUYER, REFUNDING, REFUND_SUCCESS, REFUND_CLOSED',
  }),
  refund_amount: Amount,
  reason: Type.String(),
  need_return: Type.Boolean(),
  refuse_reason: Nullable(Type.String()),
  return_logistics_company: Nullable(Type.String()),
  return_logistics_no: Nullable(Type.String()),
  due_at: Nullable(
    Type.String({
      format: 'date-time',
      description:
        'When the case moves without the party it waits on: a silent seller agrees (5 days), a buyer who does not send the goods back gives up (7 days), a silent seller refunds the returned goods (10 days)',
    }),
  ),
  created_at: Time,
  updated_at: Time,
});
const Dispute = Type.Object({
  dispute_no: Type.String(),
  trade_no: Type.String(),
  case_no: Nullable(Type.String()),
  status: Type.String({ description: 'WAIT_SELLER_EVIDENCE, WAIT_RULING, RULING, RULED_FOR_BUYER, RULED_FOR_SELLER' }),
  claim_amount: Amount,
  reason: Type.String(),
  evidence: Nullable(Type.String()),
  award_amount: Nullable(Amount),
  paid_from: Nullable(Type.String({ description: 'escrow, or fund (the compensation fund, after release)' })),
  created_at: Time,
  ruled_at: Nullable(Time),
});

// ---- Sessions ------------------------------------------------------------------------------

/** The session behind each authenticated request. */
const sessions = new WeakMap<FastifyRequest, { user: User; token: string }>();

function bearerToken(request: FastifyRequest): string {
  const match = /^Bearer ([^\s]+)$/i.exec(request.headers.authorization ?? '');
  if (!match?.[1]) throw new WalletError('session_invalid', { param: 'Authorization' });
  return match[1];
}

function sessionOf(request: FastifyRequest): { user: User; token: string } {
  const session = sessions.get(request);
  assert(session, 'an authenticated route runs after the session hook');
  return session;
}

const ProductCode = Type.String({ pattern: '^[A-Z0-9_]{2,16}$', description: 'A fund product, e.g. YEB.' });
const Day = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'A Beijing calendar day.' });
const YieldPercent = Nullable(
  Type.String({ description: 'Annualised, in percent with 4 places ("2.3456"); null until 7 days are declared.' }),
);
const FundHolding = Type.Object({
  product_code: ProductCode,
  product_name: Type.String(),
  shares: Amount,
  redeeming: Type.String({ description: 'Shares of redemptions (and payments) not yet final, as yuan.' }),
  to_be_confirmed: Type.String({ description: 'Purchases whose money is held until their confirmation day.' }),
  yesterday: Day,
  yesterday_income: Amount,
  total_income: Amount,
  seven_day_yield: YieldPercent,
});
const FundHoldings = Type.Object({ data: Type.Array(FundHolding) });
const FundYieldParams = Type.Object({ productCode: ProductCode }, Strict);
const FundYield = Type.Object({
  product_code: ProductCode,
  data: Type.Array(Type.Object({ day: Day, seven_day_yield: YieldPercent }), {
    description: `The last ${limits.fundYieldHistoryDays} days, ending yesterday, oldest first.`,
  }),
});
const FundOrderKind = Type.Union([Type.Literal('purchase'), Type.Literal('standard'), Type.Literal('fast')]);
const FundQuoteQuery = Type.Object({ kind: FundOrderKind }, Strict);
const FundQuote = Type.Object({
  kind: FundOrderKind,
  trade_day: Day,
  confirm_day: Day,
  note: Type.String({ description: 'What happens when, in words, to show before the user confirms.' }),
});
const FundOrderBody = Type.Object(
  {
    product_code: ProductCode,
    amount: Amount,
    card_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'A bound card (GET /cards) to pay from by quick pay; absent: the wallet balance.',
      }),
    ),
  },
  Strict,
);
const FundRedemptionBody = Type.Object(
  { product_code: ProductCode, amount: Amount, kind: Type.Union([Type.Literal('standard'), Type.Literal('fast')]) },
  Strict,
);
const FundOrder = Type.Object({
  order_id: Type.String(),
  product_code: ProductCode,
  kind: Type.Union([
    Type.Literal('purchase'),
    Type.Literal('standard'),
    Type.Literal('fast'),
    Type.Literal('payment'),
    Type.Literal('refund'),
  ]),
  amount: Amount,
  status: Type.Union([Type.Literal('to_be_confirmed'), Type.Literal('confirmed'), Type.Literal('paid')]),
  trade_day: Day,
  confirm_day: Day,
  card_order_no: Nullable(
    Type.String({
      description: 'A purchase paid from a card: the bank channel order that took the money; null otherwise.',
    }),
  ),
});
const FundOrders = Type.Object({ data: Type.Array(FundOrder) });
const FundAutoTransferBody = Type.Object(
  {
    product_code: ProductCode,
    keep_amount: Type.String({
      pattern: '^[0-9]{1,13}(\\.[0-9]{1,2})?$',
      description:
        'Yuan kept in the wallet; each evening from 21:00 Beijing the balance above it (at least 1.00) is bought.',
    }),
  },
  Strict,
);
const FundAutoTransfer = Type.Object({
  enabled: Type.Boolean(),
  product_code: Nullable(ProductCode),
  keep_amount: Nullable(Type.String()),
});

// ---- Views ---------------------------------------------------------------------------------

const yieldText = (percent: number | undefined) => (percent === undefined ? null : percent.toFixed(4));

function fundHoldingView(h: FundOverview): Static<typeof FundHolding> {
  return {
    product_code: h.productCode,
    product_name: h.productName,
    shares: h.shares,
    redeeming: h.redeeming,
    to_be_confirmed: h.toBeConfirmed,
    yesterday: h.yesterday,
    yesterday_income: h.yesterdayIncome,
    total_income: h.totalIncome,
    seven_day_yield: yieldText(h.sevenDayYield),
  };
}

function fundOrderView(o: OrderView): Static<typeof FundOrder> {
  return {
    order_id: o.orderId,
    product_code: o.productCode,
    kind: o.kind.toLowerCase() as Static<typeof FundOrder>['kind'],
    amount: o.amount,
    status: o.status,
    trade_day: o.tradeDay,
    confirm_day: o.dueDay,
    card_order_no: o.cardOrderNo,
  };
}

/** The days an order made now would have, with what they mean, for the user to read before confirming. */
export function fundQuote(kind: Static<typeof FundOrderKind>, days: OrderDays): Static<typeof FundQuote> {
  const note = {
    purchase: `Shares are confirmed and start earning on ${days.dueDay}; the first income shows the day after.`,
    standard: `The money arrives in your wallet on ${days.dueDay}; the shares earn until then.`,
    fast: `The money arrives in your wallet at once (at most ${formatAmount(BigInt(limits.fundFastRedemptionDailyFenMax))} yuan a day).`,
  }[kind];
  return { kind, trade_day: days.tradeDay, confirm_day: days.dueDay, note };
}

const iso = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString();

function tradeView(t: TradeView): Static<typeof Trade> {
  return {
    trade_no: t.tradeNo,
    out_trade_no: t.outTradeNo,
    status: t.status,
    subject: t.subject,
    total_amount: t.totalAmount,
    refunded_amount: t.refundedAmount,
    seller_id: t.sellerId,
    buyer_id: t.buyerId,
    created_at: t.createdAt.toISOString(),
    paid_at: t.paidAt?.toISOString() ?? null,
    closed_at: t.closedAt?.toISOString() ?? null,
    escrow: t.escrow
      ? {
          logistics_company: t.escrow.logisticsCompany,
          logistics_no: t.escrow.logisticsNo,
          shipped_at: t.escrow.shippedAt?.toISOString() ?? null,
          confirm_deadline: t.escrow.confirmDueAt?.toISOString() ?? null,
          released_at: t.escrow.releasedAt?.toISOString() ?? null,
          fee_amount: t.escrow.feeAmount,
          refund_request_open: t.escrow.caseOpen,
        }
      : null,
  };
}

function billView(e: BillEntry) {
  return {
    id: e.id,
    type: e.type,
    direction: e.direction,
    amount: e.amount,
    counterparty_user_id: e.counterpartyUserId,
    trade_no: e.tradeNo,
    memo: e.memo,
    time: e.time.toISOString(),
  };
}

function refundCaseView(c: RefundCaseView): Static<typeof RefundCase> {
  return {
    case_no: c.caseNo,
    trade_no: c.tradeNo,
    status: c.status,
    refund_amount: c.refundAmount,
    reason: c.reason,
    need_return: c.needReturn,
    refuse_reason: c.refuseReason,
    return_logistics_company: c.returnLogisticsCompany,
    return_logistics_no: c.returnLogisticsNo,
    due_at: c.dueAt?.toISOString() ?? null,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

/** A dispute as its buyer sees it (the console adds the operator's fields). */
export function disputeView(d: DisputeView): Static<typeof Dispute> {
  return {
    dispute_no: d.disputeNo,
    trade_no: d.tradeNo,
    case_no: d.caseNo,
    status: d.status,
    claim_amount: d.claimAmount,
    reason: d.reason,
    evidence: d.evidence,
    award_amount: d.awardAmount,
    paid_from: d.paidFrom,
    created_at: d.createdAt.toISOString(),
    ruled_at: d.ruledAt?.toISOString() ?? null,
  };
}

// ---- Routes --------------------------------------------------------------------------------

const bearer = [{ bearerAuth: [] }];

/** Public routes: login and the SMS code that logs in. */
function publicRoutes(api: FastifyInstance, { wallet }: ApiDeps): void {
  const typed = api.withTypeProvider<TypeBoxTypeProvider>();
  typed.post(
    '/sessions',
    {
      config: { rateLimit: loginRateLimit },
      schema: {
        summary: 'Log in with phone and password, or phone and SMS code',
        tags: ['sessions'],
        body: LoginBody,
        response: { 201: Session, ...errors },
      },
    },
    async (request, reply) => {
      const { phone, password, sms_code: smsCode } = request.body;
      const session = await wallet
        .login({ phone, password, smsCode, clientAddress: clientAddress(request) })
        .catch((error: unknown) => {
          // The client learns when to try again, as the rate limit's refusals tell it.
          if (isWalletError(error, 'login_throttled') && error.retryAfterMs !== undefined)
            reply.header('retry-after', Math.ceil(error.retryAfterMs / 1000));
          throw error;
        });
      return reply.code(201).send({
        token: session.token,
        token_type: 'Bearer' as const,
        user_id: session.userId,
        expires_at: iso(session.expiresAtNs),
      });
    },
  );
  typed.post(
    '/sms-codes',
    {
      config: { rateLimit: loginRateLimit },
      schema: {
        summary: 'Send a login code to a registered phone (an unregistered one gets nothing, silently)',
        tags: ['sessions'],
        body: SmsBody,
        response: { 202: Type.Object({ status: Type.Literal('sent') }), ...errors },
      },
    },
    async (request, reply) => {
      await wallet.sendLoginCode(request.body.phone);
      return reply.code(202).send({ status: 'sent' as const });
    },
  );
}

/** Routes that need `Authorization: Bearer <token>`. */
function authenticatedRoutes(api: FastifyInstance, { wallet, buyerEscrow, fund }: ApiDeps): void {
  api.addHook('onRequest', async (request) => {
    const token = bearerToken(request);
    const user = await wallet.authenticate(token);
    sessions.set(request, { user, token });
    noteSessionUser(request, user.userId);
  });
  const typed = api.withTypeProvider<TypeBoxTypeProvider>();
  const doc = (summary: string, tag: string) => ({ summary, tags: [tag], security: bearer });

  typed.delete(
    '/sessions/current',
    { schema: { ...doc('Log out: end this session', 'sessions'), response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await wallet.logout(sessionOf(request).token);
      return reply.code(204).send(null);
    },
  );
  typed.get(
    '/me',
    { schema: { ...doc('Who you are', 'wallet'), response: { 200: Me, ...errors } } },
    async (request) => {
      const { user } = sessionOf(request);
      return { user_id: user.userId, logon_id: user.logonId };
    },
  );
  typed.get(
    '/balance',
    { schema: { ...doc('What your wallet can spend', 'wallet'), response: { 200: Balance, ...errors } } },
    async (request) => ({
      currency: 'CNY' as const,
      available: formatAmount(await wallet.balance(sessionOf(request).user)),
    }),
  );
  typed.get(
    '/bills',
    {
      schema: {
        ...doc('Your bill, newest first, a page at a time', 'wallet'),
        querystring: BillsQuery,
        response: { 200: Bills, ...errors },
      },
    },
    async (request) => {
      const { limit, cursor, direction } = request.query;
      const page = await wallet.bills(sessionOf(request).user, {
        limit: limit === undefined ? undefined : Number(limit),
        cursor,
        direction,
      });
      return {
        data: page.entries.map(billView),
        has_more: page.nextCursor !== null,
        next_cursor: page.nextCursor,
      };
    },
  );
  typed.get(
    '/bills/:id',
    {
      schema: {
        ...doc('One entry of your bill (a detail page)', 'wallet'),
        params: BillParams,
        response: { 200: Bill, ...errors },
      },
    },
    async (request) => billView(await wallet.bill(sessionOf(request).user, request.params.id)),
  );
  typed.post(
    '/transfers',
    {
      schema: {
        ...doc('Send money to another user; requires an Idempotency-Key', 'wallet'),
        headers: IdempotencyKeyHeaders,
        body: TransferBody,
        response: { 200: Transfer, ...errors },
      },
    },
    async (request, reply) => {
      const { user } = sessionOf(request);
      const { to_user_id: toUserId, to_phone: toPhone, amount, memo, source } = request.body;
      const outcome = await wallet.transfer(
        user,
        request.headers['idempotency-key'],
        { toUserId, toPhone, amount, memo, source },
        paymentContext(request, request.body),
      );
      if (outcome.replayed) reply.header('idempotent-replayed', 'true');
      const t = outcome.transfer;
      return {
        id: t.id,
        status: t.status,
        from_user_id: t.fromUserId,
        to_user_id: t.toUserId,
        amount: t.amount,
        memo: t.memo,
        created_at: iso(t.createdAtNs),
      };
    },
  );
  typed.post(
    '/payment-codes',
    {
      schema: { ...doc('A fresh payment code to show at a till', 'wallet'), response: { 201: PaymentCode, ...errors } },
    },
    async (request, reply) => {
      const { code, expiresInS } = await wallet.newPaymentCode(sessionOf(request).user);
      return reply.code(201).send({ payment_code: code, expires_in_s: expiresInS });
    },
  );
  typed.get(
    '/trades',
    {
      schema: {
        ...doc('The trades you paid, newest first, a page at a time', 'trades'),
        querystring: TradesQuery,
        response: { 200: Trades, ...errors },
      },
    },
    async (request) => {
      const { limit, after } = request.query;
      const page = await wallet.trades(sessionOf(request).user, {
        limit: limit === undefined ? undefined : Number(limit),
        after,
      });
      return { data: page.trades.map(tradeView), has_more: page.nextAfter !== null, next_after: page.nextAfter };
    },
  );
  typed.get(
    '/trades/:tradeNo',
    {
      schema: {
        ...doc('A trade you paid; anyone else’s is 404', 'trades'),
        params: TradeParams,
        response: { 200: Trade, ...errors },
      },
    },
    async (request) => tradeView(await wallet.trade(sessionOf(request).user, request.params.tradeNo)),
  );
  escrowRoutes(api, buyerEscrow);
  fundRoutes(api, fund);
}

/** The buyer's side of escrow trades: confirm receipt, refund requests, returns, disputes. */
function escrowRoutes(api: FastifyInstance, buyerEscrow: BuyerEscrow): void {
  const typed = api.withTypeProvider<TypeBoxTypeProvider>();
  const doc = (summary: string) => ({ summary, tags: ['escrow'], security: bearer });
  typed.post(
    '/trades/:tradeNo/confirm-receipt',
    {
      schema: {
        ...doc('Confirm you received the goods: the money goes to the seller'),
        params: TradeParams,
        response: { 200: Trade, ...errors },
      },
    },
    async (request) => tradeView(await buyerEscrow.confirmReceipt(sessionOf(request).user, request.params.tradeNo)),
  );
  typed.post(
    '/trades/:tradeNo/refund-requests',
    {
      schema: {
        ...doc('Ask for a refund: paid at once before shipment, else the seller answers'),
        params: TradeParams,
        body: RefundRequestBody,
        response: { 201: RefundCase, ...errors },
      },
    },
    async (request, reply) => {
      const { amount, reason, need_return } = request.body;
      const c = await buyerEscrow.requestRefund(sessionOf(request).user, request.params.tradeNo, {
        amount,
        reason,
        needReturn: need_return,
      });
      return reply.code(201).send(refundCaseView(c));
    },
  );
  typed.get(
    '/refund-cases/:caseNo',
    { schema: { ...doc('A refund request of yours'), params: CaseParams, response: { 200: RefundCase, ...errors } } },
    async (request) => refundCaseView(await buyerEscrow.refundCase(sessionOf(request).user, request.params.caseNo)),
  );
  typed.post(
    '/refund-cases/:caseNo/return',
    {
      schema: {
        ...doc('Send the goods back, with the tracking number'),
        params: CaseParams,
        body: ReturnBody,
        response: { 200: RefundCase, ...errors },
      },
    },
    async (request) =>
      refundCaseView(
        await buyerEscrow.returnGoods(sessionOf(request).user, request.params.caseNo, {
          company: request.body.logistics_company,
          trackingNo: request.body.logistics_no,
        }),
      ),
  );
  typed.post(
    '/refund-cases/:caseNo/withdraw',
    {
      schema: { ...doc('Withdraw a refund request'), params: CaseParams, response: { 200: RefundCase, ...errors } },
    },
    async (request) => refundCaseView(await buyerEscrow.withdrawRefund(sessionOf(request).user, request.params.caseNo)),
  );
  typed.post(
    '/trades/:tradeNo/disputes',
    {
      schema: {
        ...doc('Ask Paybao to decide: after a refused refund, or within 15 days of release'),
        params: TradeParams,
        body: DisputeBody,
        response: { 201: Dispute, ...errors },
      },
    },
    async (request, reply) => {
      const d = await buyerEscrow.openDispute(sessionOf(request).user, request.params.tradeNo, {
        claimAmount: request.body.claim_amount,
        reason: request.body.reason,
      });
      return reply.code(201).send(disputeView(d));
    },
  );
  typed.get(
    '/disputes/:disputeNo',
    { schema: { ...doc('A dispute of yours'), params: DisputeParams, response: { 200: Dispute, ...errors } } },
    async (request) => disputeView(await buyerEscrow.dispute(sessionOf(request).user, request.params.disputeNo)),
  );
}

/** Yu'e Bao for its holder: holdings and income, the yield, quotes, orders. */
function fundRoutes(api: FastifyInstance, fund: Fund): void {
  const typed = api.withTypeProvider<TypeBoxTypeProvider>();
  const doc = (summary: string) => ({ summary, tags: ['fund'], security: bearer });
  const userId = (request: FastifyRequest) => sessionOf(request).user.userId;
  typed.get(
    '/fund/holdings',
    {
      schema: {
        ...doc("Your Yu'e Bao: per product, the shares, yesterday's and the total income, the 7-day yield"),
        response: { 200: FundHoldings, ...errors },
      },
    },
    async (request) => ({ data: (await fund.overview(userId(request))).map(fundHoldingView) }),
  );
  typed.get(
    '/fund/products/:productCode/yield',
    {
      schema: {
        ...doc(`A product's 7-day annualised yield, day by day, over the last ${limits.fundYieldHistoryDays} days`),
        params: FundYieldParams,
        response: { 200: FundYield, ...errors },
      },
    },
    async (request) => {
      const series = await fund.yieldHistory(request.params.productCode);
      return {
        product_code: request.params.productCode,
        data: series.map((p) => ({ day: p.day, seven_day_yield: yieldText(p.percent) })),
      };
    },
  );
  typed.get(
    '/fund/quote',
    {
      schema: {
        ...doc('The days an order made now would have: show them before the user confirms'),
        querystring: FundQuoteQuery,
        response: { 200: FundQuote, ...errors },
      },
    },
    async (request) => fundQuote(request.query.kind, await fund.orders.orderDays()),
  );
  typed.post(
    '/fund/purchases',
    {
      schema: {
        ...doc(
          'Buy shares from your balance, or from a bound card by quick pay (card_id): held until the confirmation day; requires an Idempotency-Key. ' +
            'From a card: 402 card_payment_failed when the bank refuses (no order), 409 card_payment_pending while it has not answered (send the same request again).',
        ),
        headers: IdempotencyKeyHeaders,
        body: FundOrderBody,
        response: { 201: FundOrder, ...errors },
      },
    },
    async (request, reply) => {
      const input = {
        productCode: request.body.product_code,
        amount: request.body.amount,
        idempotencyKey: request.headers['idempotency-key'],
      };
      const cardId = request.body.card_id;
      const order =
        cardId === undefined
          ? await fund.orders.purchase(userId(request), input)
          : await fund.orders.purchaseFromCard(userId(request), { ...input, cardId });
      return reply.code(201).send(fundOrderView(order));
    },
  );
  const autoTransferView = async (request: FastifyRequest): Promise<Static<typeof FundAutoTransfer>> => {
    const setting = await fund.autoTransfer.get(userId(request));
    return setting
      ? { enabled: true, product_code: setting.productCode, keep_amount: setting.keepAbove }
      : { enabled: false, product_code: null, keep_amount: null };
  };
  typed.get(
    '/fund/auto-transfer',
    {
      schema: {
        ...doc('Your evening auto-transfer of idle balance into a product, if you chose one'),
        response: { 200: FundAutoTransfer, ...errors },
      },
    },
    autoTransferView,
  );
  typed.put(
    '/fund/auto-transfer',
    {
      schema: {
        ...doc('Choose the evening auto-transfer: the balance above keep_amount goes into the product each evening'),
        body: FundAutoTransferBody,
        response: { 200: FundAutoTransfer, ...errors },
      },
    },
    async (request) => {
      await fund.autoTransfer.set(userId(request), {
        productCode: request.body.product_code,
        keepAbove: request.body.keep_amount,
      });
      return autoTransferView(request);
    },
  );
  typed.delete(
    '/fund/auto-transfer',
    { schema: { ...doc('Stop the evening auto-transfer'), response: { 200: FundAutoTransfer, ...errors } } },
    async (request) => {
      await fund.autoTransfer.set(userId(request), null);
      return autoTransferView(request);
    },
  );
  typed.post(
    '/fund/redemptions',
    {
      schema: {
        ...doc('Redeem shares: standard (money on the confirmation day) or fast (at once, within the daily limit)'),
        headers: IdempotencyKeyHeaders,
        body: FundRedemptionBody,
        response: { 201: FundOrder, ...errors },
      },
    },
    async (request, reply) => {
      const order = await fund.orders.redeem(userId(request), {
        productCode: request.body.product_code,
        amount: request.body.amount,
        kind: request.body.kind,
        idempotencyKey: request.headers['idempotency-key'],
      });
      return reply.code(201).send(fundOrderView(order));
    },
  );
  typed.get(
    '/fund/orders',
    { schema: { ...doc('Your fund orders, newest first'), response: { 200: FundOrders, ...errors } } },
    async (request) => ({ data: (await fund.orders.orders(userId(request))).map(fundOrderView) }),
  );
}

/** The paths the OpenAPI document describes: the native API's scopes, the operators' and the regulator's. */
const documentedPrefixes = [prefix, '/console/v1', '/ops/v1', '/regulator/v1'];

/**
 * Mounts `/docs` (OpenAPI 3 and Swagger UI) and the native API under `/api/v1`. The spec lists
 * the routes under `documentedPrefixes`, however registered; the pages, the gateway and the
 * banks' callbacks are left out.
 */
export async function registerApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Paybao native API',
        version: '1.0.0',
        description:
          'The wallet, for its owner (`/api/v1`); the merchant portal (`/api/v1/merchant`); the operators (`/console/v1`, `/ops/v1`) and the regulator (`/regulator/v1`). Amounts are decimal strings of yuan. Errors are `{type, code, message, param}` (the console: `{code, message}`).',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    transform: ({ schema, url }) => ({
      schema: documentedPrefixes.some((p) => url.startsWith(p)) ? schema : { ...schema, hide: true },
      url,
    }),
  });
  // Swagger UI runs scripts and inline styles that the pages' policy forbids: its own policy.
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: docsPolicy() });
  await app.register(
    async (api) => {
      api.setValidatorCompiler(TypeBoxValidatorCompiler);
      api.addSchema(ApiError);
      api.addHook('onRoute', (route) => {
        route.bodyLimit = limits.apiBodyBytesMax;
      });
      // Password logins and SMS codes per client address and process (before the body is read).
      await api.register(rateLimit, {
        global: false,
        keyGenerator: clientAddress,
        errorResponseBuilder: () => new WalletError('too_many_requests'),
      });
      publicRoutes(api, deps);
      await api.register(async (authed) => authenticatedRoutes(authed, deps));
    },
    { prefix },
  );
}
