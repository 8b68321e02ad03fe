/**
 * The risk engine over HTTP: the payer's side under `/api/v1/risk` (the confirmations waiting for
 * them, and confirming a payment a till is waiting on), and the operators' side in the console
 * (`riskConsoleRoutes`, mounted by console.ts behind its operator token): rules, lists, regions,
 * merchant categories, recorded decisions, and the review queue with its decisions.
 */
import { Type, type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { limits } from '../core/limits.ts';
import { formatAmount } from '../core/money.ts';
import {
  conditionJson,
  type DecisionView,
  type FraudLoss,
  type ListKind,
  listKinds,
  type ReviewView,
  type Risk,
  type RuleInput,
  type RuleView,
} from '../risk/index.ts';
import type { Wallet } from '../wallet/index.ts';
import { errorResponses as errors } from './api-errors.ts';
import { requireUser, userOf } from './bearer-user.ts';

const Strict = { additionalProperties: false } as const;
const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const bearer = [{ bearerAuth: [] }];

function ruleJson(r: RuleView) {
  return {
    rule_id: r.ruleId,
    name: r.name,
    condition: conditionJson(r.condition),
    paths: r.paths,
    action: r.action,
    mode: r.mode,
    enabled: r.enabled,
    updated_at: r.updatedAt.toISOString(),
    updated_by: r.updatedBy,
  };
}

function decisionJson(d: DecisionView) {
  return {
    decision_id: d.decisionId,
    at: d.at.toISOString(),
    path: d.path,
    user_id: d.userId,
    payee_id: d.payeeId,
    amount: formatAmount(d.amountFen),
    decision: d.decision,
    fired: d.fired.map((f) => ({
      rule_id: f.ruleId,
      name: f.name,
      kind: f.kind,
      action: f.action,
      mode: f.mode,
      reason: f.reason,
    })),
    context: d.context,
    ref: d.ref,
  };
}

function reviewJson(r: ReviewView) {
  return {
    review_id: r.reviewId,
    path: r.path,
    ref: r.ref,
    user_id: r.userId,
    amount: formatAmount(r.amountFen),
    status: r.status,
    created_at: r.createdAt.toISOString(),
    decided_at: r.decidedAt?.toISOString() ?? null,
    decided_by: r.decidedBy,
    note: r.note,
    applied: r.applied,
    decision: r.decision && decisionJson(r.decision),
  };
}

/** The payer's confirmations under `/api/v1/risk` (register before `registerApi`'s spec is built). */
export async function registerRiskApi(app: FastifyInstance, deps: { risk: Risk; wallet: Wallet }): Promise<void> {
  await app.register(
    async (scope) => {
      scope.setValidatorCompiler(TypeBoxValidatorCompiler);
      scope.addHook('onRoute', (route) => {
        route.bodyLimit ??= limits.apiBodyBytesMax;
      });
      requireUser(scope, deps.wallet);
      const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
      const Challenge = Type.Object({
        challenge_id: Uuid,
        path: Type.String(),
        amount: Type.String(),
        ref: Type.Union([Type.String(), Type.Null()]),
        expires_at: Type.String(),
      });
      typed.get(
        '/risk/challenges',
        {
          schema: {
            summary: 'Payments waiting for your confirmation (a code was texted to you)',
            tags: ['risk'],
            security: bearer,
            response: { 200: Type.Object({ data: Type.Array(Challenge) }), ...errors },
          },
        },
        async (request) => ({
          data: (await deps.risk.openChallenges(userOf(request))).map((c) => ({
            challenge_id: c.challengeId,
            path: c.path,
            amount: formatAmount(c.amountFen),
            ref: c.ref,
            expires_at: c.expiresAt.toISOString(),
          })),
        }),
      );
      typed.post(
        '/risk/challenges/:challengeId/confirm',
        {
          schema: {
            summary: 'Confirm a payment a till is waiting on with the code texted to you; the payment then goes on',
            tags: ['risk'],
            security: bearer,
            params: Type.Object({ challengeId: Uuid }, Strict),
            body: Type.Object(
              { code: Type.String({ pattern: '^[0-9]{6}$', description: 'The 6-digit code.' }) },
              Strict,
            ),
            response: {
              200: Type.Object({ challenge_id: Uuid, path: Type.String(), status: Type.Literal('confirmed') }),
              ...errors,
            },
          },
        },
        async (request) => {
          const { path } = await deps.risk.confirm(request.params.challengeId, request.body.code, userOf(request));
          return { challenge_id: request.params.challengeId, path, status: 'confirmed' as const };
        },
      );
    },
    { prefix: '/api/v1' },
  );
}

/** The operators' risk routes, inside the console's scope (its operator hook has run). */
export function riskConsoleRoutes(scope: FastifyInstance, risk: Risk, operatorId: (request: unknown) => string): void {
  const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
  const RuleBody = Type.Record(Type.String(), Type.Unknown(), {
    description: 'name, condition {kind, …}, paths, action, mode, enabled (docs/risk.md)',
  });
  const RuleParams = Type.Object({ ruleId: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) }, Strict);
  const ListQuery = Type.Object({ list: Type.Optional(Type.Union(listKinds.map((k) => Type.Literal(k)))) }, Strict);
  const Page = Type.Object(
    {
      user_id: Type.Optional(Type.String({ pattern: '^2088[0-9]{12}$' })),
      status: Type.Optional(Type.Union([Type.Literal('PENDING'), Type.Literal('APPROVED'), Type.Literal('REJECTED')])),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: limits.riskListPageMax })),
    },
    Strict,
  );

  typed.get('/risk/rules', async () => ({ data: (await risk.rules()).map(ruleJson) }));
  typed.post('/risk/rules', { schema: { body: RuleBody } }, async (request, reply) =>
    reply.code(201).send(ruleJson(await risk.createRule(request.body as RuleInput, operatorId(request)))),
  );
  typed.patch('/risk/rules/:ruleId', { schema: { params: RuleParams, body: RuleBody } }, async (request) =>
    ruleJson(await risk.updateRule(request.params.ruleId, request.body as RuleInput, operatorId(request))),
  );
  typed.delete('/risk/rules/:ruleId', { schema: { params: RuleParams } }, async (request, reply) => {
    await risk.deleteRule(request.params.ruleId);
    return reply.code(204).send();
  });

  typed.get('/risk/lists', { schema: { querystring: ListQuery } }, async (request) => ({
    data: (await risk.listEntries(request.query.list as ListKind | undefined)).map((e) => ({
      list: e.list,
      value: e.value,
      reason: e.reason,
      created_at: e.createdAt.toISOString(),
      created_by: e.createdBy,
    })),
  }));
  typed.post(
    '/risk/lists',
    { schema: { body: Type.Record(Type.String(), Type.Unknown(), { description: 'list, value, reason' }) } },
    async (request, reply) => {
      const e = await risk.addListEntry(request.body, operatorId(request));
      return reply.code(201).send({
        list: e.list,
        value: e.value,
        reason: e.reason,
        created_at: e.createdAt.toISOString(),
        created_by: e.createdBy,
      });
    },
  );
  typed.delete(
    '/risk/lists/:list/:value',
    {
      schema: {
        params: Type.Object(
          {
            list: Type.Union(listKinds.map((k) => Type.Literal(k))),
            value: Type.String({ minLength: 1, maxLength: limits.riskListValueMax }),
          },
          Strict,
        ),
      },
    },
    async (request, reply) => {
      await risk.removeListEntry(request.params.list, request.params.value);
      return reply.code(204).send();
    },
  );
  typed.put(
    '/risk/regions',
    {
      schema: {
        body: Type.Object(
          {
            network: Type.String({ maxLength: 18, description: 'An IPv4 network: 10.1.0.0/16.' }),
            region: Type.String({ maxLength: 32 }),
          },
          Strict,
        ),
      },
    },
    async (request) => {
      await risk.setRegion(request.body.network, request.body.region);
      return { network: request.body.network, region: request.body.region };
    },
  );
  typed.put(
    '/risk/merchants/:merchantId/category',
    {
      schema: {
        params: Type.Object({ merchantId: Type.String({ pattern: '^2088[0-9]{12}$' }) }, Strict),
        body: Type.Object({ category: Type.String({ maxLength: 32 }) }, Strict),
      },
    },
    async (request) => {
      await risk.setMerchantCategory(request.params.merchantId, request.body.category);
      return { merchant_id: request.params.merchantId, category: request.body.category };
    },
  );

  const lossJson = (l: FraudLoss) => ({
    key: l.key,
    user_id: l.userId,
    amount: formatAmount(l.amountFen),
    reason: l.reason,
    decision_id: l.decisionId,
    recorded_at: l.recordedAt.toISOString(),
    recorded_by: l.recordedBy,
  });
  typed.get('/risk/losses', async () => ({ data: (await risk.fraudLosses()).map(lossJson) }));
  typed.post(
    '/risk/losses',
    {
      schema: {
        body: Type.Object(
          {
            key: Type.String({ maxLength: 64, description: 'Records the loss once: a retry with it moves nothing.' }),
            user_id: Type.String({ pattern: '^2088[0-9]{12}$', description: 'The victim the platform makes whole.' }),
            amount: Type.String({ maxLength: 20 }),
            reason: Type.String({ maxLength: limits.riskNoteMax }),
            decision_id: Type.Optional(Uuid),
          },
          Strict,
        ),
      },
    },
    async (request, reply) => {
      const b = request.body;
      const loss = await risk.recordLoss(
        { key: b.key, userId: b.user_id, amount: b.amount, reason: b.reason, decisionId: b.decision_id },
        operatorId(request),
      );
      return reply.code(201).send(lossJson(loss));
    },
  );

  typed.get('/risk/decisions', { schema: { querystring: Page } }, async (request) => ({
    data: (await risk.decisions({ userId: request.query.user_id, limit: request.query.limit })).map(decisionJson),
  }));
  typed.get('/risk/reviews', { schema: { querystring: Page } }, async (request) => ({
    data: (await risk.reviews({ status: request.query.status, limit: request.query.limit })).map(reviewJson),
  }));
  const ReviewParams = Type.Object({ reviewId: Uuid }, Strict);
  typed.get('/risk/reviews/:reviewId', { schema: { params: ReviewParams } }, async (request) =>
    reviewJson(await risk.review(request.params.reviewId)),
  );
  typed.post(
    '/risk/reviews/:reviewId/decision',
    {
      schema: {
        params: ReviewParams,
        body: Type.Object(
          {
            verdict: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
            note: Type.Optional(Type.String({ minLength: 1, maxLength: limits.riskNoteMax })),
          },
          Strict,
        ),
      },
    },
    async (request) =>
      reviewJson(
        await risk.decide(request.params.reviewId, operatorId(request), request.body.verdict, request.body.note),
      ),
  );
}
