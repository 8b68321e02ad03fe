/**
 * The engine over a real database: velocity counted exactly under concurrent decisions in one
 * process and shared between processes (two engines on one database, each syncing), windows
 * that slide with the clock, payees and usual regions learned from allowed payments, new
 * accounts, lists, merchant categories. Each engine here is what one server process holds.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import { isRiskError, Risk, type RiskParties, type RiskRequest, type Supports } from '../../src/risk/index.ts';
import { usePlatform } from '../support/engine.ts';

const clock = new ManualClock();
const platform = usePlatform({ clock });
const none: Supports = new Set();
let phones = 0;

function parties(): RiskParties {
  return {
    async member(userId) {
      const m = await platform().members.getMember(userId);
      return { kind: m.kind, createdAtNs: m.createdAtNs, phone: m.phone, walletAccountId: m.walletAccountId };
    },
    sendSms: async () => {},
  };
}

/** Another server process's engine on the same database. */
const otherProcess = () => new Risk(platform().db, platform().ledger, parties(), clock);

async function user(): Promise<string> {
  const phone = `137${(10_000_000 + ++phones).toString().slice(-8)}`;
  return (await platform().members.createUser({ phone, password: `pw-${phone}` })).userId;
}

/** What an engine decides: 'allow' or 'review', or the refusal's code. */
async function decide(risk: Risk, request: RiskRequest): Promise<string> {
  try {
    return (await risk.assess(request, { supports: none, fingerprint: 'f' })).decision;
  } catch (error) {
    if (isRiskError(error)) return error.code;
    throw error;
  }
}

async function withRule(body: Record<string, unknown>, run: () => Promise<void>): Promise<void> {
  const risk = platform().risk;
  const rule = await risk.createRule({ action: 'deny', ...body }, 'test');
  try {
    await run();
  } finally {
    await risk.deleteRule(rule.ruleId);
  }
}

describe('velocity', () => {
  it('lets exactly max_count of many concurrent payments through in one process', async () => {
    const payer = await user();
    await withRule(
      { name: 'five', condition: { kind: 'velocity', dimension: 'user', window_seconds: 60, max_count: 5 } },
      async () => {
        const decisions = await Promise.all(
          Array.from({ length: 20 }, () => decide(platform().risk, { path: 'transfer', userId: payer, amountFen: 1n })),
        );
        expect(decisions.filter((d) => d === 'allow')).toHaveLength(5);
        expect(decisions.filter((d) => d === 'payment_denied')).toHaveLength(15);
      },
    );
  });

  it('counts another process’s payments once both have synced', async () => {
    const payer = await user();
    const other = otherProcess();
    await withRule(
      { name: 'three', condition: { kind: 'velocity', dimension: 'user', window_seconds: 600, max_amount: '30.00' } },
      async () => {
        const pay = (risk: Risk) => decide(risk, { path: 'transfer', userId: payer, amountFen: 10_00n });
        expect(await pay(platform().risk)).toBe('allow');
        expect(await pay(platform().risk)).toBe('allow');
        await platform().risk.sync();
        // The other process reads the payer's window from the database the first time it needs it.
        expect(await pay(other)).toBe('allow');
        expect(await pay(other)).toBe('payment_denied');
        await other.sync();
        await platform().risk.sync();
        expect(await pay(platform().risk)).toBe('payment_denied');
      },
    );
  });

  it('slides: payments older than the window no longer count', async () => {
    const payer = await user();
    await withRule(
      { name: 'two a minute', condition: { kind: 'velocity', dimension: 'user', window_seconds: 60, max_count: 2 } },
      async () => {
        const pay = () => decide(platform().risk, { path: 'transfer', userId: payer, amountFen: 1n });
        expect([await pay(), await pay(), await pay()]).toEqual(['allow', 'allow', 'payment_denied']);
        clock.advanceMs(60_000 + limits.riskBucketMs);
        expect(await pay()).toBe('allow');
      },
    );
  });

  it('counts per merchant, card, device and address as well', async () => {
    const [a, b] = [await user(), await user()];
    await withRule(
      { name: 'device', condition: { kind: 'velocity', dimension: 'device', window_seconds: 60, max_count: 1 } },
      async () => {
        const pay = (userId: string, device: string) =>
          decide(platform().risk, { path: 'transfer', userId, amountFen: 1n, device });
        expect(await pay(a, 'phone-1')).toBe('allow');
        expect(await pay(b, 'phone-1')).toBe('payment_denied');
        expect(await pay(b, 'phone-2')).toBe('allow');
      },
    );
  });
});

describe('learned facts', () => {
  it('knows a payee once the payer paid them, in every process', async () => {
    const [payer, payee] = [await user(), await user()];
    await withRule({ name: 'new payee', condition: { kind: 'new_payee', over: '50.00' } }, async () => {
      const pay = (risk: Risk, fen: bigint) =>
        decide(risk, { path: 'transfer', userId: payer, payeeId: payee, amountFen: fen });
      expect(await pay(platform().risk, 100_00n)).toBe('payment_denied');
      expect(await pay(platform().risk, 10_00n)).toBe('allow');
      expect(await pay(platform().risk, 100_00n)).toBe('allow');
      await platform().risk.sync();
      expect(await pay(otherProcess(), 100_00n)).toBe('allow');
    });
  });

  it('refuses a young account until it is old enough', async () => {
    const payer = await user();
    await withRule({ name: 'young', condition: { kind: 'new_account', days: 1 } }, async () => {
      const pay = () => decide(platform().risk, { path: 'transfer', userId: payer, amountFen: 1n });
      expect(await pay()).toBe('payment_denied');
      clock.advanceMs(86_400_000);
      expect(await pay()).toBe('allow');
    });
  });

  it('learns the payer’s usual region and notices another', async () => {
    const payer = await user();
    const risk = platform().risk;
    await risk.setRegion('10.1.0.0/16', 'hangzhou');
    await risk.setRegion('10.2.0.0/16', 'shanghai');
    await risk.setRegion('10.2.3.0/24', 'pudong');
    const pay = (address: string) => decide(risk, { path: 'transfer', userId: payer, amountFen: 1n, address });
    expect(await pay('10.1.0.9')).toBe('allow');
    await risk.sync();
    await withRule({ name: 'elsewhere', condition: { kind: 'region' } }, async () => {
      expect(await pay('10.1.200.1')).toBe('allow');
      expect(await pay('::ffff:10.1.200.1')).toBe('allow');
      expect(await pay('10.2.0.1')).toBe('payment_denied');
      expect(await pay('10.2.3.4')).toBe('payment_denied');
      // An address no network names has no region: the rule cannot judge it.
      expect(await pay('192.168.1.1')).toBe('allow');
    });
    const [decision] = await risk.decisions({ userId: payer });
    expect(decision?.fired[0]?.reason).toBe('from region pudong, usually hangzhou');
    expect(decision?.context).toMatchObject({ address: '10.2.3.4', region: 'pudong', usual_region: 'hangzhou' });
  });
});

describe('lists and categories', () => {
  it('refuses a listed user, payee or device until the entry is removed', async () => {
    const [payer, payee] = [await user(), await user()];
    const risk = platform().risk;
    await withRule({ name: 'listed', condition: { kind: 'list', list: 'user' } }, async () => {
      const pay = () => decide(risk, { path: 'transfer', userId: payer, payeeId: payee, amountFen: 1n });
      expect(await pay()).toBe('allow');
      await risk.addListEntry({ list: 'user', value: payee, reason: 'mule account' }, 'test');
      expect(await pay()).toBe('payment_denied');
      // Another process sees the change on its next sync.
      const other = otherProcess();
      expect(await decide(other, { path: 'transfer', userId: payer, payeeId: payee, amountFen: 1n })).toBe(
        'payment_denied',
      );
      await risk.removeListEntry('user', payee);
      expect(await pay()).toBe('allow');
      expect(await decide(other, { path: 'transfer', userId: payer, payeeId: payee, amountFen: 1n })).toBe(
        'payment_denied',
      );
      await other.sync();
      expect(await decide(other, { path: 'transfer', userId: payer, payeeId: payee, amountFen: 1n })).toBe('allow');
    });
    await expect(risk.addListEntry({ list: 'planet', value: 'x', reason: 'y' }, 'test')).rejects.toThrow(/list/);
    await expect(risk.addListEntry({ list: 'user', value: '', reason: 'y' }, 'test')).rejects.toThrow(/value/);
    await expect(risk.removeListEntry('user', 'nobody')).rejects.toThrow(/No such list entry/);
  });

  it('applies an amount rule to the merchant categories it names', async () => {
    const [payer, merchant] = [await user(), await user()];
    const risk = platform().risk;
    await withRule(
      { name: 'games', condition: { kind: 'amount', over: '100.00', categories: ['games'] }, paths: ['trade_pay'] },
      async () => {
        const pay = () =>
          decide(risk, {
            path: 'trade_pay',
            userId: payer,
            merchantId: merchant,
            payeeId: merchant,
            amountFen: 200_00n,
          });
        expect(await pay()).toBe('allow');
        await risk.setMerchantCategory(merchant, 'games');
        expect(await pay()).toBe('payment_denied');
      },
    );
    await expect(risk.setMerchantCategory(merchant, 'no spaces')).rejects.toThrow(/category/);
    await expect(risk.setRegion('10.0.0.0/33', 'x')).rejects.toThrow(/network/);
  });
});
