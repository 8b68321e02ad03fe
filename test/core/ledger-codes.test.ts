/**
 * The ledger-code registry: every ledger is a distinct number with its minor unit, no two
 * owners' code ranges overlap, and every code an owner declares lies in one of its own ranges,
 * once. The numbers are stored with every account and transfer, so the values the platform has
 * always written are pinned here too: a change to one is a migration, not an edit.
 */
import { describe, expect, it } from 'vitest';
import {
  accountCodeRanges,
  accountCodes,
  type CodeRange,
  fundShareLedger,
  fundShareLedgers,
  ledgers,
  transferCodeRanges,
  transferCodes,
} from '../../src/core/ledger-codes.ts';

type Ranges = Record<string, readonly CodeRange[]>;
type Tables = Record<string, Record<string, number>>;

/** "a 10–19 and b 15–20" for every two ranges of different owners that share a code. */
function overlaps(ranges: Ranges): string[] {
  const all = Object.entries(ranges).flatMap(([owner, rs]) => rs.map((r) => ({ owner, r })));
  return all.flatMap((a, i) =>
    all
      .slice(i + 1)
      .filter((b) => a.r[0] <= b.r[1] && b.r[0] <= a.r[1])
      .map((b) => `${a.owner} ${a.r[0]}–${a.r[1]} and ${b.owner} ${b.r[0]}–${b.r[1]}`),
  );
}

/** Every declared code that lies outside its owner's ranges, or is declared twice. */
function strays(ranges: Ranges, tables: Tables): string[] {
  return Object.entries(tables).flatMap(([owner, table]) => {
    const own = ranges[owner] ?? [];
    const values = Object.values(table);
    return Object.entries(table).flatMap(([name, code]) => {
      const problems: string[] = [];
      if (!Number.isInteger(code) || !own.some(([first, last]) => code >= first && code <= last))
        problems.push(`${owner}.${name} = ${code} is outside ${owner}'s ranges`);
      if (values.indexOf(code) !== values.lastIndexOf(code))
        problems.push(`${owner}.${name} = ${code} is declared twice`);
      return problems;
    });
  });
}

describe('the ledger-code registry', () => {
  it.each([
    ['account', accountCodeRanges, accountCodes],
    ['transfer', transferCodeRanges, transferCodes],
  ] as const)('gives every owner of %s codes its own ranges, and every code lies in them', (_, ranges, tables) => {
    expect(overlaps(ranges)).toEqual([]);
    expect(strays(ranges, tables)).toEqual([]);
    expect(Object.keys(tables).sort()).toEqual(Object.keys(ranges).sort());
    for (const rs of Object.values(ranges as Ranges))
      for (const [first, last] of rs) expect(Number.isInteger(first) && first >= 1 && first <= last).toBe(true);
  });

  it('finds overlaps and strays when there are some (the checks are not vacuous)', () => {
    expect(overlaps({ a: [[10, 19]], b: [[19, 20]] })).toEqual(['a 10–19 and b 19–20']);
    expect(overlaps({ a: [[1, 9]], b: [[10, 19]] })).toEqual([]);
    expect(strays({ a: [[10, 19]] }, { a: { x: 10, y: 20, z: 10 } })).toEqual([
      'a.x = 10 is declared twice',
      "a.y = 20 is outside a's ranges",
      'a.z = 10 is declared twice',
    ]);
  });

  it('numbers every ledger once, with an ISO-style code and a minor-unit exponent', () => {
    const all = Object.values(ledgers);
    expect(new Set(all.map((l) => l.id)).size).toBe(all.length);
    expect(new Set(all.map((l) => l.code)).size).toBe(all.length);
    for (const l of all) {
      expect(Number.isInteger(l.id) && l.id > 0 && l.id < 2 ** 31).toBe(true);
      expect(l.code).toMatch(/^[A-Z][A-Z0-9]{2,11}$/);
      expect(Number.isInteger(l.minorUnitExponent) && l.minorUnitExponent >= 0).toBe(true);
    }
  });

  it('keeps the numbers already stored in databases', () => {
    expect(ledgers.cny).toEqual({ id: 156, code: 'CNY', minorUnitExponent: 2, kind: 'currency' });
    expect(accountCodes).toEqual({
      members: { userWallet: 1, merchantWallet: 2, platformFunding: 100 },
      escrow: { escrow: 10, feeIncome: 11, compensationFund: 12, unsettled: 13 },
      channels: { bankReserve: 20, channelLoss: 21, demoReserve: 22 },
      fund: {
        holderShares: 30,
        shareIssuance: 31,
        custodian: 32,
        undistributedIncome: 33,
        liquidityPool: 34,
        company: 35,
      },
      social: { redPacket: 50 },
      risk: { fraudLoss: 60 },
      preauth: { creditAdvance: 70 },
    });
    expect(transferCodes).toEqual({
      members: { openingBalance: 1 },
      trades: { payment: 100, refund: 101 },
      payouts: { payout: 110 },
      escrow: {
        payment: 120,
        refund: 121,
        release: 122,
        fee: 123,
        royalty: 124,
        settlement: 125,
        recoveryAtSettlement: 126,
        compensation: 127,
        recoveryAtRuling: 128,
        fundCapital: 129,
      },
      wallet: { userToUser: 200 },
      channels: { topUp: 300, withdrawal: 301, lossWriteOff: 302, demoDeposit: 303 },
      fund: {
        purchase: 400,
        sharesIssued: 401,
        incomeMoney: 402,
        incomeShares: 403,
        incomeDistributed: 404,
        standardRedemptionShares: 405,
        standardRedemptionMoney: 406,
        fastRedemptionMoney: 407,
        fastRedemptionShares: 408,
        fastRedemptionSettlement: 409,
        poolRefill: 410,
        paymentMoney: 411,
        paymentShares: 412,
        paymentSettlement: 413,
        refundMoney: 414,
        refundShares: 415,
      },
      social: { redPacketSend: 500, redPacketGrab: 501, redPacketRefund: 502, collectionPayment: 503 },
      risk: { fraudCompensation: 600 },
      preauth: { hold: 700, creditCollection: 701, creditAdvance: 702, debtRepayment: 703 },
    });
    expect(fundShareLedgers).toEqual({ first: 1_000_001, last: 1_999_999, minorUnitExponent: 0, kind: 'asset' });
  });

  it('numbers the share ledgers of fund products apart from every declared ledger', () => {
    expect(fundShareLedger(1)).toBe(1_000_001);
    expect(() => fundShareLedger(0)).toThrow(RangeError);
    expect(() => fundShareLedger(1_000_000)).toThrow(RangeError);
    for (const l of Object.values(ledgers))
      expect(l.id < fundShareLedgers.first || l.id > fundShareLedgers.last).toBe(true);
  });
});
