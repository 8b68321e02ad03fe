import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { Insertable, Selectable } from 'kysely';
import { assert } from '../core/assert.ts';
import { BoundedMap } from '../core/bounded-map.ts';
import { cached } from '../core/cache.ts';
import type { Clock } from '../core/clock.ts';
import { type Db, type Queryable, typed } from '../core/db/index.ts';
import { derivedId, id, isUuid, uuidFromU128 } from '../core/ids.ts';
import { cnyLedger, RiskAccountCode, RiskTransferCode } from '../core/ledger-codes.ts';
import { limits } from '../core/limits.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import { AccountFlags, assertLedgerResult, type Ledger } from '../ledger/index.ts';
import { DbCounterStore } from './counter-store.ts';
import { RiskError } from './errors.ts';
import { KnownPayees } from './payees.ts';
import { Regions } from './regions.ts';
import {
  applicable,
  categoryPattern,
  checkRule,
  conditionFromStored,
  conditionJson,
  conditionToStored,
  type Dimension,
  decisionOf,
  dimensionValue,
  evaluate,
  type FiredRule,
  type ListKind,
  listKinds,
  type RiskDecision,
  type RiskFacts,
  type RiskPath,
  type RiskRequest,
  type Rule,
  type RuleInput,
  type Tier,
} from './rules.ts';
import type { RiskTables } from './tables.ts';
import { type CounterStore, Velocity } from './velocity.ts';

/** What the engine needs of the platform: who a member is, and a way to text them. */
export interface RiskParties {
  member(
    userId: string,
  ): Promise<{ kind: Tier; createdAtNs: bigint; phone: string | undefined; walletAccountId: bigint } | null>;
  sendSms(phone: string, text: string): Promise<void>;
  /**
   * Whether an operator froze the member's account (src/members/freezes.ts): a frozen payer is
   * refused on every path before any rule is read. Answered from memory; absent: none is frozen.
   */
  frozen?(userId: string): Promise<boolean>;
  /**
   * Why the payer may not pay a payee of this merchant category, or null: the courts' list of
   * dishonest debtors (src/court-list) restricts listed people from some categories. Asked only
   * when the payee has a category; a refusal is the built-in `court_list` check, before any
   * operator's rule. Absent: nothing is restricted.
   */
  restriction?(userId: string, category: string): Promise<string | null>;
}

/** A fraud loss: a victim the platform made whole. */
export interface FraudLoss {
  key: string;
  userId: string;
  amountFen: bigint;
  reason: string;
  decisionId: string | null;
  recordedAt: Date;
  recordedBy: string;
}

/**
 * What the interface knows of a payment's origin, passed down to the path that asks the engine:
 * the client's address and device, and the confirmation the payer sends back after a challenge.
 */
export interface PaymentContext {
  address?: string | undefined;
  device?: string | undefined;
  challenge?: { id: string; code: string } | undefined;
}

/** Everything a path can carry out. */
export const bothSupported: Supports = new Set(['challenge', 'review']);
export const challengeOnly: Supports = new Set(['challenge']);
export const reviewOnly: Supports = new Set(['review']);
export const neitherSupported: Supports = new Set();

/** What a path can carry out besides allow and deny (`applicable` maps the rest). */
export type Supports = ReadonlySet<'challenge' | 'review'>;

export interface AssessOptions {
  supports: Supports;
  /**
   * What the payment is, for its confirmation: a challenge passed for one payment never lets
   * another through (the request's fingerprint: its idempotency key and terms).
   */
  fingerprint: string;
  /** The confirmation the payer got for this payment, sent back with the payment. */
  challenge?: { id: string; code: string } | undefined;
  /**
   * The payer proved in this very request that they hold their phone (the card cashier's SMS
   * code): a challenge is met by it, and the payment is allowed (recorded with the rule).
   */
  steppedUp?: boolean | undefined;
}

/** The engine's answer: allow (go on) or review (hold the money; `reviewId` names the queue entry). */
export type RiskVerdict = { decision: 'allow'; decisionId: string | null } | { decision: 'review'; reviewId: string };

/** A decision as operators read it. */
export interface DecisionView {
  decisionId: string;
  at: Date;
  path: string;
  userId: string;
  payeeId: string | null;
  amountFen: bigint;
  decision: RiskDecision;
  fired: FiredRule[];
  context: Record<string, unknown>;
  ref: string | null;
}

export interface ReviewView {
  reviewId: string;
  path: string;
  ref: string;
  userId: string;
  amountFen: bigint;
  status: 'PENDING' | 'APPROVED' | 'REJECTED';
  createdAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
  note: string | null;
  applied: boolean;
  /** The decision that sent it here, with the rules that fired. */
  decision: DecisionView | null;
}

/** What a path does when an operator decides one of its held payments; each idempotent. */
export interface ReviewHandler {
  approve(ref: string): Promise<void>;
  reject(ref: string): Promise<void>;
}

/** What a path does once its payer passed a confirmation given out of band (the gateway's till). */
export type ChallengeHandler = (ref: string, userId: string) => Promise<unknown>;

export interface RuleView extends Rule {
  updatedAt: Date;
  updatedBy: string;
}

export interface ListEntry {
  list: ListKind;
  value: string;
  reason: string;
  createdAt: Date;
  createdBy: string;
}

/** Counts since the process started, for `/metrics`. */
export interface RiskStats {
  /** Decisions applied, by path and decision. */
  decisions: Map<string, number>;
  /** Shadow rules that fired, by rule name (never applied). */
  shadowFired: Map<string, number>;
  /** Challenges passed. */
  challengesPassed: number;
}

type Loaded = {
  version: bigint;
  rules: Rule[];
  lists: Map<ListKind, Set<string>>;
  categories: Map<string, string>;
  regions: Regions;
};

type RecordRow = Insertable<RiskTables['risk_decisions']> & { decision_id: string; at: Date };

/**
 * The risk engine (docs/risk.md): every money-out path asks `assess` before money moves. Rules,
 * lists, regions and merchant categories are read from the database and reloaded when
 * `risk_config.version` moves (at once in the process that changed them, within `riskSyncMs`
 * elsewhere): a change applies without a restart. The facts a decision needs are in memory —
 * velocity counters (`Velocity`), lists, payees paid, usual regions — so that a decision with
 * warm facts takes no round trip. Decisions with a rule fired are recorded, with the rules and
 * their reasons; a refusal, a challenge and a review before the payer hears them.
 */
export class Risk {
  readonly velocity: Velocity;
  readonly stats: RiskStats = { decisions: new Map(), shadowFired: new Map(), challengesPassed: 0 };
  readonly #reviewHandlers = new Map<RiskPath, ReviewHandler>();
  readonly #challengeHandlers = new Map<RiskPath, ChallengeHandler>();
  #loaded: Loaded | undefined;
  #loading: Promise<Loaded> | undefined;
  /** Decisions that allowed a payment with a shadow rule fired: written on the next sync. */
  #unrecorded: RecordRow[] = [];
  /** Regions learned from allowed payments, written on the next sync. */
  #learnedRegions = new Map<string, { region: string; at: Date }>();
  readonly #member: RiskParties['member'];
  readonly #usualRegion: (userId: string) => Promise<{ region: string | undefined } | null>;
  readonly #payees: KnownPayees;
  /** Usual regions this process learned, ahead of its cache of the database's. */
  readonly #regionsLearned = new BoundedMap<string, string>(limits.riskFactCacheMax);
  #lastPruneMs = 0;

  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly parties: RiskParties,
    private readonly clock: Clock,
    options: { counters?: CounterStore | undefined } = {},
  ) {
    this.velocity = new Velocity(options.counters ?? new DbCounterStore(db));
    const cacheOptions = { max: limits.riskFactCacheMax, ttlMs: limits.riskFactCacheMs };
    this.#member = cached((userId: string) => parties.member(userId), cacheOptions);
    // What is not known is remembered too (a minute): a payer without a usual region, a payee never
    // paid, would otherwise cost a read on every payment. What this process learns it knows at once.
    this.#usualRegion = cached(async (userId: string) => {
      const row = await this.#tables()
        .selectFrom('risk_profiles')
        .select('usual_region')
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return { region: row?.usual_region };
    }, cacheOptions);
    this.#payees = new KnownPayees(db);
  }

  /** Registers what `path` does when an operator approves or rejects one of its held payments. */
  onReviewed(path: RiskPath, handler: ReviewHandler): void {
    this.#reviewHandlers.set(path, handler);
  }

  /** Registers what `path` does once its payer confirmed a payment out of band (`confirm`). */
  onConfirmed(path: RiskPath, handler: ChallengeHandler): void {
    this.#challengeHandlers.set(path, handler);
  }

  /**
   * Decides a payment before its money moves. Answers `allow` (counted in the velocity windows)
   * or `review` (the path holds the money; the review is in the queue, one per path and `ref`).
   * Throws `payment_denied`, or `challenge_required` with a fresh confirmation texted to the
   * payer (its id in the error); a payment sent again with that confirmation's id and code is
   * allowed once. A challenge's wrong code throws `challenge_code_invalid`, and so on.
   */
  async assess(request: RiskRequest, options: AssessOptions): Promise<RiskVerdict> {
    // A frozen payer pays nothing on any path, and the refusal records nothing.
    if (await this.parties.frozen?.(request.userId)) throw new RiskError('account_frozen');
    const loaded = await this.#config();
    // The court list's restriction is the law's, not an operator's rule: no confirmation passes it.
    await this.#refuseRestricted(request, loaded);
    if (options.challenge) return this.#passChallenge(request, options.fingerprint, options.challenge);
    const applying = loaded.rules.filter((r) => r.enabled && (r.paths.length === 0 || r.paths.includes(request.path)));
    const facts = await this.#facts(request, loaded, applying);
    const nowMs = this.#nowMs();
    const fired = evaluate(applying, request, facts);
    const asked = applicable(decisionOf(fired), options.supports);
    const decision = asked === 'challenge' && options.steppedUp ? 'allow' : asked;
    for (const f of fired) {
      if (f.mode === 'shadow') this.stats.shadowFired.set(f.name, (this.stats.shadowFired.get(f.name) ?? 0) + 1);
    }
    this.#count(request.path, decision);
    const record = this.#record(request, decision, fired, facts);
    if (decision === 'allow') {
      this.#allowed(request, loaded, nowMs, facts);
      if (fired.length > 0) this.#unrecorded.push(record);
      return { decision, decisionId: fired.length > 0 ? record.decision_id : null };
    }
    if (decision === 'deny') {
      await this.#tables().insertInto('risk_decisions').values(record).execute();
      throw new RiskError('payment_denied');
    }
    if (decision === 'challenge') {
      const challengeId = await this.#challenge(request, options.fingerprint, record);
      throw new RiskError('challenge_required', { challengeId });
    }
    return { decision: 'review', reviewId: await this.#openReview(request, record) };
  }

  /**
   * The built-in check before the rules: a payer the courts list may not pay a payee (the trade's
   * merchant, or the member paid) whose category is restricted. Refused with `buyer_restricted`,
   * the decision recorded with the check as its fired rule (id 0, kind `court_list`).
   */
  async #refuseRestricted(request: RiskRequest, loaded: Loaded): Promise<void> {
    const payee = request.merchantId ?? request.payeeId;
    const category = payee === undefined ? undefined : loaded.categories.get(payee);
    if (category === undefined || !this.parties.restriction) return;
    const reason = await this.parties.restriction(request.userId, category);
    if (reason === null) return;
    const fired: FiredRule[] = [
      { ruleId: 0, name: 'court list', kind: 'court_list', action: 'deny', mode: 'enforce', reason },
    ];
    this.#count(request.path, 'deny');
    const record = this.#record(request, 'deny', fired, undefined);
    await this.#tables().insertInto('risk_decisions').values(record).execute();
    throw new RiskError('buyer_restricted', {
      message: `You are on the courts' list of dishonest debtors (失信被执行人): payments to merchants of category ${category} are restricted; nothing was paid`,
    });
  }

  // ---- Facts ---------------------------------------------------------------------------------

  async #facts(request: RiskRequest, loaded: Loaded, applying: readonly Rule[]): Promise<RiskFacts> {
    const nowMs = this.#nowMs();
    const region = request.address === undefined ? undefined : loaded.regions.of(request.address);
    const wants = (kind: Rule['condition']['kind']) => applying.some((r) => r.condition.kind === kind);
    // Only what an applying rule reads is looked up: with no rule on a path, a decision reads nothing.
    const wantsMember = applying.some(
      (r) => r.condition.kind === 'new_account' || (r.condition.kind === 'amount' && r.condition.tiers !== undefined),
    );
    const [member, knownPayee, usual] = await Promise.all([
      wantsMember ? this.#member(request.userId) : Promise.resolve(null),
      request.payeeId !== undefined && wants('new_payee')
        ? this.#payees.knows(request.userId, request.payeeId, nowMs)
        : Promise.resolve(undefined),
      region !== undefined && wants('region') ? this.#usual(request.userId) : Promise.resolve(undefined),
      this.velocity.ensure(this.#velocityKeys(request, loaded), nowMs),
    ]);
    return {
      tier: member?.kind ?? 'user',
      category: request.merchantId === undefined ? undefined : loaded.categories.get(request.merchantId),
      accountAgeMs: member ? nowMs - Number(member.createdAtNs / 1_000_000n) : 0,
      knownPayee,
      region,
      usualRegion: usual,
      listed: (list, value) => loaded.lists.get(list)?.has(value) ?? false,
      velocity: (dimension, value, windowMs) => this.velocity.sum(counterKey(dimension, value), windowMs, nowMs),
    };
  }

  /** The counter keys of this payment: one per dimension some enabled velocity rule counts. */
  #velocityKeys(request: RiskRequest, loaded: Loaded): string[] {
    const keys: string[] = [];
    for (const dimension of countedDimensions(loaded.rules)) {
      const value = dimensionValue(request, dimension);
      if (value !== undefined) keys.push(counterKey(dimension, value));
    }
    return keys;
  }

  async #usual(userId: string): Promise<string | undefined> {
    return this.#regionsLearned.get(userId) ?? (await this.#usualRegion(userId))?.region;
  }

  /** An allowed payment counts in every window and teaches the engine its payee and region. */
  #allowed(request: RiskRequest, loaded: Loaded, nowMs: number, facts: RiskFacts | undefined): void {
    this.velocity.add(this.#velocityKeys(request, loaded), request.amountFen, nowMs);
    const at = new Date(nowMs);
    if (request.payeeId !== undefined && facts?.knownPayee !== true) {
      this.#payees.learn(request.userId, request.payeeId, at);
    }
    const region = request.address === undefined ? undefined : loaded.regions.of(request.address);
    // A payer's first region is learned from a decision that looked it up (not from a passed challenge).
    if (region !== undefined && facts && facts.usualRegion === undefined && !this.#regionsLearned.has(request.userId)) {
      this.#regionsLearned.set(request.userId, region);
      this.#learnedRegions.set(request.userId, { region, at });
    }
  }

  #count(path: RiskPath, decision: RiskDecision): void {
    const key = `${path}:${decision}`;
    this.stats.decisions.set(key, (this.stats.decisions.get(key) ?? 0) + 1);
  }

  #record(request: RiskRequest, decision: RiskDecision, fired: FiredRule[], facts: RiskFacts | undefined): RecordRow {
    return {
      decision_id: uuidFromU128(id()),
      at: new Date(this.#nowMs()),
      path: request.path,
      user_id: request.userId,
      payee_id: request.payeeId ?? null,
      amount_fen: request.amountFen,
      decision,
      fired: JSON.stringify(fired),
      context: JSON.stringify({
        merchant_id: request.merchantId,
        card_id: request.cardId,
        device: request.device,
        address: request.address,
        region: facts?.region,
        usual_region: facts?.usualRegion,
      }),
      ref: request.ref ?? null,
    };
  }

  // ---- Challenges ----------------------------------------------------------------------------

  async #challenge(request: RiskRequest, fingerprint: string, record: RecordRow): Promise<string> {
    const member = await this.#member(request.userId);
    assert(member?.phone, `a challenge on ${request.path} is for a user with a phone`);
    const challengeId = uuidFromU128(id());
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
    const now = new Date(this.#nowMs());
    await this.db.transaction(async (tx) => {
      const t = typed<RiskTables>(tx);
      await t.insertInto('risk_decisions').values(record).execute();
      await t
        .insertInto('risk_challenges')
        .values({
          challenge_id: challengeId,
          decision_id: record.decision_id,
          user_id: request.userId,
          path: request.path,
          amount_fen: request.amountFen,
          fingerprint,
          ref: request.ref ?? null,
          code_hash: codeHash(challengeId, code),
          status: 'OPEN',
          created_at: now,
          expires_at: new Date(now.getTime() + limits.riskChallengeTtlMs),
        })
        .execute();
    });
    const minutes = Math.round(limits.riskChallengeTtlMs / 60_000);
    const yuan = formatAmount(request.amountFen);
    await this.parties.sendSms(
      member.phone,
      `[Paybao] Code ${code} confirms your payment of ${yuan} yuan. It expires in ${minutes} minutes. Never share it.`,
    );
    return challengeId;
  }

  /** A payment sent again with its confirmation: allowed once when the code is right. */
  async #passChallenge(
    request: RiskRequest,
    fingerprint: string,
    given: { id: string; code: string },
  ): Promise<RiskVerdict> {
    const row = await this.#useChallenge(
      given.id,
      request.userId,
      given.code,
      (c) => c.path === request.path && c.amount_fen === request.amountFen && c.fingerprint === fingerprint,
    );
    const loaded = await this.#config();
    await this.velocity.ensure(this.#velocityKeys(request, loaded), this.#nowMs());
    this.#allowed(request, loaded, this.#nowMs(), undefined);
    this.#count(request.path, 'allow');
    this.stats.challengesPassed += 1;
    return { decision: 'allow', decisionId: row.decision_id };
  }

  /**
   * The payer's code for a confirmation of a payment that waits for it (a till's trade waits for
   * its buyer; the cashier shows a code form): the path's handler then finishes the payment, for
   * the confirmation's payer, and its answer is returned. `userId`: the payer, when the caller
   * knows them (the wallet); the cashier's form knows only the confirmation.
   */
  async confirm(
    challengeId: string,
    code: string,
    userId?: string | undefined,
  ): Promise<{ path: RiskPath; result: unknown }> {
    const row = await this.#useChallenge(challengeId, userId, code, (c) =>
      this.#challengeHandlers.has(c.path as RiskPath),
    );
    const path = row.path as RiskPath;
    const handler = this.#challengeHandlers.get(path);
    assert(handler && row.ref !== null, `a confirmation on ${path} has a handler and a reference`);
    this.stats.challengesPassed += 1;
    this.#count(path, 'allow');
    return { path, result: await handler(row.ref, row.user_id) };
  }

  /** The open confirmations of a user, newest first (the wallet shows them). */
  async openChallenges(
    userId: string,
  ): Promise<{ challengeId: string; path: string; amountFen: bigint; ref: string | null; expiresAt: Date }[]> {
    const rows = await this.#tables()
      .selectFrom('risk_challenges')
      .select(['challenge_id', 'path', 'amount_fen', 'ref', 'expires_at'])
      .where('user_id', '=', userId)
      .where('status', '=', 'OPEN')
      .where('expires_at', '>', new Date(this.#nowMs()))
      .orderBy('created_at', 'desc')
      .limit(limits.riskListPageMax)
      .execute();
    return rows.map((r) => ({
      challengeId: r.challenge_id,
      path: r.path,
      amountFen: r.amount_fen,
      ref: r.ref,
      expiresAt: r.expires_at,
    }));
  }

  async #useChallenge(
    challengeId: string,
    userId: string | undefined,
    code: string,
    matches: (row: Selectable<RiskTables['risk_challenges']>) => boolean,
  ): Promise<Selectable<RiskTables['risk_challenges']>> {
    if (!isUuid(challengeId)) throw new RiskError('challenge_not_found', { param: 'challenge_id' });
    const outcome = await this.db.transaction(async (tx) => {
      const t = typed<RiskTables>(tx);
      const row = await t
        .selectFrom('risk_challenges')
        .selectAll()
        .where('challenge_id', '=', challengeId)
        .$if(userId !== undefined, (q) => q.where('user_id', '=', userId ?? ''))
        .forUpdate()
        .executeTakeFirst();
      if (!row || row.status === 'USED') return { refusal: 'challenge_not_found' as const };
      if (row.status === 'FAILED') return { refusal: 'challenge_attempts_exceeded' as const };
      if (row.expires_at.getTime() <= this.#nowMs()) return { refusal: 'challenge_expired' as const };
      if (!matches(row)) return { refusal: 'challenge_mismatch' as const };
      const given = Buffer.from(codeHash(challengeId, /^\d{6}$/.test(code) ? code : ''), 'hex');
      if (!timingSafeEqual(given, Buffer.from(row.code_hash, 'hex'))) {
        const attempts = row.attempts + 1;
        const status = attempts >= limits.riskChallengeAttemptsMax ? 'FAILED' : 'OPEN';
        await t
          .updateTable('risk_challenges')
          .set({ attempts, status })
          .where('challenge_id', '=', challengeId)
          .execute();
        return {
          refusal: status === 'FAILED' ? ('challenge_attempts_exceeded' as const) : ('challenge_code_invalid' as const),
        };
      }
      await t
        .updateTable('risk_challenges')
        .set({ status: 'USED', used_at: new Date(this.#nowMs()) })
        .where('challenge_id', '=', challengeId)
        .execute();
      return { row, refusal: undefined };
    });
    if (outcome.refusal !== undefined) throw new RiskError(outcome.refusal, { param: 'challenge_code' });
    return outcome.row;
  }

  // ---- Reviews -------------------------------------------------------------------------------

  /** The decision and its queue entry; a payment asked again (a retry, a crash resumed) finds its own. */
  async #openReview(request: RiskRequest, record: RecordRow): Promise<string> {
    assert(request.ref !== undefined, `a review on ${request.path} names what it holds`);
    const ref = request.ref;
    return this.db.transaction(async (tx) => {
      const t = typed<RiskTables>(tx);
      const existing = await t
        .selectFrom('risk_reviews')
        .select('review_id')
        .where('path', '=', request.path)
        .where('ref', '=', ref)
        .executeTakeFirst();
      if (existing) return existing.review_id;
      await t.insertInto('risk_decisions').values(record).execute();
      const inserted = await t
        .insertInto('risk_reviews')
        .values({
          review_id: record.decision_id,
          path: request.path,
          ref,
          user_id: request.userId,
          amount_fen: request.amountFen,
          status: 'PENDING',
          created_at: record.at,
        })
        .onConflict((oc) => oc.columns(['path', 'ref']).doNothing())
        .returning('review_id')
        .executeTakeFirst();
      assert(inserted, 'a review of one path and reference is opened under its lookup');
      return inserted.review_id;
    });
  }

  /** The review queue: pending first, oldest first; or every review of one status. */
  async reviews(
    options: { status?: ReviewView['status'] | undefined; limit?: number | undefined } = {},
  ): Promise<ReviewView[]> {
    const limit = clampPage(options.limit);
    let query = this.#tables()
      .selectFrom('risk_reviews')
      .selectAll()
      .orderBy('created_at', options.status === 'PENDING' || options.status === undefined ? 'asc' : 'desc')
      .limit(limit);
    query = query.where('status', '=', options.status ?? 'PENDING');
    const rows = await query.execute();
    const decisions = await this.#decisionsById(rows.map((r) => r.review_id));
    return rows.map((r) => reviewView(r, decisions.get(r.review_id) ?? null));
  }

  async review(reviewId: string): Promise<ReviewView> {
    if (!isUuid(reviewId)) throw new RiskError('review_not_found', { param: 'review_id' });
    const row = await this.#tables()
      .selectFrom('risk_reviews')
      .selectAll()
      .where('review_id', '=', reviewId)
      .executeTakeFirst();
    if (!row) throw new RiskError('review_not_found', { param: 'review_id' });
    const decisions = await this.#decisionsById([reviewId]);
    return reviewView(row, decisions.get(reviewId) ?? null);
  }

  /**
   * An operator's decision on a held payment: `approve` pays it, `reject` gives the money back.
   * The review moves once (compare and set), so of two operators deciding at once one wins and the
   * other hears `review_decided`; the path's handler then runs, idempotent, and the review is
   * marked applied (a crash in between is finished by `sweepReviews`).
   */
  async decide(
    reviewId: string,
    operator: string,
    verdict: 'approve' | 'reject',
    note: string | undefined,
  ): Promise<ReviewView> {
    const current = await this.review(reviewId);
    if (current.status !== 'PENDING') throw new RiskError('review_decided', { param: 'review_id' });
    const decided = await this.#tables()
      .updateTable('risk_reviews')
      .set({
        status: verdict === 'approve' ? 'APPROVED' : 'REJECTED',
        decided_at: new Date(this.#nowMs()),
        decided_by: operator,
        note: note ?? null,
      })
      .where('review_id', '=', reviewId)
      .where('status', '=', 'PENDING')
      .returningAll()
      .executeTakeFirst();
    if (!decided) throw new RiskError('review_decided', { param: 'review_id' });
    await this.#apply(decided);
    return this.review(reviewId);
  }

  async #apply(row: Selectable<RiskTables['risk_reviews']>): Promise<void> {
    const handler = this.#reviewHandlers.get(row.path as RiskPath);
    assert(handler, `a review on ${row.path} has a handler`);
    if (row.status === 'APPROVED') await handler.approve(row.ref);
    else await handler.reject(row.ref);
    await this.#tables()
      .updateTable('risk_reviews')
      .set({ applied_at: new Date(this.#nowMs()) })
      .where('review_id', '=', row.review_id)
      .where('applied_at', 'is', null)
      .execute();
  }

  /** Applies decided reviews whose handler did not finish (a crash between the decision and the money). */
  async sweepReviews(): Promise<number> {
    const rows = await this.#tables()
      .selectFrom('risk_reviews')
      .selectAll()
      .where('status', '<>', 'PENDING')
      .where('applied_at', 'is', null)
      .orderBy('decided_at')
      .limit(limits.riskListPageMax)
      .execute();
    for (const row of rows) await this.#apply(row);
    return rows.length;
  }

  /**
   * Closes a review whose payment was never held (the path found the balance short): it leaves
   * the queue as rejected by the platform, with the path's words.
   */
  async dropReview(reviewId: string, note: string): Promise<void> {
    await this.#tables()
      .updateTable('risk_reviews')
      .set({
        status: 'REJECTED',
        decided_at: new Date(this.#nowMs()),
        decided_by: 'platform',
        note,
        applied_at: new Date(this.#nowMs()),
      })
      .where('review_id', '=', reviewId)
      .where('status', '=', 'PENDING')
      .execute();
  }

  // ---- Fraud losses ---------------------------------------------------------------------------

  /**
   * Records a fraud loss once (by `key`) and makes its victim whole: fraud losses → the victim's
   * wallet, one transfer under an id derived from the key, so a retry moves nothing twice. Counted
   * by `paybao report loss-rate`. Throws `loss_invalid` for bad input, `loss_key_reused` when the
   * key was used for another loss.
   */
  async recordLoss(
    input: { key?: unknown; userId?: unknown; amount?: unknown; reason?: unknown; decisionId?: unknown },
    operator: string,
  ): Promise<FraudLoss> {
    const invalid = (param: string, detail: string) => new RiskError('loss_invalid', { param, detail });
    if (typeof input.key !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(input.key)) {
      throw invalid('key', 'key must be 1 to 64 printable ASCII characters');
    }
    const fen = typeof input.amount === 'string' ? parseAmount(input.amount) : undefined;
    if (fen === undefined || fen <= 0n)
      throw invalid('amount', 'amount must be a positive amount of yuan, such as "88.00"');
    if (typeof input.reason !== 'string' || input.reason.trim() === '' || input.reason.length > limits.riskNoteMax) {
      throw invalid('reason', `reason must be text of 1 to ${limits.riskNoteMax} characters`);
    }
    const decisionId = input.decisionId ?? null;
    if (decisionId !== null && (typeof decisionId !== 'string' || !isUuid(decisionId))) {
      throw invalid('decision_id', "decision_id must be a decision's id");
    }
    const member = typeof input.userId === 'string' ? await this.#member(input.userId) : null;
    if (!member || typeof input.userId !== 'string') throw invalid('user_id', 'user_id must name a member');
    const row = {
      loss_key: input.key,
      user_id: input.userId,
      amount_fen: fen,
      reason: input.reason.trim(),
      decision_id: decisionId,
      recorded_at: new Date(this.#nowMs()),
      recorded_by: operator,
    };
    await this.#tables()
      .insertInto('risk_losses')
      .values(row)
      .onConflict((oc) => oc.column('loss_key').doNothing())
      .execute();
    const stored = await this.#tables()
      .selectFrom('risk_losses')
      .selectAll()
      .where('loss_key', '=', row.loss_key)
      .executeTakeFirstOrThrow();
    if (stored.user_id !== row.user_id || stored.amount_fen !== row.amount_fen) {
      throw new RiskError('loss_key_reused', { param: 'key' });
    }
    const [account] = await this.ledger.createAccounts([
      { id: fraudLossAccountId, ledger: cnyLedger, code: RiskAccountCode.fraudLoss, flags: AccountFlags.none },
    ]);
    assertLedgerResult(account, 'the fraud loss account');
    const [moved] = await this.ledger.createTransfers([
      {
        id: derivedId('risk.loss', stored.loss_key),
        debitAccountId: fraudLossAccountId,
        creditAccountId: member.walletAccountId,
        amount: stored.amount_fen,
        ledger: cnyLedger,
        code: RiskTransferCode.fraudCompensation,
        userData64: BigInt(stored.user_id),
      },
    ]);
    assertLedgerResult(moved, `fraud compensation ${stored.loss_key}`);
    return lossView(stored);
  }

  /** Every fraud loss, newest first. */
  async fraudLosses(): Promise<FraudLoss[]> {
    const rows = await this.#tables()
      .selectFrom('risk_losses')
      .selectAll()
      .orderBy('recorded_at', 'desc')
      .limit(limits.riskListPageMax)
      .execute();
    return rows.map(lossView);
  }

  /** What fraud has cost: the sum and count of every loss recorded. */
  async losses(): Promise<{ lossFen: bigint; lossCount: number }> {
    const [row] = await this.db.query<{ fen: bigint; n: bigint }>(
      'select coalesce(sum(amount_fen), 0)::int8 fen, count(*)::int8 n from risk_losses',
    );
    return { lossFen: row?.fen ?? 0n, lossCount: Number(row?.n ?? 0n) };
  }

  // ---- Decisions -----------------------------------------------------------------------------

  /** Recorded decisions, newest first; of one user, or one decision, when asked. */
  async decisions(options: { userId?: string | undefined; limit?: number | undefined } = {}): Promise<DecisionView[]> {
    let query = this.#tables()
      .selectFrom('risk_decisions')
      .selectAll()
      .orderBy('at', 'desc')
      .orderBy('decision_id', 'desc')
      .limit(clampPage(options.limit));
    if (options.userId !== undefined) query = query.where('user_id', '=', options.userId);
    return (await query.execute()).map(decisionView);
  }

  async #decisionsById(ids: readonly string[]): Promise<Map<string, DecisionView>> {
    if (ids.length === 0) return new Map();
    const rows = await this.#tables()
      .selectFrom('risk_decisions')
      .selectAll()
      .where((eb) => eb('decision_id', '=', eb.fn.any(eb.val([...ids]))))
      .execute();
    return new Map(rows.map((r) => [r.decision_id, decisionView(r)]));
  }

  // ---- Rules, lists, regions, categories (the console) -------------------------------------------

  async rules(): Promise<RuleView[]> {
    const rows = await this.#tables().selectFrom('risk_rules').selectAll().orderBy('rule_id').execute();
    return rows.map(ruleView);
  }

  async createRule(input: RuleInput, operator: string): Promise<RuleView> {
    const rule = checkRule(input);
    return this.#changing(async (t) => {
      const now = new Date(this.#nowMs());
      const row = await t
        .insertInto('risk_rules')
        .values({ ...ruleColumns(rule, operator, now), created_at: now })
        .onConflict((oc) => oc.column('name').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new RiskError('rule_name_taken', { param: 'name' });
      return ruleView(row);
    });
  }

  /** Replaces a rule's fields with those given (the others stay). */
  async updateRule(ruleId: number, input: RuleInput, operator: string): Promise<RuleView> {
    return this.#changing(async (t) => {
      const row = await t
        .selectFrom('risk_rules')
        .selectAll()
        .where('rule_id', '=', ruleId)
        .forUpdate()
        .executeTakeFirst();
      if (!row) throw new RiskError('rule_not_found', { param: 'rule_id' });
      const current = ruleView(row);
      const rule = checkRule({
        name: input.name ?? current.name,
        condition: input.condition ?? conditionJson(current.condition),
        paths: input.paths ?? current.paths,
        action: input.action ?? current.action,
        mode: input.mode ?? current.mode,
        enabled: input.enabled ?? current.enabled,
      });
      const clash = await t
        .selectFrom('risk_rules')
        .select('rule_id')
        .where('name', '=', rule.name)
        .where('rule_id', '<>', ruleId)
        .executeTakeFirst();
      if (clash) throw new RiskError('rule_name_taken', { param: 'name' });
      const updated = await t
        .updateTable('risk_rules')
        .set(ruleColumns(rule, operator, new Date(this.#nowMs())))
        .where('rule_id', '=', ruleId)
        .returningAll()
        .executeTakeFirstOrThrow();
      return ruleView(updated);
    });
  }

  async deleteRule(ruleId: number): Promise<void> {
    await this.#changing(async (t) => {
      const gone = await t
        .deleteFrom('risk_rules')
        .where('rule_id', '=', ruleId)
        .returning('rule_id')
        .executeTakeFirst();
      if (!gone) throw new RiskError('rule_not_found', { param: 'rule_id' });
    });
  }

  async listEntries(list: ListKind | undefined): Promise<ListEntry[]> {
    let query = this.#tables()
      .selectFrom('risk_lists')
      .selectAll()
      .orderBy('created_at', 'desc')
      .limit(limits.riskListPageMax);
    if (list !== undefined) query = query.where('list', '=', list);
    return (await query.execute()).map((r) => ({
      list: r.list as ListKind,
      value: r.value,
      reason: r.reason,
      createdAt: r.created_at,
      createdBy: r.created_by,
    }));
  }

  async addListEntry(
    input: { list?: unknown; value?: unknown; reason?: unknown },
    operator: string,
  ): Promise<ListEntry> {
    if (typeof input.list !== 'string' || !listKinds.includes(input.list as ListKind)) {
      throw new RiskError('list_entry_invalid', {
        param: 'list',
        detail: `list must be one of ${listKinds.join(', ')}`,
      });
    }
    if (typeof input.value !== 'string' || input.value.trim() === '' || input.value.length > limits.riskListValueMax) {
      throw new RiskError('list_entry_invalid', {
        param: 'value',
        detail: `value must be text of 1 to ${limits.riskListValueMax} characters`,
      });
    }
    if (typeof input.reason !== 'string' || input.reason.trim() === '' || input.reason.length > limits.riskNoteMax) {
      throw new RiskError('list_entry_invalid', {
        param: 'reason',
        detail: `reason must be text of 1 to ${limits.riskNoteMax} characters`,
      });
    }
    const entry = {
      list: input.list,
      value: input.value.trim(),
      reason: input.reason.trim(),
      created_at: new Date(this.#nowMs()),
      created_by: operator,
    };
    return this.#changing(async (t) => {
      const row = await t
        .insertInto('risk_lists')
        .values(entry)
        .onConflict((oc) => oc.columns(['list', 'value']).doUpdateSet({ reason: entry.reason }))
        .returningAll()
        .executeTakeFirstOrThrow();
      return {
        list: row.list as ListKind,
        value: row.value,
        reason: row.reason,
        createdAt: row.created_at,
        createdBy: row.created_by,
      };
    });
  }

  async removeListEntry(list: string, value: string): Promise<void> {
    await this.#changing(async (t) => {
      const gone = await t
        .deleteFrom('risk_lists')
        .where('list', '=', list)
        .where('value', '=', value)
        .returning('value')
        .executeTakeFirst();
      if (!gone) throw new RiskError('list_entry_not_found', { param: 'value' });
    });
  }

  /** Names the region of a network (`10.1.0.0/16` → `hangzhou`); the longest matching network wins. */
  async setRegion(network: string, region: string): Promise<void> {
    const parsed = Regions.parseNetwork(network);
    if (!parsed)
      throw new RiskError('region_invalid', {
        param: 'network',
        detail: 'network must be an IPv4 network such as 10.1.0.0/16',
      });
    requireCode(region, 'region_invalid', 'region');
    await this.#changing((t) =>
      t
        .insertInto('risk_regions')
        .values({ network: parsed, region })
        .onConflict((oc) => oc.column('network').doUpdateSet({ region }))
        .execute(),
    );
  }

  /** Sets the category of a merchant, which the amount rules may name. */
  async setMerchantCategory(merchantId: string, category: string): Promise<void> {
    requireCode(category, 'category_invalid', 'category');
    await this.#changing((t) =>
      t
        .insertInto('risk_merchant_categories')
        .values({ merchant_id: merchantId, category })
        .onConflict((oc) => oc.column('merchant_id').doUpdateSet({ category }))
        .execute(),
    );
  }

  /** A change to what the engine reads: written with a new version, then reloaded here at once. */
  async #changing<T>(change: (t: ReturnType<typeof typed<RiskTables>>) => Promise<T>): Promise<T> {
    const result = await this.db.transaction(async (tx) => {
      const t = typed<RiskTables>(tx);
      const out = await change(t);
      await t
        .updateTable('risk_config')
        .set((eb) => ({ version: eb('version', '+', 1n) }))
        .execute();
      return out;
    });
    this.#loaded = undefined;
    await this.#config();
    return result;
  }

  // ---- Loading and syncing ---------------------------------------------------------------------

  async #config(): Promise<Loaded> {
    if (this.#loaded) return this.#loaded;
    this.#loading ??= this.#load(this.db).finally(() => {
      this.#loading = undefined;
    });
    const loaded = await this.#loading;
    this.#loaded = loaded;
    return loaded;
  }

  async #load(q: Queryable): Promise<Loaded> {
    const t = typed<RiskTables>(q);
    const [config, rules, lists, categories, regions] = await Promise.all([
      t.selectFrom('risk_config').select('version').executeTakeFirstOrThrow(),
      t.selectFrom('risk_rules').selectAll().orderBy('rule_id').execute(),
      t.selectFrom('risk_lists').select(['list', 'value']).execute(),
      t.selectFrom('risk_merchant_categories').selectAll().execute(),
      t.selectFrom('risk_regions').selectAll().execute(),
    ]);
    const byList = new Map<ListKind, Set<string>>(listKinds.map((k) => [k, new Set<string>()]));
    for (const r of lists) byList.get(r.list as ListKind)?.add(r.value);
    return {
      version: config.version,
      rules: rules.map(ruleView),
      lists: byList,
      categories: new Map(categories.map((c) => [c.merchant_id, c.category])),
      regions: new Regions(regions),
    };
  }

  /**
   * The engine's round (the server's job, each `riskSyncMs`): reload what changed in another
   * process, flush and read back the velocity counters, write what was learned and the shadow
   * decisions, and now and then forget counters older than the longest window.
   */
  async sync(): Promise<void> {
    const nowMs = this.#nowMs();
    const { version } = await this.#tables().selectFrom('risk_config').select('version').executeTakeFirstOrThrow();
    if (this.#loaded && this.#loaded.version !== version) this.#loaded = undefined;
    await this.velocity.sync(nowMs);
    await this.#payees.sync(nowMs);
    await this.#flushLearned();
    if (nowMs - this.#lastPruneMs >= limits.riskPruneEveryMs) {
      await this.velocity.prune(nowMs);
      this.#lastPruneMs = nowMs;
    }
  }

  /**
   * Writes what this process counted and learned and has not written yet (the platform's close):
   * nothing is read, and nothing is written when there is nothing to write.
   */
  async flush(): Promise<void> {
    await this.velocity.flush(this.#nowMs());
    await this.#payees.flush();
    await this.#flushLearned();
  }

  async #flushLearned(): Promise<void> {
    const decisions = this.#unrecorded;
    const regions = [...this.#learnedRegions];
    this.#unrecorded = [];
    this.#learnedRegions = new Map();
    if (decisions.length > 0) await this.#tables().insertInto('risk_decisions').values(decisions).execute();
    if (regions.length > 0) {
      await this.db.query(
        `insert into risk_profiles (user_id, usual_region, since)
         select * from unnest($1::text[], $2::text[], $3::timestamptz[]) on conflict do nothing`,
        [regions.map(([u]) => u), regions.map(([, r]) => r.region), regions.map(([, r]) => r.at)],
      );
    }
  }

  #nowMs(): number {
    return Number(this.clock.nowNs() / 1_000_000n);
  }

  #tables() {
    return typed<RiskTables>(this.db);
  }
}

/** A checked rule's columns, as the operator who wrote it left them. */
function ruleColumns(rule: Omit<Rule, 'ruleId'>, operator: string, at: Date) {
  return {
    name: rule.name,
    condition: JSON.stringify(conditionToStored(rule.condition)),
    paths: rule.paths,
    action: rule.action,
    mode: rule.mode,
    enabled: rule.enabled,
    updated_at: at,
    updated_by: operator,
  };
}

/** The platform's fraud loss account (code 60). */
export const fraudLossAccountId = derivedId('risk.account', 'fraud-losses');

function lossView(r: Selectable<RiskTables['risk_losses']>): FraudLoss {
  return {
    key: r.loss_key,
    userId: r.user_id,
    amountFen: r.amount_fen,
    reason: r.reason,
    decisionId: r.decision_id,
    recordedAt: r.recorded_at,
    recordedBy: r.recorded_by,
  };
}

const counterKey = (dimension: Dimension, value: string) => `${dimension}:${value}`;

function countedDimensions(rules: readonly Rule[]): Set<Dimension> {
  const out = new Set<Dimension>();
  for (const r of rules) if (r.enabled && r.condition.kind === 'velocity') out.add(r.condition.dimension);
  return out;
}

/** A region's or a category's code: letters, digits, - and _. */
function requireCode(value: string, code: 'region_invalid' | 'category_invalid', param: string): void {
  if (!categoryPattern.test(value)) {
    throw new RiskError(code, { param, detail: `${param} must be a code of letters, digits, - and _` });
  }
}

function codeHash(challengeId: string, code: string): string {
  return createHash('sha256').update(`${challengeId}:${code}`).digest('hex');
}

function clampPage(limit: number | undefined): number {
  return Math.min(Math.max(Math.trunc(limit ?? limits.riskListPageMax), 1), limits.riskListPageMax);
}

function ruleView(r: Selectable<RiskTables['risk_rules']>): RuleView {
  return {
    ruleId: r.rule_id,
    name: r.name,
    condition: conditionFromStored(r.condition),
    paths: r.paths as RiskPath[],
    action: r.action as Rule['action'],
    mode: r.mode as Rule['mode'],
    enabled: r.enabled,
    updatedAt: r.updated_at,
    updatedBy: r.updated_by,
  };
}

function decisionView(r: Selectable<RiskTables['risk_decisions']>): DecisionView {
  return {
    decisionId: r.decision_id,
    at: r.at,
    path: r.path,
    userId: r.user_id,
    payeeId: r.payee_id,
    amountFen: r.amount_fen,
    decision: r.decision as RiskDecision,
    fired: (typeof r.fired === 'string' ? JSON.parse(r.fired) : r.fired) as FiredRule[],
    context: r.context,
    ref: r.ref,
  };
}

function reviewView(r: Selectable<RiskTables['risk_reviews']>, decision: DecisionView | null): ReviewView {
  return {
    reviewId: r.review_id,
    path: r.path,
    ref: r.ref,
    userId: r.user_id,
    amountFen: r.amount_fen,
    status: r.status,
    createdAt: r.created_at,
    decidedAt: r.decided_at,
    decidedBy: r.decided_by,
    note: r.note,
    applied: r.applied_at !== null,
    decision,
  };
}
