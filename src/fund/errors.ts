import {
  CatalogError,
  type CatalogErrorOptions,
  catalog,
  idempotencyError,
  invalidRequest,
  rateLimitError,
} from '../core/catalog-error.ts';

/**
 * The fund's catalog: every operating error of Yu'e Bao, with its HTTP status and message. A
 * refusal writes nothing: no order, no quota, no money moved.
 */
export const fundErrors = catalog({
  invalid_amount: invalidRequest(400, 'The amount must be a decimal of yuan with at most two places'),
  amount_below_minimum: invalidRequest(400, 'A purchase must be at least 1.00 yuan'),
  amount_above_maximum: invalidRequest(400, 'The amount is above the largest order'),
  invalid_idempotency_key: invalidRequest(400, 'The idempotency key is missing or malformed'),
  idempotency_key_reused: idempotencyError('The idempotency key was used before for another order'),
  invalid_product_code: invalidRequest(400, 'A code is 2 to 16 capital letters, digits or underscores'),
  invalid_name: invalidRequest(400, 'A name is 1 to 64 characters'),
  invalid_day: invalidRequest(400, 'A day is a calendar day as YYYY-MM-DD (Beijing)'),
  invalid_per10k: invalidRequest(400, 'Income per 10,000 shares is a decimal of yuan with at most four places'),
  unknown_company: invalidRequest(404, 'No such fund company'),
  company_exists: invalidRequest(409, 'A fund company of that code or name exists'),
  unknown_product: invalidRequest(404, 'No such fund product'),
  product_exists: invalidRequest(409, 'A fund product with that code exists'),
  unknown_user: invalidRequest(404, 'No such user'),
  balance_not_enough: invalidRequest(402, 'The wallet balance is not enough for this purchase'),
  card_payment_failed: invalidRequest(402, 'The bank refused to take the amount from the card; no purchase was made'),
  card_payment_pending: invalidRequest(
    409,
    'The bank has not confirmed the payment from the card yet; send the same request again (same key) to complete it',
  ),
  shares_not_enough: invalidRequest(402, 'More shares asked than held (confirmed and not being redeemed)'),
  fast_limit_exceeded: rateLimitError(
    'The daily fast-redemption limit (per user, across products) would be passed; choose standard redemption',
  ),
  pool_insufficient: invalidRequest(
    402,
    'The liquidity pool cannot cover this fast redemption now; choose standard redemption (money on the next trading day)',
  ),
  fund_pay_shares_not_enough: invalidRequest(
    402,
    "The Yu'e Bao holdings (confirmed, not being redeemed) do not cover this payment; pay from the balance",
  ),
  fund_pay_pool_insufficient: invalidRequest(
    402,
    "Yu'e Bao cannot pay this now: the fund's liquidity pool is short; pay from the balance or try later",
  ),
  day_in_future: invalidRequest(400, 'Income can be declared only for a day that has begun'),
  day_not_over: invalidRequest(400, 'A day is distributed once it is over (Beijing): its holdings are final then'),
  invalid_share: invalidRequest(400, 'A share of holders is a decimal above 0 and at most 1, with at most four places'),
  already_distributed: invalidRequest(409, 'Income of that day was distributed already; it cannot be declared again'),
});

export type FundErrorCode = keyof typeof fundErrors;

/** An operating error of the fund: the request was refused and nothing was written. */
export class FundError extends CatalogError<typeof fundErrors> {
  declare readonly code: FundErrorCode;
  constructor(code: FundErrorCode, options: CatalogErrorOptions = {}) {
    super(fundErrors, code, options);
  }
}

/** Whether `error` is the fund's refusal (of one of `codes`, when given). */
export function isFundError(error: unknown, ...codes: FundErrorCode[]): error is FundError {
  return error instanceof FundError && (codes.length === 0 || codes.includes(error.code));
}
