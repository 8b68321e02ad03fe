/**
 * Daily income: every confirmed holder gets floor(shares × per10k / 10000) fen as new shares and
 * the declared total's remainder by the kernel's allocation rule, so that holders receive exactly
 * the declared total; nothing before confirmation; a distribution run twice, or resumed after a
 * crash in the middle, pays each holder once; a distributed day cannot be declared again; the
 * 7-day yield is the compound form.
 */
import { describe, expect, it } from 'vitest';
import { FundTransferCode } from '../../src/core/ledger-codes.ts';
import { isFundError, sevenDayYieldPercent } from '../../src/fund/index.ts';
import { expectedIncome } from './reference.ts';
import { dyingFund, moveTo, useFundWorld } from './support.ts';

const world = useFundWorld({ users: 4 });

async function lines(day: string) {
  const { platform } = world();
  return platform.db.query<{ account_id: string; shares: bigint; income_fen: bigint }>(
    "select account_id::text, shares, income_fen from fund_income_lines where product_code = 'YEB' and day = $1 order by account_id",
    [day],
  );
}

async function holderBalances() {
  const { platform } = world();
  return platform.db.query<{ account_id: string; shares: bigint }>(
    `select h.account_id::text, a.credits_posted - a.debits_posted - a.debits_pending shares
       from fund_holders h join ledger_accounts a on a.id = h.account_id where h.product_code = 'YEB' order by h.account_id`,
  );
}

describe('fund income', () => {
  it('pays nothing before confirmation, then exactly the declared total, by the allocation rule', async () => {
    const { platform, clock, users } = world();
    const orders = platform.fund.orders;
    for (const [i, amount] of ['1.00', '333.33', '12345.67', '7.77'].entries())
      await orders.purchase(users[i] ?? '', { productCode: 'YEB', amount, idempotencyKey: 'buy' });
    moveTo(clock, '2026-11-12 01:00');
    // The 11th: the purchases are not confirmed yet (they are due on the 12th), so nobody earns.
    await platform.fund.income.declare('YEB', '2026-11-11', '0.6543');
    const [first] = await platform.fund.income.distribute('2026-11-11');
    expect(first).toMatchObject({ holders: 0, totalFen: 0n });
    moveTo(clock, '2026-11-13 01:00');
    await orders.confirmDue();
    const held = await holderBalances();
    await platform.fund.income.declare('YEB', '2026-11-12', '0.6543');
    const [second] = await platform.fund.income.distribute('2026-11-12');
    const total = (held.reduce((s, h) => s + h.shares, 0n) * 6543n) / 100_000_000n;
    expect(second).toMatchObject({ holders: 4, totalFen: total });
    const expected = expectedIncome(
      held.map((h) => ({ account: h.account_id, shares: h.shares })),
      6543n,
    );
    const paid = await lines('2026-11-12');
    expect(new Map(paid.map((l) => [l.account_id, l.income_fen]))).toEqual(expected);
    expect(paid.reduce((s, l) => s + l.income_fen, 0n)).toBe(total);
    const after = await holderBalances();
    for (const h of after)
      expect(h.shares).toBe(
        (held.find((x) => x.account_id === h.account_id)?.shares ?? 0n) + (expected.get(h.account_id) ?? 0n),
      );
    // Run again: nothing more is paid.
    await platform.fund.income.distribute('2026-11-12');
    expect(await holderBalances()).toEqual(after);
  });

  it('refuses a declaration for a day already distributed, and bad figures, writing nothing', async () => {
    const { platform } = world();
    const code = async (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (isFundError(e) ? e.code : String(e)),
      );
    expect(await code(platform.fund.income.declare('YEB', '2026-11-12', '0.7000'))).toBe('already_distributed');
    expect(await code(platform.fund.income.declare('YEB', '2026-11-20', '0.7000'))).toBe('day_in_future');
    expect(await code(platform.fund.income.declare('YEB', '2026-11-12', '0.65432'))).toBe('invalid_per10k');
    expect(await code(platform.fund.income.declare('NOPE', '2026-11-12', '0.6543'))).toBe('unknown_product');
    expect(await code(platform.fund.income.declare('YEB', '2026-02-30', '0.6543'))).toBe('invalid_day');
    await platform.fund.income.declare('YEB', '2026-11-13', '1.2345');
    expect(await code(platform.fund.income.distribute('2026-11-13'))).toBe('day_not_over');
    const [row] = await platform.db.query<{ per10k_scaled: bigint }>(
      "select per10k_scaled from fund_income_days where product_code = 'YEB' and day = '2026-11-12'",
    );
    expect(row?.per10k_scaled).toBe(6543n);
  });

  it('resumes a distribution that crashed in the middle without paying anyone twice', async () => {
    const { platform, clock } = world();
    moveTo(clock, '2026-11-14 01:00');
    await platform.fund.income.declare('YEB', '2026-11-13', '1.2345');
    const held = await holderBalances();
    // A process paying one holder per submission dies right after its second commits, before
    // marking its page paid: one holder paid and marked, one paid and not marked, two not paid.
    let submissions = 0;
    const dying = dyingFund(
      world(),
      (events) => events.some((t) => t.code === FundTransferCode.incomeDistributed) && ++submissions === 2,
      { distributionPageLines: 1 },
    );
    await expect(dying.income.distribute('2026-11-13')).rejects.toThrow('process killed');
    const [pages] = await platform.db.query<{ paid: bigint; all: bigint }>(
      "select count(*) filter (where paid) paid, count(*) \"all\" from fund_income_pages where product_code = 'YEB' and day = '2026-11-13'",
    );
    expect(pages?.all).toBe(4n);
    expect(pages?.paid).toBeLessThan(4n);
    // The resumed run counts what was paid before it, and what each of its page workers pays.
    const progress: [number, number][] = [];
    await platform.fund.income.distribute('2026-11-13', (done, total) => progress.push([done, total]));
    expect(progress.at(-1)).toEqual([4, 4]);
    const expected = expectedIncome(
      held.map((h) => ({ account: h.account_id, shares: h.shares })),
      12345n,
    );
    const after = await holderBalances();
    for (const h of after)
      expect(h.shares).toBe(
        (held.find((x) => x.account_id === h.account_id)?.shares ?? 0n) + (expected.get(h.account_id) ?? 0n),
      );
  });

  it('computes the 7-day yield in the compound form, from seven declared days only', async () => {
    const { platform, clock } = world();
    expect(sevenDayYieldPercent([6543n, 6543n])).toBeUndefined();
    const seven = Array.from({ length: 7 }, () => 6543n);
    expect(sevenDayYieldPercent(seven)).toBeCloseTo(((1 + 0.6543 / 10000) ** 365 - 1) * 100, 10);
    moveTo(clock, '2026-11-19 01:00');
    for (const day of ['2026-11-14', '2026-11-15', '2026-11-16', '2026-11-17', '2026-11-18'])
      await platform.fund.income.declare('YEB', day, '0.6543');
    expect(await platform.fund.income.sevenDayYield('YEB', '2026-11-18')).toBeCloseTo(
      ((1 + 0.6543 / 10000) ** 6 * (1 + 1.2345 / 10000)) ** (365 / 7) * 100 - 100,
      8,
    );
    await platform.fund.income.distributeDue();
  });
});
