/**
 * The payment crash test's load generator. Run as a child process
 * (`node --import tsx test/support/payment-crash-loader.ts`) with PAYBAO_PAYMENT_LOADER=1, it opens
 * the platform (PGlite under PAYBAO_CRASH_DATA_DIR, or the PostgreSQL schema PAYBAO_CRASH_SCHEMA of
 * DATABASE_URL) and pays trades of the app PAYBAO_CRASH_APP_ID from the buyers
 * PAYBAO_CRASH_BUYERS (comma-separated user ids), PAYBAO_CRASH_INFLIGHT at once, the way
 * `alipay.trade.pay` does (`Trades.createAndPay`), until it is killed. Trade n has out_trade_no
 * `crash-<n>`, counting from PAYBAO_CRASH_FIRST. Protocol on stdout, one line each:
 *
 *   ready        the platform is open
 *   paid <n>     trade n is paid and recorded
 *   bad <n> <e>  trade n failed (then exit 1)
 */
import { openPlatform } from '../../src/platform.ts';

export const crashOutTradeNo = (n: number) => `crash-${n}`;

async function main(): Promise<void> {
  const dataDir = process.env.PAYBAO_CRASH_DATA_DIR || undefined;
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const appId = process.env.PAYBAO_CRASH_APP_ID ?? '';
  const buyers = (process.env.PAYBAO_CRASH_BUYERS ?? '').split(',').filter(Boolean);
  const first = Number(process.env.PAYBAO_CRASH_FIRST ?? '0');
  const inflight = Number(process.env.PAYBAO_CRASH_INFLIGHT ?? '16');
  if (!dataDir && !databaseUrl) throw new Error('set PAYBAO_CRASH_DATA_DIR or DATABASE_URL');
  if (!appId || buyers.length === 0) throw new Error('set PAYBAO_CRASH_APP_ID and PAYBAO_CRASH_BUYERS');
  const platform = await openPlatform({
    databaseUrl,
    databaseSchema: process.env.PAYBAO_CRASH_SCHEMA || undefined,
    dataDir,
  });
  process.stdout.write('ready\n');
  let next = first;
  // Not killed within this many: a test that forgot to kill must still end.
  const last = first + 200_000;
  const worker = async () => {
    while (next < last) {
      const n = next++;
      const buyer = buyers[n % buyers.length] as string;
      try {
        await platform.trades.createAndPay(
          { appId, outTradeNo: crashOutTradeNo(n), totalAmount: '0.01', subject: 'crash load' },
          buyer,
        );
      } catch (error) {
        process.stdout.write(`bad ${n} ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      }
      process.stdout.write(`paid ${n}\n`);
      // A pause of random length keeps the workers out of step, so that at any moment some
      // payments are between their transfer and their record (in step, they move as one batch).
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  await platform.close();
}

if (process.env.PAYBAO_PAYMENT_LOADER === '1') {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  });
}
