import { Type } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { limits } from '../core/limits.ts';
import { parseAmount } from '../core/money.ts';
import { isMembersError } from '../members/index.ts';
import { isRiskError, type PaymentContext, type RiskPath, type RiskRequest } from '../risk/index.ts';
import type { TradeView } from '../trades/index.ts';

/**
 * What the risk engine hears about a payment's origin from the HTTP edge, and the confirmation a
 * payer sends back: the two optional body fields every money-out route of the native API takes.
 */
export const challengeFields = {
  challenge_id: Type.Optional(
    Type.String({
      pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
      description: 'After challenge_required: the confirmation it named.',
    }),
  ),
  challenge_code: Type.Optional(
    Type.String({ pattern: '^[0-9]{6}$', description: 'After challenge_required: the 6-digit code texted to you.' }),
  ),
};

/** The client's address and device (`X-Device-Id`, when the app sends one). */
export function originOf(request: FastifyRequest): Pick<PaymentContext, 'address' | 'device'> {
  const device = request.headers['x-device-id'];
  return {
    address: request.ip,
    device: typeof device === 'string' && device.length > 0 ? device.slice(0, limits.riskListValueMax) : undefined,
  };
}

/** The payment's context: its origin and, when the body carries one, the confirmation. */
export function paymentContext(
  request: FastifyRequest,
  body: { challenge_id?: string | undefined; challenge_code?: string | undefined },
): PaymentContext {
  const challenge =
    body.challenge_id !== undefined ? { id: body.challenge_id, code: body.challenge_code ?? '' } : undefined;
  return { ...originOf(request), challenge };
}

/** What the risk engine is asked about a trade its buyer pays at one of the cashiers. */
export function cashierPayment(
  path: RiskPath,
  trade: TradeView,
  buyerId: string,
  request: FastifyRequest,
  ref: string,
  cardId?: string,
): RiskRequest {
  return {
    path,
    userId: buyerId,
    payeeId: trade.sellerId,
    merchantId: trade.sellerId,
    amountFen: parseAmount(trade.totalAmount) ?? 0n,
    cardId,
    address: request.ip,
    ref,
  };
}

/**
 * The status of a page that answers a refused payment with itself: 429 for a throttled login, 403
 * for the risk engine's refusal, 400 for any other refusal of the request.
 */
export function refusedPaymentStatus(error: unknown): 400 | 403 | 429 {
  if (isMembersError(error, 'login_throttled')) return 429;
  return isRiskError(error) ? 403 : 400;
}
