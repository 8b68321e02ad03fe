/**
 * The operators' console API, JSON under `/console/v1`, behind an operator's bearer token — a
 * script's (`paybao operators create`) or a browser session's (`POST /console/v1/sessions`, name
 * and password). What each route needs is in `consoleRules`: the roles allowed (an administrator
 * may do everything) and the action's name in the audit log (operator-guard.ts writes every
 * successful action there). The routes: the dispute queue and rulings, escrow contracts, the
 * compensation fund's capital, a settlement run on demand, Yu'e Bao's daily figure and its
 * distribution, the risk engine's rules, lists and review queue (risk-api.ts), the courts' list of dishonest
 * debtors (court-list-api.ts), the reconciliation
 * queue, the reserves with their daily history and the loss rate, users and merchants (search,
 * freeze), apps' credit services for deposit-free freezes (grant, change, withdraw), the live
 * figures, operators and the audit log. Refusals answer `{code, message}` with
 * a 4xx; the modules' codes pass through, since operators read them.
 */
import { Type, type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Reconciler, ReserveReport } from '../channels/index.ts';
import { limits } from '../core/limits.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import type { CourtList } from '../court-list/index.ts';
import type { Fund } from '../fund/index.ts';
import { type AuditEntry, type Members, type Operators, type OperatorView, operatorRoles } from '../members/index.ts';
import type { CreditServiceView, Preauths } from '../preauth/index.ts';
import type { Risk } from '../risk/index.ts';
import type { AfterSale, DisputeView, Settlements, Trades } from '../trades/index.ts';
import { disputeView } from './api.ts';
import { courtListConsoleRoutes } from './court-list-api.ts';
import type { LiveFigureSampler } from './live-figures.ts';
import { anyRole, guardOperators, type RouteRules, requestOperator } from './operator-guard.ts';
import { riskConsoleRoutes } from './risk-api.ts';
import { clientAddress } from './web-security.ts';

export { ConsoleError, consoleErrors } from './operator-guard.ts';

export interface ConsoleDeps {
  operators: Operators;
  members: Members;
  afterSale: AfterSale;
  trades: Trades;
  settlements: Settlements;
  fund: Fund;
  risk: Risk;
  courtList: CourtList;
  reconciler: Reconciler;
  reserves: ReserveReport;
  preauth: Preauths;
  live: LiveFigureSampler;
}

const body = (request: FastifyRequest) => (request.body ?? {}) as Record<string, unknown>;
const risk = ['risk'] as const;
const finance = ['finance'] as const;
const disputes = ['dispute_reviewer'] as const;
const admin = ['administrator'] as const;

/** Every console route: who may call it, and what the audit log calls it when it changes something. */
export const consoleRules: RouteRules = {
  'DELETE /sessions': { roles: anyRole },
  'GET /me': { roles: anyRole },
  'GET /live': { roles: anyRole },
  'GET /members': { roles: anyRole },
  'GET /members/:userId': { roles: anyRole },
  'POST /members/:userId/freeze': { roles: risk, audit: 'member.freeze' },
  'POST /members/:userId/unfreeze': { roles: risk, audit: 'member.unfreeze' },
  'GET /disputes': { roles: disputes },
  'GET /disputes/:disputeNo': { roles: disputes },
  'POST /disputes/:disputeNo/ruling': { roles: disputes, audit: 'dispute.rule' },
  'POST /recovery-claims/:disputeNo/write-off': { roles: finance, audit: 'recovery_claim.write_off' },
  'PUT /apps/:appId/escrow-contract': { roles: admin, audit: 'app.escrow_contract' },
  'GET /apps/:appId/credit-service': { roles: risk },
  'PUT /apps/:appId/credit-service': { roles: risk, audit: 'app.credit_service.grant' },
  'POST /apps/:appId/credit-service/withdrawal': { roles: risk, audit: 'app.credit_service.withdraw' },
  'POST /compensation-fund/capital': {
    roles: finance,
    audit: 'compensation_fund.capital',
    target: (r) => String(body(r).reference),
  },
  'POST /settlements/run': { roles: finance, audit: 'settlement.run' },
  'GET /fund/report': { roles: finance },
  'PUT /fund/products/:productCode/income/:date': { roles: finance, audit: 'fund.declare' },
  'POST /fund/distributions/:date': { roles: finance, audit: 'fund.distribute' },
  'GET /reconciliation-items': { roles: finance },
  'POST /reconciliations': {
    roles: finance,
    audit: 'reconciliation.run',
    target: (r) => `${body(r).bank}/${body(r).date}`,
  },
  'POST /reconciliation-items/:id/resolve': { roles: finance, audit: 'reconciliation.resolve' },
  'GET /reserves': { roles: finance },
  'GET /reserves/history': { roles: finance },
  'POST /reserves/snapshot': { roles: finance, audit: 'reserves.snapshot' },
  'GET /loss-rate': { roles: finance },
  'GET /risk/rules': { roles: risk },
  'POST /risk/rules': { roles: risk, audit: 'risk.rule.create', target: (r) => String(body(r).name) },
  'PATCH /risk/rules/:ruleId': { roles: risk, audit: 'risk.rule.update' },
  'DELETE /risk/rules/:ruleId': { roles: risk, audit: 'risk.rule.delete' },
  'GET /risk/lists': { roles: risk },
  'POST /risk/lists': { roles: risk, audit: 'risk.list.add', target: (r) => `${body(r).list}/${body(r).value}` },
  'DELETE /risk/lists/:list/:value': { roles: risk, audit: 'risk.list.remove' },
  'PUT /risk/regions': { roles: risk, audit: 'risk.region.set', target: (r) => String(body(r).network) },
  'PUT /risk/merchants/:merchantId/category': { roles: risk, audit: 'risk.category.set' },
  'GET /risk/losses': { roles: risk },
  'POST /risk/losses': { roles: risk, audit: 'risk.loss.record', target: (r) => String(body(r).key) },
  'GET /risk/decisions': { roles: risk },
  'GET /risk/reviews': { roles: risk },
  'GET /risk/reviews/:reviewId': { roles: risk },
  'POST /risk/reviews/:reviewId/decision': { roles: risk, audit: 'risk.review.decide' },
  'GET /court-list/entries': { roles: risk },
  'GET /court-list/entries/:entryId': { roles: risk },
  'POST /court-list/entries': {
    roles: risk,
    audit: 'court_list.entry.add',
    target: (r) => String(body(r).case_number),
    redact: ['id_number'],
  },
  'POST /court-list/entries/:entryId/removal': { roles: risk, audit: 'court_list.entry.remove' },
  'GET /court-list/users/:userId': { roles: risk },
  'GET /court-list/restricted-categories': { roles: risk },
  'PUT /court-list/restricted-categories': {
    roles: risk,
    audit: 'court_list.categories.set',
    target: () => 'restricted-categories',
  },
  'GET /operators': { roles: admin },
  'POST /operators': { roles: admin, audit: 'operator.create', target: (r) => String(body(r).name) },
  'PUT /operators/:operatorId/roles': { roles: admin, audit: 'operator.roles' },
  'GET /audit': { roles: admin },
};

const Strict = { additionalProperties: false } as const;
const Amount = Type.String({
  pattern: '^(0|[1-9][0-9]{0,15})(\\.[0-9]{1,2})?$',
  maxLength: 20,
  description: 'Yuan as a decimal string with at most 2 places.',
});
const Reason = Type.String({ minLength: 1, maxLength: limits.operatorReasonLengthMax });
const Day = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'A Beijing day, YYYY-MM-DD.' });
const BankCode = Type.String({ pattern: '^[A-Z0-9]{2,16}$', description: 'A bank code.' });
const UserId = Type.String({ pattern: '^2088[0-9]{12}$', description: '16 digits from 2088.' });
const Roles = Type.Array(Type.Union(operatorRoles.map((r) => Type.Literal(r))), { minItems: 1, maxItems: 4 });

/** A dispute as the buyer sees it, with the parties and the ruling's author. */
function disputeJson(d: DisputeView) {
  return {
    ...disputeView(d),
    buyer_id: d.buyerId,
    seller_id: d.sellerId,
    ruled_by: d.ruledBy,
    ruling_note: d.rulingNote,
  };
}

const operatorJson = (o: Pick<OperatorView, 'operatorId' | 'name' | 'roles'> & Partial<OperatorView>) => ({
  operator_id: o.operatorId,
  name: o.name,
  roles: o.roles,
  ...(o.canLogIn === undefined ? {} : { can_log_in: o.canLogIn }),
  ...(o.createdAt === undefined ? {} : { created_at: o.createdAt.toISOString() }),
});

const auditJson = (a: AuditEntry) => ({
  id: a.id,
  operator_id: a.operatorId,
  operator_name: a.operatorName,
  action: a.action,
  target: a.target,
  reason: a.reason,
  detail: a.detail,
  at: a.at.toISOString(),
});

export async function registerConsole(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  const prefix = '/console/v1';
  await app.register(
    async (scope) => {
      scope.setValidatorCompiler(TypeBoxValidatorCompiler);
      guardOperators(scope, { operators: deps.operators, prefix, rules: consoleRules, open: ['POST /sessions'] });
      sessionRoutes(scope, deps);
      disputeRoutes(scope, deps);
      moneyRoutes(scope, deps);
      reconciliationRoutes(scope, deps);
      memberRoutes(scope, deps);
      creditServiceRoutes(scope, deps);
      riskConsoleRoutes(
        scope,
        deps.risk,
        (request) => `operator:${requestOperator(request as FastifyRequest).operatorId}`,
      );
      courtListConsoleRoutes(
        scope,
        deps.courtList,
        (request) => `operator:${requestOperator(request as FastifyRequest).operatorId}`,
      );
      operatorRoutes(scope, deps);
    },
    { prefix },
  );
}

/** Logging in and out from a browser, who one is, the live figures. */
function sessionRoutes(scope: FastifyInstance, deps: ConsoleDeps): void {
  const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
  typed.post(
    '/sessions',
    {
      schema: {
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: limits.operatorNameLengthMax }),
            password: Type.String({ minLength: 1, maxLength: limits.passwordLengthMax }),
          },
          Strict,
        ),
      },
    },
    async (request, reply) => {
      const { token, expiresAt, operator } = await deps.operators.logIn(request.body.name, request.body.password, {
        clientAddress: clientAddress(request),
      });
      return reply.code(201).send({ token, expires_at: expiresAt.toISOString(), operator: operatorJson(operator) });
    },
  );
  typed.delete('/sessions', async (request, reply) => {
    const token = /^Bearer ([^\s]+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (token) await deps.operators.logOut(token);
    return reply.code(204).send();
  });
  typed.get('/me', async (request) => operatorJson(requestOperator(request)));
  typed.get('/live', async () => deps.live.read());
}

/** Disputes, recovery claims, escrow contracts. */
function disputeRoutes(scope: FastifyInstance, deps: ConsoleDeps): void {
  const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
  const actor = (request: FastifyRequest) => ({
    kind: 'operator' as const,
    operatorId: requestOperator(request).operatorId,
  });
  const DisputeParams = Type.Object({ disputeNo: Type.String({ minLength: 1, maxLength: 64 }) }, Strict);
  typed.get('/disputes', async () => ({ data: (await deps.afterSale.disputesToRule()).map(disputeJson) }));
  typed.get('/disputes/:disputeNo', { schema: { params: DisputeParams } }, async (request) =>
    disputeJson(await deps.afterSale.getDispute(actor(request), request.params.disputeNo)),
  );
  typed.post(
    '/disputes/:disputeNo/ruling',
    {
      schema: {
        params: DisputeParams,
        body: Type.Object(
          {
            decision: Type.Union([Type.Literal('BUYER'), Type.Literal('SELLER')]),
            award_amount: Type.Optional(Amount),
            note: Type.Optional(Type.String({ minLength: 1, maxLength: limits.operatorReasonLengthMax })),
          },
          Strict,
        ),
      },
    },
    async (request) =>
      disputeJson(
        await deps.afterSale.rule(actor(request), request.params.disputeNo, {
          decision: request.body.decision,
          awardAmount: request.body.award_amount,
          note: request.body.note,
        }),
      ),
  );
  typed.post('/recovery-claims/:disputeNo/write-off', { schema: { params: DisputeParams } }, async (request) => ({
    dispute_no: request.params.disputeNo,
    written_off_amount: await deps.afterSale.writeOffClaim(actor(request), request.params.disputeNo),
  }));
  typed.put(
    '/apps/:appId/escrow-contract',
    {
      schema: {
        params: Type.Object({
          appId: Type.String({ pattern: '^2021[0-9]{12}$', description: '16 digits from 2021.' }),
        }),
        body: Type.Object(
          {
            escrow_default: Type.Boolean(),
            fee_bps: Type.Integer({ minimum: 0, maximum: 10_000 }),
            confirm_days: Type.Integer({ minimum: 1, maximum: 90 }),
          },
          Strict,
        ),
      },
    },
    async (request) => {
      const { escrow_default, fee_bps, confirm_days } = request.body;
      await deps.trades.saveContract(request.params.appId, {
        escrowDefault: escrow_default,
        feeBps: fee_bps,
        confirmPeriodMs: confirm_days * 86_400_000,
      });
      return { app_id: request.params.appId, escrow_default, fee_bps, confirm_days };
    },
  );
}

/** The compensation fund, settlements, Yu'e Bao's declarations and pools. */
function moneyRoutes(scope: FastifyInstance, deps: ConsoleDeps): void {
  const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
  typed.post(
    '/compensation-fund/capital',
    {
      schema: {
        body: Type.Object(
          {
            amount: Amount,
            reference: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Letters, digits, _ and -.' }),
          },
          Strict,
        ),
      },
    },
    async (request) => {
      await deps.afterSale.addFundCapital(request.body.amount, request.body.reference);
      return { status: 'ok' };
    },
  );
  typed.post('/settlements/run', async () => ({
    data: (await deps.settlements.run()).map((s) => ({
      settlement_no: s.settlementNo,
      seller_id: s.sellerId,
      gross_amount: s.grossAmount,
      recovery_amount: s.recoveryAmount,
      payout_amount: s.payoutAmount,
      trade_count: s.tradeCount,
    })),
  }));
  const IncomeParams = Type.Object(
    { productCode: Type.String({ pattern: '^[A-Z0-9_]{2,16}$', description: 'A fund product code.' }), date: Day },
    Strict,
  );
  typed.get('/fund/report', async () => {
    const [report, declarations] = await Promise.all([deps.fund.report(), deps.fund.income.declarations()]);
    return {
      ...report,
      declarations: declarations.map((d) => ({ ...d, declaredAt: d.declaredAt.toISOString() })),
    };
  });
  typed.put(
    '/fund/products/:productCode/income/:date',
    {
      schema: {
        params: IncomeParams,
        body: Type.Object(
          {
            per10k: Type.String({
              pattern: '^[0-9]{1,3}(\\.[0-9]{1,4})?$',
              description: 'Income per 10,000 shares in yuan, at most 4 places ("0.6543").',
            }),
          },
          Strict,
        ),
      },
    },
    async (request) => {
      const { productCode, date } = request.params;
      await deps.fund.income.declare(productCode, date, request.body.per10k);
      return { product_code: productCode, date, per10k: request.body.per10k, status: 'DECLARED' };
    },
  );
  typed.post(
    '/fund/distributions/:date',
    { schema: { params: Type.Object({ date: Day }, Strict) } },
    async (request) => ({
      data: (await deps.fund.income.distribute(request.params.date)).map((d) => ({
        product_code: d.productCode,
        date: d.day,
        holders: d.holders,
        total_amount: formatAmount(d.totalFen),
      })),
    }),
  );
}

/** The reconciliation queue, the reserves and their history, the loss rate. */
function reconciliationRoutes(scope: FastifyInstance, deps: ConsoleDeps): void {
  const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
  typed.get(
    '/reconciliation-items',
    {
      schema: {
        querystring: Type.Object(
          {
            bank: Type.Optional(BankCode),
            date: Type.Optional(Day),
            state: Type.Optional(Type.Union([Type.Literal('OPEN'), Type.Literal('RESOLVED')])),
          },
          Strict,
        ),
      },
    },
    async (request) => ({ data: await deps.reconciler.items(request.query) }),
  );
  typed.post(
    '/reconciliations',
    { schema: { body: Type.Object({ bank: BankCode, date: Day }, Strict) } },
    async (request) => deps.reconciler.run(request.body.bank, request.body.date),
  );
  typed.post(
    '/reconciliation-items/:id/resolve',
    {
      schema: {
        params: Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$', description: 'Digits.' }) }, Strict),
        body: Type.Object(
          { action: Type.Union([Type.Literal('dismiss'), Type.Literal('write_off')]), note: Reason },
          Strict,
        ),
      },
    },
    async (request) => deps.reconciler.resolve(request.params.id, request.body.action, request.body.note),
  );
  typed.get('/reserves', async () => deps.reserves.position());
  typed.get(
    '/reserves/history',
    {
      schema: {
        querystring: Type.Object(
          { days: Type.Optional(Type.Integer({ minimum: 1, maximum: limits.reserveHistoryDaysMax })) },
          Strict,
        ),
      },
    },
    async (request) => ({ data: await deps.reserves.history(request.query.days) }),
  );
  typed.post('/reserves/snapshot', async () => deps.reserves.snapshot());
  typed.get('/loss-rate', async () => {
    const { losses, volume, lossCount, perHundredThousand } = await deps.reconciler.lossRate();
    return { losses, volume, lossCount, perHundredThousand };
  });
}

/** Users and merchants: search, one with its balance, freeze and unfreeze. */
function memberRoutes(scope: FastifyInstance, deps: ConsoleDeps): void {
  const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
  const freezeJson = (f: { reason: string; frozenBy: string; frozenAt: Date } | null) =>
    f === null ? null : { reason: f.reason, frozen_by: f.frozenBy, frozen_at: f.frozenAt.toISOString() };
  const memberJson = async (m: Awaited<ReturnType<Members['search']>>[number]) => ({
    user_id: m.userId,
    kind: m.kind,
    logon_id: m.logonId ?? null,
    name: m.name ?? null,
    created_at: new Date(Number(m.createdAtNs / 1_000_000n)).toISOString(),
    balance: formatAmount(await deps.members.walletBalance(m.userId)),
    frozen: freezeJson(m.frozen),
  });
  typed.get(
    '/members',
    {
      schema: {
        querystring: Type.Object(
          {
            q: Type.Optional(Type.String({ maxLength: 64 })),
            kind: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('merchant')])),
          },
          Strict,
        ),
      },
    },
    async (request) => {
      const found = await deps.members.search(request.query.q ?? '', { kind: request.query.kind });
      return { data: await Promise.all(found.map(memberJson)) };
    },
  );
  const Params = Type.Object({ userId: UserId }, Strict);
  typed.get('/members/:userId', { schema: { params: Params } }, async (request) => {
    const member = await deps.members.getMember(request.params.userId);
    return memberJson({ ...member, frozen: await deps.members.freezes.get(member.userId) });
  });
  const ReasonBody = Type.Object({ reason: Reason }, Strict);
  typed.post('/members/:userId/freeze', { schema: { params: Params, body: ReasonBody } }, async (request) => ({
    user_id: request.params.userId,
    frozen: freezeJson(
      await deps.members.freeze(
        request.params.userId,
        request.body.reason,
        `operator:${requestOperator(request).operatorId}`,
      ),
    ),
  }));
  typed.post('/members/:userId/unfreeze', { schema: { params: Params, body: ReasonBody } }, async (request) => {
    await deps.members.unfreeze(request.params.userId, request.body.reason);
    return { user_id: request.params.userId, frozen: null };
  });
}

const creditServiceJson = (appId: string, c: CreditServiceView | null) => ({
  app_id: appId,
  credit_service:
    c === null
      ? null
      : {
          service_id: c.serviceId,
          category: c.category,
          score_threshold: c.scoreThreshold,
          waiver_cap: formatAmount(c.waiverMaxFen),
          status: c.status,
          granted_by: c.grantedBy,
          granted_at: c.grantedAt.toISOString(),
          withdrawn_by: c.withdrawnBy,
          withdrawn_at: c.withdrawnAt?.toISOString() ?? null,
        },
});

/**
 * An app's credit service (deposit-free freezes, docs/preauth.md): its freezes that ask for credit
 * through extra_param (`{"category": …, "serviceId": …}`) have, for a payer at or above the score
 * threshold, up to the waiver cap guaranteed by credit rather than held. The risk team grants,
 * changes and withdraws it; each change is in the audit log.
 */
function creditServiceRoutes(scope: FastifyInstance, deps: ConsoleDeps): void {
  const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
  const services = deps.preauth.creditServices;
  const by = (request: FastifyRequest) => `operator:${requestOperator(request).operatorId}`;
  const Params = Type.Object(
    { appId: Type.String({ pattern: '^2021[0-9]{12}$', description: '16 digits from 2021.' }) },
    Strict,
  );
  typed.get('/apps/:appId/credit-service', { schema: { params: Params } }, async (request) =>
    creditServiceJson(request.params.appId, await services.of(request.params.appId)),
  );
  typed.put(
    '/apps/:appId/credit-service',
    {
      schema: {
        params: Params,
        body: Type.Object(
          {
            category: Type.String({
              pattern: '^[A-Z][A-Z0-9_]{1,63}$',
              description: 'What the freezes name as extra_param category: RENT_PHONE, RENT_CAR …',
            }),
            score_threshold: Type.Optional(
              Type.Integer({
                minimum: limits.creditScoreMin,
                maximum: limits.creditScoreMax,
                description: `The score a payer needs; ${limits.preauthCreditScoreThresholdDefault} when absent.`,
              }),
            ),
            waiver_cap: Type.Optional({
              ...Amount,
              description: `The most of one freeze credit may guarantee, yuan; ${formatAmount(limits.preauthCreditWaiverFenMax)} (the most) when absent.`,
            }),
            note: Type.Optional(Reason),
          },
          Strict,
        ),
      },
    },
    async (request) => {
      const { category, score_threshold, waiver_cap } = request.body;
      const granted = await services.grant(
        request.params.appId,
        {
          category,
          scoreThreshold: score_threshold,
          waiverMaxFen: waiver_cap === undefined ? undefined : parseAmount(waiver_cap),
        },
        by(request),
      );
      return creditServiceJson(request.params.appId, granted);
    },
  );
  typed.post(
    '/apps/:appId/credit-service/withdrawal',
    { schema: { params: Params, body: Type.Object({ reason: Reason }, Strict) } },
    async (request) =>
      creditServiceJson(request.params.appId, await services.withdraw(request.params.appId, by(request))),
  );
}

/** Operators and the audit log: the administrator's. */
function operatorRoutes(scope: FastifyInstance, deps: ConsoleDeps): void {
  const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
  typed.get('/operators', async () => ({ data: (await deps.operators.list()).map(operatorJson) }));
  typed.post(
    '/operators',
    {
      schema: {
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: limits.operatorNameLengthMax }),
            roles: Roles,
            password: Type.String({ minLength: limits.passwordLengthMin, maxLength: limits.passwordLengthMax }),
          },
          Strict,
        ),
      },
    },
    async (request, reply) => {
      // The script token is not shown: an operator made here works from the browser.
      const created = await deps.operators.create(request.body.name, request.body);
      return reply.code(201).send(operatorJson(await deps.operators.get(created.operatorId)));
    },
  );
  typed.put(
    '/operators/:operatorId/roles',
    {
      schema: {
        params: Type.Object({ operatorId: Type.String({ format: 'uuid', maxLength: 36 }) }, Strict),
        body: Type.Object({ roles: Roles }, Strict),
      },
    },
    async (request) => operatorJson(await deps.operators.setRoles(request.params.operatorId, request.body.roles)),
  );
  typed.get(
    '/audit',
    {
      schema: {
        querystring: Type.Object(
          {
            operator_id: Type.Optional(Type.String({ maxLength: 64 })),
            action: Type.Optional(Type.String({ maxLength: 64 })),
            target: Type.Optional(Type.String({ maxLength: 128 })),
            before: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: limits.auditPageMax })),
          },
          Strict,
        ),
      },
    },
    async (request) => {
      const q = request.query;
      const entries = await deps.operators.audit(
        { operatorId: q.operator_id, action: q.action, target: q.target },
        { limit: q.limit, before: q.before },
      );
      return { data: entries.map(auditJson) };
    },
  );
}
