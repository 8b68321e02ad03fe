import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { uuidFromU128 } from '../../src/core/ids.ts';
import {
  type CreateTransferResult,
  type Transfer,
  TransferFlags,
  type TransferInput,
  verifyLedger,
} from '../../src/ledger/index.ts';
import type { Platform } from '../../src/platform.ts';
import { crashAccounts, crashPerSubmission, crashSubmission } from '../support/crash-loader.ts';
import { useCrashStorage } from '../support/crash-storage.ts';
import { engine } from '../support/engine.ts';

/**
 * Durability under SIGKILL. A child process loads transfers with several submissions in flight
 * and prints every acknowledged submission; the test kills it at a random moment, then, with the
 * child dead, opens the same database in this process and checks that every acknowledged
 * transfer is there exactly once, that no submission is half-applied, that retrying every
 * submitted id (acknowledged or not) is idempotent, and that the books balance. Three kills.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const loader = fileURLToPath(new URL('../support/crash-loader.ts', import.meta.url));
const rounds = 3;

interface ChildRun {
  submitted: number[];
  acked: Map<number, bigint[]>;
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
  bad: string[];
}

/** Starts a loader at submission `first` and SIGKILLs it once `killAfter` transfers are acked. */
function runAndKill(env: Record<string, string>, first: number, killAfter: number): Promise<ChildRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', loader], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      PAYBAO_CRASH_LOADER: '1',
      PAYBAO_CRASH_FIRST: String(first),
      PAYBAO_CRASH_INFLIGHT: '8',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: ChildRun = { submitted: [], acked: new Map(), signal: null, code: null, stderr: '', bad: [] };
  let ackedTransfers = 0;
  let killing = false;
  const kill = () => {
    if (!killing) {
      killing = true;
      // A random moment after the threshold: sometimes between batches, sometimes mid-commit.
      setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 25));
    }
  };
  const watchdog = setTimeout(() => child.kill('SIGKILL'), 40_000);
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    run.stderr += chunk;
  });
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    const [kind, n, rest] = line.split(' ');
    if (kind === 'sub') run.submitted.push(Number(n));
    else if (kind === 'bad') run.bad.push(line);
    else if (kind === 'ack') {
      const ids = (rest ?? '').split(',').map((s) => BigInt(s));
      run.acked.set(Number(n), ids);
      ackedTransfers += ids.length;
      if (ackedTransfers >= killAfter) kill();
    }
  });
  const linesDone = new Promise<void>((resolve) => lines.on('close', resolve));
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      run.code = code;
      run.signal = signal;
      resolve();
    }),
  );
  return Promise.all([linesDone, exited]).then(() => {
    clearTimeout(watchdog);
    return run;
  });
}

/** What the ledger stores for each event of a submission (post takes the pending transfer's fields). */
function expectedStored(events: readonly TransferInput[]): Array<Partial<Transfer>> {
  const byId = new Map(events.map((e) => [e.id, e]));
  return events.map((e) => {
    const p = e.pendingId ? byId.get(e.pendingId) : undefined;
    const base = p ?? e;
    return {
      id: e.id,
      debitAccountId: base.debitAccountId,
      creditAccountId: base.creditAccountId,
      amount: base.amount,
      pendingId: e.pendingId ?? 0n,
      ledger: base.ledger,
      code: base.code,
      userData64: base.userData64 ?? 0n,
      flags: (e.flags ?? 0) & ~TransferFlags.linked,
    };
  });
}

/** Results of re-submitting a submission that is already committed: `exists`, chains failing after their head. */
function committedRetryResults(events: readonly TransferInput[]): CreateTransferResult[] {
  let chainFailed = false;
  return events.map((e) => {
    const linked = ((e.flags ?? 0) & TransferFlags.linked) !== 0;
    const r: CreateTransferResult = chainFailed ? 'linked_event_failed' : 'exists';
    chainFailed = linked;
    return r;
  });
}

/** Posted balance moves of a set of submissions, all applied exactly once. */
function expectedBalances(ns: Iterable<number>): Map<bigint, { dpo: bigint; cpo: bigint; history: number }> {
  const out = new Map(crashAccounts.map((a) => [a.id, { dpo: 0n, cpo: 0n, history: 0 }]));
  for (const n of ns) {
    const events = crashSubmission(n);
    for (const t of expectedStored(events)) {
      const d = out.get(t.debitAccountId ?? 0n);
      const c = out.get(t.creditAccountId ?? 0n);
      if (!d || !c) throw new Error('workload names an unknown account');
      // A pending transfer moves nothing posted; its post moves the whole amount.
      if (!((t.flags ?? 0) & TransferFlags.pending)) {
        d.dpo += t.amount ?? 0n;
        c.cpo += t.amount ?? 0n;
      }
      d.history++;
      c.history++;
    }
  }
  return out;
}

async function lookupAll(platform: Platform, ids: readonly bigint[]): Promise<Map<bigint, Transfer>> {
  const found = new Map<bigint, Transfer>();
  for (let i = 0; i < ids.length; i += 8000) {
    for (const t of await platform.ledger.lookupTransfers(ids.slice(i, i + 8000))) found.set(t.id, t);
  }
  return found;
}

describe(`ledger durability under SIGKILL (${engine})`, () => {
  const { open, childEnv } = useCrashStorage('paybao-crash-');

  it('keeps every acknowledged transfer exactly once, across repeated kills and retries', async () => {
    const everSubmitted = new Set<number>();
    let first = 0;
    let totalAcked = 0;
    let committedUnacked = 0;
    for (let round = 0; round < rounds; round++) {
      const killAfter = 1600 + Math.floor(Math.random() * 800);
      const run = await runAndKill(childEnv, first, killAfter);
      expect(run.bad, run.stderr).toEqual([]);
      expect(run.signal, `child exited by itself (code ${run.code}): ${run.stderr}`).toBe('SIGKILL');
      expect(run.acked.size * crashPerSubmission).toBeGreaterThanOrEqual(killAfter);
      for (const n of run.acked.keys()) expect(run.submitted).toContain(n);
      for (const n of run.submitted) everSubmitted.add(n);
      totalAcked += run.acked.size;

      const platform = await open();
      try {
        // Right after the crash, before any retry: the books balance (no half batch survived)...
        expect(await verifyLedger(platform.db)).toEqual([]);
        // ...every acknowledged transfer is there as sent, and every submission is all or nothing.
        const roundIds = run.submitted.flatMap((n) => crashSubmission(n).map((e) => e.id));
        const present = await lookupAll(platform, roundIds);
        for (const n of run.submitted) {
          const events = crashSubmission(n);
          const there = events.filter((e) => present.has(e.id)).length;
          expect([0, events.length], `submission ${n} is half-applied`).toContain(there);
          if (run.acked.has(n)) {
            expect(run.acked.get(n)).toEqual(events.map((e) => e.id));
            expect(there, `acknowledged submission ${n} was lost`).toBe(events.length);
            for (const want of expectedStored(events)) expect(present.get(want.id ?? 0n)).toMatchObject(want);
          } else if (there > 0) {
            committedUnacked++;
          }
        }

        // A client retries every id it submitted, acknowledged or not: acknowledged ones come back
        // `exists` (never `exists_with_different_*`); unacknowledged ones either exist or are created now.
        const retries = await Promise.all(
          run.submitted.map((n) => platform.ledger.createTransfers(crashSubmission(n))),
        );
        for (const [i, n] of run.submitted.entries()) {
          const events = crashSubmission(n);
          const results = retries[i] ?? [];
          expect(results.filter((r) => r.startsWith('exists_with_different'))).toEqual([]);
          const committed = committedRetryResults(events);
          if (run.acked.has(n) || present.has(events[0]?.id ?? 0n))
            expect(results, `submission ${n}`).toEqual(committed);
          else expect(results, `submission ${n}`).toEqual(events.map(() => 'ok'));
        }

        // Now every id ever submitted is stored exactly once, with the balances they add up to.
        const allNs = [...everSubmitted].sort((a, b) => a - b);
        const allIds = allNs.flatMap((n) => crashSubmission(n).map((e) => e.id));
        const counts = await platform.db.query<{ id: string; n: bigint }>(
          'select id::text id, count(*) n from ledger_transfers where id = any($1::uuid[]) group by id',
          [`{${allIds.map(uuidFromU128).join(',')}}`],
        );
        expect(counts.length).toBe(allIds.length);
        expect(counts.filter((r) => r.n !== 1n)).toEqual([]);
        const [totals] = await platform.db.query<{ rows: bigint; ids: bigint }>(
          'select count(*) "rows", count(distinct id) ids from ledger_transfers',
        );
        expect(totals).toEqual({ rows: BigInt(allIds.length), ids: BigInt(allIds.length) });
        const stored = await lookupAll(platform, allIds);
        expect(stored.size).toBe(allIds.length);
        const [pending] = await platform.db.query<{ total: bigint; posted: bigint }>(
          'select count(*) total, count(*) filter (where status = 2) posted from ledger_pending',
        );
        expect(pending).toEqual({ total: BigInt(allNs.length), posted: BigInt(allNs.length) });

        const want = expectedBalances(allNs);
        const accounts = await platform.ledger.lookupAccounts(crashAccounts.map((a) => a.id));
        expect(accounts.length).toBe(crashAccounts.length);
        for (const a of accounts) {
          const w = want.get(a.id);
          expect({
            id: a.id,
            dp: a.debitsPending,
            cp: a.creditsPending,
            dpo: a.debitsPosted,
            cpo: a.creditsPosted,
          }).toEqual({ id: a.id, dp: 0n, cp: 0n, dpo: w?.dpo, cpo: w?.cpo });
          if (crashAccounts.find((x) => x.id === a.id)?.flags) {
            // History rows are written by the same statement: one per transfer, the last one current.
            const [h] = await platform.db.query<{ n: bigint }>(
              'select count(*) n from ledger_account_balances where account_id = $1',
              [uuidFromU128(a.id)],
            );
            expect(h?.n).toBe(BigInt(w?.history ?? -1));
            const [last] = await platform.ledger.getAccountBalances({ accountId: a.id, limit: 1, reversed: true });
            expect(last).toMatchObject({ debitsPosted: a.debitsPosted, creditsPosted: a.creditsPosted });
          }
        }
        expect(await verifyLedger(platform.db)).toEqual([]);
      } finally {
        await platform.close();
      }
      first = Math.max(...run.submitted) + 1;
    }
    // Say what the kills hit, for whoever reads the log.
    console.info(
      `${engine}: ${rounds} kills, ${totalAcked} acknowledged submissions, ${committedUnacked} committed but unacknowledged`,
    );
  }, 60_000);
});
