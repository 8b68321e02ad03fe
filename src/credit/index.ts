/** The credit score (Sesame-style, 350–950) and real-name verification (docs/credit.md). */
export {
  Credit,
  type CreditOptions,
  type CreditRunReport,
  type CreditScore,
  type RunOptions,
  type ScoreHistoryPoint,
} from './credit.ts';
export { CreditError, type CreditErrorCode, creditErrors, isCreditError } from './errors.ts';
export { idCheckCharacter, idNumberHash, normalizeIdNumber } from './id-number.ts';
export { creditMigrations } from './migrations.ts';
export type { RealNames, RealNameView } from './real-names.ts';
export {
  type Band,
  bandOf,
  bands,
  type CreditFeatures,
  type Dimension,
  defaultScorecard,
  dimensions,
  oddsOf,
  type ReasonCode,
  reasonCodes,
  type ScorecardSettings,
  type ScoreResult,
  scoreOf,
  tooLittleData,
} from './scorecard.ts';
