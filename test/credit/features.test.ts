/**
 * The features statement as the nightly batch runs it now — a chunk read by its user id range,
 * `user_id between first and last`, chunks cut anywhere — and as the online read runs it — one
 * user, `user_id = $6` — computes exactly what its first version computed: the same statement
 * over a list of ids, `user_id = any($1)`, kept below verbatim as the reference. Over a varied
 * population (fast-check's): users of every age, merchants among them in the id range, trades
 * inside and outside the history window, closed ones, escrow trades released or not, disputes lost
 * and won as buyer and as seller, merchants with and without a category, wallets with posted and
 * pending money, fund holdings, earlier days' balances inside and outside the balance window,
 * finished and unfinished runs, friends with and without a score, verified real names; and at
 * moments from the first day of the records to after the last.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedFund } from '../../src/cli/bench/fund.ts';
import { seededUserId, seedUsers } from '../../src/cli/bench/redpacket.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { derivedId, u128FromUuid, uuidFromU128 } from '../../src/core/ids.ts';
import {
  AccountCode,
  cnyLedger,
  FundAccountCode,
  FundTransferCode,
  TransferCode,
} from '../../src/core/ledger-codes.ts';
import { dateFromNs } from '../../src/core/time.ts';
import { type FeatureWindow, readFeatures } from '../../src/credit/features.ts';
import { beijingDate, daysBefore } from '../../src/credit/window.ts';
import { AccountFlags, TransferFlags } from '../../src/ledger/index.ts';
import { usePlatform } from '../support/engine.ts';

const dayMs = 86_400_000;
const startMs = Date.parse('2026-06-01T04:00:00Z');
const clock = new ManualClock(startMs);
const platform = usePlatform({ clock });
const userCount = 60;
const ids = Array.from({ length: userCount }, (_, i) => seededUserId(i));

/** The first version's statement, `= any($1)` over a list of ids (src/credit/features.ts before the id ranges), with the open debts added since. */
const referenceSql = `
with u as (
  select m.user_id, m.wallet_account_id, m.created_at_ns
  from members m
  where m.user_id = any($1::text[]) and m.kind = 'user'
),
pay as (
  select t.buyer_id as user_id,
         count(*)::int as payments,
         count(distinct date_trunc('month', t.paid_at))::int as active_months,
         count(distinct coalesce('c:' || c.category, 's:' || t.seller_id))::int as categories,
         (count(*) filter (
            where t.escrow and t.status = 'TRADE_FINISHED' and t.released_at is not null
              and not exists (
                select 1 from disputes d where d.trade_no = t.trade_no and d.status = 'RULED_FOR_SELLER'
              )
          ))::int as escrow_done
  from trades t
  left join risk_merchant_categories c on c.merchant_id = t.seller_id
  where t.buyer_id = any($1::text[]) and t.paid_at >= $2 and t.paid_at <= $3 and t.status <> 'TRADE_CLOSED'
  group by t.buyer_id
),
lost as (
  select x.user_id, count(*)::int as disputes_lost
  from (
    select d.buyer_id as user_id from disputes d
    where d.buyer_id = any($1::text[]) and d.status = 'RULED_FOR_SELLER' and d.created_at >= $2
    union all
    select d.seller_id from disputes d
    where d.seller_id = any($1::text[]) and d.status = 'RULED_FOR_BUYER' and d.created_at >= $2
  ) x
  group by x.user_id
),
bal as materialized (
  select u.user_id,
         coalesce((select a.credits_posted - a.debits_posted - a.debits_pending
                   from ledger_accounts a where a.id = u.wallet_account_id), 0)
         + coalesce((select sum(a.credits_posted - a.debits_posted - a.debits_pending)
                     from fund_holders h join ledger_accounts a on a.id = h.account_id
                     where h.user_id = u.user_id), 0) as balance_fen
  from u
),
days as (
  select b.user_id, sum(b.balance_fen) as sum_fen, count(*) as n
  from credit_score_history b
  where b.user_id = any($1::text[]) and b.day >= $5 and b.day < $4
  group by b.user_id
),
debt as (
  select d.user_id, sum(d.amount_fen - d.repaid_fen)::int8 as open_debt_fen
  from preauth_debts d
  where d.user_id = any($1::text[]) and d.repaid_fen < d.amount_fen
  group by d.user_id
),
fr as (
  select f.user_id, count(h.score)::int as friends_scored, coalesce(sum(h.score), 0)::int8 as friends_score_sum
  from social_friends f
  join credit_score_history h on h.user_id = f.friend_id
   and h.day = (select max(r.day) from credit_runs r where r.finished_at is not null and r.day < $4)
  where f.user_id = any($1::text[])
  group by f.user_id
)
select u.user_id,
       ((($6::int8 - u.created_at_ns) / 86400000000000))::int as account_age_days,
       coalesce(pay.payments, 0) as payments,
       coalesce(pay.active_months, 0) as active_months,
       coalesce(pay.categories, 0) as categories,
       coalesce(pay.escrow_done, 0) as escrow_done,
       coalesce(lost.disputes_lost, 0) as disputes_lost,
       coalesce(debt.open_debt_fen, 0)::int8 as open_debt_fen,
       bal.balance_fen::int8 as balance_fen,
       div(coalesce(days.sum_fen, 0) + bal.balance_fen, coalesce(days.n, 0) + 1)::int8 as average_balance_fen,
       exists (select 1 from credit_real_names r where r.user_id = u.user_id) as real_name,
       coalesce(fr.friends_scored, 0) as friends_scored,
       coalesce(fr.friends_score_sum, 0) as friends_score_sum
from u
join bal on bal.user_id = u.user_id
left join pay on pay.user_id = u.user_id
left join lost on lost.user_id = u.user_id
left join days on days.user_id = u.user_id
left join debt on debt.user_id = u.user_id
left join fr on fr.user_id = u.user_id
order by u.user_id`;

/** The window of a computation at `nowMs`, as `Credit` makes it. */
function windowAt(nowMs: number): FeatureWindow {
  const nowNs = BigInt(nowMs) * 1_000_000n;
  const today = beijingDate(nowNs);
  return {
    now: new Date(nowMs),
    historyFrom: new Date(nowMs - 365 * dayMs),
    nowNs,
    today,
    balanceFrom: daysBefore(today, 89),
  };
}

async function reference(w: FeatureWindow) {
  const rows = await platform().db.query<Record<string, unknown>>(referenceSql, [
    ids,
    w.historyFrom,
    w.now,
    w.today,
    w.balanceFrom,
    w.nowNs,
  ]);
  return rows.map((r) => ({
    userId: r.user_id,
    accountAgeDays: r.account_age_days,
    payments: r.payments,
    activeMonths: r.active_months,
    categories: r.categories,
    escrowDone: r.escrow_done,
    disputesLost: r.disputes_lost,
    openDebtFen: r.open_debt_fen,
    balanceFen: r.balance_fen,
    averageBalanceFen: r.average_balance_fen,
    realName: r.real_name,
    friendsScored: r.friends_scored,
    friendsScoreSum: Number(r.friends_score_sum),
  }));
}

const index = (n: number) => fc.nat({ max: n - 1 });
const population = fc.record({
  ageDays: fc.array(fc.nat({ max: 1500 }), { minLength: userCount, maxLength: userCount }),
  merchants: fc.uniqueArray(index(userCount), { minLength: 2, maxLength: 6 }),
  categorised: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  trades: fc.array(
    fc.record({
      buyer: index(userCount),
      seller: fc.oneof(index(3), fc.constant(-1)),
      daysAgo: fc.integer({ min: -5, max: 420 }),
      status: fc.constantFrom('TRADE_SUCCESS', 'TRADE_FINISHED', 'TRADE_CLOSED'),
      escrow: fc.boolean(),
      released: fc.boolean(),
      dispute: fc.constantFrom(null, 'RULED_FOR_SELLER', 'RULED_FOR_BUYER', 'WAIT_RULING'),
    }),
    { minLength: 100, maxLength: 300 },
  ),
  wallets: fc.array(fc.record({ user: index(userCount), fen: fc.bigInt({ min: 1n, max: 9_000_000n }) }), {
    minLength: 10,
    maxLength: 40,
  }),
  holds: fc.array(fc.record({ user: index(userCount), fen: fc.bigInt({ min: 1n, max: 1_000n }) }), {
    minLength: 3,
    maxLength: 10,
  }),
  funds: fc.uniqueArray(fc.record({ user: index(userCount), shares: fc.bigInt({ min: 1n, max: 5_000_000n }) }), {
    selector: (h) => h.user,
    minLength: 5,
    maxLength: 20,
  }),
  days: fc.uniqueArray(
    fc.record({
      user: index(userCount),
      // Mostly the last few days, the days of the runs below, so that friends have scores on one.
      daysAgo: fc.oneof(fc.nat({ max: 4 }), fc.nat({ max: 150 })),
      score: fc.option(fc.integer({ min: 350, max: 950 })),
      fen: fc.bigInt({ min: 0n, max: 9_000_000n }),
    }),
    { selector: (d) => `${d.user}/${d.daysAgo}`, minLength: 60, maxLength: 200 },
  ),
  runs: fc.uniqueArray(fc.record({ daysAgo: fc.nat({ max: 6 }), finished: fc.boolean() }), {
    selector: (r) => r.daysAgo,
    minLength: 2,
    maxLength: 5,
  }),
  friends: fc.uniqueArray(fc.tuple(index(userCount), index(userCount)), {
    selector: ([a, b]) => `${a}/${b}`,
    minLength: 20,
    maxLength: 60,
  }),
  realNames: fc.uniqueArray(index(userCount), { minLength: 5, maxLength: 30 }),
});
type Population = typeof population extends fc.Arbitrary<infer P> ? P : never;

async function seedPeople(p: Population): Promise<void> {
  const { db, ledger } = platform();
  const nowNs = clock.nowNs();
  await seedUsers(db, ledger, userCount, () => undefined);
  await db.query(
    'update members m set created_at_ns = $2::int8 - t.d::int8 * 86400000000000 from unnest($1::text[], $3::int[]) as t(u, d) where m.user_id = t.u',
    [ids, nowNs, p.ageDays],
  );
  await db.query(
    "update members set kind = 'merchant', name = 'merchant ' || user_id where user_id = any($1::text[])",
    [p.merchants.map((i) => ids[i])],
  );
  const sellers = ['2088600000000001', '2088600000000002', ids[userCount - 1] ?? ''];
  await db.query(
    'insert into risk_merchant_categories (merchant_id, category) select s, $2 from unnest($1::text[]) as s',
    [sellers.filter((_, k) => p.categorised[k]), '5411'],
  );
  for (const [k, t] of p.trades.entries()) {
    const at = new Date(startMs - t.daysAgo * dayMs - k * 60_000);
    const seller = t.seller === -1 ? ids[(t.buyer + 1) % userCount] : sellers[t.seller];
    await db.query(
      `insert into trades (trade_no, app_id, out_trade_no, subject, total_fen, status, seller_id, seller_account,
                           buyer_id, buyer_account, expires_at, created_at, paid_at, escrow, released_at)
       values ($1, '2021000000000001', $1, 'features', 100, $2, $3, '00000000-0000-7000-8000-000000000001',
               $4, '00000000-0000-7000-8000-000000000002', $5, $5, $5, $6, $7)`,
      [`F${k}`, t.status, seller, ids[t.buyer], at, t.escrow, t.released ? at : null],
    );
    if (t.dispute) {
      await db.query(
        `insert into disputes (dispute_no, trade_no, app_id, buyer_id, seller_id, claim_fen, reason, status, created_at)
         values ($1, $2, '2021000000000001', $3, $4, 100, 'features', $5, $6)`,
        [`D${k}`, `F${k}`, ids[t.buyer], seller, t.dispute, at],
      );
    }
  }
  await seedMoney(p);
  for (const d of p.days) {
    const day = daysBefore(beijingDate(nowNs), d.daysAgo);
    await db.query(
      `insert into credit_score_history (user_id, day, score, band, reasons, balance_fen)
       values ($1, $2, $3, case when $3::int is null then null else 'GOOD' end, '', $4)`,
      [ids[d.user], day, d.score, d.fen],
    );
  }
  // Yesterday's run finished, whatever else ran: friends have scores to read.
  for (const r of [{ daysAgo: 1, finished: true }, ...p.runs.filter((r) => r.daysAgo !== 1)]) {
    await db.query('insert into credit_runs (day, started_at, finished_at) values ($1, $2, $3)', [
      daysBefore(beijingDate(nowNs), r.daysAgo),
      dateFromNs(nowNs),
      r.finished ? dateFromNs(nowNs) : null,
    ]);
  }
  for (const [a, b] of p.friends.filter(([a, b]) => a !== b)) {
    await db.query('insert into social_friends (user_id, friend_id, since) values ($1, $2, $3)', [
      ids[a],
      ids[b],
      dateFromNs(nowNs),
    ]);
  }
  for (const i of p.realNames) {
    await db.query(
      `insert into credit_real_names (user_id, real_name, id_sha256, verified_at) values ($1, 'features', $2, $3)`,
      [ids[i], `${i}`.padStart(64, 'a'), dateFromNs(nowNs)],
    );
  }
}

/** Wallets' posted money and holds (pending debits), and fund holdings, through the ledger. */
async function seedMoney(p: Population): Promise<void> {
  const { db, ledger } = platform();
  const wallets = await db.query<{ user_id: string; wallet_account_id: string }>(
    'select user_id, wallet_account_id from members where user_id = any($1::text[])',
    [ids],
  );
  const walletOf = (i: number) => u128FromUuid(wallets.find((w) => w.user_id === ids[i])?.wallet_account_id ?? '');
  const source = derivedId('test.credit.features', 'source');
  expect(await ledger.createAccounts([{ id: source, ledger: cnyLedger, code: AccountCode.platformFunding }])).toEqual([
    'ok',
  ]);
  const money = p.wallets.map((m, k) => ({
    id: derivedId('test.credit.features', `in/${k}`),
    debitAccountId: source,
    creditAccountId: walletOf(m.user),
    amount: m.fen + 1_000n,
    ledger: cnyLedger,
    code: TransferCode.openingBalance,
  }));
  const holds = p.holds.map((h, k) => ({
    id: derivedId('test.credit.features', `hold/${k}`),
    debitAccountId: walletOf(h.user),
    creditAccountId: source,
    amount: h.fen,
    ledger: cnyLedger,
    code: TransferCode.openingBalance,
    flags: TransferFlags.pending,
  }));
  // A hold on a wallet with too little is refused by the ledger, as it would be in life.
  await ledger.createTransfers([...money, ...holds]);
  const product = await seedFund(platform(), 'FEAT');
  const books = product.books;
  const accounts = p.funds.map((h) => derivedId('test.credit.features', `shares/${h.user}`));
  await ledger.createAccounts(
    accounts.map((id) => ({
      id,
      ledger: books.shareLedger,
      code: FundAccountCode.holderShares,
      flags: AccountFlags.debitsMustNotExceedCredits,
    })),
  );
  await db.query(
    `insert into fund_holders (product_code, user_id, account_id, wallet_account)
     select $1, u, a::uuid, a::uuid from unnest($2::text[], $3::text[]) as t(u, a)`,
    [product.row.product_code, p.funds.map((h) => ids[h.user]), accounts.map(uuidFromU128)],
  );
  await ledger.createTransfers(
    p.funds.map((h, k) => ({
      id: derivedId('test.credit.features', `issue/${k}`),
      debitAccountId: books.issuance,
      creditAccountId: accounts[k] ?? 0n,
      amount: h.shares,
      ledger: books.shareLedger,
      code: FundTransferCode.sharesIssued,
    })),
  );
}

beforeAll(async () => {
  const [p] = fc.sample(population, { seed: 14, numRuns: 1 });
  if (!p) throw new Error('fast-check gave no population');
  await seedPeople(p);
}, 120_000);

describe('the features statement by id range and for one user', () => {
  it('is tried on a varied population: every feature takes several values', async () => {
    const features = await reference(windowAt(startMs + dayMs));
    expect(features.length).toBeGreaterThan(userCount / 2);
    expect(features.length).toBeLessThan(userCount);
    // Open debts come from settled deposit-free freezes, which this population has none of: their
    // part is the same condition as every other part's (test/preauth covers debts and the score).
    const keys = Object.keys(features[0] ?? {}).filter((k) => k !== 'openDebtFen');
    for (const key of keys as (keyof (typeof features)[number])[]) {
      expect({ key, values: new Set(features.map((f) => f[key])).size }).toMatchObject({
        key,
        values: expect.toSatisfy((n: number) => n >= 2),
      });
    }
  });

  it('computes what the statement over a list of ids computed, chunks cut anywhere, at any moment', async () => {
    const { db } = platform();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -30, max: 450 }),
        fc.uniqueArray(index(userCount), { maxLength: 8 }),
        async (laterDays, cuts) => {
          const w = windowAt(startMs + laterDays * dayMs);
          const expected = await reference(w);
          const bounds = [0, ...cuts.sort((a, b) => a - b).filter((c) => c > 0), userCount];
          const chunked = [];
          for (let k = 0; k + 1 < bounds.length; k++) {
            const first = ids[bounds[k] ?? 0] ?? '';
            const last = ids[(bounds[k + 1] ?? 0) - 1] ?? '';
            chunked.push(...(await db.transaction((tx) => readFeatures(tx, { first, last }, w))));
          }
          expect(chunked).toEqual(expected);
          const one = [];
          for (const userId of ids) one.push(...(await readFeatures(db, { userId }, w)));
          expect(one).toEqual(expected);
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);
});
