/**
 * The native API describes itself: `/docs/json` is an OpenAPI 3 document that passes the official
 * schema, lists every `/api/v1` route (and nothing else) with its parameters, responses and the
 * error shape, and `/docs` serves Swagger UI.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/index.ts';
import { type ApiWorld, apiWorld } from './support.ts';

let world: ApiWorld;

beforeAll(async () => {
  world = await apiWorld();
});

afterAll(async () => {
  expect(await verifyLedger(world.platform.db)).toEqual([]);
  await world.close();
});

describe('/docs', () => {
  it('serves a valid OpenAPI 3 document listing the native API, the operators’ and the regulator’s', async () => {
    const res = await world.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const spec = res.json();
    const result = await new Validator().validate(spec);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(spec.openapi).toMatch(/^3\./);

    const routes = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    // The operators' and the regulator's scopes are described too.
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /console/v1/sessions',
        'POST /console/v1/disputes/{disputeNo}/ruling',
        'POST /console/v1/reconciliation-items/{id}/resolve',
        'POST /console/v1/members/{userId}/freeze',
        'GET /console/v1/audit',
        'GET /console/v1/live',
        'PUT /console/v1/apps/{appId}/credit-service',
        'POST /console/v1/apps/{appId}/credit-service/withdrawal',
        'POST /ops/v1/reconciliations',
        'GET /regulator/v1/reserves',
      ]),
    );
    expect(routes.filter((r) => r.split(' ')[1]?.startsWith('/api/v1')).sort()).toEqual(
      [
        'POST /api/v1/sessions',
        'DELETE /api/v1/sessions/current',
        'POST /api/v1/sms-codes',
        'GET /api/v1/risk/challenges',
        'POST /api/v1/risk/challenges/{challengeId}/confirm',
        'GET /api/v1/me',
        'GET /api/v1/me/credit-score',
        'GET /api/v1/me/real-name',
        'GET /api/v1/balance',
        'GET /api/v1/bills',
        'GET /api/v1/bills/{id}',
        'POST /api/v1/transfers',
        'POST /api/v1/payment-codes',
        'GET /api/v1/trades',
        'GET /api/v1/trades/{tradeNo}',
        'POST /api/v1/trades/{tradeNo}/confirm-receipt',
        'POST /api/v1/trades/{tradeNo}/refund-requests',
        'GET /api/v1/refund-cases/{caseNo}',
        'POST /api/v1/refund-cases/{caseNo}/return',
        'POST /api/v1/refund-cases/{caseNo}/withdraw',
        'POST /api/v1/trades/{tradeNo}/disputes',
        'GET /api/v1/disputes/{disputeNo}',
        // The channels (src/server/channels-api.ts).
        'GET /api/v1/banks',
        'GET /api/v1/cards',
        'POST /api/v1/cards',
        'POST /api/v1/cards/{cardId}/confirm',
        'POST /api/v1/topups',
        'POST /api/v1/withdrawals',
        'GET /api/v1/channel-orders/{orderNo}',
        // Yu'e Bao.
        'GET /api/v1/fund/auto-transfer',
        'PUT /api/v1/fund/auto-transfer',
        'DELETE /api/v1/fund/auto-transfer',
        'GET /api/v1/fund/holdings',
        'GET /api/v1/fund/orders',
        'GET /api/v1/fund/products/{productCode}/yield',
        'GET /api/v1/fund/quote',
        'POST /api/v1/fund/purchases',
        'POST /api/v1/fund/redemptions',
        // Friends and groups (src/server/social-api.ts).
        'GET /api/v1/friends',
        'DELETE /api/v1/friends/{userId}',
        'GET /api/v1/friends/requests',
        'POST /api/v1/friends/requests',
        'POST /api/v1/friends/requests/{requestId}/accept',
        'POST /api/v1/friends/requests/{requestId}/decline',
        'GET /api/v1/blocks',
        'PUT /api/v1/blocks/{userId}',
        'DELETE /api/v1/blocks/{userId}',
        'POST /api/v1/contacts/match',
        'GET /api/v1/profile',
        'PUT /api/v1/profile',
        'GET /api/v1/groups',
        'POST /api/v1/groups',
        'GET /api/v1/groups/{groupId}',
        'POST /api/v1/groups/{groupId}/members',
        'POST /api/v1/me/real-name',
        'DELETE /api/v1/groups/{groupId}/members/{userId}',
        'GET /api/v1/red-packets',
        'POST /api/v1/red-packets',
        'GET /api/v1/red-packets/{packetId}',
        'POST /api/v1/red-packets/{packetId}/grab',
        'GET /api/v1/collections',
        'POST /api/v1/collections',
        'GET /api/v1/collections/{collectionId}',
        'POST /api/v1/collections/{collectionId}/pay',
        'GET /api/v1/notices',
        // User authorisation (src/server/oauth-api.ts).
        'GET /api/v1/authorizations',
        'DELETE /api/v1/authorizations/{appId}',
        // The merchant portal (src/server/merchant-api.ts).
        'POST /api/v1/merchant/sessions/code',
        'POST /api/v1/merchant/sessions',
        'DELETE /api/v1/merchant/sessions/current',
        'GET /api/v1/merchant/me',
        'GET /api/v1/merchant/dashboard',
        'GET /api/v1/merchant/trades',
        'GET /api/v1/merchant/trades/{tradeNo}',
        'POST /api/v1/merchant/trades/{tradeNo}/refund',
        'POST /api/v1/merchant/trades/{tradeNo}/ship',
        'GET /api/v1/merchant/refund-cases',
        'POST /api/v1/merchant/refund-cases/{caseNo}/answer',
        'GET /api/v1/merchant/disputes',
        'POST /api/v1/merchant/disputes/{disputeNo}/evidence',
        'POST /api/v1/merchant/bills',
        'GET /api/v1/merchant/notifications',
        'POST /api/v1/merchant/notifications/{id}/resend',
        'GET /api/v1/merchant/apps',
        'PUT /api/v1/merchant/apps/{appId}/notify-url',
        'POST /api/v1/merchant/apps/{appId}/test-payments',
        'PUT /api/v1/merchant/apps/{appId}/merchant-public-key',
        'GET /api/v1/merchant/staff',
        'POST /api/v1/merchant/staff',
        'GET /api/v1/merchant/activity',
        'GET /api/v1/merchant/settlement-accounts',
        'POST /api/v1/merchant/settlement-accounts',
        'POST /api/v1/merchant/settlement-accounts/{cardId}/confirm',
      ].sort(),
    );

    const transfer = spec.paths['/api/v1/transfers'].post;
    expect(transfer.security).toEqual([{ bearerAuth: [] }]);
    expect(transfer.parameters).toContainEqual(
      expect.objectContaining({ in: 'header', name: 'idempotency-key', required: true }),
    );
    expect(Object.keys(transfer.requestBody.content)).toEqual(['application/json']);
    expect(transfer.responses['4XX']).toBeDefined();
    expect(JSON.stringify(spec.components.schemas)).toContain('"param"');
    expect(spec.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer' });
  });

  it('serves Swagger UI', async () => {
    const res = await world.app.inject({ method: 'GET', url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toMatch(/swagger/i);
  });
});
