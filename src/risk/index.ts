/** The risk engine: a decision before every money-out path moves money (docs/risk.md). */

export { DbCounterStore } from './counter-store.ts';
export { isRiskError, RiskError, type RiskErrorCode, riskErrors } from './errors.ts';
export { riskMigrations } from './migrations.ts';
export { RedisCounterStore } from './redis-counter-store.ts';
export { Regions } from './regions.ts';
export {
  type AssessOptions,
  bothSupported,
  type ChallengeHandler,
  challengeOnly,
  type DecisionView,
  type FraudLoss,
  fraudLossAccountId,
  type ListEntry,
  neitherSupported,
  type PaymentContext,
  type ReviewHandler,
  type ReviewView,
  Risk,
  type RiskParties,
  type RiskStats,
  type RiskVerdict,
  type RuleView,
  reviewOnly,
  type Supports,
} from './risk.ts';
export {
  applicable,
  checkRule,
  conditionJson,
  decisionOf,
  dimensions,
  evaluate,
  type FiredRule,
  type ListKind,
  listKinds,
  type RiskAction,
  type RiskDecision,
  type RiskFacts,
  type RiskPath,
  type RiskRequest,
  type Rule,
  type RuleCondition,
  type RuleInput,
  riskActions,
  riskPaths,
  ruleModes,
} from './rules.ts';
export { type BucketCount, type CounterRow, type CounterStore, Velocity } from './velocity.ts';
