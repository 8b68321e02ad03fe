/** One entry of an error catalog: what kind of error, its HTTP status, and what it says. */
export interface CatalogEntry {
  readonly type: string;
  readonly status: number;
  readonly message: string;
}

/** Declares a module's catalog: every entry checked to be one, its codes and types kept literal. */
export const catalog = <const Catalog extends Record<string, CatalogEntry>>(entries: Catalog): Catalog => entries;

// One constructor per kind of error, so that a catalog entry is one line: `phone_taken:
// invalidRequest(409, 'a user with this phone already exists')`. The kinds are the native API's
// `type`s, the family a client switches on; each fixes what its kind always has (a rate limit is
// always 429).

/** The caller can correct the request: a parameter, a state, something not found. */
export const invalidRequest = <const Status extends number>(status: Status, message: string) =>
  ({ type: 'invalid_request_error', status, message }) as const;

/** Who the caller is was not proved: a wrong password or code, a missing or dead token. */
export const authenticationError = (message: string) =>
  ({ type: 'authentication_error', status: 401, message }) as const;

/** Too many attempts or requests: wait and retry. */
export const rateLimitError = (message: string) => ({ type: 'rate_limit_error', status: 429, message }) as const;

/** An `Idempotency-Key` (or a business key) that cannot be replayed as it was sent. */
export const idempotencyError = (message: string) => ({ type: 'idempotency_error', status: 409, message }) as const;

/** Not the caller's fault: ours or an outside system's (5xx). */
export const apiError = <const Status extends number>(status: Status, message: string) =>
  ({ type: 'api_error', status, message }) as const;

export interface CatalogErrorOptions {
  /** The request parameter at fault (`amount`, `Idempotency-Key` …). */
  param?: string | undefined;
  /** What it is about, appended to the entry's message after a colon. */
  detail?: string | undefined;
  /** The whole message instead of the entry's (a detail that says it all, a refusal's own words). */
  message?: string | undefined;
}

/**
 * An operating error drawn from a module's catalog (`channelErrors`, `walletErrors`): its code,
 * `type` and HTTP status come from the catalog entry, its message is the entry's (with a detail
 * when one is given, or replaced by `message`), and `param` names the request parameter at fault,
 * when there is one. A module declares its own subclass, so that `instanceof` tells whose error
 * it is; the subclass's name is the error's `name`.
 */
export class CatalogError<Catalog extends Record<string, CatalogEntry>> extends Error {
  readonly code: keyof Catalog & string;
  readonly type: Catalog[keyof Catalog]['type'];
  readonly status: number;
  /** The request parameter at fault, when there is one (`amount`, `Idempotency-Key` …). */
  readonly param: string | null;

  constructor(catalog: Catalog, code: keyof Catalog & string, options: CatalogErrorOptions = {}) {
    const entry = catalog[code] as Catalog[keyof Catalog];
    super(options.message || (options.detail ? `${entry.message}: ${options.detail}` : entry.message));
    this.name = new.target.name;
    this.code = code;
    this.type = entry.type;
    this.status = entry.status;
    this.param = options.param ?? null;
  }

  /** Read by Fastify and its plugins (the rate limit throws what its `errorResponseBuilder` returns). */
  get statusCode(): number {
    return this.status;
  }
}
