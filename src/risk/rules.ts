import { limits } from '../core/limits.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import { RiskError } from './errors.ts';

/**
 * The risk engine's rules: what each kind looks at, how a stored rule is checked, and the pure
 * evaluation of a payment against them. Nothing here reads a clock or a table: the engine
 * (`risk.ts`) gathers the facts, `evaluate` decides.
 */

/** Every path on which money leaves a payer, each asking the engine before money moves. */
export const riskPaths = [
  'trade_pay', // alipay.trade.pay (bar code at a till)
  'cashier_pay', // the cashier page, from the wallet or Yu'e Bao
  'quick_pay', // the card cashier: a bound card pays a trade
  'withdrawal', // wallet → bank card
  'transfer', // user → user (and paying a collection request)
  'red_packet', // a user's red packet sent
  'payout', // alipay.fund.trans.uni.transfer: merchant → member
  'campaign', // alipay.fund.trans.app.pay: a merchant's campaign packet funded
] as const;
export type RiskPath = (typeof riskPaths)[number];

/** What a rule asks for when it fires, weakest first; `allow` is what no rule asked. */
export const riskActions = ['challenge', 'review', 'deny'] as const;
export type RiskAction = (typeof riskActions)[number];
export type RiskDecision = 'allow' | RiskAction;

/** `shadow`: the rule's decisions are logged and counted, never applied. */
export const ruleModes = ['enforce', 'shadow'] as const;
export type RuleMode = (typeof ruleModes)[number];

/** What velocity is counted per. */
export const dimensions = ['user', 'card', 'device', 'address', 'merchant'] as const;
export type Dimension = (typeof dimensions)[number];

/** The lists a value can be on. `user` is checked against the payer and the payee. */
export const listKinds = ['user', 'card', 'device', 'address'] as const;
export type ListKind = (typeof listKinds)[number];

/** What a payer is for the amount rules: a user or a merchant (real-name tiers come with credit). */
export type Tier = 'user' | 'merchant';

/** A rule's condition, by kind. Amounts in fen. */
export type RuleCondition =
  /** The amount is above `overFen` (for the payer tiers and merchant categories named, when named). */
  | { kind: 'amount'; overFen: bigint; tiers?: Tier[]; categories?: string[] }
  /** With this payment, the dimension's count or amount within the window would pass its bound. */
  | { kind: 'velocity'; dimension: Dimension; windowMs: number; maxCount?: number; maxAmountFen?: bigint }
  /** The payer's account is younger than `days` (and the amount above `overFen`, when given). */
  | { kind: 'new_account'; days: number; overFen?: bigint }
  /** The payer never paid this payee before (and the amount is above `overFen`, when given). */
  | { kind: 'new_payee'; overFen?: bigint }
  /** A value of the payment is on the list. */
  | { kind: 'list'; list: ListKind }
  /** The client's region is known and differs from the payer's usual one. */
  | { kind: 'region' };

export type RuleKind = RuleCondition['kind'];

/** A stored rule. */
export interface Rule {
  ruleId: number;
  name: string;
  condition: RuleCondition;
  /** The paths the rule applies to; empty for every path. */
  paths: RiskPath[];
  action: RiskAction;
  mode: RuleMode;
  enabled: boolean;
}

/** A rule as an operator writes it (the console API's body), before it is checked. */
export interface RuleInput {
  name?: unknown;
  condition?: unknown;
  paths?: unknown;
  action?: unknown;
  mode?: unknown;
  enabled?: unknown;
}

/** The payment the engine is asked about. */
export interface RiskRequest {
  path: RiskPath;
  /** The payer: a user, or the merchant on `payout` and `campaign`. */
  userId: string;
  amountFen: bigint;
  /** Who is paid, when it is a member (a friend, a merchant, a payout's member). */
  payeeId?: string | undefined;
  /** The merchant of a trade (also the payee of trade payments). */
  merchantId?: string | undefined;
  /** The bound card paying, or being withdrawn to. */
  cardId?: string | undefined;
  /** The device or terminal the payment came from, when the client says. */
  device?: string | undefined;
  /** The client's network address. */
  address?: string | undefined;
  /** The business reference the decision is about (a trade number, a transfer's key), for the record. */
  ref?: string | undefined;
}

/** What the engine knows about a payment when it evaluates it. */
export interface RiskFacts {
  tier: Tier;
  /** The merchant's category, when one is set. */
  category: string | undefined;
  /** How old the payer's account is. */
  accountAgeMs: number;
  /** Whether the payer paid this payee before; undefined when there is no payee. */
  knownPayee: boolean | undefined;
  /** The client's region and the payer's usual one, when known. */
  region: string | undefined;
  usualRegion: string | undefined;
  /** Whether a value is on a list. */
  listed(list: ListKind, value: string): boolean;
  /** The count and fen of a dimension's value within the window, before this payment. */
  velocity(dimension: Dimension, value: string, windowMs: number): { count: number; fen: bigint };
}

/** A rule that fired, with why, as decisions record it. */
export interface FiredRule {
  /** 0 for the engine's built-in checks, which no operator can change. */
  ruleId: number;
  name: string;
  /** `court_list`: the built-in restriction of people the courts list (docs/court-list.md). */
  kind: RuleKind | 'court_list';
  action: RiskAction;
  mode: RuleMode;
  reason: string;
}

/** The value a payment has in a dimension, if it has one. */
export function dimensionValue(request: RiskRequest, dimension: Dimension): string | undefined {
  switch (dimension) {
    case 'user':
      return request.userId;
    case 'card':
      return request.cardId;
    case 'device':
      return request.device;
    case 'address':
      return request.address;
    case 'merchant':
      return request.merchantId;
  }
}

const yuan = formatAmount;

/** Why a rule fires on this payment, or undefined when it does not. */
function firing(condition: RuleCondition, request: RiskRequest, facts: RiskFacts): string | undefined {
  const amount = request.amountFen;
  switch (condition.kind) {
    case 'amount': {
      if (condition.tiers && !condition.tiers.includes(facts.tier)) return undefined;
      if (condition.categories && !(facts.category && condition.categories.includes(facts.category))) return undefined;
      return amount > condition.overFen ? `amount ${yuan(amount)} above ${yuan(condition.overFen)}` : undefined;
    }
    case 'velocity': {
      const value = dimensionValue(request, condition.dimension);
      if (value === undefined) return undefined;
      const seen = facts.velocity(condition.dimension, value, condition.windowMs);
      const window = `${condition.windowMs / 1000} s`;
      if (condition.maxCount !== undefined && seen.count + 1 > condition.maxCount) {
        return `${seen.count + 1} payments by this ${condition.dimension} within ${window}, more than ${condition.maxCount}`;
      }
      if (condition.maxAmountFen !== undefined && seen.fen + amount > condition.maxAmountFen) {
        return `${yuan(seen.fen + amount)} by this ${condition.dimension} within ${window}, more than ${yuan(condition.maxAmountFen)}`;
      }
      return undefined;
    }
    case 'new_account': {
      if (facts.accountAgeMs >= condition.days * msPerDay) return undefined;
      if (condition.overFen !== undefined && amount <= condition.overFen) return undefined;
      return `account younger than ${condition.days} days`;
    }
    case 'new_payee': {
      if (facts.knownPayee !== false) return undefined;
      if (condition.overFen !== undefined && amount <= condition.overFen) return undefined;
      return 'first payment to this payee';
    }
    case 'list': {
      const values =
        condition.list === 'user'
          ? [request.userId, request.payeeId]
          : [dimensionValue(request, condition.list as Dimension)];
      const hit = values.find((v) => v !== undefined && facts.listed(condition.list, v));
      return hit === undefined ? undefined : `${condition.list} ${hit} is on the list`;
    }
    case 'region': {
      if (facts.region === undefined || facts.usualRegion === undefined) return undefined;
      return facts.region === facts.usualRegion
        ? undefined
        : `from region ${facts.region}, usually ${facts.usualRegion}`;
    }
  }
}

const msPerDay = 86_400_000;

/** The rules that fire on this payment (enabled, on its path), in rule order. */
export function evaluate(rules: readonly Rule[], request: RiskRequest, facts: RiskFacts): FiredRule[] {
  const fired: FiredRule[] = [];
  for (const rule of rules) {
    if (!rule.enabled || (rule.paths.length > 0 && !rule.paths.includes(request.path))) continue;
    const reason = firing(rule.condition, request, facts);
    if (reason === undefined) continue;
    fired.push({
      ruleId: rule.ruleId,
      name: rule.name,
      kind: rule.condition.kind,
      action: rule.action,
      mode: rule.mode,
      reason,
    });
  }
  return fired;
}

const strength: Record<RiskDecision, number> = { allow: 0, challenge: 1, review: 2, deny: 3 };

/** The strongest action the enforced rules ask for; shadow rules never count. */
export function decisionOf(fired: readonly FiredRule[]): RiskDecision {
  let decision: RiskDecision = 'allow';
  for (const f of fired) if (f.mode === 'enforce' && strength[f.action] > strength[decision]) decision = f.action;
  return decision;
}

/**
 * What a path does with a decision it cannot carry out: a path that cannot wait for an operator
 * (a till, a cashier) asks the payer to prove it is them instead of a review; a path with no
 * payer at hand (a merchant's server) cannot challenge and sends it to review, or refuses.
 */
export function applicable(decision: RiskDecision, supports: ReadonlySet<'challenge' | 'review'>): RiskDecision {
  if (decision === 'allow' || decision === 'deny' || supports.has(decision)) return decision;
  const other = decision === 'review' ? 'challenge' : 'review';
  return supports.has(other) ? other : 'deny';
}

// ---- Checking what an operator writes -------------------------------------------------------------

const invalid = (param: string, detail: string) => new RiskError('rule_invalid', { param, detail });

function oneOf<T extends string>(value: unknown, allowed: readonly T[], param: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw invalid(param, `${param} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  }
  return value as T;
}

function listOf<T extends string>(value: unknown, allowed: readonly T[], param: string): T[] {
  if (!Array.isArray(value)) throw invalid(param, `${param} must be a list`);
  return [...new Set(value.map((v, i) => oneOf(v, allowed, `${param}[${i}]`)))];
}

function wholeNumber(value: unknown, param: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(param, `${param} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Fen, sent as a decimal string of yuan ("500.00") as every amount on the wire. */
function fenOf(value: unknown, param: string): bigint {
  const fen = typeof value === 'string' ? parseAmount(value) : undefined;
  if (fen === undefined) throw invalid(param, `${param} must be an amount of yuan as a string, such as "500.00"`);
  return fen;
}

function categoriesOf(value: unknown, param: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid(param, `${param} must be a non-empty list`);
  return value.map((v, i) => {
    if (typeof v !== 'string' || !categoryPattern.test(v)) {
      throw invalid(`${param}[${i}]`, `${param}[${i}] must be a category code of letters, digits, - and _`);
    }
    return v;
  });
}

export const categoryPattern = /^[A-Za-z0-9_-]{1,32}$/;

const conditionKeys: Record<RuleKind, readonly string[]> = {
  amount: ['kind', 'over', 'tiers', 'categories'],
  velocity: ['kind', 'dimension', 'window_seconds', 'max_count', 'max_amount'],
  new_account: ['kind', 'days', 'over'],
  new_payee: ['kind', 'over'],
  list: ['kind', 'list'],
  region: ['kind'],
};

/** A condition as the console API sends it (amounts as yuan strings, windows in seconds), checked. */
export function checkCondition(raw: unknown): RuleCondition {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid('condition', 'condition must be an object with a kind');
  }
  const c = raw as Record<string, unknown>;
  const kind = oneOf(c.kind, Object.keys(conditionKeys) as RuleKind[], 'condition.kind');
  const unknown = Object.keys(c).find((k) => !conditionKeys[kind].includes(k));
  if (unknown !== undefined) throw invalid(`condition.${unknown}`, `condition.${unknown} is not a field of ${kind}`);
  const over = c.over === undefined ? undefined : fenOf(c.over, 'condition.over');
  switch (kind) {
    case 'amount': {
      if (over === undefined) throw invalid('condition.over', 'condition.over is required');
      return {
        kind,
        overFen: over,
        ...(c.tiers === undefined ? {} : { tiers: listOf(c.tiers, ['user', 'merchant'] as const, 'condition.tiers') }),
        ...(c.categories === undefined ? {} : { categories: categoriesOf(c.categories, 'condition.categories') }),
      };
    }
    case 'velocity': {
      const windowS = wholeNumber(c.window_seconds, 'condition.window_seconds', 1, limits.riskWindowMaxMs / 1000);
      if (c.max_count === undefined && c.max_amount === undefined) {
        throw invalid('condition.max_count', 'a velocity rule needs condition.max_count, condition.max_amount or both');
      }
      return {
        kind,
        dimension: oneOf(c.dimension, dimensions, 'condition.dimension'),
        windowMs: windowS * 1000,
        ...(c.max_count === undefined
          ? {}
          : { maxCount: wholeNumber(c.max_count, 'condition.max_count', 0, Number.MAX_SAFE_INTEGER) }),
        ...(c.max_amount === undefined ? {} : { maxAmountFen: fenOf(c.max_amount, 'condition.max_amount') }),
      };
    }
    case 'new_account':
      return {
        kind,
        days: wholeNumber(c.days, 'condition.days', 1, limits.riskNewAccountDaysMax),
        ...(over === undefined ? {} : { overFen: over }),
      };
    case 'new_payee':
      return { kind, ...(over === undefined ? {} : { overFen: over }) };
    case 'list':
      return { kind, list: oneOf(c.list, listKinds, 'condition.list') };
    case 'region':
      return { kind };
  }
}

/** A condition in the console API's form: the inverse of `checkCondition`. */
export function conditionJson(c: RuleCondition): Record<string, unknown> {
  switch (c.kind) {
    case 'amount':
      return { kind: c.kind, over: yuan(c.overFen), tiers: c.tiers, categories: c.categories };
    case 'velocity':
      return {
        kind: c.kind,
        dimension: c.dimension,
        window_seconds: c.windowMs / 1000,
        max_count: c.maxCount,
        max_amount: c.maxAmountFen === undefined ? undefined : yuan(c.maxAmountFen),
      };
    case 'new_account':
      return { kind: c.kind, days: c.days, over: c.overFen === undefined ? undefined : yuan(c.overFen) };
    case 'new_payee':
      return { kind: c.kind, over: c.overFen === undefined ? undefined : yuan(c.overFen) };
    case 'list':
      return { kind: c.kind, list: c.list };
    case 'region':
      return { kind: c.kind };
  }
}

/** A whole rule as an operator writes it, checked: every field, or the first that is wrong. */
export function checkRule(input: RuleInput): Omit<Rule, 'ruleId'> {
  if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > limits.riskRuleNameMax) {
    throw invalid('name', `name must be text of 1 to ${limits.riskRuleNameMax} characters`);
  }
  if (input.enabled !== undefined && typeof input.enabled !== 'boolean') {
    throw invalid('enabled', 'enabled must be true or false');
  }
  return {
    name: input.name.trim(),
    condition: checkCondition(input.condition),
    paths: input.paths === undefined ? [] : listOf(input.paths, riskPaths, 'paths'),
    action: oneOf(input.action, riskActions, 'action'),
    mode: input.mode === undefined ? 'enforce' : oneOf(input.mode, ruleModes, 'mode'),
    enabled: input.enabled ?? true,
  };
}

/** A stored condition (jsonb, amounts as strings of fen) back into its type. */
export function conditionFromStored(stored: Record<string, unknown>): RuleCondition {
  const fen = (v: unknown) => (v === undefined || v === null ? undefined : BigInt(v as string));
  const c = stored as Record<string, unknown> & { kind: RuleKind };
  const drop = <T extends object>(o: T): T =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  switch (c.kind) {
    case 'amount':
      return drop({
        kind: c.kind,
        overFen: fen(c.overFen) as bigint,
        tiers: c.tiers as Tier[] | undefined,
        categories: c.categories as string[] | undefined,
      });
    case 'velocity':
      return drop({
        kind: c.kind,
        dimension: c.dimension as Dimension,
        windowMs: c.windowMs as number,
        maxCount: c.maxCount as number | undefined,
        maxAmountFen: fen(c.maxAmountFen),
      });
    case 'new_account':
      return drop({ kind: c.kind, days: c.days as number, overFen: fen(c.overFen) });
    case 'new_payee':
      return drop({ kind: c.kind, overFen: fen(c.overFen) });
    case 'list':
      return { kind: c.kind, list: c.list as ListKind };
    case 'region':
      return { kind: c.kind };
  }
}

/** A condition as stored (jsonb): amounts as strings of fen. */
export function conditionToStored(c: RuleCondition): Record<string, unknown> {
  return JSON.parse(JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
}
