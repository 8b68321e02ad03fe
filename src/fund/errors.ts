import { type CatalogEntry, CatalogError } from '../core/catalog-error.ts';

const refused = (status: 400 | 402 | 404 | 409 | 429, message: string) =>
  ({ type: 'invalid_request_error', status, message }) as const;

/**
 * The fund's catalog: every operating error of Yu'e Bao, with its HTTP status and message. A
 * refusal writes nothing: no order, no quota, no money moved.
 */
export const fundErrors = {
  invalid_amount: refused(400, 'The amount must be a decimal of yuan with at most two places'),
  amount_below_minimum: refused(400, 'A purchase must be at least 1.00 yuan'),
  amount_above_maximum: refused(400, 'The amount is above the largest order'),
  invalid_idempotency_key: refused(400, 'The idempotency key is missing or malformed'),
  idempotency_key_reused: refused(409, 'The idempotency key was used before for another order'),
  invalid_product_code: refused(400, 'A product code is 2 to 16 capital letters, digits or underscores'),
  invalid_name: refused(400, 'A name is 1 to 64 characters'),
  invalid_day: refused(400, 'A day is a calendar day as YYYY-MM-DD (Beijing)'),
  invalid_per10k: refused(400, 'Income per 10,000 shares is a decimal of yuan with at most four places'),
  unknown_company: refused(404, 'No such fund company'),
  company_exists: refused(409, 'A fund company of that name exists'),
  unknown_product: refused(404, 'No such fund product'),
  product_exists: refused(409, 'A fund product with that code exists'),
  unknown_user: refused(404, 'No such user'),
  balance_not_enough: refused(402, 'The wallet balance is not enough for this purchase'),
  shares_not_enough: refused(402, 'More shares asked than held (confirmed and not being redeemed)'),
  fast_limit_exceeded: refused(
    429,
    'The daily fast-redemption limit (per user, across products) would be passed; choose standard redemption',
  ),
  pool_insufficient: refused(
    402,
    'The liquidity pool cannot cover this fast redemption now; choose standard redemption (money on the next trading day)',
  ),
  day_in_future: refused(400, 'Income can be declared only for a day that has begun'),
  already_distributed: refused(409, 'Income of that day was distributed already; it cannot be declared again'),
  not_declared: refused(404, 'No income was declared for that day'),
} as const satisfies Record<string, CatalogEntry>;

export type FundErrorCode = keyof typeof fundErrors;

/** An operating error of the fund: the request was refused and nothing was written. */
export class FundError extends CatalogError<typeof fundErrors> {
  declare readonly code: FundErrorCode;
  constructor(code: FundErrorCode, options: { param?: string; detail?: string } = {}) {
    super(fundErrors, code, options);
    this.name = 'FundError';
  }
}

/** Whether `error` is the fund's refusal (of one of `codes`, when given). */
export function isFundError(error: unknown, ...codes: FundErrorCode[]): error is FundError {
  return error instanceof FundError && (codes.length === 0 || codes.includes(error.code));
}
