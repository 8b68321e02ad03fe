/**
 * The risk engine's built-in court list check: a payer the courts list is refused
 * `buyer_restricted` on every path that pays a payee whose category is restricted — before any
 * operator's rule, whatever the path can carry out, and a confirmation given before the listing
 * does not pass it; the refusal is recorded with the check as its fired rule and writes nothing
 * else. No rule an operator can delete is involved, and the check reads nothing for a payee
 * without a category.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { idCheckCharacter } from '../../src/credit/index.ts';
import { bothSupported, isRiskError, type RiskRequest, riskPaths } from '../../src/risk/index.ts';
import { usePlatform } from '../support/engine.ts';

const clock = new ManualClock(Date.parse('2026-12-07T04:00:00Z'));
const platform = usePlatform({ clock });
let phones = 0;
let serial = 0;

async function user(): Promise<{ userId: string; phone: string }> {
  const phone = `135${(10_000_000 + ++phones).toString().slice(-8)}`;
  const { userId } = await platform().members.createUser({ phone, password: `pw-${phone}` });
  return { userId, phone };
}

/** A user with a verified real name, listed by a court when `listed`. */
async function person(listed: boolean): Promise<{ userId: string; phone: string }> {
  const u = await user();
  const first17 = `110105198001${String(10_000 + ++serial).slice(-5)}`;
  const idNumber = first17 + idCheckCharacter(first17);
  await platform().credit.realNames.verify(u.userId, { name: '张三', idNumber });
  if (listed) await listing(idNumber);
  return u;
}

async function listing(idNumber: string): Promise<void> {
  await platform().courtList.add(
    {
      idNumber,
      name: '张三',
      caseNumber: `(2026)京0105执${++serial}号`,
      court: '北京市朝阳区人民法院',
      listingDate: '2026-01-05',
      grounds: '违反财产报告制度',
    },
    'test',
  );
}

async function decide(request: RiskRequest, challenge?: { id: string; code: string }): Promise<string> {
  try {
    const options = { supports: bothSupported, fingerprint: `f-${request.ref}`, challenge };
    return (await platform().risk.assess(request, options)).decision;
  } catch (error) {
    if (isRiskError(error)) return error.code;
    throw error;
  }
}

const decisions = async () =>
  Number((await platform().db.query<{ n: bigint }>('select count(*)::int8 n from risk_decisions'))[0]?.n);

describe('the court list check', () => {
  it('refuses a listed payer on every path to a payee of a restricted category, and records it', async () => {
    const airline = (await user()).userId;
    const grocer = (await user()).userId;
    await platform().risk.setMerchantCategory(airline, 'air_tickets');
    await platform().risk.setMerchantCategory(grocer, 'groceries');
    const listed = await person(true);
    const unlisted = await person(false);
    const unverified = await user();
    for (const path of riskPaths) {
      const pay = (userId: string, payee: string) =>
        decide({
          path,
          userId,
          payeeId: payee,
          merchantId: payee,
          amountFen: 880_00n,
          ref: `${path}-${payee}-${userId}`,
        });
      const before = await decisions();
      expect(await pay(listed.userId, airline), path).toBe('buyer_restricted');
      expect(await decisions()).toBe(before + 1);
      expect(await pay(listed.userId, grocer), path).toBe('allow');
      expect(await pay(unlisted.userId, airline), path).toBe('allow');
      // No verified real name: nothing to match.
      expect(await pay(unverified.userId, airline), path).toBe('allow');
    }
    const [recorded] = await platform().risk.decisions({ userId: listed.userId, limit: 1 });
    expect(recorded).toMatchObject({ decision: 'deny', payeeId: airline });
    expect(recorded?.fired).toEqual([
      {
        ruleId: 0,
        name: 'court list',
        kind: 'court_list',
        action: 'deny',
        mode: 'enforce',
        reason: expect.stringMatching(/courts' list of dishonest debtors \(case \(2026\)京0105执\d+号.*air_tickets/),
      },
    ]);
    // Operators' rules are the operators'; the check is none of them.
    expect(await platform().risk.rules()).toEqual([]);
  });

  it('is not passed by a confirmation given before the payer was listed', async () => {
    const airline = (await user()).userId;
    await platform().risk.setMerchantCategory(airline, 'air_tickets');
    const payer = await person(false);
    const rule = await platform().risk.createRule(
      { name: 'confirm all', condition: { kind: 'amount', over: '1.00' }, action: 'challenge' },
      'test',
    );
    try {
      const request: RiskRequest = {
        path: 'cashier_pay',
        userId: payer.userId,
        merchantId: airline,
        payeeId: airline,
        amountFen: 880_00n,
        ref: 'confirm-1',
      };
      const challenge = await platform()
        .risk.assess(request, { supports: bothSupported, fingerprint: 'f-confirm-1' })
        .catch((e: unknown) => e);
      expect(isRiskError(challenge, 'challenge_required')).toBe(true);
      const [sms] = await platform().members.smsOutbox({ phone: payer.phone, limit: 1 });
      const code = /Code (\d{6})/.exec(sms?.text ?? '')?.[1] ?? '';
      const [verified] = await platform().db.query<{ id_sha256: string }>(
        'select id_sha256 from credit_real_names where user_id = $1',
        [payer.userId],
      );
      await platform().courtList.add(
        {
          idHash: verified?.id_sha256,
          name: '张三',
          caseNumber: '(2026)京0105执999号',
          court: '北京市朝阳区人民法院',
          listingDate: '2026-12-07',
          grounds: '违反财产报告制度',
        },
        'test',
      );
      expect(await decide(request, { id: (challenge as { challengeId: string }).challengeId, code })).toBe(
        'buyer_restricted',
      );
    } finally {
      await platform().risk.deleteRule(rule.ruleId);
    }
  });
});
