/**
 * The operators' console API, JSON under `/console/v1`, behind an operator's bearer token
 * (`paybao operators create`): the dispute queue and rulings, escrow contracts, the compensation
 * fund's capital, a settlement run on demand, and Yu'e Bao's daily figure (the fund company's
 * income per 10,000 shares, as `paybao fund declare`) and its distribution, and the risk engine's
 * rules, lists and review queue (risk-api.ts). Refusals answer
 * `{code, message}` with a 4xx; the trades and fund modules' codes pass through, since operators
 * read them.
 */
import { Type, type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { assert } from '../core/assert.ts';
import { authenticationError, CatalogError, catalog } from '../core/catalog-error.ts';
import { formatAmount } from '../core/money.ts';
import type { Fund } from '../fund/index.ts';
import type { Operator, Operators } from '../members/index.ts';
import type { Risk } from '../risk/index.ts';
import type { AfterSale, DisputeView, Settlements, Trades } from '../trades/index.ts';
import { disputeView } from './api.ts';
import { riskConsoleRoutes } from './risk-api.ts';

export interface ConsoleDeps {
  operators: Operators;
  afterSale: AfterSale;
  trades: Trades;
  settlements: Settlements;
  fund: Fund;
  risk: Risk;
}

const Strict = { additionalProperties: false } as const;
const Amount = Type.String({
  pattern: '^(0|[1-9][0-9]{0,15})(\\.[0-9]{1,2})?$',
  maxLength: 20,
  description: 'Yuan as a decimal string with at most 2 places.',
});
const RulingBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('BUYER'), Type.Literal('SELLER')]),
    award_amount: Type.Optional(Amount),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  },
  Strict,
);
const ContractBody = Type.Object(
  {
    escrow_default: Type.Boolean(),
    fee_bps: Type.Integer({ minimum: 0, maximum: 10_000 }),
    confirm_days: Type.Integer({ minimum: 1, maximum: 90 }),
  },
  Strict,
);
const CapitalBody = Type.Object(
  {
    amount: Amount,
    reference: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Letters, digits, _ and -.' }),
  },
  Strict,
);

const IncomeParams = Type.Object(
  {
    productCode: Type.String({ pattern: '^[A-Z0-9_]{2,16}$', description: 'A fund product code.' }),
    date: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'A Beijing day, YYYY-MM-DD.' }),
  },
  Strict,
);
const IncomeBody = Type.Object(
  {
    per10k: Type.String({
      pattern: '^[0-9]{1,3}(\\.[0-9]{1,4})?$',
      description: 'Income per 10,000 shares in yuan, at most 4 places ("0.6543").',
    }),
  },
  Strict,
);
const DayParams = Type.Object({ date: IncomeParams.properties.date }, Strict);

const operatorOf = new WeakMap<FastifyRequest, Operator>();

/** The console's own refusals; the trades module's pass through with their catalog's status. */
export const consoleErrors = catalog({
  UNAUTHORIZED: authenticationError('send an operator token as `Authorization: Bearer <token>`'),
});

/** A refusal of the console's own (`refusals.ts` answers it as `{code, message}`). */
export class ConsoleError extends CatalogError<typeof consoleErrors> {
  constructor(code: keyof typeof consoleErrors) {
    super(consoleErrors, code);
  }
}

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

export async function registerConsole(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  await app.register(
    async (scope) => {
      scope.setValidatorCompiler(TypeBoxValidatorCompiler);
      scope.addHook('onRequest', async (request) => {
        const match = /^Bearer ([^\s]+)$/i.exec(request.headers.authorization ?? '');
        const operator = await deps.operators.authenticate(match?.[1]);
        if (!operator) throw new ConsoleError('UNAUTHORIZED');
        operatorOf.set(request, operator);
      });
      const actor = (request: FastifyRequest) => {
        const operator = operatorOf.get(request);
        assert(operator, 'console routes run after the operator hook');
        return { kind: 'operator' as const, operatorId: operator.operatorId };
      };
      const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
      const DisputeParams = Type.Object({ disputeNo: Type.String({ minLength: 1, maxLength: 64 }) }, Strict);

      typed.get('/disputes', async () => ({ data: (await deps.afterSale.disputesToRule()).map(disputeJson) }));
      typed.get('/disputes/:disputeNo', { schema: { params: DisputeParams } }, async (request) =>
        disputeJson(await deps.afterSale.getDispute(actor(request), request.params.disputeNo)),
      );
      typed.post(
        '/disputes/:disputeNo/ruling',
        { schema: { params: DisputeParams, body: RulingBody } },
        async (request) =>
          disputeJson(
            await deps.afterSale.rule(actor(request), request.params.disputeNo, {
              decision: request.body.decision,
              awardAmount: request.body.award_amount,
              note: request.body.note,
            }),
          ),
      );
      typed.put(
        '/apps/:appId/escrow-contract',
        {
          schema: {
            params: Type.Object({
              appId: Type.String({ pattern: '^2021[0-9]{12}$', description: '16 digits from 2021.' }),
            }),
            body: ContractBody,
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
      typed.post('/recovery-claims/:disputeNo/write-off', { schema: { params: DisputeParams } }, async (request) => ({
        dispute_no: request.params.disputeNo,
        written_off_amount: await deps.afterSale.writeOffClaim(actor(request), request.params.disputeNo),
      }));
      typed.post('/compensation-fund/capital', { schema: { body: CapitalBody } }, async (request) => {
        await deps.afterSale.addFundCapital(request.body.amount, request.body.reference);
        return { status: 'ok' };
      });
      typed.put(
        '/fund/products/:productCode/income/:date',
        { schema: { params: IncomeParams, body: IncomeBody } },
        async (request) => {
          const { productCode, date } = request.params;
          await deps.fund.income.declare(productCode, date, request.body.per10k);
          return { product_code: productCode, date, per10k: request.body.per10k, status: 'DECLARED' };
        },
      );
      typed.post('/fund/distributions/:date', { schema: { params: DayParams } }, async (request) => ({
        data: (await deps.fund.income.distribute(request.params.date)).map((d) => ({
          product_code: d.productCode,
          date: d.day,
          holders: d.holders,
          total_amount: formatAmount(d.totalFen),
        })),
      }));
      riskConsoleRoutes(scope, deps.risk, (request) => `operator:${actor(request as FastifyRequest).operatorId}`);
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
    },
    { prefix: '/console/v1' },
  );
}
