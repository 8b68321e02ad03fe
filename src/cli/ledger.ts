import { Command } from 'commander';
import { type Db, recordRestoreVerified, restoredFrom } from '../core/db/index.ts';
import { verifyFundBooks } from '../fund/index.ts';
import { Ledger, verifyLedger } from '../ledger/index.ts';
import { verifyPreauthBooks } from '../preauth/index.ts';
import { verifyRedPackets } from '../social/index.ts';
import { verifyTradePayments } from '../trades/index.ts';
import { withDb } from './open-platform.ts';

/**
 * Every check of the books: the ledger's invariants, each fund product's books, each red
 * packet's, each freeze order's against its hold (and the credit advances against the debts).
 */
export async function verifyBooks(db: Db) {
  return [
    ...(await verifyLedger(db)),
    ...(await verifyFundBooks(db)),
    ...(await verifyRedPackets(db)),
    ...(await verifyPreauthBooks(db)),
  ];
}

/** `verifyBooks` and every trade against its payment transfer (`verifyTradePayments`). */
export async function verifyBooksAndTrades(db: Db) {
  const books = await verifyBooks(db);
  const trades = await verifyTradePayments(db, new Ledger(db));
  return {
    trades: { trades: trades.trades, paid: trades.paid, paying_moved: trades.payingMoved },
    violations: [...books, ...trades.violations],
  };
}

/**
 * `paybao start` on a restored database (`restore_points`) whose books were not yet found sound:
 * they are verified now, and the server refuses to start on books that fail. Once they pass (the
 * restore's own check, or a start after corrections) the restore counts as verified.
 */
export async function refuseUnsoundRestore(db: Db): Promise<void> {
  const point = await restoredFrom(db);
  if (!point || point.verified_at !== null) return;
  const { violations } = await verifyBooksAndTrades(db);
  await recordRestoreVerified(db, violations.length);
  const [first] = violations;
  if (!first) return;
  throw new Error(
    `this database was restored from ${point.source} to ${point.point_in_time ?? point.taken_at}, and its books fail verification ` +
      `(${violations.length} violations; the first: ${first.kind} ${first.detail}): the server does not start on them. ` +
      'See them with `paybao ledger verify`, correct them with new transfers, then start again',
  );
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
        // A restored database says which moment it holds (src/core/db/restore-point.ts).
        const restored = await restoredFrom(db);
        console.log(
          JSON.stringify(
            {
              ok: violations.length === 0,
              engine: db.engine,
              ...(restored ? { restored_from: restored } : {}),
              violations,
            },
            null,
            options.json ? undefined : 2,
          ),
        );
        if (violations.length > 0) process.exitCode = 1;
      });
    });
  return ledger;
}
