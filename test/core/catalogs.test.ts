/**
 * One error model: every module's catalog error (members, trades, bills, payouts, wallet,
 * channels, the console, the HTTP edge, the page guard, the bank simulator) extends
 * `CatalogError`, and every code of every catalog has a type, an HTTP status (4xx or 5xx) and a
 * message, which the error raised with that code carries. No other class in src extends `Error`
 * but the programmer errors and the internal signals listed here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BankSimError } from '../../src/banksim/errors.ts';
import { errorCatalog } from '../../src/banksim/index.ts';
import { ChannelError, channelErrors } from '../../src/channels/errors.ts';
import { type CatalogEntry, CatalogError } from '../../src/core/catalog-error.ts';
import { CourtListError, courtListErrors } from '../../src/court-list/index.ts';
import { CreditError, creditErrors } from '../../src/credit/index.ts';
import { FundError, fundErrors } from '../../src/fund/index.ts';
import { MembersError, membersErrors } from '../../src/members/errors.ts';
import { MerchantError, merchantErrors } from '../../src/merchants/index.ts';
import { OAuthError, oauthErrors } from '../../src/oauth/index.ts';
import { PayoutError, payoutErrors } from '../../src/payouts/errors.ts';
import { PreauthError, preauthErrors } from '../../src/preauth/index.ts';
import { ConsoleError, consoleErrors } from '../../src/server/console.ts';
import { EdgeError, edgeErrors, PageRefusal, pageGuardErrors } from '../../src/server/refusals.ts';
import { TradeError, tradeErrors } from '../../src/trades/errors.ts';
import { BillError, billErrors } from '../../src/trades/trade/bills.ts';
import { WalletError, walletErrors } from '../../src/wallet/errors.ts';

// biome-ignore lint/suspicious/noExplicitAny: each catalog's constructor takes its own codes.
type Make = (code: any) => Error;
const catalogs: ReadonlyArray<readonly [string, Record<string, CatalogEntry>, Make]> = [
  ['members', membersErrors, (c) => new MembersError(c)],
  ['trades', tradeErrors, (c) => new TradeError(c)],
  ['bills', billErrors, (c) => new BillError(c)],
  ['payouts', payoutErrors, (c) => new PayoutError(c)],
  ['wallet', walletErrors, (c) => new WalletError(c)],
  ['channels', channelErrors, (c) => new ChannelError(c)],
  ['fund', fundErrors, (c) => new FundError(c)],
  ['oauth', oauthErrors, (c) => new OAuthError(c)],
  ['merchants', merchantErrors, (c) => new MerchantError(c)],
  ['credit', creditErrors, (c) => new CreditError(c)],
  ['preauth', preauthErrors, (c) => new PreauthError(c)],
  ['court list', courtListErrors, (c) => new CourtListError(c)],
  ['console', consoleErrors, (c) => new ConsoleError(c)],
  ['edge', edgeErrors, (c) => new EdgeError(c)],
  ['page guard', pageGuardErrors, (c) => new PageRefusal(c)],
  ['bank simulator', errorCatalog, (c) => new BankSimError(c)],
];

/** Classes that extend Error itself, each for a reason other than an operating error. */
const notCatalogErrors = new Set([
  'CatalogError', // the base of every catalog error
  'AssertionError', // a programmer error: src/core/assert.ts
  'TransferIdConflict', // the ledger's signal to retry a batch one by one
  'StaleSpeculation', // the ledger's signal to recompute a speculative batch
  'DataDirOwnedError', // a second process on one PGlite directory: refused at startup
  'DatabaseUnavailableError', // no primary answers: each wire's retryable busy answer (refusals.ts)
]);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('error catalogs', () => {
  for (const [name, catalog, make] of catalogs) {
    it(`${name}: every code has a type, a 4xx/5xx status and a message, and its error carries them`, () => {
      expect(Object.keys(catalog).length).toBeGreaterThan(0);
      for (const [code, entry] of Object.entries(catalog)) {
        expect(entry.type, code).toMatch(/^[a-z_]+$/);
        expect(entry.status, code).toBeGreaterThanOrEqual(400);
        expect(entry.status, code).toBeLessThan(600);
        expect(entry.message.trim().length, code).toBeGreaterThan(0);
        const error = make(code) as CatalogError<Record<string, CatalogEntry>>;
        expect(error, code).toBeInstanceOf(CatalogError);
        expect([error.code, error.status, error.type, error.message]).toEqual([
          code,
          entry.status,
          entry.type,
          entry.message,
        ]);
      }
    });
  }

  it('leaves no class in src extending Error but CatalogError and the listed programmer errors and signals', () => {
    const direct = sources('src').flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/class (\w+) extends Error\b/g)].map((m) => m[1]),
    );
    expect(direct.filter((name) => !notCatalogErrors.has(name ?? ''))).toEqual([]);
  });
});
