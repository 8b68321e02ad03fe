/**
 * The operators' guard, shared by the console (`/console/v1`) and the operators' API (`/ops/v1`):
 * who the operator is (a script's token or a browser session), whether the operator's roles allow
 * the route (one table per scope names the roles of every route; a route missing from it is a
 * programmer error, found when the app is built), and the audit log — every request that changes
 * something and succeeds is written there (who, what, on what, why, when) before its answer is sent.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { assert } from '../core/assert.ts';
import { authenticationError, CatalogError, catalog, invalidRequest } from '../core/catalog-error.ts';
import { limits } from '../core/limits.ts';
import { type Operator, type OperatorRole, type Operators, roleAllows } from '../members/index.ts';

/** The console's own refusals; the modules' pass through with their catalog's status. */
export const consoleErrors = catalog({
  UNAUTHORIZED: authenticationError('send an operator token as `Authorization: Bearer <token>`'),
  FORBIDDEN: invalidRequest(403, 'your roles do not allow this'),
});

/** A refusal of the console's own (`refusals.ts` answers it as `{code, message}`). */
export class ConsoleError extends CatalogError<typeof consoleErrors> {
  constructor(code: keyof typeof consoleErrors, detail?: string) {
    super(consoleErrors, code, { detail });
  }
}

/** What one route needs: the roles allowed (an administrator always is), and its audit name. */
export interface RouteRule {
  roles: readonly OperatorRole[] | 'anyone';
  /** The action's name in the audit log (`dispute.rule`); a route that changes nothing has none. */
  audit?: string;
  /** What the action was done to, when the URL's parameters do not say (a list entry's value). */
  target?: (request: FastifyRequest) => string;
  /**
   * Fields of the body the log must never keep (a plain identity number), besides the secrets no
   * route's log keeps (`secretFields`): written as `[redacted]`.
   */
  redact?: readonly string[];
}

/** A scope's table: `"POST /disputes/:disputeNo/ruling"` (the path under the scope's prefix) → its rule. */
export type RouteRules = Record<string, RouteRule>;

/** Every role, for routes that read what any operator may see. */
export const anyRole = 'anyone' as const;

const operatorOf = new WeakMap<FastifyRequest, Operator>();

/** The operator of a request that passed the guard. */
export function requestOperator(request: FastifyRequest): Operator {
  const operator = operatorOf.get(request);
  assert(operator, 'operator routes run after the guard');
  return operator;
}

const ruleOf = new WeakMap<FastifyRequest, RouteRule>();

export interface GuardOptions {
  operators: Operators;
  prefix: string;
  rules: RouteRules;
  /** A shared script token (`PAYBAO_OPERATOR_TOKEN`), an administrator named `script`; unset: none. */
  scriptToken?: string | undefined;
  /** Routes open without a token (the login). */
  open?: readonly string[];
}

/** What no action's detail in the log ever keeps: a new operator's password, a texted code, a token. */
const secretFields: readonly string[] = ['password', 'sms_code', 'token'];

const scriptOperator: Operator = { operatorId: 'script', name: 'PAYBAO_OPERATOR_TOKEN', roles: ['administrator'] };

/** Installs the guard on a scope (see the file comment). Register before the scope's routes. */
export function guardOperators(scope: FastifyInstance, options: GuardOptions): void {
  const { operators, prefix, rules } = options;
  const keyOf = (method: string, url: string) => `${method} ${url.slice(prefix.length) || '/'}`;
  const open = new Set(options.open ?? []);
  const scriptHash = options.scriptToken ? createHash('sha256').update(options.scriptToken).digest() : undefined;
  scope.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      const key = keyOf(method, route.url);
      assert(open.has(key) || rules[key] !== undefined, `operator route ${key} has no roles in its scope's table`);
    }
  });
  scope.addHook('onRequest', async (request) => {
    // No such route: the scope's not-found answer, whoever asks.
    if (request.is404) return;
    const key = keyOf(request.method === 'HEAD' ? 'GET' : request.method, request.routeOptions.url ?? '');
    if (open.has(key)) return;
    const match = /^Bearer ([^\s]+)$/i.exec(request.headers.authorization ?? '');
    const token = match?.[1];
    const byScript =
      scriptHash !== undefined &&
      token !== undefined &&
      timingSafeEqual(createHash('sha256').update(token).digest(), scriptHash);
    const operator = byScript ? scriptOperator : await operators.authenticate(token);
    if (!operator) throw new ConsoleError('UNAUTHORIZED');
    operatorOf.set(request, operator);
    const rule = rules[key];
    assert(rule, `operator route ${key} has a rule`);
    if (rule.roles !== anyRole && !roleAllows(operator.roles, rule.roles))
      throw new ConsoleError('FORBIDDEN', `${key} needs one of: ${[...rule.roles, 'administrator'].join(', ')}`);
    ruleOf.set(request, rule);
  });
  // Before the answer leaves: an action the operator is told succeeded is always in the log.
  scope.addHook('onSend', async (request, reply, payload) => {
    const rule = ruleOf.get(request);
    if (!rule?.audit || reply.statusCode >= 400) return payload;
    const body = (request.body ?? {}) as Record<string, unknown>;
    const params = (request.params ?? {}) as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const target = rule.target?.(request) ?? (Object.values(params).map(String).join('/') || rule.audit);
    const hidden = (k: string) => secretFields.includes(k) || rule.redact?.includes(k) === true;
    const kept = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, hidden(k) ? '[redacted]' : v]));
    const detail =
      Object.keys(kept).length === 0 ? null : JSON.stringify(kept).slice(0, limits.operatorReasonLengthMax);
    await operators.record({
      operator: requestOperator(request),
      action: rule.audit,
      target,
      reason: text(body.note) ?? text(body.reason) ?? null,
      detail,
    });
    return payload;
  });
}
