/**
 * The one statement that reads the scorecard's features, for one user (the online read) or for a
 * chunk of users, the range of user ids between two (the nightly batch): the same text with
 * `user_id = $6` or `user_id between $6 and $7` in each of its parts, so both see the same
 * numbers. It reads other modules' tables (and pre-authorisation's open debts), read only, set-based: each part groups all the chunk's
 * users at once (trades by buyer, disputes, fund holdings, friends, earlier days), never a query
 * per user, and each reads its table's index over the chunk's id range in one pass (the first
 * version took a list of ids, `= any($1)`, and descended each index once per id, or scanned the
 * whole trades table: BENCHMARKS.md). The friends' part reads the scores of the last run finished
 * before today, never the run in progress.
 */
import type { Queryable } from '../core/db/index.ts';
import type { CreditFeatures } from './scorecard.ts';

/** The moment and the days a computation is for. */
export interface FeatureWindow {
  /** Now, and the start of the history window. */
  now: Date;
  historyFrom: Date;
  nowNs: bigint;
  /** Today (Beijing, YYYY-MM-DD), and the first day of the balance window. */
  today: string;
  balanceFrom: string;
}

/** Whose features: one user, or every user whose id is between `first` and `last` (both in). */
export type FeatureUsers = { userId: string } | { first: string; last: string };

/** The statement, with `inUsers(column)` the condition that picks the users' rows of a part. */
const featuresSql = (inUsers: (column: string) => string) => `
with u as (
  select m.user_id, m.wallet_account_id, m.created_at_ns
  from members m
  where ${inUsers('m.user_id')} and m.kind = 'user'
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
  where ${inUsers('t.buyer_id')} and t.paid_at >= $1 and t.paid_at <= $2 and t.status <> 'TRADE_CLOSED'
  group by t.buyer_id
),
lost as (
  select x.user_id, count(*)::int as disputes_lost
  from (
    select d.buyer_id as user_id from disputes d
    where ${inUsers('d.buyer_id')} and d.status = 'RULED_FOR_SELLER' and d.created_at >= $1
    union all
    select d.seller_id from disputes d
    where ${inUsers('d.seller_id')} and d.status = 'RULED_FOR_BUYER' and d.created_at >= $1
  ) x
  group by x.user_id
),
fund as (
  select h.user_id, sum(a.credits_posted - a.debits_posted - a.debits_pending) as fen
  from fund_holders h join ledger_accounts a on a.id = h.account_id
  where ${inUsers('h.user_id')}
  group by h.user_id
),
bal as materialized (
  select u.user_id,
         coalesce((select a.credits_posted - a.debits_posted - a.debits_pending
                   from ledger_accounts a where a.id = u.wallet_account_id), 0)
         + coalesce(fund.fen, 0) as balance_fen
  from u
  left join fund on fund.user_id = u.user_id
),
days as (
  select b.user_id, sum(b.balance_fen) as sum_fen, count(*) as n
  from credit_score_history b
  where ${inUsers('b.user_id')} and b.day >= $4 and b.day < $3
  group by b.user_id
),
debt as (
  select d.user_id, sum(d.amount_fen - d.repaid_fen)::int8 as open_debt_fen
  from preauth_debts d
  where ${inUsers('d.user_id')} and d.repaid_fen < d.amount_fen
  group by d.user_id
),
fr as (
  select f.user_id, count(h.score)::int as friends_scored, coalesce(sum(h.score), 0)::int8 as friends_score_sum
  from social_friends f
  join credit_score_history h on h.user_id = f.friend_id
   and h.day = (select max(r.day) from credit_runs r where r.finished_at is not null and r.day < $3)
  where ${inUsers('f.user_id')}
  group by f.user_id
),
named as (
  select r.user_id from credit_real_names r where ${inUsers('r.user_id')}
)
select u.user_id,
       ((($5::int8 - u.created_at_ns) / 86400000000000))::int as account_age_days,
       coalesce(pay.payments, 0) as payments,
       coalesce(pay.active_months, 0) as active_months,
       coalesce(pay.categories, 0) as categories,
       coalesce(pay.escrow_done, 0) as escrow_done,
       coalesce(lost.disputes_lost, 0) as disputes_lost,
       coalesce(debt.open_debt_fen, 0)::int8 as open_debt_fen,
       bal.balance_fen::int8 as balance_fen,
       div(coalesce(days.sum_fen, 0) + bal.balance_fen, coalesce(days.n, 0) + 1)::int8 as average_balance_fen,
       named.user_id is not null as real_name,
       coalesce(fr.friends_scored, 0) as friends_scored,
       coalesce(fr.friends_score_sum, 0) as friends_score_sum
from u
join bal on bal.user_id = u.user_id
left join pay on pay.user_id = u.user_id
left join lost on lost.user_id = u.user_id
left join days on days.user_id = u.user_id
left join debt on debt.user_id = u.user_id
left join fr on fr.user_id = u.user_id
left join named on named.user_id = u.user_id
order by u.user_id`;

const oneUserSql = featuresSql((column) => `${column} = $6`);
const rangeSql = featuresSql((column) => `${column} between $6 and $7`);

interface FeatureRow {
  user_id: string;
  account_age_days: number;
  payments: number;
  active_months: number;
  categories: number;
  escrow_done: number;
  disputes_lost: number;
  open_debt_fen: bigint;
  balance_fen: bigint;
  average_balance_fen: bigint;
  real_name: boolean;
  friends_scored: number;
  friends_score_sum: bigint;
}

/**
 * The features of the users asked for (merchants and unknown ids are left out), by user id. Named
 * prepared statements on PostgreSQL: planning this statement takes longer than running it for
 * one user. They break `QueryOptions`' rule (a plan that is the same at any table size): each
 * part reads its table's index over the user ids, which a generic plan keeps as long as the
 * tables' statistics hold it; a generic plan made while the tables were small is replaced when
 * ANALYZE updates them (autovacuum's, or an operator's after a bulk load where autovacuum is off),
 * since new statistics invalidate a connection's cached plans. A chunk's read belongs in a transaction with PostgreSQL's JIT off (`set local jit =
 * off`): for a few thousand users the planner's cost passes `jit_above_cost`, and compiling the
 * statement took 3.5 of its 3.7 seconds (EXPLAIN ANALYZE of a 2,000-user chunk).
 */
export async function readFeatures(q: Queryable, users: FeatureUsers, w: FeatureWindow): Promise<CreditFeatures[]> {
  const window = [w.historyFrom, w.now, w.today, w.balanceFrom, w.nowNs];
  const rows =
    'userId' in users
      ? await q.query<FeatureRow>(oneUserSql, [...window, users.userId], { name: 'credit-features-one' })
      : await q.query<FeatureRow>(rangeSql, [...window, users.first, users.last], { name: 'credit-features-range' });
  return rows.map(features);
}

function features(r: FeatureRow): CreditFeatures {
  return {
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
  };
}
