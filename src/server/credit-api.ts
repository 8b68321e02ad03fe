/**
 * The credit score over the native API (`/api/v1`, bearer session as the rest of it):
 * `POST /me/real-name` verifies the user's real name (name and PRC identity number, of which only
 * a keyed hash is kept; one identity per account), `GET /me/real-name` says whether it is, masked,
 * and `GET /me/credit-score` is the score now (350–950, or null: too little data), its band, the
 * reasons that would raise it, each dimension's points and the nightly history. What the wallet's
 * credit pages show.
 */
import { type Static, Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { limits } from '../core/limits.ts';
import { bands, type Credit, type RealNameView, reasonCodes } from '../credit/index.ts';
import type { Wallet } from '../wallet/index.ts';
import { errorResponses } from './api-errors.ts';
import { registerApiScope } from './api-scope.ts';
import { requireUser, userOf } from './bearer-user.ts';

export interface CreditApiDeps {
  credit: Credit;
  wallet: Wallet;
}

const RealNameBody = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: limits.creditRealNameCharsMax,
      description: 'Your name as on your identity card.',
    }),
    id_number: Type.String({
      minLength: 1,
      maxLength: 32,
      description: 'Your 18-character PRC resident identity number; only its keyed hash is kept.',
    }),
  },
  { additionalProperties: false },
);
const RealName = Type.Object({
  verified: Type.Boolean(),
  masked_name: Type.Union([Type.String({ description: 'All but the last character masked.' }), Type.Null()]),
  verified_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
/** One of `values`, as a string enum in the spec. */
const literals = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] });
const CreditScore = Type.Object({
  score: Type.Union([Type.Integer({ minimum: limits.creditScoreMin, maximum: limits.creditScoreMax }), Type.Null()], {
    description: 'Null: too little data for a score yet (Alipay answers N/A).',
  }),
  band: Type.Union([literals(bands), Type.Null()]),
  reasons: Type.Array(literals(reasonCodes), {
    description: 'What would raise the score, the largest gain first (for N/A: why there is none).',
  }),
  points: Type.Object(
    {
      history: Type.Number(),
      behaviour: Type.Number(),
      ability: Type.Number(),
      identity: Type.Number(),
      relationships: Type.Number(),
    },
    {
      description: "Each dimension's points above (or below) the base score.",
    },
  ),
  computed_at: Type.String({ format: 'date-time' }),
  history: Type.Array(
    Type.Object({
      day: Type.String({ description: 'YYYY-MM-DD, Beijing.' }),
      score: Type.Union([Type.Integer(), Type.Null()]),
    }),
    { description: 'The nightly scores, the oldest first.' },
  ),
});

function realNameView(v: RealNameView): Static<typeof RealName> {
  return { verified: v.verified, masked_name: v.maskedName, verified_at: v.verifiedAt?.toISOString() ?? null };
}

function routes(api: FastifyInstance, { credit, wallet }: CreditApiDeps): void {
  requireUser(api, wallet);
  const typed = api.withTypeProvider<TypeBoxTypeProvider>();
  const doc = (summary: string) => ({ summary, tags: ['credit'], security: [{ bearerAuth: [] }] });
  typed.get(
    '/me/real-name',
    { schema: { ...doc('Whether your real name is verified'), response: { 200: RealName, ...errorResponses } } },
    async (request) => realNameView(await credit.realNames.status(userOf(request))),
  );
  typed.post(
    '/me/real-name',
    {
      schema: {
        ...doc('Verify your real name: one identity per account (the same again is answered as done)'),
        body: RealNameBody,
        response: { 200: RealName, ...errorResponses },
      },
    },
    async (request) =>
      realNameView(
        await credit.realNames.verify(userOf(request), { name: request.body.name, idNumber: request.body.id_number }),
      ),
  );
  typed.get(
    '/me/credit-score',
    {
      schema: {
        ...doc('Your credit score now, what would raise it, and its history'),
        response: { 200: CreditScore, ...errorResponses },
      },
    },
    async (request) => {
      const userId = userOf(request);
      const [now, history] = await Promise.all([credit.score(userId), credit.history(userId)]);
      return {
        score: now.score,
        band: now.band,
        reasons: now.reasons,
        points: now.points,
        computed_at: now.computedAt.toISOString(),
        history,
      };
    },
  );
}

/** Mounts the credit routes under `/api/v1`. */
export function registerCreditApi(app: FastifyInstance, deps: CreditApiDeps): Promise<void> {
  return registerApiScope(app, '/api/v1', (scope) => routes(scope, deps));
}
