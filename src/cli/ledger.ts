import { Command } from 'commander';
import type { Db } from '../core/db/index.ts';
import { verifyFundBooks } from '../fund/index.ts';
import { verifyLedger } from '../ledger/index.ts';
import { verifyRedPackets } from '../social/index.ts';
import { withDb } from './open-platform.ts';

/** Every check of the books: the ledger's invariants, each fund product's books, each red packet's. */
export async function verifyBooks(db: Db) {
  return [...(await verifyLedger(db)), ...(await verifyFundBooks(db)), ...(await verifyRedPackets(db))];
}

/** `paybao ledger ...`: operations on the books. */
export function ledgerCommand(): Command {
  const ledger = new Command('ledger').description('inspect the ledger');
  ledger
    .command('verify')
    .description(
      "check every ledger invariant from scratch, each fund product's books and each red packet's; prints JSON, exits 1 on violations",
    )
    .option('--json', 'compact JSON on one line (indented JSON otherwise)')
    .action(async (options: { json?: boolean }) => {
      await withDb(async (db) => {
        // Each fund product: shares outstanding against the money at the custodian (src/fund/verify.ts);
        // each red packet: what it was sent with against its shares and its account (src/social/verify.ts).
        const violations = await verifyBooks(db).catch((error: unknown) => {
          // 42P01, undefined_table: an empty database, or the wrong PAYBAO_DATA_DIR or DATABASE_URL.
          if ((error as { code?: unknown }).code !== '42P01') throw error;
          throw new Error('no ledger in this database: run `paybao migrate` or `paybao start` first', { cause: error });
        });
        console.log(
          JSON.stringify(
            { ok: violations.length === 0, engine: db.engine, violations },
            null,
            options.json ? undefined : 2,
          ),
        );
        if (violations.length > 0) process.exitCode = 1;
      });
    });
  return ledger;
}
