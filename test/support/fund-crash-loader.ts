/**
 * The fund crash test's distributor. Run as a child process
 * (`node --import tsx test/support/fund-crash-loader.ts`), it opens the platform (PGlite under
 * PAYBAO_CRASH_DATA_DIR, or the PostgreSQL schema PAYBAO_CRASH_SCHEMA of DATABASE_URL) and
 * distributes the income of PAYBAO_CRASH_DAY in pages of PAYBAO_CRASH_PAGE_LINES holders, two at
 * once, as the server's fund job does, until it ends or is killed. Protocol on stdout, one line each:
 *
 *   paid <n>     n lines of the day are paid (after each page)
 *   done <n>     the distribution is over, n holders
 */
import { Fund } from '../../src/fund/index.ts';
import { openPlatform } from '../../src/platform.ts';

async function main(): Promise<void> {
  const dataDir = process.env.PAYBAO_CRASH_DATA_DIR || undefined;
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const day = process.env.PAYBAO_CRASH_DAY ?? '';
  if (!dataDir && !databaseUrl) throw new Error('set PAYBAO_CRASH_DATA_DIR or DATABASE_URL');
  const platform = await openPlatform({
    databaseUrl,
    databaseSchema: process.env.PAYBAO_CRASH_SCHEMA || undefined,
    dataDir,
  });
  const fund = new Fund(platform.db, platform.ledger, { walletOf: async () => null }, platform.clock, {
    distributionPageLines: Number(process.env.PAYBAO_CRASH_PAGE_LINES ?? '100'),
    distributionPagesInFlight: 2,
  });
  const [summary] = await fund.income.distribute(day, (done) => process.stdout.write(`paid ${done}\n`));
  process.stdout.write(`done ${summary?.holders ?? 0}\n`);
  await platform.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
