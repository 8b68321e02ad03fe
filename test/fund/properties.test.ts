/**
 * Property tests of Yu'e Bao over random sequences of purchases, redemptions (standard and fast),
 * income declarations with their distribution, confirmation rounds and the clock moving — often
 * to exactly 14:59:59.999 or 15:00 Beijing, across weekends and holidays. A model written apart
 * from the module predicts every answer, and after every run:
 * - every order's trade and due days follow the calendar (the 15:00 cut-off, weekends, holidays);
 * - every refusal is the one the model expects (shares, pool, the daily fast limit) and writes nothing;
 * - shares are conserved: each holder's shares are its confirmed purchases plus its income less
 *   its redemptions, and the fund's books hold (`verifyFundBooks`, after every test);
 * - income distributed equals income declared, per day, by the allocation rule; a purchase earns
 *   nothing before its confirmation day;
 * - every wallet holds its start less its purchases plus its redemptions paid.
 *
 * One platform for the file; each run has its own fund company and products, starts on a later
 * day than the last, and so shares no day's fast limit with another.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derivedId, uuidFromU128 } from '../../src/core/ids.ts';
import { limits } from '../../src/core/limits.ts';
import { addDays, beijingDayAndMinute, isFundError } from '../../src/fund/index.ts';
import { expectedIncome } from './reference.ts';
import { beijing, useFundWorld } from './support.ts';

const world = useFundWorld({ users: 3, balance: 100_000_000n });

type Cmd =
  | { k: 'buy'; u: number; p: number; fen: number }
  | { k: 'redeem'; u: number; p: number; fen: number; fast: boolean }
  | { k: 'time'; days: number; at: 'before' | 'cutoff' | 'any'; minute: number }
  | { k: 'confirm' }
  | { k: 'income'; per10k: number[] };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('buy' as const),
      u: fc.nat(2),
      p: fc.nat(1),
      fen: fc.oneof(fc.constantFrom(99, 100, 101), fc.integer({ min: 100, max: 2_000_000 })),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('redeem' as const),
      u: fc.nat(2),
      p: fc.nat(1),
      fen: fc.integer({ min: 1, max: 800_000 }),
      fast: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('time' as const),
      days: fc.nat(3),
      at: fc.constantFrom('before' as const, 'cutoff' as const, 'any' as const),
      minute: fc.nat(1439),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('confirm' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('income' as const),
      per10k: fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 8, maxLength: 8 }),
    }),
  },
);

/** The model's calendar: weekends and the holidays the test added. */
const holidays = new Set<string>();
const isTradingDay = (day: string) => {
  const wd = new Date(`${day}T00:00:00Z`).getUTCDay();
  return wd !== 0 && wd !== 6 && !holidays.has(day);
};
const nextTradingDay = (day: string) => {
  let d = addDays(day, 1);
  while (!isTradingDay(d)) d = addDays(d, 1);
  return d;
};

interface ModelOrder {
  u: number;
  p: number;
  kind: 'PURCHASE' | 'STANDARD' | 'FAST';
  fen: bigint;
  requestedDay: string;
  dueDay: string;
}

let runNo = 0;

describe('fund properties', () => {
  it('conserves shares, pays exactly what is declared, and keeps the calendar, the limit and the pool', async () => {
    const { platform, clock, users } = world();
    const fund = platform.fund;
    await fc.assert(
      fc.asyncProperty(
        fc.array(cmd, { minLength: 5, maxLength: 30 }),
        fc.integer({ min: 1, max: 20 }),
        async (cmds, holidayIn) => {
          runNo++;
          // A new run starts on the next Monday at 08:00 Beijing, with its own company and products.
          let { day } = beijingDayAndMinute(clock.nowNs());
          do day = addDays(day, 1);
          while (new Date(`${day}T00:00:00Z`).getUTCDay() !== 1);
          clock.advanceMs(beijing(`${day} 08:00`) - Number(clock.nowNs() / 1_000_000n));
          // What earlier runs left in flight is finished first, so that it moves no wallet of this run.
          await fund.orders.confirmDue('9999-12-31');
          const holiday = addDays(day, holidayIn);
          holidays.add(holiday);
          await fund.orders.calendar.addHoliday(holiday, 'property holiday');
          const company = `CO${runNo}`;
          const products = [`P${runNo}A`, `P${runNo}B`];
          await fund.catalog.createCompany({ code: company, name: `Company ${runNo}` });
          for (const p of products) await fund.catalog.createProduct({ code: p, companyCode: company, name: p });
          await fund.catalog.refillPool(company, '15000.00', 'start');
          const wallets0 = await Promise.all(users.map((u) => platform.members.walletBalance(u)));
          const orders: ModelOrder[] = [];
          const income = new Map<string, bigint>(); // `${u}/${p}/${day}` → fen
          let pool = 1_500_000n;
          let confirmedThrough = '0000-00-00';
          let declaredThrough = addDays(day, -1);
          const fastUsed = new Map<string, bigint>();
          const holderOf = (u: number, p: number) =>
            uuidFromU128(derivedId('fund.holder', `${products[p]}/${users[u]}`));

          /** A holder's shares on `d` as the rules define them (earning shares). */
          const eligible = (u: number, p: number, d: string) => {
            let s = 0n;
            for (const o of orders.filter((x) => x.u === u && x.p === p)) {
              if (o.kind === 'PURCHASE' && o.dueDay <= d) s += o.fen;
              if (o.kind !== 'PURCHASE' && o.requestedDay <= d) s -= o.fen;
            }
            for (const [key, fen] of income) {
              const [ku, kp, kd] = key.split('/');
              if (Number(ku) === u && Number(kp) === p && (kd ?? '') < d) s += fen;
            }
            return s;
          };
          /** Shares a holder may redeem now: confirmed purchases and income, less redemptions. */
          const availableNow = (u: number, p: number) => {
            let s = 0n;
            for (const o of orders.filter((x) => x.u === u && x.p === p)) {
              if (o.kind === 'PURCHASE' && o.dueDay <= confirmedThrough) s += o.fen;
              if (o.kind !== 'PURCHASE') s -= o.fen;
            }
            for (const [key, fen] of income) if (key.startsWith(`${u}/${p}/`)) s += fen;
            return s;
          };
          /** The wallet: purchases left it (held or posted), redemptions came back when paid. */
          const walletNow = (u: number) => {
            const spent = orders.filter((o) => o.u === u && o.kind === 'PURCHASE').reduce((s, o) => s + o.fen, 0n);
            const back = orders
              .filter(
                (o) => o.u === u && (o.kind === 'FAST' || (o.kind === 'STANDARD' && o.dueDay <= confirmedThrough)),
              )
              .reduce((s, o) => s + o.fen, 0n);
            return (wallets0[u] ?? 0n) - spent + back;
          };
          const confirm = async (through: string) => {
            await fund.orders.confirmDue(through);
            if (through > confirmedThrough) confirmedThrough = through;
            for (const o of orders)
              if (o.kind === 'FAST' && o.dueDay <= through && !('settled' in o)) {
                Object.assign(o, { settled: true });
                pool += o.fen;
              }
          };

          for (const [i, c] of cmds.entries()) {
            const now = beijingDayAndMinute(clock.nowNs());
            if (c.k === 'time') {
              const target = addDays(now.day, c.days);
              const minute = c.at === 'before' ? 899 : c.at === 'cutoff' ? 900 : c.minute;
              let at = beijing(
                `${target} ${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`,
              );
              if (c.at === 'before') at += 59_999; // 14:59:59.999
              const ms = at - Number(clock.nowNs() / 1_000_000n);
              if (ms > 0) clock.advanceMs(ms);
            } else if (c.k === 'confirm') {
              await confirm(now.day);
            } else if (c.k === 'income') {
              // The fund declares every natural day up to yesterday, and the days are distributed in order.
              let n = 0;
              while (declaredThrough < addDays(now.day, -1)) {
                const d = addDays(declaredThrough, 1);
                const per10k = BigInt(c.per10k[n++ % c.per10k.length] ?? 0);
                const text = `${per10k / 10_000n}.${(per10k % 10_000n).toString().padStart(4, '0')}`;
                for (const p of products) await fund.income.declare(p, d, text);
                await fund.income.distribute(d);
                if (d > confirmedThrough) confirmedThrough = d; // distribute confirms what is due by then
                for (const o of orders)
                  if (o.kind === 'FAST' && o.dueDay <= d && !('settled' in o)) {
                    Object.assign(o, { settled: true });
                    pool += o.fen;
                  }
                for (const [p, code] of products.entries()) {
                  const holders = users.map((_, u) => ({ account: holderOf(u, p), shares: eligible(u, p, d), u }));
                  const expected = expectedIncome(holders, per10k);
                  const lines = await platform.db.query<{ account_id: string; income_fen: bigint }>(
                    'select account_id::text, income_fen from fund_income_lines where product_code = $1 and day = $2',
                    [code, d],
                  );
                  expect(new Map(lines.map((l) => [l.account_id, l.income_fen]))).toEqual(expected);
                  const [declared] = await platform.db.query<{ total_fen: bigint }>(
                    'select total_fen from fund_income_days where product_code = $1 and day = $2',
                    [code, d],
                  );
                  const sharesSum = holders.reduce((s, h) => s + (h.shares > 0n ? h.shares : 0n), 0n);
                  expect(declared?.total_fen).toBe((sharesSum * per10k) / 100_000_000n);
                  for (const h of holders)
                    if ((expected.get(h.account) ?? 0n) > 0n)
                      income.set(`${h.u}/${p}/${d}`, expected.get(h.account) ?? 0n);
                }
                declaredThrough = d;
              }
            } else {
              const user = users[c.u] ?? '';
              const productCode = products[c.p] ?? '';
              const fen = BigInt(c.fen);
              const amount = `${fen / 100n}.${(fen % 100n).toString().padStart(2, '0')}`;
              const tradeDay =
                now.minute < limits.fundCutoffBeijingMinute && isTradingDay(now.day)
                  ? now.day
                  : nextTradingDay(now.day);
              const dueDay = nextTradingDay(tradeDay);
              const key = `r${runNo}k${i}`;
              const kind = c.k === 'buy' ? 'PURCHASE' : c.fast ? 'FAST' : 'STANDARD';
              let refusal: string | undefined;
              if (kind === 'PURCHASE' && fen < 100n) refusal = 'amount_below_minimum';
              else if (kind === 'PURCHASE' && walletNow(c.u) < fen) refusal = 'balance_not_enough';
              else if (kind !== 'PURCHASE' && availableNow(c.u, c.p) < fen) refusal = 'shares_not_enough';
              else if (kind === 'FAST' && pool < fen) refusal = 'pool_insufficient';
              else if (
                kind === 'FAST' &&
                (fastUsed.get(`${c.u}/${now.day}`) ?? 0n) + fen > BigInt(limits.fundFastRedemptionDailyFenMax)
              )
                refusal = 'fast_limit_exceeded';
              const answer = await (kind === 'PURCHASE'
                ? fund.orders.purchase(user, { productCode, amount, idempotencyKey: key })
                : fund.orders.redeem(user, {
                    productCode,
                    amount,
                    idempotencyKey: key,
                    kind: kind === 'FAST' ? 'fast' : 'standard',
                  })
              ).then(
                (view) => view,
                (e: unknown) => {
                  if (isFundError(e)) return e.code;
                  throw e;
                },
              );
              if (refusal) {
                expect(answer).toBe(refusal);
                continue;
              }
              expect(answer).toMatchObject({ tradeDay, dueDay });
              orders.push({ u: c.u, p: c.p, kind, fen, requestedDay: now.day, dueDay });
              if (kind === 'FAST') {
                pool -= fen;
                fastUsed.set(`${c.u}/${now.day}`, (fastUsed.get(`${c.u}/${now.day}`) ?? 0n) + fen);
              }
            }
          }
          // Shares conserved: each holder holds what the model says.
          for (const [u, user] of users.entries()) {
            const holdings = await fund.orders.holdings(user);
            for (const [p, code] of products.entries()) {
              const h = holdings.find((x) => x.productCode === code);
              const mine = orders.filter((o) => o.u === u && o.p === p);
              const pendingBuy = mine
                .filter((o) => o.kind === 'PURCHASE' && o.dueDay > confirmedThrough)
                .reduce((s, o) => s + o.fen, 0n);
              const redeeming = mine
                .filter((o) => o.kind !== 'PURCHASE' && o.dueDay > confirmedThrough)
                .reduce((s, o) => s + o.fen, 0n);
              const expectShares = availableNow(u, p);
              const fmt = (f: bigint) => `${f / 100n}.${(f % 100n).toString().padStart(2, '0')}`;
              if (!h) {
                expect(mine.length).toBe(0);
                continue;
              }
              expect(h).toEqual({
                productCode: code,
                shares: fmt(expectShares),
                redeeming: fmt(redeeming),
                toBeConfirmed: fmt(pendingBuy),
              });
            }
            // The wallet: purchases left it (held or posted), redemptions came back when paid.
            const spent = orders.filter((o) => o.u === u && o.kind === 'PURCHASE').reduce((s, o) => s + o.fen, 0n);
            const back = orders
              .filter(
                (o) => o.u === u && (o.kind === 'FAST' || (o.kind === 'STANDARD' && o.dueDay <= confirmedThrough)),
              )
              .reduce((s, o) => s + o.fen, 0n);
            const wallet = await platform.members.walletBalance(user);
            expect(wallet).toBe((wallets0[u] ?? 0n) - spent + back);
          }
        },
      ),
      {
        numRuns: Number(process.env.FUND_PROPERTY_RUNS ?? 12),
        ...(process.env.FUND_PROPERTY_SEED ? { seed: Number(process.env.FUND_PROPERTY_SEED) } : {}),
      },
    );
  }, 600_000);
});
