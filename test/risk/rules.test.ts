/**
 * Each kind of rule fires exactly at its boundary (the pure evaluation, over facts given by
 * hand), the strongest enforced action wins, shadow rules never decide, and a path that cannot
 * carry out a decision gets the nearest one it can.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applicable,
  decisionOf,
  evaluate,
  type FiredRule,
  type RiskFacts,
  type RiskRequest,
  type Rule,
  type RuleCondition,
} from '../../src/risk/index.ts';

const payment: RiskRequest = {
  path: 'transfer',
  userId: '2088000000000001',
  payeeId: '2088000000000002',
  amountFen: 100_00n,
};

function facts(overrides: Partial<RiskFacts> = {}): RiskFacts {
  return {
    tier: 'user',
    category: undefined,
    accountAgeMs: 400 * 86_400_000,
    knownPayee: true,
    region: undefined,
    usualRegion: undefined,
    listed: () => false,
    velocity: () => ({ count: 0, fen: 0n }),
    ...overrides,
  };
}

let ids = 0;
function rule(condition: RuleCondition, overrides: Partial<Rule> = {}): Rule {
  return {
    ruleId: ++ids,
    name: `r${ids}`,
    condition,
    paths: [],
    action: 'deny',
    mode: 'enforce',
    enabled: true,
    ...overrides,
  };
}

const fires = (condition: RuleCondition, request: RiskRequest = payment, f: RiskFacts = facts()) =>
  evaluate([rule(condition)], request, f).length === 1;

describe('rule kinds at their boundaries', () => {
  it('amount: above the bound, not at it; only for the tiers and categories named', () => {
    expect(fires({ kind: 'amount', overFen: 100_00n })).toBe(false);
    expect(fires({ kind: 'amount', overFen: 99_99n })).toBe(true);
    expect(fires({ kind: 'amount', overFen: 1n, tiers: ['merchant'] })).toBe(false);
    expect(fires({ kind: 'amount', overFen: 1n, tiers: ['merchant'] }, payment, facts({ tier: 'merchant' }))).toBe(
      true,
    );
    expect(fires({ kind: 'amount', overFen: 1n, categories: ['games'] })).toBe(false);
    expect(fires({ kind: 'amount', overFen: 1n, categories: ['games'] }, payment, facts({ category: 'games' }))).toBe(
      true,
    );
  });

  it('velocity: the count with this payment past max_count; the money with it past max_amount', () => {
    const seen = (count: number, fen: bigint) => facts({ velocity: () => ({ count, fen }) });
    const count = { kind: 'velocity', dimension: 'user', windowMs: 60_000, maxCount: 3 } as const;
    expect(fires(count, payment, seen(2, 0n))).toBe(false);
    expect(fires(count, payment, seen(3, 0n))).toBe(true);
    const money = { kind: 'velocity', dimension: 'user', windowMs: 60_000, maxAmountFen: 300_00n } as const;
    expect(fires(money, payment, seen(9, 200_00n))).toBe(false);
    expect(fires(money, payment, seen(9, 200_01n))).toBe(true);
    // A dimension the payment has no value for never fires.
    expect(fires({ ...count, dimension: 'card', maxCount: 0 })).toBe(false);
    expect(fires({ ...count, dimension: 'card', maxCount: 0 }, { ...payment, cardId: 'c1' })).toBe(true);
  });

  it('new_account: younger than the days; with over, only above it', () => {
    const day = 86_400_000;
    expect(fires({ kind: 'new_account', days: 3 }, payment, facts({ accountAgeMs: 3 * day }))).toBe(false);
    expect(fires({ kind: 'new_account', days: 3 }, payment, facts({ accountAgeMs: 3 * day - 1 }))).toBe(true);
    expect(fires({ kind: 'new_account', days: 3, overFen: 100_00n }, payment, facts({ accountAgeMs: 0 }))).toBe(false);
    expect(fires({ kind: 'new_account', days: 3, overFen: 99_99n }, payment, facts({ accountAgeMs: 0 }))).toBe(true);
  });

  it('new_payee: only when the payer never paid this payee; with over, only above it', () => {
    expect(fires({ kind: 'new_payee' })).toBe(false);
    expect(fires({ kind: 'new_payee' }, payment, facts({ knownPayee: false }))).toBe(true);
    expect(fires({ kind: 'new_payee' }, payment, facts({ knownPayee: undefined }))).toBe(false);
    expect(fires({ kind: 'new_payee', overFen: 100_00n }, payment, facts({ knownPayee: false }))).toBe(false);
  });

  it('list: the payer or the payee on the user list; the card, device or address on theirs', () => {
    const on = (list: string, value: string) => facts({ listed: (l, v) => l === list && v === value });
    expect(fires({ kind: 'list', list: 'user' }, payment, on('user', payment.userId))).toBe(true);
    expect(fires({ kind: 'list', list: 'user' }, payment, on('user', payment.payeeId ?? ''))).toBe(true);
    expect(fires({ kind: 'list', list: 'user' }, payment, on('user', '2088999999999999'))).toBe(false);
    expect(fires({ kind: 'list', list: 'device' }, { ...payment, device: 'd1' }, on('device', 'd1'))).toBe(true);
    expect(fires({ kind: 'list', list: 'card' }, { ...payment, device: 'd1' }, on('card', 'd1'))).toBe(false);
  });

  it('region: only when both regions are known and differ', () => {
    expect(fires({ kind: 'region' }, payment, facts({ region: 'hz', usualRegion: 'hz' }))).toBe(false);
    expect(fires({ kind: 'region' }, payment, facts({ region: 'sh', usualRegion: 'hz' }))).toBe(true);
    expect(fires({ kind: 'region' }, payment, facts({ region: 'sh' }))).toBe(false);
    expect(fires({ kind: 'region' }, payment, facts({ usualRegion: 'hz' }))).toBe(false);
  });

  it('skips disabled rules and rules of other paths', () => {
    const always = { kind: 'amount', overFen: 0n } as const;
    expect(evaluate([rule(always, { enabled: false })], payment, facts())).toEqual([]);
    expect(evaluate([rule(always, { paths: ['withdrawal'] })], payment, facts())).toEqual([]);
    expect(evaluate([rule(always, { paths: ['withdrawal', 'transfer'] })], payment, facts())).toHaveLength(1);
  });
});

describe('decisions', () => {
  const fired = fc.array(
    fc.record({
      action: fc.constantFrom('challenge' as const, 'review' as const, 'deny' as const),
      mode: fc.constantFrom('enforce' as const, 'shadow' as const),
    }),
  );
  const strength = { allow: 0, challenge: 1, review: 2, deny: 3 };

  it('is the strongest enforced action, and shadow rules never count', () => {
    fc.assert(
      fc.property(fired, (list) => {
        const rules: FiredRule[] = list.map((f, i) => ({ ...f, ruleId: i, name: `r${i}`, kind: 'amount', reason: '' }));
        const decision = decisionOf(rules);
        const enforced = rules.filter((r) => r.mode === 'enforce').map((r) => strength[r.action]);
        expect(strength[decision]).toBe(Math.max(0, ...enforced));
      }),
    );
  });

  it('gives a path the nearest decision it can carry out', () => {
    const none = new Set<'challenge' | 'review'>();
    expect(applicable('review', new Set(['challenge']))).toBe('challenge');
    expect(applicable('challenge', new Set(['review']))).toBe('review');
    expect(applicable('challenge', none)).toBe('deny');
    expect(applicable('review', none)).toBe('deny');
    expect(applicable('allow', none)).toBe('allow');
    expect(applicable('deny', new Set(['challenge', 'review']))).toBe('deny');
  });
});
