/**
 * The crash test's load generator, and the deterministic workload it shares with the test.
 *
 * Run as a child process (`node --import tsx test/support/crash-loader.ts`) with
 * PAYBAO_CRASH_LOADER=1, it opens the platform (PGlite under PAYBAO_CRASH_DATA_DIR, or the
 * PostgreSQL schema PAYBAO_CRASH_SCHEMA of DATABASE_URL), creates the accounts idempotently, and
 * submits transfers until it is killed. Protocol on stdout, one line each (stdout to a pipe is
 * synchronous on Linux, so a line written before SIGKILL reaches the parent):
 *
 *   ready                      accounts exist
 *   sub <n>                    submission n is about to be handed to the ledger
 *   ack <n> <id>,<id>,...      submission n committed; every id is acknowledged
 *   bad <n> <result>,...       submission n did not come back all `ok` (then exit 1)
 *
 * Submission n carries `crashPerSubmission` transfers whose ids and contents are functions of n
 * alone, so whoever retries it sends exactly the same events.
 */

import { AccountFlags, type AccountInput, TransferFlags, type TransferInput } from '../../src/ledger/index.ts';
import { openPlatform } from '../../src/platform.ts';

export const crashLedger = 7;
export const crashPerSubmission = 4;
/** Eight accounts with no balance limits (every transfer succeeds); two keep balance history. */
export const crashAccounts: AccountInput[] = Array.from({ length: 8 }, (_, i) => ({
  id: 0xc0de_0000n + BigInt(i + 1),
  ledger: crashLedger,
  code: 10,
  flags: i < 2 ? AccountFlags.history : AccountFlags.none,
}));

const transferIdBase = 0x7a11_0000_0000n;
const account = (k: bigint) => crashAccounts[Number(k % 8n)]?.id ?? 0n;

/**
 * Submission n: every third one opens with a linked chain of two; the last two events are a
 * pending transfer and the post of it. Every event succeeds when applied for the first time.
 */
export function crashSubmission(n: number): TransferInput[] {
  const first = transferIdBase + BigInt(n) * BigInt(crashPerSubmission);
  const events: TransferInput[] = [];
  for (let i = 0; i < crashPerSubmission; i++) {
    const id = first + BigInt(i);
    const d = (id * 2654435761n) % 8n;
    const c = (d + 1n + ((id >> 3n) % 7n)) % 8n;
    events.push({
      id,
      debitAccountId: account(d),
      creditAccountId: account(c),
      amount: 1n + (id % 997n),
      ledger: crashLedger,
      code: 1 + Number(id % 5n),
      userData64: id,
      flags: i === 0 && n % 3 === 0 ? TransferFlags.linked : TransferFlags.none,
    });
  }
  const pending = events[crashPerSubmission - 2];
  const post = events[crashPerSubmission - 1];
  if (pending && post) {
    pending.flags = TransferFlags.pending;
    pending.timeout = 0;
    Object.assign(post, {
      debitAccountId: 0n,
      creditAccountId: 0n,
      amount: 0n,
      ledger: 0,
      code: 0,
      userData64: 0n,
      pendingId: pending.id,
      flags: TransferFlags.postPendingTransfer,
    });
  }
  return events;
}

async function main(): Promise<void> {
  const dataDir = process.env.PAYBAO_CRASH_DATA_DIR || undefined;
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const first = Number(process.env.PAYBAO_CRASH_FIRST ?? '0');
  const limit = Number(process.env.PAYBAO_CRASH_LIMIT ?? '100000');
  const inflight = Number(process.env.PAYBAO_CRASH_INFLIGHT ?? '8');
  if (!dataDir && !databaseUrl) throw new Error('set PAYBAO_CRASH_DATA_DIR or DATABASE_URL');
  const platform = await openPlatform({
    databaseUrl,
    databaseSchema: process.env.PAYBAO_CRASH_SCHEMA || undefined,
    dataDir,
  });
  const created = await platform.ledger.createAccounts(crashAccounts);
  if (created.some((r) => r !== 'ok' && r !== 'exists')) throw new Error(`accounts: ${created.join(',')}`);
  process.stdout.write('ready\n');

  let next = first;
  const worker = async () => {
    while (next < first + limit) {
      const n = next++;
      const events = crashSubmission(n);
      process.stdout.write(`sub ${n}\n`);
      const results = await platform.ledger.createTransfers(events);
      if (results.some((r) => r !== 'ok')) {
        process.stdout.write(`bad ${n} ${results.join(',')}\n`);
        process.exit(1);
      }
      process.stdout.write(`ack ${n} ${events.map((e) => e.id.toString()).join(',')}\n`);
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  // Not killed before the limit: a test that forgot to kill must still end.
  await platform.close();
}

if (process.env.PAYBAO_CRASH_LOADER === '1') {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  });
}
