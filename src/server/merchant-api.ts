/**
 * The merchant portal's API under `/api/v1/merchant` (the pages at `/merchant` are its client): a
 * login in two steps (password, then the texted code), the dashboard's figures, trades with
 * filters and a detail with every move and notification, refunds, shipments, answers to refund
 * cases and disputes, bill links, the notification log with a resend, apps and staff. Every route
 * but the login's takes a portal session (`Authorization: Bearer pbm_…`); what a role may do is
 * decided by `MerchantPortal` (src/merchants/roles.ts), a refusal answering 403 `role_forbidden`.
 */
import rateLimit from '@fastify/rate-limit';
import { type Static, type TSchema, Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { assert } from '../core/assert.ts';
import { limits } from '../core/limits.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import type { Staff } from '../members/index.ts';
import { type MerchantPortal, permissionsOf } from '../merchants/index.ts';
import type {
  DisputeView,
  NotificationView,
  RefundCaseView,
  SeriesPoint,
  TradeStatus,
  TradeView,
} from '../trades/index.ts';
import { errorResponses as errors } from './api-errors.ts';
import { registerApiScope } from './api-scope.ts';
import { BindBody, Card, ConfirmBody, cardJson } from './channels-api.ts';
import { EdgeError } from './refusals.ts';
import { clientAddress, loginRateLimit } from './web-security.ts';

export interface MerchantApiDeps {
  merchantPortal: MerchantPortal;
}

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Strict = { additionalProperties: false } as const;
const Time = Type.String({ format: 'date-time' });
const Amount = Type.String({
  pattern: '^(0|[1-9][0-9]{0,15})(\\.[0-9]{1,2})?$',
  maxLength: 20,
  description: 'Yuan as a decimal string with at most 2 places.',
  examples: ['88.88'],
});
const Phone = Type.String({ pattern: '^\\+?[0-9][0-9 -]{6,22}$', maxLength: 24, examples: ['13800138000'] });
const Password = Type.String({ minLength: 1, maxLength: limits.passwordLengthMax });
const AppId = Type.String({ pattern: '^2021[0-9]{12}$' });
const TradeNo = Type.String({ pattern: '^[0-9A-Za-z_-]{1,64}$' });
const Role = Type.Union([Type.Literal('owner'), Type.Literal('finance'), Type.Literal('support')]);
const Digits = (description: string) => Type.String({ pattern: '^[1-9][0-9]{0,5}$', description });
const statuses: TradeStatus[] = [
  'WAIT_BUYER_PAY',
  'TRADE_SUCCESS',
  'WAIT_SELLER_SEND_GOODS',
  'WAIT_BUYER_CONFIRM_GOODS',
  'TRADE_FINISHED',
  'TRADE_CLOSED',
];

const StaffSchema = Type.Object({
  staff_id: Type.String(),
  merchant_id: Type.String(),
  merchant_name: Type.String(),
  name: Type.String(),
  role: Role,
  phone: Type.String({ description: 'Masked: 138****8000.' }),
});
const Me = Type.Object({
  ...StaffSchema.properties,
  permissions: Type.Array(Type.String(), {
    description: 'What this role may do: read, answer, resend, refund, bills, apps, staff.',
  }),
});
const Period = Type.Object({
  volume: Amount,
  count: Type.Integer({ description: 'Trades paid in the period.' }),
  created: Type.Integer({ description: 'Trades created in the period.' }),
  success_rate: Nullable(Type.Number({ description: 'Of the trades created in the period, the share paid (0 to 1).' })),
  refunded: Amount,
  refund_count: Type.Integer(),
});
const Point = Type.Object({ label: Type.String(), volume: Amount, count: Type.Integer() });
const Trade = Type.Object({
  trade_no: Type.String(),
  out_trade_no: Type.String(),
  app_id: Type.String(),
  status: Type.String(),
  total_amount: Amount,
  refunded_amount: Amount,
  subject: Type.String(),
  buyer_id: Nullable(Type.String()),
  buyer_logon_id: Nullable(Type.String()),
  created_at: Time,
  paid_at: Nullable(Time),
  closed_at: Nullable(Time),
  escrow: Nullable(
    Type.Object({
      logistics_company: Nullable(Type.String()),
      logistics_no: Nullable(Type.String()),
      shipped_at: Nullable(Time),
      confirm_due_at: Nullable(Time),
      released_at: Nullable(Time),
      fee_amount: Amount,
      case_open: Type.Boolean(),
    }),
  ),
});
const Notification = Type.Object({
  id: Type.String(),
  app_id: Type.String(),
  trade_no: Type.String(),
  event: Type.String(),
  trade_status: Nullable(Type.String()),
  created_at: Time,
  attempts: Type.Integer({ description: 'Posts made so far.' }),
  next_attempt_at: Nullable(Time),
  delivered_at: Nullable(Time),
  state: Type.Union([Type.Literal('delivered'), Type.Literal('pending'), Type.Literal('failed')]),
  posts: Type.Optional(
    Type.Array(
      Type.Object({
        attempt: Type.Integer(),
        at: Time,
        url: Nullable(Type.String()),
        outcome: Type.Union(
          [Type.Literal('success'), Type.Literal('rejected'), Type.Literal('failed'), Type.Literal('no_url')],
          {
            description:
              'success: the answer was `success`; rejected: another answer; failed: no answer (a timeout, a refused connection); no_url: the app has no notify URL.',
          },
        ),
        detail: Nullable(Type.String({ description: 'Your answer, or the error, cut short.' })),
      }),
      { description: 'In a trade’s detail: each post, oldest first.' },
    ),
  ),
});
const Case = Type.Object({
  case_no: Type.String(),
  trade_no: Type.String(),
  app_id: Type.String(),
  refund_amount: Amount,
  reason: Type.String(),
  need_return: Type.Boolean(),
  status: Type.String(),
  refuse_reason: Nullable(Type.String()),
  return_logistics_company: Nullable(Type.String()),
  return_logistics_no: Nullable(Type.String()),
  due_at: Nullable(Time),
  created_at: Time,
});
const Dispute = Type.Object({
  dispute_no: Type.String(),
  trade_no: Type.String(),
  app_id: Type.String(),
  case_no: Nullable(Type.String()),
  claim_amount: Amount,
  reason: Type.String(),
  evidence: Nullable(Type.String()),
  status: Type.String(),
  award_amount: Nullable(Amount),
  ruling_note: Nullable(Type.String()),
  created_at: Time,
  ruled_at: Nullable(Time),
});
const TradesQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Created at or after.' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Created before.' })),
    status: Type.Optional(
      Type.String({
        pattern: `^(${statuses.join('|')})(,(${statuses.join('|')}))*$`,
        description: 'One status or several, comma-separated.',
      }),
    ),
    min_amount: Type.Optional(Amount),
    max_amount: Type.Optional(Amount),
    out_trade_no: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    trade_no: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    buyer: Type.Optional(Type.String({ minLength: 1, maxLength: 24, description: "The buyer's user id or phone." })),
    app_id: Type.Optional(AppId),
    page: Type.Optional(Digits('From 1.')),
    page_size: Type.Optional(Digits(`1 to ${limits.merchantPageRowsMax}; 20 by default.`)),
  },
  Strict,
);
const Waiting = Type.Object(
  {
    waiting: Type.Optional(
      Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'Only those waiting on you.' }),
    ),
  },
  Strict,
);

const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

function tradeBody(t: TradeView, buyerLogonId: string | null): Static<typeof Trade> {
  return {
    trade_no: t.tradeNo,
    out_trade_no: t.outTradeNo,
    app_id: t.appId,
    status: t.status,
    total_amount: t.totalAmount,
    refunded_amount: t.refundedAmount,
    subject: t.subject,
    buyer_id: t.buyerId,
    buyer_logon_id: buyerLogonId,
    created_at: t.createdAt.toISOString(),
    paid_at: iso(t.paidAt),
    closed_at: iso(t.closedAt),
    escrow: t.escrow && {
      logistics_company: t.escrow.logisticsCompany,
      logistics_no: t.escrow.logisticsNo,
      shipped_at: iso(t.escrow.shippedAt),
      confirm_due_at: iso(t.escrow.confirmDueAt),
      released_at: iso(t.escrow.releasedAt),
      fee_amount: t.escrow.feeAmount,
      case_open: t.escrow.caseOpen,
    },
  };
}

function notificationBody(n: NotificationView): Static<typeof Notification> {
  return {
    id: n.id,
    app_id: n.appId,
    trade_no: n.tradeNo,
    event: n.event,
    trade_status: n.tradeStatus,
    created_at: n.createdAt.toISOString(),
    attempts: n.attempts,
    next_attempt_at: iso(n.nextAttemptAt),
    delivered_at: iso(n.deliveredAt),
    state: n.deliveredAt ? 'delivered' : n.nextAttemptAt ? 'pending' : 'failed',
    ...(n.posts && {
      posts: n.posts.map((p) => ({
        attempt: p.attempt,
        at: p.at.toISOString(),
        url: p.url,
        outcome: p.outcome,
        detail: p.detail,
      })),
    }),
  };
}

function caseBody(c: RefundCaseView & { appId: string }): Static<typeof Case> {
  return {
    case_no: c.caseNo,
    trade_no: c.tradeNo,
    app_id: c.appId,
    refund_amount: c.refundAmount,
    reason: c.reason,
    need_return: c.needReturn,
    status: c.status,
    refuse_reason: c.refuseReason,
    return_logistics_company: c.returnLogisticsCompany,
    return_logistics_no: c.returnLogisticsNo,
    due_at: iso(c.dueAt),
    created_at: c.createdAt.toISOString(),
  };
}

function disputeBody(d: DisputeView & { appId: string }): Static<typeof Dispute> {
  return {
    dispute_no: d.disputeNo,
    trade_no: d.tradeNo,
    app_id: d.appId,
    case_no: d.caseNo,
    claim_amount: d.claimAmount,
    reason: d.reason,
    evidence: d.evidence,
    status: d.status,
    award_amount: d.awardAmount,
    ruling_note: d.rulingNote,
    created_at: d.createdAt.toISOString(),
    ruled_at: iso(d.ruledAt),
  };
}

const staffBody = (s: Staff): Static<typeof StaffSchema> => ({
  staff_id: s.staffId,
  merchant_id: s.merchantId,
  merchant_name: s.merchantName,
  name: s.name,
  role: s.role,
  phone: s.phone,
});

const points = (series: SeriesPoint[]) => series.map((p) => ({ label: p.label, volume: p.volume, count: p.count }));

/** The staff member and the token of each authenticated request. */
const sessions = new WeakMap<FastifyRequest, { staff: Staff; token: string }>();
function staffOf(request: FastifyRequest): Staff {
  const session = sessions.get(request);
  assert(session, 'a portal route runs after the session hook');
  return session.staff;
}

const fen = (text: string | undefined): bigint | undefined => (text === undefined ? undefined : parseAmount(text));

function publicRoutes(api: FastifyInstance, { merchantPortal: portal }: MerchantApiDeps): void {
  const typed = api.withTypeProvider<TypeBoxTypeProvider>();
  const doc = (summary: string) => ({ summary, tags: ['merchant'] });
  typed.post(
    '/sessions/code',
    {
      config: { rateLimit: loginRateLimit },
      schema: {
        ...doc('Log in, step one: the password; a 6-digit code is texted to the phone'),
        body: Type.Object({ phone: Phone, password: Password }, Strict),
        response: { 202: Type.Object({ status: Type.Literal('sent') }), ...errors },
      },
    },
    async (request, reply) => {
      await portal.sendLoginCode(request.body.phone, request.body.password, clientAddress(request));
      return reply.code(202).send({ status: 'sent' as const });
    },
  );
  typed.post(
    '/sessions',
    {
      config: { rateLimit: loginRateLimit },
      schema: {
        ...doc('Log in, step two: the password again and the texted code open a session'),
        body: Type.Object(
          { phone: Phone, password: Password, sms_code: Type.String({ pattern: '^[0-9]{6}$' }) },
          Strict,
        ),
        response: {
          201: Type.Object({ token: Type.String(), token_type: Type.Literal('Bearer'), expires_at: Time, staff: Me }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { phone, password, sms_code: code } = request.body;
      const session = await portal.login(phone, password, code, clientAddress(request));
      return reply.code(201).send({
        token: session.token,
        token_type: 'Bearer' as const,
        expires_at: new Date(Number(session.expiresAtNs / 1_000_000n)).toISOString(),
        staff: { ...staffBody(session.staff), permissions: [...permissionsOf(session.staff.role)] },
      });
    },
  );
}

function authenticatedRoutes(api: FastifyInstance, deps: MerchantApiDeps): void {
  const portal = deps.merchantPortal;
  api.addHook('onRequest', async (request) => {
    const token = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
    sessions.set(request, { staff: await portal.authenticate(token), token });
  });
  const typed = api.withTypeProvider<TypeBoxTypeProvider>();
  const doc = (summary: string) => ({ summary, tags: ['merchant'], security: [{ bearerAuth: [] }] });

  typed.delete(
    '/sessions/current',
    { schema: { ...doc('Log out of the portal'), response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await portal.logout(sessions.get(request)?.token ?? '');
      return reply.code(204).send(null);
    },
  );
  typed.get(
    '/me',
    {
      schema: {
        ...doc('Who you are, for which merchant, and what your role may do'),
        response: { 200: Me, ...errors },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      return { ...staffBody(staff), permissions: [...permissionsOf(staff.role)] };
    },
  );
  typed.get(
    '/dashboard',
    {
      schema: {
        ...doc("Today's and this month's figures (Beijing time), and paid volume by hour and by day"),
        response: {
          200: Type.Object({ today: Period, month: Period, by_hour: Type.Array(Point), by_day: Type.Array(Point) }),
          ...errors,
        },
      },
    },
    async (request) => {
      const f = await portal.figures(staffOf(request));
      const period = (p: typeof f.today) => ({
        volume: p.volume,
        count: p.count,
        created: p.created,
        success_rate: p.successRate,
        refunded: p.refunded,
        refund_count: p.refundCount,
      });
      return { today: period(f.today), month: period(f.month), by_hour: points(f.byHour), by_day: points(f.byDay) };
    },
  );
  typed.get(
    '/trades',
    {
      schema: {
        ...doc("Your apps' trades, newest first, filtered and paged"),
        querystring: TradesQuery,
        response: { 200: Type.Object({ total: Type.Integer(), data: Type.Array(Trade) }), ...errors },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await portal.trades(staffOf(request), {
        from: q.from === undefined ? undefined : new Date(q.from),
        to: q.to === undefined ? undefined : new Date(q.to),
        statuses: q.status?.split(',') as TradeStatus[] | undefined,
        minFen: fen(q.min_amount),
        maxFen: fen(q.max_amount),
        outTradeNo: q.out_trade_no,
        tradeNo: q.trade_no,
        buyer: q.buyer,
        appId: q.app_id,
        page: Number(q.page ?? 1),
        pageSize: Number(q.page_size ?? limits.merchantPageRowsDefault),
      });
      return {
        total: page.total,
        data: page.trades.map((t) => tradeBody(t, page.buyers.get(t.buyerId ?? '') ?? null)),
      };
    },
  );
  typed.get(
    '/trades/:tradeNo',
    {
      schema: {
        ...doc('One trade: every move, refund, notification attempt, refund case and dispute'),
        params: Type.Object({ tradeNo: TradeNo }),
        response: {
          200: Type.Object({
            trade: Trade,
            transitions: Type.Array(
              Type.Object({ from: Type.String(), to: Type.String(), actor: Type.String(), at: Time }),
            ),
            refunds: Type.Array(
              Type.Object({
                out_request_no: Type.String(),
                amount: Amount,
                reason: Nullable(Type.String()),
                status: Type.String(),
                created_at: Time,
              }),
            ),
            notifications: Type.Array(Notification),
            cases: Type.Array(Case),
            disputes: Type.Array(Dispute),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const d = await portal.trade(staffOf(request), request.params.tradeNo);
      return {
        trade: tradeBody(d.trade, d.buyerLogonId),
        transitions: d.transitions.map((m) => ({ from: m.from, to: m.to, actor: m.actor, at: m.at.toISOString() })),
        refunds: d.refunds.map((r) => ({
          out_request_no: r.outRequestNo,
          amount: r.amount,
          reason: r.reason,
          status: r.status,
          created_at: r.createdAt.toISOString(),
        })),
        notifications: d.notifications.map(notificationBody),
        cases: d.cases.map(caseBody),
        disputes: d.disputes.map(disputeBody),
      };
    },
  );
  typed.post(
    '/trades/:tradeNo/refund',
    {
      schema: {
        ...doc("Refund (owner, finance): alipay.trade.refund's rules; out_request_no makes a retry refund once"),
        params: Type.Object({ tradeNo: TradeNo }),
        body: Type.Object(
          {
            refund_amount: Amount,
            out_request_no: Type.String({ pattern: '^[0-9A-Za-z_-]{1,64}$' }),
            reason: Type.Optional(Type.String({ maxLength: 256 })),
          },
          Strict,
        ),
        response: {
          200: Type.Object({
            trade_no: Type.String(),
            out_request_no: Type.String(),
            refund_amount: Amount,
            refunded_total: Amount,
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const r = await portal.refund(staffOf(request), request.params.tradeNo, {
        refundAmount: request.body.refund_amount,
        outRequestNo: request.body.out_request_no,
        reason: request.body.reason,
      });
      return {
        trade_no: r.tradeNo,
        out_request_no: r.outRequestNo,
        refund_amount: r.refundAmount,
        refunded_total: r.refundedTotal,
      };
    },
  );
  typed.post(
    '/trades/:tradeNo/ship',
    {
      schema: {
        ...doc("Ship an escrow trade (owner, support): the buyer's confirmation period starts"),
        params: Type.Object({ tradeNo: TradeNo }),
        body: Type.Object(
          {
            logistics_company: Type.String({ minLength: 1, maxLength: 64 }),
            logistics_no: Type.String({ minLength: 1, maxLength: 64 }),
          },
          Strict,
        ),
        response: { 200: Trade, ...errors },
      },
    },
    async (request) => {
      const t = await portal.ship(staffOf(request), request.params.tradeNo, {
        company: request.body.logistics_company,
        trackingNo: request.body.logistics_no,
      });
      return tradeBody(t, null);
    },
  );
  typed.get(
    '/refund-cases',
    {
      schema: {
        ...doc('Refund cases on your trades, newest first'),
        querystring: Waiting,
        response: { 200: Type.Object({ data: Type.Array(Case) }), ...errors },
      },
    },
    async (request) => ({
      data: (await portal.cases(staffOf(request), { waiting: request.query.waiting === 'true' })).map(caseBody),
    }),
  );
  typed.post(
    '/refund-cases/:caseNo/answer',
    {
      schema: {
        ...doc('Answer a refund case (owner, support): agree, refuse with a reason, or confirm the returned goods'),
        params: Type.Object({ caseNo: Type.String({ pattern: '^[0-9A-Za-z_-]{1,64}$' }) }),
        body: Type.Object(
          {
            action: Type.Union([Type.Literal('agree'), Type.Literal('refuse'), Type.Literal('receive_return')]),
            reason: Type.Optional(Type.String({ maxLength: limits.afterSaleTextCharsMax })),
          },
          Strict,
        ),
        response: { 200: Case, ...errors },
      },
    },
    async (request) => {
      const c = await portal.answerCase(staffOf(request), request.params.caseNo, request.body);
      return caseBody({ ...c, appId: '' });
    },
  );
  typed.get(
    '/disputes',
    {
      schema: {
        ...doc('Disputes against you, newest first'),
        querystring: Waiting,
        response: { 200: Type.Object({ data: Type.Array(Dispute) }), ...errors },
      },
    },
    async (request) => ({
      data: (await portal.disputes(staffOf(request), { waiting: request.query.waiting === 'true' })).map(disputeBody),
    }),
  );
  typed.post(
    '/disputes/:disputeNo/evidence',
    {
      schema: {
        ...doc('Answer a dispute with your evidence (owner, support); an operator rules after it'),
        params: Type.Object({ disputeNo: Type.String({ pattern: '^[0-9A-Za-z_-]{1,64}$' }) }),
        body: Type.Object(
          { evidence: Type.String({ minLength: 1, maxLength: limits.afterSaleEvidenceCharsMax }) },
          Strict,
        ),
        response: { 200: Dispute, ...errors },
      },
    },
    async (request) => {
      const d = await portal.answerDispute(staffOf(request), request.params.disputeNo, request.body.evidence);
      return disputeBody({ ...d, appId: '' });
    },
  );
  typed.post(
    '/bills',
    {
      schema: {
        ...doc("A link to an app's trade bill of a day or a month (owner, finance): the gateway's CSV"),
        body: Type.Object(
          { app_id: AppId, bill_date: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$' }) },
          Strict,
        ),
        response: {
          200: Type.Object({ url: Type.String({ description: 'Short-lived; no session needed.' }) }),
          ...errors,
        },
      },
    },
    async (request) => ({ url: await portal.billLink(staffOf(request), request.body.app_id, request.body.bill_date) }),
  );
  typed.get(
    '/notifications',
    {
      schema: {
        ...doc('Notifications to your notify URLs, newest first'),
        querystring: Type.Object(
          {
            state: Type.Optional(
              Type.Union([Type.Literal('pending'), Type.Literal('failed'), Type.Literal('delivered')]),
            ),
            trade_no: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            page: Type.Optional(Digits('From 1.')),
            page_size: Type.Optional(Digits(`1 to ${limits.merchantPageRowsMax}.`)),
          },
          Strict,
        ),
        response: { 200: Type.Object({ total: Type.Integer(), data: Type.Array(Notification) }), ...errors },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await portal.notifications(staffOf(request), {
        state: q.state,
        tradeNo: q.trade_no,
        page: Number(q.page ?? 1),
        pageSize: Number(q.page_size ?? limits.merchantPageRowsDefault),
      });
      return { total: page.total, data: page.notifications.map(notificationBody) };
    },
  );
  typed.post(
    '/notifications/:id/resend',
    {
      schema: {
        ...doc('Send a notification again now (a delivered one goes out again as a new notification)'),
        params: Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,18}$' }) }),
        response: { 200: Notification, ...errors },
      },
    },
    async (request) => notificationBody(await portal.resend(staffOf(request), BigInt(request.params.id))),
  );
  typed.get(
    '/apps',
    {
      schema: {
        ...doc(
          "Your apps: notify URL, your public key, the escrow contract, the credit service for deposit-free freezes; and the platform's public key",
        ),
        response: {
          200: Type.Object({
            platform_public_key: Type.String({
              description: 'SPKI PEM: verifies what Paybao signs (alipayPublicKey).',
            }),
            data: Type.Array(
              Type.Object({
                app_id: Type.String(),
                name: Type.String(),
                notify_url: Nullable(Type.String()),
                merchant_public_key: Type.String(),
                escrow_default: Type.Boolean(),
                fee_bps: Type.Integer(),
                confirm_period_days: Type.Number(),
                credit_service: Nullable(
                  Type.Object(
                    {
                      service_id: Type.String({ description: "28 digits: extra_param's serviceId in a freeze." }),
                      category: Type.String({ description: "extra_param's category (RENT_PHONE …)." }),
                      score_threshold: Type.Integer({ description: 'The score a payer needs for credit.' }),
                      waiver_cap: Type.String({ description: 'The most of one freeze credit guarantees, yuan.' }),
                      status: Type.Union([Type.Literal('ACTIVE'), Type.Literal('WITHDRAWN')]),
                      granted_at: Time,
                    },
                    {
                      description:
                        'Granted by the platform; null: none. Freezes asking for credit need it ACTIVE (docs/preauth.md).',
                    },
                  ),
                ),
                created_at: Time,
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { apps, platformPublicKeyPem } = await portal.apps(staffOf(request));
      return {
        platform_public_key: platformPublicKeyPem,
        data: apps.map((a) => ({
          app_id: a.appId,
          name: a.name,
          notify_url: a.notifyUrl ?? null,
          merchant_public_key: a.merchantPublicKeyPem,
          escrow_default: a.contract.escrowDefault,
          fee_bps: a.contract.feeBps,
          confirm_period_days: a.contract.confirmPeriodMs / 86_400_000,
          credit_service: a.creditService && {
            service_id: a.creditService.serviceId,
            category: a.creditService.category,
            score_threshold: a.creditService.scoreThreshold,
            waiver_cap: formatAmount(a.creditService.waiverMaxFen),
            status: a.creditService.status,
            granted_at: a.creditService.grantedAt.toISOString(),
          },
          created_at: new Date(Number(a.createdAtNs / 1_000_000n)).toISOString(),
        })),
      };
    },
  );
  typed.post(
    '/apps/:appId/test-payments',
    {
      schema: {
        ...doc('A test payment against your own app (owner, support): a small direct trade to pay at the cashier'),
        params: Type.Object({ appId: AppId }),
        body: Type.Object({ amount: Amount }, Strict),
        response: {
          201: Type.Object({
            trade: Trade,
            cashier_url: Type.String({ description: 'Open it to pay, logged in to a wallet.' }),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const made = await portal.testPayment(staffOf(request), request.params.appId, request.body.amount);
      return reply.code(201).send({ trade: tradeBody(made.trade, null), cashier_url: made.cashierPath });
    },
  );
  typed.put(
    '/apps/:appId/notify-url',
    {
      schema: {
        ...doc("Set an app's notify URL (owner); null removes it"),
        params: Type.Object({ appId: AppId }),
        body: Type.Object({ notify_url: Nullable(Type.String({ maxLength: limits.notifyUrlLengthMax })) }, Strict),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await portal.setNotifyUrl(staffOf(request), request.params.appId, request.body.notify_url ?? undefined);
      return reply.code(204).send(null);
    },
  );
  typed.put(
    '/apps/:appId/merchant-public-key',
    {
      schema: {
        ...doc("Upload an app's merchant public key (owner): RSA, PEM or bare base64"),
        params: Type.Object({ appId: AppId }),
        body: Type.Object(
          { public_key: Type.String({ minLength: 1, maxLength: limits.merchantPublicKeyPemLengthMax }) },
          Strict,
        ),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await portal.setMerchantPublicKey(staffOf(request), request.params.appId, request.body.public_key);
      return reply.code(204).send(null);
    },
  );
  typed.get(
    '/staff',
    {
      schema: {
        ...doc("Your merchant's staff"),
        response: { 200: Type.Object({ data: Type.Array(StaffSchema) }), ...errors },
      },
    },
    async (request) => ({ data: (await portal.staff(staffOf(request))).map(staffBody) }),
  );
  typed.post(
    '/staff',
    {
      schema: {
        ...doc('Add a member of staff (owner): their phone, password, name and role'),
        body: Type.Object(
          {
            phone: Phone,
            password: Password,
            name: Type.String({ minLength: 1, maxLength: limits.staffNameLengthMax }),
            role: Role,
          },
          Strict,
        ),
        response: { 201: StaffSchema, ...errors },
      },
    },
    async (request, reply) => reply.code(201).send(staffBody(await portal.addStaff(staffOf(request), request.body))),
  );
  typed.get(
    '/activity',
    {
      schema: {
        ...doc('Who of your staff did what in the portal (owner), newest first'),
        querystring: Type.Object(
          {
            before: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,18}$', description: "An entry's id." })),
            limit: Type.Optional(Digits(`1 to ${limits.merchantPageRowsMax}.`)),
          },
          Strict,
        ),
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                id: Type.String(),
                staff_id: Type.String(),
                staff_name: Type.String(),
                role: Role,
                action: Type.String({ examples: ['trade.refund'] }),
                target: Type.String({ description: 'The trade, case, dispute, app… acted on.' }),
                detail: Nullable(Type.String({ description: 'What was asked, as JSON.' })),
                at: Time,
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const entries = await portal.activity(staffOf(request), {
        before: request.query.before,
        limit: Number(request.query.limit ?? limits.merchantPageRowsDefault),
      });
      return {
        data: entries.map((e) => ({
          id: e.id,
          staff_id: e.staffId,
          staff_name: e.staffName,
          role: e.role,
          action: e.action,
          target: e.target,
          detail: e.detail,
          at: new Date(Number(e.atNs / 1_000_000n)).toISOString(),
        })),
      };
    },
  );
  settlementRoutes(api, portal);
}

/**
 * The settlement account: where the merchant's settled money is paid out (the first active one),
 * bound as a user binds a card — the bank texts a code to the holder's phone (owner only).
 */
function settlementRoutes(api: FastifyInstance, portal: MerchantPortal): void {
  const typed = api.withTypeProvider<TypeBoxTypeProvider>();
  const doc = (summary: string) => ({ summary, tags: ['merchant'], security: [{ bearerAuth: [] }] });
  typed.get(
    '/settlement-accounts',
    {
      schema: {
        ...doc('Your settlement accounts; the first active one receives the settlement payouts'),
        response: { 200: Type.Object({ data: Type.Array(Card) }), ...errors },
      },
    },
    async (request) => ({ data: (await portal.settlementAccounts(staffOf(request))).map(cardJson) }),
  );
  typed.post(
    '/settlement-accounts',
    {
      schema: {
        ...doc("Bind a settlement account (owner): the bank texts a code to the holder's phone"),
        body: BindBody,
        response: { 201: Card, ...errors },
      },
    },
    async (request, reply) => {
      const { bank, card_no: cardNo, name, phone } = request.body;
      const card = await portal.bindSettlementAccount(staffOf(request), { bank, cardNo, name, phone });
      return reply.code(201).send(cardJson(card));
    },
  );
  typed.post(
    '/settlement-accounts/:cardId/confirm',
    {
      schema: {
        ...doc("Confirm the binding with the bank's texted code (owner)"),
        params: Type.Object({ cardId: Type.String({ pattern: '^CD[0-9A-F]{20}$' }) }, Strict),
        body: ConfirmBody,
        response: { 200: Card, ...errors },
      },
    },
    async (request) =>
      cardJson(await portal.confirmSettlementAccount(staffOf(request), request.params.cardId, request.body.sms_code)),
  );
}

/** Mounts the portal's API under `/api/v1/merchant`. */
export function registerMerchantApi(app: FastifyInstance, deps: MerchantApiDeps): Promise<void> {
  return registerApiScope(app, '/api/v1/merchant', async (scope) => {
    // Logins per client address and process, before any password is checked.
    await scope.register(rateLimit, {
      global: false,
      keyGenerator: clientAddress,
      errorResponseBuilder: () => new EdgeError('too_many_requests'),
    });
    publicRoutes(scope, deps);
    await scope.register(async (authed) => authenticatedRoutes(authed, deps));
  });
}
