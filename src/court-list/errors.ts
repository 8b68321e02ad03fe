import { CatalogError, type CatalogErrorOptions, catalog, invalidRequest } from '../core/catalog-error.ts';

/**
 * The court list's catalog (docs/court-list.md): what an operator hears when an entry, a removal,
 * a category setting or an import file is refused. A refusal writes nothing. (A listed payer's
 * refusal is the risk engine's `buyer_restricted`: the engine is where payments are refused.)
 */
export const courtListErrors = catalog({
  entry_invalid: invalidRequest(400, 'The court list entry is malformed'),
  entry_not_found: invalidRequest(404, 'No such court list entry'),
  entry_exists: invalidRequest(409, 'This person is listed under this case number already, with other details'),
  entry_removed: invalidRequest(409, 'This court list entry was removed already'),
  reason_invalid: invalidRequest(400, 'A removal needs its reason (the debt met, the court’s notice)'),
  categories_invalid: invalidRequest(400, 'The restricted categories are malformed'),
  file_invalid: invalidRequest(400, 'The court list file is malformed; nothing was imported'),
});

export type CourtListErrorCode = keyof typeof courtListErrors;

/** An operating error of the court list, carrying its catalog entry. */
export class CourtListError extends CatalogError<typeof courtListErrors> {
  declare readonly code: CourtListErrorCode;
  constructor(code: CourtListErrorCode, options: CatalogErrorOptions = {}) {
    super(courtListErrors, code, options);
  }
}

/** True when `error` is a CourtListError, and of one of `codes` when any are given. */
export function isCourtListError(error: unknown, ...codes: CourtListErrorCode[]): error is CourtListError {
  return error instanceof CourtListError && (codes.length === 0 || codes.includes(error.code));
}
