import { type Clock, systemClock } from './core/clock.ts';
import { type Db, type Migration, migrate, openDb } from './core/db/index.ts';
import { type BatchStats, Ledger, ledgerMigrations } from './ledger/index.ts';
import { isMembersError, Members, membersMigrations, type SmsSender } from './members/index.ts';
import { type TradeParties, Trades, tradesMigrations } from './trades/index.ts';

/** Every module's migrations; ids sort in the order they apply. */
export const allMigrations: readonly Migration[] = [...ledgerMigrations, ...membersMigrations, ...tradesMigrations];

export interface PlatformOptions {
  databaseUrl?: string | undefined;
  databaseSchema?: string | undefined;
  /** PGlite files; undefined keeps PGlite in memory. */
  dataDir?: string | undefined;
  clock?: Clock;
  onBatch?: (stats: BatchStats) => void;
  /** Where SMS codes go; the development outbox (`paybao sms list`) when absent. */
  smsSender?: SmsSender;
}

/** The composition root: storage, migrations and every module, wired once. */
export interface Platform {
  db: Db;
  ledger: Ledger;
  members: Members;
  trades: Trades;
  clock: Clock;
  /** Drains every in-flight batch, then closes storage. */
  close(): Promise<void>;
}

export async function openPlatform(options: PlatformOptions): Promise<Platform> {
  const db = await openDb({
    databaseUrl: options.databaseUrl,
    schema: options.databaseSchema,
    dataDir: options.dataDir,
  });
  await migrate(db, allMigrations);
  const clock = options.clock ?? systemClock;
  const ledger = new Ledger(db, { clock, onBatch: options.onBatch });
  const members = new Members(db, ledger, { clock, smsSender: options.smsSender });
  const trades = new Trades(db, ledger, tradeParties(members), clock);
  return {
    db,
    ledger,
    members,
    trades,
    clock,
    async close() {
      await ledger.close();
      await db.close();
    },
  };
}

/** Trades meet members here: an app's seller and a buyer, with their wallet accounts. */
function tradeParties(members: Members): TradeParties {
  const orNull = <T>(promise: Promise<T>): Promise<T | null> =>
    promise.catch((error: unknown) => {
      if (isMembersError(error)) return null;
      throw error;
    });
  return {
    async sellerOf(appId) {
      const app = await orNull(members.getApp(appId));
      if (!app) return null;
      const seller = await members.getMember(app.sellerId);
      return { sellerId: seller.userId, accountId: seller.walletAccountId };
    },
    async buyer(userId) {
      const user = await orNull(members.getMember(userId));
      return user ? { userId: user.userId, accountId: user.walletAccountId } : null;
    },
  };
}
