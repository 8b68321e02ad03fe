/**
 * Shutdown drains: closing the ledger while submissions are queued and in flight answers every
 * one of them from a committed batch, refuses new ones, and loses nothing.
 */
import { expect, it } from 'vitest';
import { id } from '../../src/core/ids.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { freshPlatform } from '../support/engine.ts';

it('answers every accepted submission before close() resolves, then refuses new ones', async () => {
  const platform = await freshPlatform();
  const a = id();
  const b = id();
  await platform.ledger.createAccounts([
    { id: a, ledger: 1, code: 1 },
    { id: b, ledger: 1, code: 1 },
  ]);
  const ids = Array.from({ length: 200 }, () => Array.from({ length: 50 }, () => id()));
  const submissions = ids.map((chunk) =>
    platform.ledger.createTransfers(
      chunk.map((tid) => ({ id: tid, debitAccountId: a, creditAccountId: b, amount: 1n, ledger: 1, code: 1 })),
    ),
  );
  const closed = platform.ledger.close();
  await expect(
    platform.ledger.createTransfers([
      { id: id(), debitAccountId: a, creditAccountId: b, amount: 1n, ledger: 1, code: 1 },
    ]),
  ).rejects.toThrow(/shutting down/);
  await closed;
  const results = await Promise.all(submissions);
  expect(results.flat().every((r) => r === 'ok')).toBe(true);
  const [account] = await platform.db.query<{ debits_posted: bigint }>(
    'select debits_posted from ledger_accounts where debits_posted > 0',
  );
  expect(account?.debits_posted).toBe(10_000n);
  expect(await verifyLedger(platform.db)).toEqual([]);
  await platform.db.close();
});
