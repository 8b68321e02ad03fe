/**
 * `Ledger.prefetchAccounts` reads accounts ahead of a submission, outside the commit lock. Such a
 * read may race a batch that writes one of those accounts; these tests hold the read between
 * fetching its rows and putting them in the cache, write the account meanwhile, and check that
 * the stale row never reaches the cache (the transfer after it is judged on the true balance).
 */
import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/core/db/index.ts';
import { Ledger } from '../../src/ledger/index.ts';
import { usePlatform } from '../support/engine.ts';
import { bankAndWallet, transfer } from '../support/ledger-accounts.ts';

const platformOf = usePlatform();

/** A Db whose reads of accounts by id outside a transaction (the read-ahead) can be held. */
function gatedDb(db: Db) {
  let gate: Promise<void> | undefined;
  let open = () => {};
  let reached = () => {};
  const readHeld = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const wrapped: Db = {
    engine: db.engine,
    async query<R>(sql: string, params?: readonly unknown[]) {
      const rows = await db.query<R>(sql, params);
      if (gate && /from ledger_accounts where id = any/.test(sql)) {
        reached();
        await gate;
      }
      return rows;
    },
    exec: (sql) => db.exec(sql),
    transaction: (fn) => db.transaction(fn),
    close: async () => {},
    backup: () => db.backup(),
  };
  return {
    db: wrapped,
    hold() {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    readHeld,
    release() {
      gate = undefined;
      open();
    },
  };
}

describe('reading accounts ahead of the lock', () => {
  it('leaves out a row whose account a batch of this process wrote and evicted meanwhile', async () => {
    const [bank, wallet] = await bankAndWallet(platformOf().ledger);
    const [other, otherWallet] = await bankAndWallet(platformOf().ledger);
    const gated = gatedDb(platformOf().db);
    // A cache of two accounts, oldest loaded leaving first.
    const ledger = new Ledger(gated.db, { accountCacheMax: 2 });
    try {
      // The cache is valid (this process wrote the current version of the books).
      expect(await ledger.createTransfers([transfer(other, otherWallet, 1n)])).toEqual(['ok']);
      gated.hold();
      const ahead = ledger.prefetchAccounts([wallet, bank]);
      await gated.readHeld; // the read saw the wallet empty
      // Writes the wallet (it stays cached, the other two leave) ...
      expect(await ledger.createTransfers([transfer(bank, wallet, 100n)])).toEqual(['ok']);
      // ... and evicts it, by loading the other two again.
      expect(await ledger.createTransfers([transfer(other, otherWallet, 1n)])).toEqual(['ok']);
      gated.release();
      await ahead;
      // Judged on 100, not on the 0 read ahead.
      expect(await ledger.createTransfers([transfer(wallet, bank, 60n)])).toEqual(['ok']);
      const [w] = await ledger.lookupAccounts([wallet]);
      expect([w?.debitsPosted, w?.creditsPosted]).toEqual([60n, 100n]);
    } finally {
      gated.release();
      await ledger.close();
    }
  });

  it('leaves out every row of a read during which another process wrote', async () => {
    const [bank, wallet] = await bankAndWallet(platformOf().ledger);
    const [other] = await bankAndWallet(platformOf().ledger);
    const gated = gatedDb(platformOf().db);
    const ledger = new Ledger(gated.db);
    try {
      // This process's cache holds the bank accounts, at the current version of the books.
      expect(await ledger.createTransfers([transfer(other, bank, 1n)])).toEqual(['ok']);
      gated.hold();
      const ahead = ledger.prefetchAccounts([wallet]);
      await gated.readHeld; // the read saw the wallet empty
      // Another process (the platform's ledger) funds the wallet; this one then runs a batch,
      // finds the version changed, and drops its cache while the read is still held.
      expect(await platformOf().ledger.createTransfers([transfer(bank, wallet, 100n)])).toEqual(['ok']);
      expect(await ledger.createTransfers([transfer(other, bank, 1n)])).toEqual(['ok']);
      gated.release();
      await ahead;
      expect(await ledger.createTransfers([transfer(wallet, bank, 60n)])).toEqual(['ok']);
    } finally {
      gated.release();
      await ledger.close();
    }
  });
});
