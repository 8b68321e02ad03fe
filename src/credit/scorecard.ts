/**
 * The scorecard (docs/credit.md): pure arithmetic from a user's features to a score, its band and
 * its reason codes. No SQL here: the features come from `features.ts`, the same statement for the
 * nightly batch and the online read, so both score alike.
 *
 * The tradition (Siddiqi, *Credit Risk Scorecards*): a score is linear in the log of the odds of
 * good to bad, `score = offset + factor × ln(odds)`, with `factor = pdo / ln 2` (every `pdo`
 * points double the odds) and `offset = baseScore − factor × ln(baseOdds)` (the base score means
 * the base odds). Each dimension adds its points to the base score, as each attribute of a
 * scorecard does: `points_d = weight_d × (max − min) × (strength_d − ½)`, strength in [0, 1] and
 * ½ neutral (what a dimension without data contributes), so a dimension moves the score by at
 * most half its share of the range either way, and in log-odds by `points_d / factor`. The sum is
 * clamped to [min, max] and rounded.
 *
 * Every strength is a non-decreasing function of each "good" feature (more payments, more escrow
 * trades completed, a higher balance, an older account) and non-increasing in each "bad" one (a
 * dispute lost, an open debt): property-tested, so that doing better never lowers a score.
 */
import { limits } from '../core/limits.ts';

/** What the scorecard reads of one user, computed by `features.ts`. */
export interface CreditFeatures {
  userId: string;
  /** Days since the account was opened (phone tenure: the phone is the account's). */
  accountAgeDays: number;
  /** Trades paid in the window and not closed (refunded in full). */
  payments: number;
  /** Calendar months with at least one payment, in the window. */
  activeMonths: number;
  /** Merchant categories paid (a merchant without a category counts as its own). */
  categories: number;
  /** Escrow trades the user bought, finished (released), and whose dispute the user did not lose. */
  escrowDone: number;
  /** Disputes the user lost in the window: as a buyer ruled for the seller, as a seller ruled for the buyer. */
  disputesLost: number;
  /**
   * What the user owes the platform now and has not repaid, in fen: credit-guaranteed settlements
   * of deposit-free freezes their wallet could not cover (src/preauth's `preauth_debts`).
   */
  openDebtFen: bigint;
  /** The average of the daily balances (wallet and Yu'e Bao) over the balance window, in fen; today's is the current one. */
  averageBalanceFen: bigint;
  /** Today's balance, wallet and Yu'e Bao, in fen (the snapshot the batch keeps for later averages). */
  balanceFen: bigint;
  realName: boolean;
  /** Friends with a score on the reference day, and the sum of those scores. */
  friendsScored: number;
  friendsScoreSum: number;
}

export const dimensions = ['history', 'behaviour', 'ability', 'identity', 'relationships'] as const;
export type Dimension = (typeof dimensions)[number];

/** The scorecard's settings: its calibration and each dimension's weight (percent of the range). */
export interface ScorecardSettings {
  weights: Record<Dimension, number>;
  baseScore: number;
  baseOdds: number;
  pointsToDoubleOdds: number;
}

export const defaultScorecard: ScorecardSettings = {
  weights: { ...limits.creditWeightPercents },
  baseScore: limits.creditBaseScore,
  baseOdds: limits.creditBaseOdds,
  pointsToDoubleOdds: limits.creditPointsToDoubleOdds,
};

/**
 * Why a score is not higher, the largest gain first: what the wallet shows under "what would raise
 * my score". A code names the feature, never a person's data.
 */
export const reasonCodes = [
  'PAYMENTS_FEW',
  'ACCOUNT_NEW',
  'ESCROW_TRADES_FEW',
  'DISPUTES_LOST',
  'ACTIVE_MONTHS_FEW',
  'CATEGORIES_FEW',
  'BALANCE_LOW',
  'REAL_NAME_MISSING',
  'FRIENDS_SCORES_LOW',
  'DEBT_OVERDUE',
] as const;
export type ReasonCode = (typeof reasonCodes)[number];

export const bands = ['POOR', 'FAIR', 'GOOD', 'VERY_GOOD', 'EXCELLENT'] as const;
export type Band = (typeof bands)[number];

export interface ScoreResult {
  /** Null: too little data to score ("N/A"). */
  score: number | null;
  band: Band | null;
  /** The largest gains first, at most `limits.creditReasonsMax`. */
  reasons: ReasonCode[];
  /** Each dimension's points (relative to the base score); all zero for "N/A". */
  points: Record<Dimension, number>;
}

/** 0 at 0, 1 from `full` on, growing with the logarithm in between: the first few count most. */
export function saturate(value: number, full: number): number {
  if (value <= 0) return 0;
  if (value >= full) return 1;
  return Math.log1p(value) / Math.log1p(full);
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** One feature's part of a dimension: its share of the dimension's strength and its own strength. */
interface Part {
  reason: ReasonCode;
  share: number;
  strength: number;
}

/** The parts of each dimension; a dimension's strength is ½ plus or minus what its parts add. */
function parts(f: CreditFeatures): Record<Dimension, Part[]> {
  const lost = Math.min(f.disputesLost, limits.creditDisputesLostMax);
  const lostShare = (limits.creditDisputeLostPercent / 100) * limits.creditDisputesLostMax;
  // An open debt to the platform is the strongest negative there is: it takes the whole credit
  // history dimension to its floor, whatever else it holds (docs/credit.md).
  const debtShare = limits.creditOpenDebtPercent / 100;
  const friendsMean = f.friendsScored > 0 ? f.friendsScoreSum / f.friendsScored : null;
  const range = limits.creditScoreMax - limits.creditScoreMin;
  return {
    // Neutral without escrow trades; each completed one raises it, each dispute lost lowers it.
    history: [
      { reason: 'ESCROW_TRADES_FEW', share: 0.5, strength: saturate(f.escrowDone, limits.creditEscrowTradesFull) },
      { reason: 'DISPUTES_LOST', share: -lostShare, strength: lost / limits.creditDisputesLostMax },
      { reason: 'DEBT_OVERDUE', share: -debtShare, strength: f.openDebtFen > 0n ? 1 : 0 },
    ],
    behaviour: [
      { reason: 'ACTIVE_MONTHS_FEW', share: 0.4, strength: saturate(f.activeMonths, limits.creditActiveMonthsFull) },
      { reason: 'CATEGORIES_FEW', share: 0.3, strength: saturate(f.categories, limits.creditCategoriesFull) },
      { reason: 'PAYMENTS_FEW', share: 0.3, strength: saturate(f.payments, limits.creditPaymentsFull) },
    ],
    ability: [
      {
        reason: 'BALANCE_LOW',
        share: 1,
        strength: saturate(Number(f.averageBalanceFen) / 100, limits.creditAverageBalanceFenFull / 100),
      },
    ],
    identity: [
      { reason: 'REAL_NAME_MISSING', share: 0.6, strength: f.realName ? 1 : 0 },
      { reason: 'ACCOUNT_NEW', share: 0.4, strength: saturate(f.accountAgeDays, limits.creditAccountAgeDaysFull) },
    ],
    // Neutral without scored friends: the friends' mean score placed on the range.
    relationships:
      friendsMean === null
        ? []
        : [{ reason: 'FRIENDS_SCORES_LOW', share: 1, strength: (friendsMean - limits.creditScoreMin) / range }],
  };
}

/** The strength of a dimension from its parts: a base (½ where parts only add, 0 where they make the whole). */
function strengthOf(d: Dimension, ps: Part[]): number {
  const base = d === 'history' || ps.length === 0 ? 0.5 : 0;
  return clamp01(base + ps.reduce((sum, p) => sum + p.share * p.strength, 0));
}

/** The band of a score (Sesame's five: 较差 中等 良好 优秀 极好). */
export function bandOf(score: number): Band {
  if (score >= limits.creditBandExcellentMin) return 'EXCELLENT';
  if (score >= limits.creditBandVeryGoodMin) return 'VERY_GOOD';
  if (score >= limits.creditBandGoodMin) return 'GOOD';
  if (score >= limits.creditBandFairMin) return 'FAIR';
  return 'POOR';
}

/** The odds of good to bad a score stands for, by the scorecard's calibration. */
export function oddsOf(score: number, s: ScorecardSettings = defaultScorecard): number {
  return s.baseOdds * 2 ** ((score - s.baseScore) / s.pointsToDoubleOdds);
}

/** True when there is too little to score: too few payments, or an account too new. */
export function tooLittleData(f: CreditFeatures): boolean {
  return f.payments < limits.creditPaymentsMin || f.accountAgeDays < limits.creditAccountAgeDaysMin;
}

/** The score of one user's features. */
export function scoreOf(f: CreditFeatures, s: ScorecardSettings = defaultScorecard): ScoreResult {
  const range = limits.creditScoreMax - limits.creditScoreMin;
  const all = parts(f);
  const points = {} as Record<Dimension, number>;
  const gains: { reason: ReasonCode; gain: number }[] = [];
  for (const d of dimensions) {
    const span = (s.weights[d] / 100) * range;
    points[d] = span * (strengthOf(d, all[d]) - 0.5);
    // What the feature would add at its best (a bad feature: at none).
    for (const p of all[d]) {
      const gain = span * (p.share >= 0 ? p.share * (1 - p.strength) : -p.share * p.strength);
      if (gain > 0) gains.push({ reason: p.reason, gain });
    }
  }
  if (tooLittleData(f)) {
    const reasons: ReasonCode[] = [];
    if (f.payments < limits.creditPaymentsMin) reasons.push('PAYMENTS_FEW');
    if (f.accountAgeDays < limits.creditAccountAgeDaysMin) reasons.push('ACCOUNT_NEW');
    const none = Object.fromEntries(dimensions.map((d) => [d, 0])) as Record<Dimension, number>;
    return { score: null, band: null, reasons, points: none };
  }
  const total = s.baseScore + dimensions.reduce((sum, d) => sum + points[d], 0);
  // An account in arrears is capped, whatever the rest of its record (the tradition's override).
  const top = f.openDebtFen > 0n ? limits.creditOpenDebtScoreMax : limits.creditScoreMax;
  const score = Math.round(Math.min(top, Math.max(limits.creditScoreMin, total)));
  gains.sort((a, b) => b.gain - a.gain || reasonCodes.indexOf(a.reason) - reasonCodes.indexOf(b.reason));
  const reasons = gains.slice(0, limits.creditReasonsMax).map((g) => g.reason);
  return { score, band: bandOf(score), reasons, points };
}
