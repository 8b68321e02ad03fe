import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { uuidFromU128 } from '../../src/core/ids.ts';
import {
  AccountFlags,
  type AccountInput,
  type CreateTransferResult,
  Ledger,
  TransferFlags,
  type TransferInput,
  verifyLedger,
} from '../../src/ledger/index.ts';
import type { Platform } from '../../src/platform.ts';
import { engine, freshPlatform, freshSchema } from '../support/engine.ts';

/**
 * Concurrent submitters on one ledger, and on two ledger engines sharing one PostgreSQL schema.
 * Every submission opens with a marker transfer that always succeeds: its timestamp places the
 * whole submission in the commit order (a submission never spans two batches, and timestamps
 * are assigned in commit order). Replaying the recorded submissions serially in that order, in a
 * small in-test model and in a fresh ledger, must give every submission the results it got and
 * the accounts the balances they have.
 */

const ledgerId = 1;
const code = 1;
const markerFrom = 1n;
const markerTo = 2n;
const banks = [10n, 11n, 12n];
const contendedIds = Array.from({ length: 24 }, (_, i) => 0xd0_0000n + BigInt(i));

interface Submission {
  engine: number;
  client: number;
  events: TransferInput[];
  results: CreateTransferResult[];
}

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function accountsFor(wallets: readonly bigint[]): AccountInput[] {
  return [
    { id: markerFrom, ledger: ledgerId, code },
    { id: markerTo, ledger: ledgerId, code },
    ...banks.map((id) => ({ id, ledger: ledgerId, code })),
    ...wallets.map((id) => ({ id, ledger: ledgerId, code, flags: AccountFlags.debitsMustNotExceedCredits })),
  ];
}

/**
 * One client's submissions: a marker, then one to four operations: fund a wallet, pay between
 * wallets or withdraw to a bank (both may overdraw), a linked chain of two or three moves (fails
 * as a whole when one overdraws), or a transfer under an id that every client may use, in one of
 * three shapes (first success wins: `ok`, then `exists` or `exists_with_different_*` by order).
 */
function workload(engineNo: number, client: number, rounds: number, wallets: readonly bigint[]): TransferInput[][] {
  const rnd = prng(engineNo * 1000 + client + 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const amount = (max: number) => BigInt(1 + Math.floor(rnd() * max));
  let seq = 0;
  const nextId = () => (BigInt(engineNo + 1) << 80n) | (BigInt(client + 1) << 40n) | BigInt(++seq);
  const t = (debit: bigint, credit: bigint, amt: bigint, flags = 0): TransferInput => ({
    id: nextId(),
    debitAccountId: debit,
    creditAccountId: credit,
    amount: amt,
    ledger: ledgerId,
    code,
    flags,
  });
  const twoWallets = (): [bigint, bigint] => {
    const a = pick(wallets);
    let b = pick(wallets);
    while (b === a) b = pick(wallets);
    return [a, b];
  };
  const out: TransferInput[][] = [];
  for (let r = 0; r < rounds; r++) {
    const events = [t(markerFrom, markerTo, 1n)];
    const ops = 1 + Math.floor(rnd() * 4);
    for (let o = 0; o < ops; o++) {
      const kind = rnd();
      if (kind < 0.25) events.push(t(pick(banks), pick(wallets), amount(100)));
      else if (kind < 0.45) events.push(t(...twoWallets(), amount(150)));
      else if (kind < 0.55) events.push(t(pick(wallets), pick(banks), amount(200)));
      else if (kind < 0.85) {
        const length = 2 + Math.floor(rnd() * 2);
        for (let i = 0; i < length; i++) {
          const [a, b] = twoWallets();
          const last = i === length - 1;
          const credit = last && rnd() < 0.3 ? pick(banks) : b;
          events.push(t(a, credit, amount(120), last ? 0 : TransferFlags.linked));
        }
      } else {
        // Three shapes per shared id; the third drains a wallet and may overdraw. A used id must
        // come back `exists*` whatever the balances are now, alone or at the head of a chain.
        const shape = Math.floor(rnd() * 3);
        const chained = rnd() < 0.3;
        events.push({
          id: pick(contendedIds),
          debitAccountId: shape === 2 ? (wallets[2] as bigint) : (banks[0] as bigint),
          creditAccountId: shape === 2 ? (banks[0] as bigint) : (wallets[shape] as bigint),
          amount: [7n, 8n, 60n][shape] as bigint,
          ledger: ledgerId,
          code,
          flags: chained ? TransferFlags.linked : 0,
        });
        if (chained) events.push(t(...twoWallets(), amount(150)));
      }
    }
    out.push(events);
  }
  return out;
}

/** Runs `clients` async clients against `ledger`, each awaiting one submission at a time. */
async function runClients(
  ledger: Ledger,
  engineNo: number,
  clients: number,
  rounds: number,
  wallets: readonly bigint[],
): Promise<Submission[]> {
  const done: Submission[] = [];
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (const events of workload(engineNo, client, rounds, wallets)) {
        // Every third client reads its accounts ahead of the lock and submits in the bulk lane.
        const ahead = client % 3 === 2;
        if (ahead) await ledger.prefetchAccounts(events.flatMap((e) => [e.debitAccountId, e.creditAccountId]));
        const results = await ledger.createTransfers(events, ahead ? 'bulk' : 'interactive');
        done.push({ engine: engineNo, client, events, results });
      }
    }),
  );
  return done;
}

/**
 * The ledger's rules for this workload (plain transfers, linked chains, wallets that may not
 * overdraw, ids used twice), applied one event at a time: the serial specification.
 */
class Model {
  readonly posted = new Map<bigint, { dpo: bigint; cpo: bigint; wallet: boolean }>();
  readonly transfers = new Map<bigint, TransferInput>();

  constructor(accounts: readonly AccountInput[]) {
    for (const a of accounts) {
      this.posted.set(a.id, {
        dpo: 0n,
        cpo: 0n,
        wallet: ((a.flags ?? 0) & AccountFlags.debitsMustNotExceedCredits) !== 0,
      });
    }
  }

  apply(events: readonly TransferInput[]): CreateTransferResult[] {
    const results: CreateTransferResult[] = [];
    let undo: Array<() => void> = [];
    let chainStart = -1;
    let chainFailed = false;
    for (const [i, e] of events.entries()) {
      const linked = ((e.flags ?? 0) & TransferFlags.linked) !== 0;
      if (chainStart < 0 && linked) chainStart = i;
      if (chainFailed) results.push('linked_event_failed');
      else {
        const r = linked && i === events.length - 1 ? 'linked_event_chain_open' : this.#one(e, undo);
        results.push(r);
        if (r !== 'ok' && chainStart >= 0) {
          for (const u of undo.reverse()) u();
          for (let j = chainStart; j < i; j++) results[j] = 'linked_event_failed';
          chainFailed = true;
        }
      }
      if (!linked) {
        chainStart = -1;
        chainFailed = false;
      }
      if (chainStart < 0) undo = [];
    }
    return results;
  }

  #one(e: TransferInput, undo: Array<() => void>): CreateTransferResult {
    const existing = this.transfers.get(e.id);
    if (existing) {
      if (((e.flags ?? 0) & ~TransferFlags.linked) !== ((existing.flags ?? 0) & ~TransferFlags.linked))
        return 'exists_with_different_flags';
      if (e.debitAccountId !== existing.debitAccountId) return 'exists_with_different_debit_account_id';
      if (e.creditAccountId !== existing.creditAccountId) return 'exists_with_different_credit_account_id';
      if (e.amount !== existing.amount) return 'exists_with_different_amount';
      return 'exists';
    }
    const d = this.posted.get(e.debitAccountId);
    const c = this.posted.get(e.creditAccountId);
    if (!d || !c) throw new Error('the workload only names existing accounts');
    if (d.wallet && d.dpo + e.amount > d.cpo) return 'exceeds_credits';
    d.dpo += e.amount;
    c.cpo += e.amount;
    this.transfers.set(e.id, e);
    undo.push(() => {
      d.dpo -= e.amount;
      c.cpo -= e.amount;
      this.transfers.delete(e.id);
    });
    return 'ok';
  }
}

/**
 * Puts the recorded submissions in commit order by their markers' timestamps, and checks that the
 * stored transfers are exactly the `ok` events of those submissions, in that order, one
 * submission after another (no interleaving), with strictly increasing timestamps.
 */
async function commitOrder(platform: Platform, submissions: readonly Submission[]): Promise<Submission[]> {
  for (const s of submissions) expect(s.results[0], 'the marker always succeeds').toBe('ok');
  const rows = await platform.db.query<{ id: string; timestamp: bigint }>(
    'select id::text id, timestamp from ledger_transfers order by timestamp, id',
  );
  const at = new Map<string, bigint>();
  for (const [i, r] of rows.entries()) {
    if (i > 0) expect(r.timestamp > (rows[i - 1]?.timestamp ?? 0n), 'timestamps strictly increase').toBe(true);
    at.set(r.id, r.timestamp);
  }
  const hex = uuidFromU128;
  const markerAt = (s: Submission) => at.get(hex(s.events[0]?.id ?? 0n)) ?? -1n;
  for (const s of submissions) expect(markerAt(s), 'every marker is stored').toBeGreaterThan(0n);
  const ordered = [...submissions].sort((a, b) => (markerAt(a) < markerAt(b) ? -1 : 1));
  const okIds = ordered.flatMap((s) => s.events.filter((_, i) => s.results[i] === 'ok').map((e) => hex(e.id)));
  expect(okIds.length).toBe(rows.length);
  expect(okIds).toEqual(rows.map((r) => r.id));
  return ordered;
}

/** Replays the submissions in order through the model; results and final balances must agree. */
async function checkAgainstModel(
  platform: Platform,
  accounts: readonly AccountInput[],
  ordered: readonly Submission[],
): Promise<void> {
  const model = new Model(accounts);
  for (const [i, s] of ordered.entries()) {
    // Expected: the serial model's results; received: what the engine answered under concurrency.
    const serial = model.apply(s.events);
    expect({ at: i, ids: s.events.map((e) => e.id), results: s.results }).toEqual({
      at: i,
      ids: s.events.map((e) => e.id),
      results: serial,
    });
  }
  const stored = await platform.ledger.lookupAccounts(accounts.map((a) => a.id));
  expect(stored.map((a) => [a.id, a.debitsPosted, a.creditsPosted, a.debitsPending, a.creditsPending])).toEqual(
    accounts.map((a) => {
      const m = model.posted.get(a.id);
      return [a.id, m?.dpo, m?.cpo, 0n, 0n];
    }),
  );
}

/**
 * Replays the submissions in order into a fresh ledger, serially: one request of whole
 * submissions at a time (every submission closes its chains, so concatenating them changes
 * nothing). Results and final balances must equal the concurrent run's.
 */
async function checkAgainstSerialLedger(
  platform: Platform,
  accounts: readonly AccountInput[],
  ordered: readonly Submission[],
): Promise<void> {
  const schema = freshSchema();
  const fresh = await freshPlatform({ schema });
  try {
    expect(await fresh.ledger.createAccounts(accounts)).toEqual(accounts.map(() => 'ok'));
    let i = 0;
    while (i < ordered.length) {
      const chunk: Submission[] = [];
      let events = 0;
      while (i < ordered.length && events + (ordered[i]?.events.length ?? 0) <= 8000) {
        const s = ordered[i++] as Submission;
        chunk.push(s);
        events += s.events.length;
      }
      const results = await fresh.ledger.createTransfers(chunk.flatMap((s) => s.events));
      let at = 0;
      for (const s of chunk) {
        expect(results.slice(at, at + s.events.length)).toEqual(s.results);
        at += s.events.length;
      }
    }
    const ids = accounts.map((a) => a.id);
    const strip = (xs: Awaited<ReturnType<Ledger['lookupAccounts']>>) => xs.map(({ timestamp: _, ...rest }) => rest);
    expect(strip(await fresh.ledger.lookupAccounts(ids))).toEqual(strip(await platform.ledger.lookupAccounts(ids)));
    expect(await verifyLedger(fresh.db)).toEqual([]);
  } finally {
    if (schema) await fresh.db.exec(`drop schema ${schema} cascade`);
    await fresh.close();
  }
}

/** Every wallet within its credits, and the run exercised every outcome it was meant to. */
async function checkWalletsAndCoverage(
  platform: Platform,
  wallets: readonly bigint[],
  submissions: readonly Submission[],
): Promise<void> {
  for (const w of await platform.ledger.lookupAccounts(wallets)) {
    expect(w.debitsPosted + w.debitsPending <= w.creditsPosted, `wallet ${w.id} is negative`).toBe(true);
  }
  const seen = new Map<string, number>();
  for (const r of submissions.flatMap((s) => s.results)) seen.set(r, (seen.get(r) ?? 0) + 1);
  const outcomes = [
    'ok',
    'exceeds_credits',
    'linked_event_failed',
    'exists',
    'exists_with_different_debit_account_id',
    'exists_with_different_credit_account_id',
  ];
  for (const r of outcomes) {
    expect(seen.get(r) ?? 0, `no event came back ${r}`).toBeGreaterThan(0);
  }
  const okChains = submissions.filter((s) =>
    s.events.some((e, i) => (e.flags ?? 0) & TransferFlags.linked && s.results[i] === 'ok'),
  );
  expect(okChains.length, 'some linked chains succeed').toBeGreaterThan(0);
}

describe(`ledger under concurrent submitters (${engine})`, () => {
  // Many clients make big batches; few clients make small ones, where a batch rarely carries
  // every kind of event (a fast path that only some batches take gets exercised too).
  // The third keeps 4 accounts in memory for 21 in play: every batch evicts, and the reads ahead
  // of the lock race the batches that write the accounts they read.
  it.each([
    { clients: 50, rounds: 40, cache: undefined },
    { clients: 4, rounds: 300, cache: undefined },
    { clients: 12, rounds: 60, cache: 4 },
  ])(
    '$clients clients on one ledger (account cache $cache): serial-equivalent results, balanced books, no negative wallet',
    async ({ clients, rounds, cache }) => {
      const wallets = Array.from({ length: 16 }, (_, i) => 100n + BigInt(i));
      const accounts = accountsFor(wallets);
      const schema = freshSchema();
      const platform = await freshPlatform({ schema });
      try {
        expect(await platform.ledger.createAccounts(accounts)).toEqual(accounts.map(() => 'ok'));
        const ledger = cache ? new Ledger(platform.db, { accountCacheMax: cache }) : platform.ledger;
        const submissions = await runClients(ledger, 0, clients, rounds, wallets);
        if (cache) await ledger.close();
        expect(submissions.length).toBe(clients * rounds);
        expect(await verifyLedger(platform.db)).toEqual([]);
        await checkWalletsAndCoverage(platform, wallets, submissions);
        const ordered = await commitOrder(platform, submissions);
        await checkAgainstModel(platform, accounts, ordered);
        await checkAgainstSerialLedger(platform, accounts, ordered);
      } finally {
        if (schema) await platform.db.exec(`drop schema ${schema} cascade`);
        await platform.close();
      }
    },
    60_000,
  );

  describe.skipIf(engine !== 'postgres')('two engines on one PostgreSQL schema', () => {
    const schema = freshSchema();
    const platforms: Platform[] = [];
    afterAll(async () => {
      const [p] = platforms;
      if (p && schema) await p.db.exec(`drop schema ${schema} cascade`);
      for (const q of platforms) await q.close();
    });

    it('equals serial application in commit order, without deadlock', async () => {
      if (!schema) throw new Error('postgres needs a schema');
      const wallets = [100n, 101n, 102n, 103n];
      const accounts = accountsFor(wallets);
      // Engine 1's clock runs an hour behind: the order must come from the commit lock, not the clocks.
      platforms.push(await freshPlatform({ schema }));
      platforms.push(await freshPlatform({ schema, clock: new ManualClock(Date.now() - 3_600_000) }));
      const [a, b] = platforms as [Platform, Platform];
      expect(await a.ledger.createAccounts(accounts)).toEqual(accounts.map(() => 'ok'));
      expect(await b.ledger.createAccounts(accounts)).toEqual(accounts.map(() => 'exists'));

      const [fromA, fromB] = await Promise.all([
        runClients(a.ledger, 0, 20, 50, wallets),
        runClients(b.ledger, 1, 20, 50, wallets),
      ]);
      const submissions = [...fromA, ...fromB];
      expect(submissions.length).toBe(2000);
      expect(await verifyLedger(a.db)).toEqual([]);
      await checkWalletsAndCoverage(a, wallets, submissions);
      const ordered = await commitOrder(a, submissions);
      // The two engines really interleaved: the commit order switches between them many times.
      const switches = ordered.filter((s, i) => i > 0 && s.engine !== ordered[i - 1]?.engine).length;
      expect(switches).toBeGreaterThan(10);
      await checkAgainstModel(a, accounts, ordered);
      await checkAgainstSerialLedger(a, accounts, ordered);
    }, 60_000);
  });
});
