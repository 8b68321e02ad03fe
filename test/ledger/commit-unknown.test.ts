/**
 * A batch whose COMMIT reached the server but whose answer did not (the connection died, the
 * primary failed over) has an unknown outcome. The ledger never guesses: it reads its transfer ids
 * again, so the caller gets the true answer — or, while the database is away, the retryable
 * error, and the retry's true answer later. Either way the money moves once.
 */
import { describe, expect, it, vi } from 'vitest';
import { DatabaseUnavailableError, type Db } from '../../src/core/db/index.ts';
import { Ledger } from '../../src/ledger/index.ts';
import { usePlatform } from '../support/engine.ts';
import { bankAndWallet, transfer } from '../support/ledger-accounts.ts';

const platformOf = usePlatform();

/**
 * A Db whose next `lose` transactions commit and then throw as a lost connection does (and, with
 * `downAfterLoss`, the database is away from then on); while `down`, every statement is refused as
 * when no primary answers.
 */
function flakyDb(db: Db) {
  const state = {
    lose: 0,
    downAfterLoss: false,
    down: false,
    /** Awaited before a lost answer is thrown: the commit is done, its answer still on the way. */
    answerLost: Promise.resolve(),
    /** Awaited by a batch's load of accounts inside a transaction, once read. */
    loadHeld: undefined as Promise<void> | undefined,
    loadReached: () => {},
  };
  const refuseWhenDown = () => {
    if (state.down) throw new DatabaseUnavailableError('no writable database server answers; retry in a moment');
  };
  const wrapped: Db = {
    ...db,
    async query<R>(sql: string, params?: readonly unknown[]) {
      refuseWhenDown();
      return db.query<R>(sql, params);
    },
    async exec(sql: string) {
      refuseWhenDown();
      return db.exec(sql);
    },
    async transaction(fn) {
      refuseWhenDown();
      const value = await db.transaction((tx) =>
        fn({
          exec: (sql) => tx.exec(sql),
          async query<R>(sql: string, params?: readonly unknown[]) {
            const rows = await tx.query<R>(sql, params);
            if (state.loadHeld && /from ledger_accounts where id = any/.test(sql)) {
              state.loadReached();
              await state.loadHeld;
            }
            return rows;
          },
        }),
      );
      if (state.lose > 0) {
        state.lose--;
        await state.answerLost;
        state.down = state.downAfterLoss;
        throw new DatabaseUnavailableError('the connection to the database was lost; nothing is confirmed, retry');
      }
      return value;
    },
  };
  return { db: wrapped, state };
}

async function postedOf(ledger: Ledger, account: bigint) {
  const [a] = await ledger.lookupAccounts([account]);
  return { debits: a?.debitsPosted, credits: a?.creditsPosted };
}

describe('a batch whose commit answer was lost', () => {
  it('is answered by reading its transfer ids: the transfers exist, the money moved once', async () => {
    const [bank, wallet] = await bankAndWallet(platformOf().ledger);
    const flaky = flakyDb(platformOf().db);
    const ledger = new Ledger(flaky.db);
    try {
      // Warm: the next batch speculates on cached accounts, the path with the fewest reads.
      expect(await ledger.createTransfers([transfer(bank, wallet, 1n)])).toEqual(['ok']);
      flaky.state.lose = 1;
      const t = transfer(bank, wallet, 100n);
      // Committed, answer lost: the careful retry finds the id and the same fields.
      expect(await ledger.createTransfers([t])).toEqual(['exists']);
      expect(await postedOf(ledger, wallet)).toEqual({ debits: 0n, credits: 101n });
      // The caller's own retry says the same, and moves nothing.
      expect(await ledger.createTransfers([t])).toEqual(['exists']);
      expect(await postedOf(ledger, wallet)).toEqual({ debits: 0n, credits: 101n });
    } finally {
      await ledger.close();
    }
  });

  it('is a retryable error while the database is away, and the retry afterwards tells the truth', async () => {
    const [bank, wallet] = await bankAndWallet(platformOf().ledger);
    const flaky = flakyDb(platformOf().db);
    const ledger = new Ledger(flaky.db);
    try {
      const t = transfer(bank, wallet, 100n);
      // The commit went through, the answer was lost, and the primary is gone before any re-read.
      flaky.state.lose = 1;
      flaky.state.downAfterLoss = true;
      await expect(ledger.createTransfers([t])).rejects.toBeInstanceOf(DatabaseUnavailableError);
      // A transfer that never reached the database: refused the same way, nothing written.
      const never = transfer(bank, wallet, 7n);
      await expect(ledger.createTransfers([never])).rejects.toBeInstanceOf(DatabaseUnavailableError);
      flaky.state.down = false;
      expect(await ledger.createTransfers([t, never])).toEqual(['exists', 'ok']);
      expect(await postedOf(ledger, wallet)).toEqual({ debits: 0n, credits: 107n });
    } finally {
      await ledger.close();
    }
  });

  it('never answers "not found" for a cached account when a speculation loses its answer beside a careful batch', async () => {
    // The bank and wallet are cached by this ledger; the payee is not (another created it).
    const [bank, wallet] = await bankAndWallet(platformOf().ledger);
    const [, payee] = await bankAndWallet(platformOf().ledger);
    const flaky = flakyDb(platformOf().db);
    const ledger = new Ledger(flaky.db);
    try {
      expect(await ledger.createTransfers([transfer(bank, wallet, 1n)])).toEqual(['ok']);
      // A speculation (both accounts cached) commits; its answer is lost, later.
      let loseAnswer = () => {};
      flaky.state.answerLost = new Promise((resolve) => {
        loseAnswer = resolve;
      });
      flaky.state.lose = 1;
      const speculated = transfer(bank, wallet, 2n);
      const first = ledger.createTransfers([speculated]);
      await vi.waitFor(() => expect(flaky.state.lose).toBe(0));
      // Meanwhile a careful batch (the payee is not cached) loads what the cache lacks, and waits.
      let releaseLoad = () => {};
      flaky.state.loadHeld = new Promise((resolve) => {
        releaseLoad = resolve;
      });
      const reached = new Promise<void>((resolve) => {
        flaky.state.loadReached = resolve;
      });
      const careful = ledger.createTransfers([transfer(bank, payee, 3n)]);
      await reached;
      // The speculation's answer is lost now, while the careful batch is between load and attach.
      loseAnswer();
      await new Promise((resolve) => setTimeout(resolve, 50));
      flaky.state.loadHeld = undefined;
      releaseLoad();
      // The bank was cached when the careful batch looked: it is found, and pays.
      expect(await careful).toEqual(['ok']);
      expect(await first).toEqual(['exists']);
      expect(await postedOf(ledger, wallet)).toEqual({ debits: 0n, credits: 3n });
      expect(await postedOf(ledger, payee)).toEqual({ debits: 0n, credits: 3n });
    } finally {
      await ledger.close();
    }
  });
});
