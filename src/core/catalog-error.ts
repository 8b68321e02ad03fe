/** One entry of an error catalog: what kind of error, its HTTP status, and what it says. */
export interface CatalogEntry {
  readonly type: string;
  readonly status: number;
  readonly message: string;
}

/**
 * An operating error drawn from a module's catalog (`channelErrors`, `walletErrors`): its code,
 * `type` and HTTP status come from the catalog entry, its message is the entry's (with a detail
 * when one is given), and `param` names the request parameter at fault, when there is one. A
 * module declares its own subclass, so that `instanceof` tells whose error it is.
 */
export class CatalogError<Catalog extends Record<string, CatalogEntry>> extends Error {
  readonly code: keyof Catalog & string;
  readonly type: Catalog[keyof Catalog]['type'];
  readonly status: number;
  /** The request parameter at fault, when there is one (`amount`, `Idempotency-Key` …). */
  readonly param: string | null;

  constructor(
    catalog: Catalog,
    code: keyof Catalog & string,
    options: { param?: string | undefined; detail?: string | undefined } = {},
  ) {
    const entry = catalog[code] as Catalog[keyof Catalog];
    super(options.detail ? `${entry.message}: ${options.detail}` : entry.message);
    this.code = code;
    this.type = entry.type;
    this.status = entry.status;
    this.param = options.param ?? null;
  }
}
