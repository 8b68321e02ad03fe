/** Options of `paybao bench ledger`. */
export interface LedgerBenchOptions {
  json: boolean;
  accounts: number;
  transfers: number;
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
}

/** `paybao bench ledger`: written next; prints a report or one JSON object. */
export async function benchLedger(_options: LedgerBenchOptions): Promise<void> {
  throw new Error('not yet');
}
