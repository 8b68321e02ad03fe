/**
 * Apps' credit services through the console (`/console/v1/apps/:appId/credit-service`): a risk
 * operator grants a rental app one (650 and the largest cap by default), changes its terms and
 * withdraws it, each change in the audit log with who and why; bad terms and unknown apps are
 * refused writing nothing; a finance operator may not touch it. The merchant portal's apps
 * (`/api/v1/merchant/apps`) show the service, read only, to the merchant's staff.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/index.ts';
import { keyPair } from '../gateway/support.ts';
import { type ApiWorld, apiWorld, nextPhone, staffLogin } from './support.ts';

let world: ApiWorld;
let risk: string;
let finance: string;
let appId: string;
let merchantId: string;

beforeAll(async () => {
  world = await apiWorld();
  const p = world.platform;
  risk = (await p.operators.create('credit-risk', { roles: ['risk'] })).token;
  finance = (await p.operators.create('credit-finance', { roles: ['finance'] })).token;
  const app = await p.members.createApp({ name: 'Phone Rental', merchantPublicKeyPem: keyPair().publicKeyPem });
  appId = app.appId;
  merchantId = app.sellerId;
});

afterAll(async () => {
  expect(await verifyLedger(world.platform.db)).toEqual([]);
  await world.close();
});

const call = (token: string, options: InjectOptions) =>
  world.app.inject({ ...options, headers: { authorization: `Bearer ${token}`, ...options.headers } });
const url = (id = appId) => `/console/v1/apps/${id}/credit-service`;
const audit = async () =>
  world.platform.db.query<{ action: string; operator_name: string; target: string; reason: string | null }>(
    `select action, operator_name, target, reason from operator_audit where action like 'app.credit_service.%' order by id`,
  );

describe('an app’s credit service in the console', () => {
  it('is granted, changed and withdrawn by the risk team, every change audited', async () => {
    expect((await call(risk, { method: 'GET', url: url() })).json()).toEqual({ app_id: appId, credit_service: null });
    const granted = await call(risk, {
      method: 'PUT',
      url: url(),
      payload: { category: 'RENT_PHONE', note: 'signed the rental contract' },
    });
    expect(granted.statusCode, granted.body).toBe(200);
    expect(granted.json().credit_service).toMatchObject({
      category: 'RENT_PHONE',
      score_threshold: 650,
      waiver_cap: '10000.00',
      status: 'ACTIVE',
      withdrawn_at: null,
    });
    const serviceId = granted.json().credit_service.service_id as string;
    expect(serviceId).toMatch(/^[0-9]{28}$/);

    const changed = await call(risk, {
      method: 'PUT',
      url: url(),
      payload: { category: 'RENT_PHONE', score_threshold: 680, waiver_cap: '500.00' },
    });
    expect(changed.json().credit_service).toMatchObject({
      service_id: serviceId,
      score_threshold: 680,
      waiver_cap: '500.00',
    });

    // Bad terms, an unknown app, another role: refused, nothing written.
    const before = await audit();
    for (const payload of [
      { category: 'rent phone' },
      { category: 'RENT_PHONE', score_threshold: 951 },
      { category: 'RENT_PHONE', waiver_cap: '10000.01' },
      { category: 'RENT_PHONE', waiver_cap: '0' },
      { category: 'RENT_PHONE', limit: 1 },
    ]) {
      const res = await call(risk, { method: 'PUT', url: url(), payload });
      expect({ payload, status: res.statusCode }).toEqual({ payload, status: 400 });
    }
    const unknown = await call(risk, {
      method: 'PUT',
      url: url('2021999999999999'),
      payload: { category: 'RENT_CAR' },
    });
    expect({ status: unknown.statusCode, code: unknown.json().code }).toEqual({
      status: 400,
      code: 'invalid_parameter',
    });
    const forbidden = await call(finance, { method: 'PUT', url: url(), payload: { category: 'RENT_CAR' } });
    expect(forbidden.statusCode).toBe(403);
    expect(await audit()).toEqual(before);
    expect((await call(risk, { method: 'GET', url: url() })).json().credit_service).toMatchObject({
      score_threshold: 680,
    });

    const withdrawn = await call(risk, {
      method: 'POST',
      url: `${url()}/withdrawal`,
      payload: { reason: 'too many unpaid rentals' },
    });
    expect(withdrawn.statusCode, withdrawn.body).toBe(200);
    expect(withdrawn.json().credit_service).toMatchObject({ status: 'WITHDRAWN', service_id: serviceId });
    const again = await call(risk, { method: 'POST', url: `${url()}/withdrawal`, payload: { reason: 'twice' } });
    expect({ status: again.statusCode, code: again.json().code }).toEqual({
      status: 403,
      code: 'credit_service_not_open',
    });

    expect(await audit()).toEqual([
      {
        action: 'app.credit_service.grant',
        operator_name: 'credit-risk',
        target: appId,
        reason: 'signed the rental contract',
      },
      { action: 'app.credit_service.grant', operator_name: 'credit-risk', target: appId, reason: null },
      {
        action: 'app.credit_service.withdraw',
        operator_name: 'credit-risk',
        target: appId,
        reason: 'too many unpaid rentals',
      },
    ]);
  });

  it('shows in the merchant portal’s apps, read only', async () => {
    await call(risk, { method: 'PUT', url: url(), payload: { category: 'RENT_PHONE', waiver_cap: '300.00' } });
    const phone = nextPhone();
    const password = 'rental-owner-1';
    await world.platform.merchantPortal.createOwner(merchantId, { phone, password, name: 'Owner' });
    const owner = await staffLogin(world, phone, password);
    const apps = await owner.call({ method: 'GET', url: '/api/v1/merchant/apps' });
    expect(apps.statusCode, apps.body).toBe(200);
    expect(apps.json().data[0]).toMatchObject({
      app_id: appId,
      credit_service: { category: 'RENT_PHONE', score_threshold: 650, waiver_cap: '300.00', status: 'ACTIVE' },
    });
  });
});
