import {
  authenticationError,
  CatalogError,
  type CatalogErrorOptions,
  catalog,
  invalidRequest,
  rateLimitError,
} from '../core/catalog-error.ts';

/**
 * The risk engine's catalog: what a payer hears when a payment is held back, and what an
 * operator hears when a rule, a list entry or a review decision is refused. A refusal writes
 * nothing but the decision's record.
 */
export const riskErrors = catalog({
  payment_denied: invalidRequest(403, 'This payment was refused for your security; nothing was paid'),
  account_frozen: invalidRequest(
    403,
    'This account is frozen by Paybao: it cannot pay, transfer or withdraw; nothing was paid — contact Paybao support',
  ),
  buyer_restricted: invalidRequest(
    403,
    "You are on the courts' list of dishonest debtors (失信被执行人): payments to this merchant are restricted; nothing was paid",
  ),
  challenge_required: invalidRequest(
    428,
    'Confirm this payment with the code sent to your phone, then send it again with challenge_id and challenge_code',
  ),
  challenge_not_found: invalidRequest(404, 'No such open confirmation for you'),
  challenge_mismatch: invalidRequest(409, 'This confirmation was given for another payment'),
  challenge_code_invalid: authenticationError('The confirmation code is wrong'),
  challenge_expired: invalidRequest(410, 'The confirmation code expired; start the payment again'),
  challenge_attempts_exceeded: rateLimitError('Too many wrong codes; start the payment again'),
  rule_invalid: invalidRequest(400, 'The rule is malformed'),
  rule_not_found: invalidRequest(404, 'No such rule'),
  rule_name_taken: invalidRequest(409, 'A rule with this name exists'),
  list_entry_invalid: invalidRequest(400, 'The list entry is malformed'),
  list_entry_not_found: invalidRequest(404, 'No such list entry'),
  region_invalid: invalidRequest(400, 'The region is malformed'),
  category_invalid: invalidRequest(400, 'The category is malformed'),
  review_not_found: invalidRequest(404, 'No such review'),
  review_decided: invalidRequest(409, 'The review was decided already'),
  loss_invalid: invalidRequest(400, 'The loss is malformed'),
  loss_key_reused: invalidRequest(409, 'This key recorded another loss'),
  parameter_invalid: invalidRequest(400, 'A parameter is malformed'),
});

export type RiskErrorCode = keyof typeof riskErrors;

/** A refusal of the risk engine. `challengeId` names the confirmation a `challenge_required` waits for. */
export class RiskError extends CatalogError<typeof riskErrors> {
  declare readonly code: RiskErrorCode;
  readonly challengeId: string | undefined;
  constructor(code: RiskErrorCode, options: CatalogErrorOptions & { challengeId?: string } = {}) {
    super(riskErrors, code, options);
    this.challengeId = options.challengeId;
  }
}

/** Whether `error` is the risk engine's refusal (of one of `codes`, when given). */
export function isRiskError(error: unknown, ...codes: RiskErrorCode[]): error is RiskError {
  return error instanceof RiskError && (codes.length === 0 || codes.includes(error.code));
}
