/**
 * `Credit`: the score of a user (docs/credit.md). `score(userId)` is the online read, computed now
 * from the same features statement the nightly batch runs over chunks of users (`run`), so the
 * two agree; the batch keeps each day's score and balance (the history; the balances are the
 * next days' average). The batch is resumable: each chunk commits with the run's last user id,
 * the chunks in user id order although several are scored at once, and a run started again after
 * a crash goes on from there. `answerApp` is `zhima.credit.score.get`'s: an app's
 * `transaction_id` answers the same result for 24 hours.
 */
import { assert } from '../core/assert.ts';
import type { Clock } from '../core/clock.ts';
import { type Db, type Queryable, typed } from '../core/db/index.ts';
import { dailyNumber } from '../core/external-ids.ts';
import { limits } from '../core/limits.ts';
import { dateFromNs } from '../core/time.ts';
import { CreditError } from './errors.ts';
import { type FeatureWindow, readFeatures } from './features.ts';
import { RealNames } from './real-names.ts';
import {
  type Band,
  type CreditFeatures,
  type Dimension,
  defaultScorecard,
  type ReasonCode,
  type ScorecardSettings,
  scoreOf,
} from './scorecard.ts';
import type { CreditTables } from './tables.ts';
import { beijingDate, beijingHour, daysBefore } from './window.ts';

export interface CreditOptions {
  /** The key of the identity numbers' hash (`PAYBAO_ID_HASH_KEY`). */
  idHashKey: string;
  /** The scorecard's weights and calibration; the limits' defaults when absent. */
  scorecard?: ScorecardSettings | undefined;
}

/** A user's score now. */
export interface CreditScore {
  userId: string;
  /** 350–950, or null: too little data ("N/A"). */
  score: number | null;
  band: Band | null;
  /** What would raise the score, the largest gain first. */
  reasons: ReasonCode[];
  /** Each dimension's points above (or below) the base score. */
  points: Record<Dimension, number>;
  computedAt: Date;
}

/** One day of a user's score history. */
export interface ScoreHistoryPoint {
  day: string;
  score: number | null;
}

/** What one nightly run did. */
export interface CreditRunReport {
  day: string;
  /** Users scored by this call (a resumed run counts only its own). */
  users: number;
  /** The run had finished before this call: nothing was done. */
  alreadyDone: boolean;
}

export interface RunOptions {
  /** Score everyone again although today's run finished. */
  restart?: boolean;
  /** Called after each chunk: users done by this call, and users this call set out to score. */
  onProgress?: (done: number, total: number) => void;
  /** Users per chunk; `limits.creditBatchUsersMax` when absent. */
  chunkUsers?: number;
  /** Chunks scored at once on PostgreSQL; `limits.creditBatchChunksInFlight` when absent (PGlite: 1). */
  chunksInFlight?: number;
}

const dayNs = 86_400_000_000_000n;

/** A chunk of the nightly run: the users whose ids are between `first` and `last`, `count` of them. */
interface Chunk {
  first: string;
  last: string;
  count: number;
}
const transactionIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

export class Credit {
  readonly realNames: RealNames;
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #scorecard: ScorecardSettings;

  constructor(db: Db, clock: Clock, options: CreditOptions) {
    this.#db = db;
    this.#clock = clock;
    this.#scorecard = options.scorecard ?? defaultScorecard;
    this.realNames = new RealNames(db, clock, options.idHashKey);
  }

  #tables(q: Queryable = this.#db) {
    return typed<CreditTables>(q);
  }

  /** The window of a computation now: the history window and today. */
  #window(nowNs: bigint): FeatureWindow {
    const today = beijingDate(nowNs);
    return {
      now: dateFromNs(nowNs),
      historyFrom: dateFromNs(nowNs - BigInt(limits.creditHistoryDays) * dayNs),
      nowNs,
      today,
      balanceFrom: daysBefore(today, limits.creditBalanceDays - 1),
    };
  }

  #result(f: CreditFeatures, at: Date): CreditScore {
    const r = scoreOf(f, this.#scorecard);
    return { userId: f.userId, score: r.score, band: r.band, reasons: r.reasons, points: r.points, computedAt: at };
  }

  /**
   * The online read: `userId`'s score now, from the same statement as the batch. Throws
   * `user_not_found` (no such user, or a merchant). What §3's freezes and the lending to come read.
   */
  async score(userId: string): Promise<CreditScore> {
    const nowNs = this.#clock.nowNs();
    const w = this.#window(nowNs);
    const [features] = await readFeatures(this.#db, { userId }, w);
    if (!features) throw new CreditError('user_not_found');
    return this.#result(features, w.now);
  }

  /** The days the batch scored `userId`, the oldest first, at most `limits.creditHistoryPointsMax`. */
  async history(userId: string): Promise<ScoreHistoryPoint[]> {
    const rows = await this.#tables()
      .selectFrom('credit_score_history')
      .select(['day', 'score'])
      .where('user_id', '=', userId)
      .orderBy('day', 'desc')
      .limit(limits.creditHistoryPointsMax)
      .execute();
    return rows.reverse().map((r) => ({ day: r.day, score: r.score }));
  }

  /** The stored score of `userId` on `day` (the batch's), or undefined. */
  async scoredOn(userId: string, day: string): Promise<{ score: number | null; reasons: ReasonCode[] } | undefined> {
    const row = await this.#tables()
      .selectFrom('credit_score_history')
      .select(['score', 'reasons'])
      .where('user_id', '=', userId)
      .where('day', '=', day)
      .executeTakeFirst();
    if (!row) return undefined;
    return { score: row.score, reasons: row.reasons === '' ? [] : (row.reasons.split(',') as ReasonCode[]) };
  }

  /**
   * Today's nightly run: every user scored, chunk by chunk in user id order, each chunk one
   * transaction that writes its scores, its balances and the run's progress; on PostgreSQL
   * several chunks at once, committing in user id order. Goes on from where a crashed run
   * stopped; a finished run is done again only with `restart`.
   */
  async run(options: RunOptions = {}): Promise<CreditRunReport> {
    const nowNs = this.#clock.nowNs();
    const w = this.#window(nowNs);
    const day = w.today;
    await this.#db.query('insert into credit_runs (day, started_at) values ($1, $2) on conflict (day) do nothing', [
      day,
      w.now,
    ]);
    if (options.restart) {
      await this.#db.query(
        'update credit_runs set last_user_id = null, users_done = 0, finished_at = null, started_at = $2 where day = $1',
        [day, w.now],
      );
    }
    const run = await this.#tables()
      .selectFrom('credit_runs')
      .selectAll()
      .where('day', '=', day)
      .executeTakeFirstOrThrow();
    if (run.finished_at) return { day, users: 0, alreadyDone: true };
    const remaining = await this.#db.query<{ n: number }>(
      "select count(*)::int as n from members where kind = 'user' and user_id > $1",
      [run.last_user_id ?? ''],
    );
    const total = remaining[0]?.n ?? 0;
    const chunkUsers = options.chunkUsers ?? limits.creditBatchUsersMax;
    // Chunks are scored side by side on separate connections (PGlite has one: one at a time),
    // but each commits only after the one before it has committed and been reported, so what is
    // committed is always a prefix of the run in user id order and the progress row says where
    // it ends: a crash loses the chunks in flight, never scores anyone twice.
    const inFlight = this.#db.engine === 'postgres' ? (options.chunksInFlight ?? limits.creditBatchChunksInFlight) : 1;
    assert(inFlight >= 1 && inFlight < limits.pgPoolConnectionsMax, 'a chunk in flight holds a pooled connection');
    const flying: Promise<void>[] = [];
    let previous: Promise<void> = Promise.resolve();
    let done = 0;
    try {
      for await (const chunk of this.#chunks(run.last_user_id ?? '', chunkUsers, inFlight)) {
        const committed = this.#scoreChunk(day, w, chunk, previous);
        previous = committed.then(() => {
          done += chunk.count;
          options.onProgress?.(done, Math.max(total, done));
        });
        // Awaited in order below; marked handled now, since a chunk may fail before its turn comes.
        previous.catch(() => undefined);
        flying.push(previous);
        if (flying.length >= inFlight) await flying.shift();
      }
      while (flying.length > 0) await flying.shift();
    } catch (error) {
      // The chunks in flight are not left running unheard: they roll back before the failure is thrown.
      await Promise.allSettled(flying);
      throw error;
    }
    await this.#db.query('update credit_runs set finished_at = $2 where day = $1', [
      day,
      dateFromNs(this.#clock.nowNs()),
    ]);
    return { day, users: done, alreadyDone: false };
  }

  /**
   * The run's chunks after `after`, in user id order: the first and last id of each, and how many
   * users. The ids of `inFlight` chunks are read at once.
   */
  async *#chunks(after: string, chunkUsers: number, inFlight: number): AsyncGenerator<Chunk> {
    for (let from = after; ; ) {
      const rows = await this.#db.query<{ user_id: string }>(
        "select user_id from members where kind = 'user' and user_id > $1 order by user_id limit $2",
        [from, chunkUsers * inFlight],
      );
      for (let i = 0; i < rows.length; i += chunkUsers) {
        const ids = rows.slice(i, i + chunkUsers);
        const [first, last] = [ids[0]?.user_id, ids.at(-1)?.user_id];
        if (first === undefined || last === undefined) return;
        yield { first, last, count: ids.length };
        from = last;
      }
      if (rows.length < chunkUsers * inFlight) return;
    }
  }

  /**
   * One chunk in one transaction: its features, its scores and balances written, then — once the
   * chunk before it has committed (`previous`) — the run's progress, and the commit. A failure of
   * an earlier chunk, or of its report, rolls this one back.
   */
  async #scoreChunk(day: string, w: FeatureWindow, chunk: Chunk, previous: Promise<void>): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await tx.exec('set local jit = off');
      const features = await readFeatures(tx, chunk, w);
      const [written] = await this.#writeChunk(tx, day, features);
      await previous;
      await tx.query(
        'update credit_runs set last_user_id = $2, users_done = users_done + $3 where day = $1',
        [day, chunk.last, written?.n ?? 0],
        { name: 'credit-run-progress' },
      );
    });
  }

  /** One chunk's scores and balances, in one statement; how many rows. */
  #writeChunk(q: Queryable, day: string, features: CreditFeatures[]): Promise<{ n: number }[]> {
    const scored = features.map((f) => scoreOf(f, this.#scorecard));
    return q.query<{ n: number }>(
      `with h as (
         insert into credit_score_history (user_id, day, score, band, reasons, balance_fen)
         select x.u, $2, x.s, x.b, x.r, x.f
           from unnest($1::text[], $3::int[], $4::text[], $5::text[], $6::int8[]) as x(u, s, b, r, f)
         on conflict (user_id, day) do update
           set score = excluded.score, band = excluded.band, reasons = excluded.reasons,
               balance_fen = excluded.balance_fen
         returning 1
       )
       select count(*)::int as n from h`,
      [
        features.map((f) => f.userId),
        day,
        scored.map((r) => r.score),
        scored.map((r) => r.band),
        scored.map((r) => r.reasons.join(',')),
        features.map((f) => f.balanceFen.toString()),
      ],
      { name: 'credit-write-chunk' },
    );
  }

  /** The server's job: today's run once the Beijing night has come, unless it finished. */
  async runDue(): Promise<CreditRunReport | null> {
    const nowNs = this.#clock.nowNs();
    if (beijingHour(nowNs) < limits.creditNightlyBeijingHour) return null;
    const done = await this.#tables()
      .selectFrom('credit_runs')
      .select('finished_at')
      .where('day', '=', beijingDate(nowNs))
      .executeTakeFirst();
    if (done?.finished_at) return null;
    return this.run();
  }

  /**
   * `zhima.credit.score.get` for `appId` about `userId` (whose grant the caller checked): the
   * score now, or `N/A`, under a fresh `biz_no`; the same `transaction_id` within 24 hours answers
   * the same, and is refused for another user. Throws `transaction_id_invalid`,
   * `transaction_id_reused`, `user_not_found`.
   */
  async answerApp(appId: string, transactionId: string, userId: string): Promise<{ bizNo: string; zmScore: string }> {
    if (!transactionIdPattern.test(transactionId)) {
      throw new CreditError('transaction_id_invalid', { param: 'transaction_id' });
    }
    const nowNs = this.#clock.nowNs();
    const fresh = dateFromNs(nowNs - BigInt(limits.creditTransactionTtlMs) * 1_000_000n);
    const t = this.#tables();
    const earlier = await t
      .selectFrom('credit_transactions')
      .selectAll()
      .where('app_id', '=', appId)
      .where('transaction_id', '=', transactionId)
      .where('created_at', '>', fresh)
      .executeTakeFirst();
    if (earlier) return sameUser(earlier, userId);
    const { score } = await this.score(userId);
    const row = {
      app_id: appId,
      transaction_id: transactionId,
      user_id: userId,
      biz_no: bizNo(nowNs),
      zm_score: score === null ? 'N/A' : String(score),
      created_at: dateFromNs(nowNs),
    };
    // An id older than 24 hours is new again; one another request took meanwhile answers as it did.
    const written = await t
      .insertInto('credit_transactions')
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(['app_id', 'transaction_id'])
          .doUpdateSet({
            user_id: row.user_id,
            biz_no: row.biz_no,
            zm_score: row.zm_score,
            created_at: row.created_at,
          })
          .where('credit_transactions.created_at', '<=', fresh),
      )
      .returningAll()
      .executeTakeFirst();
    if (written) return { bizNo: written.biz_no, zmScore: written.zm_score };
    const taken = await t
      .selectFrom('credit_transactions')
      .selectAll()
      .where('app_id', '=', appId)
      .where('transaction_id', '=', transactionId)
      .executeTakeFirstOrThrow();
    return sameUser(taken, userId);
  }

  /** Forgets `transaction_id`s older than 24 hours; how many. */
  async sweep(): Promise<number> {
    const fresh = dateFromNs(this.#clock.nowNs() - BigInt(limits.creditTransactionTtlMs) * 1_000_000n);
    const rows = await this.#db.query<{ n: number }>(
      `with gone as (delete from credit_transactions where created_at <= $1 returning 1) select count(*)::int as n from gone`,
      [fresh],
    );
    return rows[0]?.n ?? 0;
  }
}

function sameUser(row: { user_id: string; biz_no: string; zm_score: string }, userId: string) {
  if (row.user_id !== userId) throw new CreditError('transaction_id_reused', { param: 'transaction_id' });
  return { bizNo: row.biz_no, zmScore: row.zm_score };
}

/** Zhima's business number: `ZM`, the Beijing date, 22 random digits. */
const bizNo = (nowNs: bigint): string => dailyNumber('ZM', dateFromNs(nowNs), 22);
