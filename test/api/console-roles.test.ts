/**
 * The operators' roles, enforced by the API: for every route of the console (`/console/v1`) and
 * of the operators' API (`/ops/v1`), an operator whose roles do not allow it is refused 403
 * `FORBIDDEN` before anything is read or written (the audit log unchanged), and one whose roles
 * do is let through; an administrator may do everything. An operator logs in from a browser
 * with name and password (a session token; a wrong password is refused, logging out ends it),
 * scripts keep their bearer tokens, and every action is in the audit log with who, what, on
 * what, why and when — which only an administrator may read. The live figures come from the
 * counters `/metrics` serves.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/index.ts';
import type { OperatorRole } from '../../src/members/index.ts';
import { consoleRules } from '../../src/server/console.ts';
import { type ApiWorld, apiUser, apiWorld, nextPhone } from './support.ts';

let world: ApiWorld;
const tokens = {} as Record<OperatorRole, string>;
const roles: OperatorRole[] = ['dispute_reviewer', 'finance', 'risk', 'administrator'];

beforeAll(async () => {
  world = await apiWorld();
  for (const role of roles)
    tokens[role] = (await world.platform.operators.create(`${role}-script`, { roles: [role] })).token;
});

afterAll(async () => {
  expect(await verifyLedger(world.platform.db)).toEqual([]);
  await world.close();
});

const call = (token: string, options: InjectOptions) =>
  world.app.inject({ ...options, headers: { authorization: `Bearer ${token}`, ...options.headers } });

/** A URL of the route with its parameters filled by values its schema takes. */
function urlOf(path: string): string {
  const samples: Record<string, string> = {
    userId: '2088000000000001',
    disputeNo: 'D1',
    appId: '2021000000000001',
    productCode: 'YEB',
    date: '2026-01-01',
    id: '1',
    ruleId: '1',
    list: 'user',
    value: 'x',
    merchantId: '2088000000000001',
    reviewId: '00000000-0000-7000-8000-000000000000',
    operatorId: '00000000-0000-4000-8000-000000000000',
  };
  return path.replace(/:(\w+)/g, (_, name: string) => samples[name] ?? 'x');
}

const auditCount = async () =>
  Number((await world.platform.db.query<{ n: bigint }>('select count(*)::bigint n from operator_audit'))[0]?.n);

describe('the operators’ roles, enforced by the API', () => {
  it('refuses every console route to each role it does not name, writing nothing, and lets the others through', async () => {
    const before = await auditCount();
    let refused = 0;
    for (const [route, rule] of Object.entries(consoleRules)) {
      const [method, path] = route.split(' ') as [InjectOptions['method'], string];
      for (const role of roles) {
        const allowed = rule.roles === 'anyone' || role === 'administrator' || rule.roles.includes(role);
        if (allowed && method !== 'GET') continue;
        const res = await call(tokens[role], { method, url: `/console/v1${urlOf(path)}`, payload: {} });
        if (allowed) {
          expect({ route, role, status: res.statusCode }).not.toMatchObject({ status: 403 });
          expect({ route, role, status: res.statusCode }).not.toMatchObject({ status: 401 });
        } else {
          expect({ route, role, status: res.statusCode, code: res.json().code }).toEqual({
            route,
            role,
            status: 403,
            code: 'FORBIDDEN',
          });
          refused++;
        }
      }
    }
    // Each of the three narrow roles is refused most of the console.
    expect(refused).toBeGreaterThan(3 * 20);
    expect(await auditCount()).toBe(before);
  });

  it('asks for a token first: none, a wrong one, or an ended session is 401', async () => {
    const none = await world.app.inject({ method: 'GET', url: '/console/v1/disputes' });
    expect({ status: none.statusCode, code: none.json().code }).toEqual({ status: 401, code: 'UNAUTHORIZED' });
    const wrong = await call('pbos_nothing', { method: 'GET', url: '/console/v1/me' });
    expect(wrong.statusCode).toBe(401);
  });

  it('refuses the operators’ API (/ops/v1) to all but finance and administrators; the script token stays', async () => {
    const url = '/ops/v1/reconciliation-items';
    for (const role of ['dispute_reviewer', 'risk'] as const) {
      const res = await call(tokens[role], { method: 'GET', url });
      expect({ status: res.statusCode, code: res.json().code }).toEqual({ status: 403, code: 'FORBIDDEN' });
      const resolve = await call(tokens[role], {
        method: 'POST',
        url: '/ops/v1/reconciliation-items/1/resolve',
        payload: { action: 'write_off', note: 'x' },
      });
      expect(resolve.statusCode).toBe(403);
    }
    for (const role of ['finance', 'administrator'] as const) {
      expect((await call(tokens[role], { method: 'GET', url })).statusCode).toBe(200);
      expect((await call(tokens[role], { method: 'GET', url: '/ops/v1/reserves' })).statusCode).toBe(200);
    }
  });

  it('logs an operator in from a browser by name and password, and out again', async () => {
    const created = await call(tokens.administrator, {
      method: 'POST',
      url: '/console/v1/operators',
      payload: { name: 'Wang Fang', roles: ['dispute_reviewer', 'finance'], password: 'a long password' },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({
      name: 'Wang Fang',
      roles: ['dispute_reviewer', 'finance'],
      can_log_in: true,
    });
    expect(created.json().token).toBeUndefined();
    const taken = await call(tokens.administrator, {
      method: 'POST',
      url: '/console/v1/operators',
      payload: { name: 'Wang Fang', roles: ['risk'], password: 'another password' },
    });
    expect({ status: taken.statusCode, code: taken.json().code }).toEqual({ status: 409, code: 'operator_name_taken' });

    const wrong = await world.app.inject({
      method: 'POST',
      url: '/console/v1/sessions',
      payload: { name: 'Wang Fang', password: 'not the password' },
    });
    expect({ status: wrong.statusCode, code: wrong.json().code }).toEqual({ status: 401, code: 'login_failed' });
    const nobody = await world.app.inject({
      method: 'POST',
      url: '/console/v1/sessions',
      payload: { name: 'Nobody', password: 'a long password' },
    });
    expect(nobody.json().code).toBe('login_failed');

    const login = await world.app.inject({
      method: 'POST',
      url: '/console/v1/sessions',
      payload: { name: 'Wang Fang', password: 'a long password' },
    });
    expect(login.statusCode, login.body).toBe(201);
    const { token, operator } = login.json();
    expect(token).toMatch(/^pbos_/);
    expect(operator).toMatchObject({ name: 'Wang Fang', roles: ['dispute_reviewer', 'finance'] });
    expect((await call(token, { method: 'GET', url: '/console/v1/me' })).json()).toMatchObject({ name: 'Wang Fang' });
    expect((await call(token, { method: 'GET', url: '/console/v1/disputes' })).statusCode).toBe(200);
    expect((await call(token, { method: 'GET', url: '/console/v1/risk/rules' })).statusCode).toBe(403);

    // An administrator changes the roles: the session has the new ones at its next request.
    const id = created.json().operator_id;
    const changed = await call(tokens.administrator, {
      method: 'PUT',
      url: `/console/v1/operators/${id}/roles`,
      payload: { roles: ['risk'] },
    });
    expect(changed.json()).toMatchObject({ roles: ['risk'] });
    expect((await call(token, { method: 'GET', url: '/console/v1/risk/rules' })).statusCode).toBe(200);
    expect((await call(token, { method: 'GET', url: '/console/v1/disputes' })).statusCode).toBe(403);

    expect((await call(token, { method: 'DELETE', url: '/console/v1/sessions' })).statusCode).toBe(204);
    expect((await call(token, { method: 'GET', url: '/console/v1/me' })).statusCode).toBe(401);
  });

  it('writes every action to the audit log — who, what, on what, why, when — which only an administrator reads', async () => {
    const user = await apiUser(world, 10_000n);
    const froze = await call(tokens.risk, {
      method: 'POST',
      url: `/console/v1/members/${user.userId}/freeze`,
      payload: { reason: 'card testing from many devices' },
    });
    expect(froze.statusCode, froze.body).toBe(200);
    const refused = await call(tokens.risk, {
      method: 'POST',
      url: `/console/v1/members/${user.userId}/unfreeze`,
      payload: { reason: '' },
    });
    expect(refused.statusCode).toBe(400);
    const unfroze = await call(tokens.risk, {
      method: 'POST',
      url: `/console/v1/members/${user.userId}/unfreeze`,
      payload: { reason: 'the user proved who they are' },
    });
    expect(unfroze.statusCode).toBe(200);

    for (const role of ['dispute_reviewer', 'finance', 'risk'] as const) {
      expect((await call(tokens[role], { method: 'GET', url: '/console/v1/audit' })).statusCode).toBe(403);
    }
    const log = await call(tokens.administrator, { method: 'GET', url: `/console/v1/audit?target=${user.userId}` });
    expect(log.statusCode).toBe(200);
    const entries = log.json().data;
    // Newest first; the refused unfreeze (a bad reason) is not an action and is not there.
    expect(entries.map((e: { action: string }) => e.action)).toEqual(['member.unfreeze', 'member.freeze']);
    expect(entries[1]).toMatchObject({
      operator_name: 'risk-script',
      action: 'member.freeze',
      target: user.userId,
      reason: 'card testing from many devices',
    });
    expect(Date.parse(entries[1].at)).toBeGreaterThan(0);
    const byAction = await call(tokens.administrator, {
      method: 'GET',
      url: '/console/v1/audit?action=operator.roles',
    });
    expect(byAction.json().data).toHaveLength(1);
    // A new operator's password is never kept in the log, nor anywhere in its detail.
    const made = await call(tokens.administrator, { method: 'GET', url: '/console/v1/audit?action=operator.create' });
    const [creation] = made.json().data as { target: string; detail: string }[];
    expect(creation?.target).toBe('Wang Fang');
    expect(JSON.parse(creation?.detail ?? '{}')).toEqual({
      name: 'Wang Fang',
      roles: ['dispute_reviewer', 'finance'],
      password: '[redacted]',
    });
  });

  it('serves the live figures from the counters /metrics serves: payments, their p99, the backlog', async () => {
    const first = await call(tokens.dispute_reviewer, { method: 'GET', url: '/console/v1/live' });
    expect(first.statusCode).toBe(200);
    const payer = await apiUser(world, 100_000n);
    const payee = await world.platform.members.createUser({ phone: nextPhone(), password: 'password-1' });
    for (let i = 0; i < 3; i++) {
      const sent = await payer.call({
        method: 'POST',
        url: '/api/v1/transfers',
        headers: { 'idempotency-key': `live-${i}` },
        payload: { to_user_id: payee.userId, amount: '1.00' },
      });
      expect(sent.statusCode, sent.body).toBe(200);
    }
    const second = (await call(tokens.finance, { method: 'GET', url: '/console/v1/live' })).json();
    expect(second.paymentsTotal - first.json().paymentsTotal).toBe(3);
    expect(second.paymentsPerS).toBeGreaterThan(0);
    expect(second.paymentP99Ms).toBeGreaterThan(0);
    const metrics = (await world.app.inject({ method: 'GET', url: '/metrics' })).body;
    const admitted = /paybao_requests_admitted_total\{class="payment"\} (\d+)/.exec(metrics)?.[1];
    expect(Number(admitted)).toBe(second.paymentsTotal);
    expect(second).toMatchObject({ shedTotal: 0, notificationBacklog: expect.any(Number) });
  });
});
