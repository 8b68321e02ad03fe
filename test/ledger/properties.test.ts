/**
 * Property tests: random submissions run against the real engine and against the reference model
 * (test/ledger/model.ts); every result code, every balance, every stored transfer, every history
 * row and every expiry count must agree, and the books must verify after every run.
 *
 * One platform per property; each run gets fresh ids (a per-run offset), so runs do not see each
 * other. Small ids (accounts 1..6, transfers 1..40) make collisions, replays and references to
 * earlier transfers common.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import {
  type AccountInput,
  AccountFlags as AF,
  TransferFlags as TF,
  type TransferInput,
  verifyLedger,
} from '../../src/ledger/index.ts';
import type { Platform } from '../../src/platform.ts';
import { freshPlatform } from '../support/engine.ts';
import { AMOUNT_MAX, LedgerModel } from './model.ts';

const ACCOUNTS = 6; // ids 1..6 may be created; 7 never is
const TRANSFERS = 40;
const U128_MAX = 2n ** 128n - 1n;

// ---------------------------------------------------------------------------------------------
// Abstract operations, over small ids; `realize` maps them to the ids of one run.

/** A small id, or a special value that is passed through unchanged. */
type SmallId = number | { raw: bigint | number };

interface AccountSpec {
  id: SmallId;
  ledger: number;
  code: number;
  flags: number;
  ud128: bigint;
  ud32: number;
  timestamp?: bigint;
}

interface TransferSpec {
  id: SmallId;
  dr: SmallId;
  cr: SmallId;
  amount: bigint;
  pendingId: SmallId;
  timeout: number;
  ledger: number;
  code: number;
  flags: number;
  ud64: bigint;
  ud32: number;
  timestamp?: bigint;
}

/** Resubmits the n-th earlier transfer event (mod how many there were), maybe altered. */
interface ReplaySpec {
  replay: number;
  alter: 'none' | 'amount' | 'code' | 'ud64' | 'linked' | 'flags';
}

type Op =
  | { kind: 'accounts'; events: AccountSpec[] }
  | { kind: 'transfers'; events: Array<TransferSpec | ReplaySpec> }
  | { kind: 'concurrent'; submissions: Array<Array<TransferSpec | ReplaySpec>> }
  | { kind: 'tick'; seconds: number }
  | { kind: 'expire' };

const specialId = fc.constantFrom<SmallId>(
  { raw: 0n },
  { raw: U128_MAX },
  { raw: -1n },
  { raw: 2n ** 128n },
  {
    raw: 3,
  },
);
const accountIdArb: fc.Arbitrary<SmallId> = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 1, max: ACCOUNTS }) },
  { weight: 2, arbitrary: fc.constant(ACCOUNTS + 1) },
  { weight: 1, arbitrary: specialId },
);
const transferIdArb: fc.Arbitrary<SmallId> = fc.oneof(
  { weight: 40, arbitrary: fc.integer({ min: 1, max: TRANSFERS }) },
  { weight: 1, arbitrary: specialId },
);
const ledgerArb = fc.oneof(
  { weight: 20, arbitrary: fc.constant(1) },
  { weight: 2, arbitrary: fc.constant(2) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 2 ** 31) },
);
const codeArb = fc.oneof(
  { weight: 10, arbitrary: fc.constant(1) },
  { weight: 3, arbitrary: fc.constant(2) },
  { weight: 1, arbitrary: fc.constantFrom(0, 65536) },
);

const accountFlagsArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(AF.none) },
  { weight: 3, arbitrary: fc.constant(AF.debitsMustNotExceedCredits) },
  { weight: 2, arbitrary: fc.constant(AF.creditsMustNotExceedDebits) },
  { weight: 3, arbitrary: fc.constant(AF.history) },
  { weight: 2, arbitrary: fc.constant(AF.history | AF.debitsMustNotExceedCredits) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(AF.debitsMustNotExceedCredits | AF.creditsMustNotExceedDebits, AF.closed, 1 << 4),
  },
);

const accountSpecArb = (id: fc.Arbitrary<SmallId>): fc.Arbitrary<AccountSpec> =>
  fc.record(
    {
      id,
      ledger: ledgerArb,
      code: codeArb,
      flags: fc.tuple(accountFlagsArb, fc.nat(9)).map(([f, r]) => (r === 0 ? f | AF.linked : f)),
      ud128: fc.constantFrom(0n, 0n, 0n, 7n),
      ud32: fc.constantFrom(0, 0, 0, 3),
      timestamp: fc.constantFrom(0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 5n),
    },
    { requiredKeys: ['id', 'ledger', 'code', 'flags', 'ud128', 'ud32'] },
  );

const amountArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0n) },
  { weight: 30, arbitrary: fc.bigInt({ min: 1n, max: 60n }) },
  { weight: 1, arbitrary: fc.constantFrom(-1n, AMOUNT_MAX + 1n, AMOUNT_MAX, 2n ** 62n) },
);

const transferKindArb = fc.oneof(
  { weight: 10, arbitrary: fc.constant(TF.none) },
  { weight: 8, arbitrary: fc.constant(TF.pending) },
  { weight: 6, arbitrary: fc.constant(TF.postPendingTransfer) },
  { weight: 4, arbitrary: fc.constant(TF.voidPendingTransfer) },
  { weight: 3, arbitrary: fc.constantFrom(TF.balancingDebit, TF.balancingCredit) },
  { weight: 1, arbitrary: fc.constant(TF.pending | TF.balancingDebit) },
  { weight: 2, arbitrary: fc.constantFrom(TF.pending | TF.closingDebit, TF.pending | TF.closingCredit) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      TF.closingDebit,
      TF.pending | TF.postPendingTransfer,
      TF.postPendingTransfer | TF.voidPendingTransfer,
      TF.postPendingTransfer | TF.balancingCredit,
      1 << 8,
    ),
  },
);

const transferSpecArb: fc.Arbitrary<TransferSpec> = fc
  .record(
    {
      id: transferIdArb,
      dr: accountIdArb,
      cr: accountIdArb,
      amount: amountArb,
      pendingId: transferIdArb,
      timeout: fc.oneof(
        { weight: 3, arbitrary: fc.constant(0) },
        { weight: 8, arbitrary: fc.integer({ min: 1, max: 4 }) },
        { weight: 1, arbitrary: fc.constantFrom(-1, 2 ** 32) },
      ),
      oddity: fc.nat(19),
      ledger: ledgerArb,
      code: codeArb,
      kind: transferKindArb,
      linked: fc.nat(5).map((n) => n === 0),
      zeroes: fc.nat(2).map((n) => n !== 0), // post/void: leave accounts/ledger/code zero
      ud64: fc.constantFrom(0n, 0n, 0n, 9n),
      ud32: fc.constantFrom(0, 0, 0, 4),
      timestamp: fc.nat(39).map((n) => (n === 0 ? 1n : 0n)),
    },
    {
      requiredKeys: ['id', 'dr', 'cr', 'amount', 'pendingId', 'timeout', 'oddity', 'ledger', 'code', 'kind', 'linked'],
    },
  )
  .map((r) => {
    const resolving = (r.kind & (TF.postPendingTransfer | TF.voidPendingTransfer)) !== 0;
    const pending = (r.kind & TF.pending) !== 0;
    const malformedTimeout = r.timeout < 0 || r.timeout > 2 ** 31;
    return {
      id: r.id,
      dr: resolving && r.zeroes ? 0 : r.dr,
      cr: resolving && r.zeroes ? 0 : r.cr,
      amount: r.amount,
      // Mostly valid shapes, sometimes not: a plain transfer with a pending id or a timeout.
      pendingId: resolving || r.oddity === 0 ? r.pendingId : 0,
      timeout: pending || malformedTimeout || r.oddity === 1 ? r.timeout : 0,
      ledger: resolving && r.zeroes ? 0 : r.ledger,
      code: resolving && r.zeroes ? 0 : r.code,
      flags: r.kind | (r.linked ? TF.linked : 0),
      ud64: r.ud64 ?? 0n,
      ud32: r.ud32 ?? 0,
      ...(r.timestamp ? { timestamp: r.timestamp } : {}),
    } satisfies TransferSpec;
  });

const replaySpecArb: fc.Arbitrary<ReplaySpec> = fc.record({
  replay: fc.nat(200),
  alter: fc.constantFrom('none', 'none', 'amount', 'code', 'ud64', 'linked', 'flags'),
});

const transferEventArb = fc.oneof({ weight: 6, arbitrary: transferSpecArb }, { weight: 1, arbitrary: replaySpecArb });
const submissionArb = fc.array(transferEventArb, { minLength: 1, maxLength: 6 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: submissionArb.map((events) => ({ kind: 'transfers' as const, events })) },
  {
    weight: 2,
    arbitrary: fc
      .array(submissionArb, { minLength: 2, maxLength: 4 })
      .map((submissions) => ({ kind: 'concurrent' as const, submissions })),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(accountSpecArb(accountIdArb), { minLength: 1, maxLength: 3 })
      .map((events) => ({ kind: 'accounts' as const, events })),
  },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 5 }).map((seconds) => ({ kind: 'tick' as const, seconds })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'expire' as const }) },
);

/** Every run starts by creating (most of) the accounts, then runs random operations. */
const scenarioArb = fc.record({
  setup: fc.tuple(...Array.from({ length: ACCOUNTS }, (_, i) => accountSpecArb(fc.constant(i + 1)))),
  ops: fc.array(opArb, { minLength: 5, maxLength: 40 }),
});

// ---------------------------------------------------------------------------------------------
// Running a scenario.

class Run {
  readonly base: bigint;
  readonly submitted: TransferInput[] = [];
  /** Ids submitted with the pending flag: what post and void usually aim at. */
  readonly pendingIds: bigint[] = [];
  constructor(run: number) {
    this.base = BigInt(run) * 1000n;
  }
  id(x: SmallId): bigint {
    if (typeof x === 'number') return x === 0 ? 0n : this.base + BigInt(x);
    return x.raw as bigint; // may be a number on purpose: a malformed id
  }
  account(s: AccountSpec): AccountInput {
    return {
      id: this.id(s.id),
      ledger: s.ledger,
      code: s.code,
      flags: s.flags,
      userData128: s.ud128,
      userData32: s.ud32,
      ...(s.timestamp ? { timestamp: s.timestamp } : {}),
    };
  }
  transfer(s: TransferSpec | ReplaySpec): TransferInput {
    if ('replay' in s) return this.#replay(s);
    const resolving = (s.flags & (TF.postPendingTransfer | TF.voidPendingTransfer)) !== 0;
    const aimed = typeof s.pendingId === 'number' ? this.pendingIds[s.pendingId % 8] : undefined;
    const t: TransferInput = {
      id: this.id(s.id),
      debitAccountId: this.id(s.dr),
      creditAccountId: this.id(s.cr),
      amount: s.amount,
      pendingId: resolving && aimed !== undefined && s.pendingId !== 0 ? aimed : this.id(s.pendingId),
      timeout: s.timeout,
      ledger: s.ledger,
      code: s.code,
      flags: s.flags,
      userData64: s.ud64,
      userData32: s.ud32,
      ...(s.timestamp ? { timestamp: s.timestamp } : {}),
    };
    this.submitted.push(t);
    if ((s.flags & TF.pending) !== 0 && typeof t.id === 'bigint') this.pendingIds.unshift(t.id);
    return t;
  }
  #replay(s: ReplaySpec): TransferInput {
    const earlier = this.submitted[s.replay % Math.max(1, this.submitted.length)];
    if (!earlier)
      return { id: this.base + 1n, debitAccountId: 0n, creditAccountId: 0n, amount: 0n, ledger: 1, code: 1 };
    const t = { ...earlier };
    if (s.alter === 'amount') t.amount = typeof t.amount === 'bigint' ? t.amount + 1n : 1n;
    if (s.alter === 'code') t.code = t.code === 1 ? 2 : 1;
    if (s.alter === 'ud64') t.userData64 = (t.userData64 ?? 0n) + 1n;
    if (s.alter === 'linked') t.flags = (t.flags ?? 0) ^ TF.linked;
    if (s.alter === 'flags') t.flags = (t.flags ?? 0) ^ TF.pending;
    return t;
  }
}

const show = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));

async function runScenario(
  platform: Platform,
  clock: ManualClock,
  run: Run,
  scenario: { setup: AccountSpec[]; ops: Op[] },
): Promise<void> {
  const { ledger } = platform;
  const model = new LedgerModel();
  const accountIds = Array.from({ length: ACCOUNTS + 1 }, (_, i) => run.base + BigInt(i + 1));
  const transferIds = Array.from({ length: TRANSFERS }, (_, i) => run.base + BigInt(i + 1));
  // Sweep what an earlier run (say, one that failed half-way while shrinking) left due, so that
  // expiry counts here are this run's alone. Then keep off whole-second offsets from it.
  clock.advanceMs(10_001);
  while ((await ledger.expirePendingTransfers()) > 0) {}
  clock.advanceMs(1001);

  const compareBalances = async (step: string) => {
    const got = await ledger.lookupAccounts(accountIds);
    const want = accountIds.flatMap((id) => {
      const a = model.accounts.get(id);
      return a ? [a] : [];
    });
    expect(
      got.map((a) => [a.id, a.flags, a.debitsPending, a.debitsPosted, a.creditsPending, a.creditsPosted]),
      step,
    ).toEqual(want.map((a) => [a.id, a.flags, a.debitsPending, a.debitsPosted, a.creditsPending, a.creditsPosted]));
  };

  const setup = scenario.setup.map((s) => run.account(s));
  expect(await ledger.createAccounts(setup), `setup ${show(setup)}`).toEqual(model.createAccounts(setup));

  for (const [i, op] of scenario.ops.entries()) {
    const now = clock.nowNs();
    const step = `step ${i}: ${op.kind}`;
    if (op.kind === 'tick') {
      clock.advanceMs(op.seconds * 1000 + 1);
      continue;
    }
    if (op.kind === 'expire') {
      expect(await ledger.expirePendingTransfers(), step).toBe(model.expire(now));
    } else if (op.kind === 'accounts') {
      const events = op.events.map((s) => run.account(s));
      expect(await ledger.createAccounts(events), `${step} ${show(events)}`).toEqual(model.createAccounts(events));
    } else if (op.kind === 'transfers') {
      const events = op.events.map((s) => run.transfer(s));
      expect(await ledger.createTransfers(events), `${step} ${show(events)}`).toEqual(
        model.createTransfers(events, now),
      );
    } else {
      const submissions = op.submissions.map((sub) => sub.map((s) => run.transfer(s)));
      // Submitted together: the batcher may group them, but must apply them in submission order.
      const got = await Promise.all(submissions.map((events) => ledger.createTransfers(events)));
      const want = submissions.map((events) => model.createTransfers(events, now));
      expect(got, `${step} ${show(submissions)}`).toEqual(want);
    }
    await compareBalances(step);
  }

  // Stored transfers: every field the model knows.
  const stored = await ledger.lookupTransfers(transferIds);
  expect(
    stored.map((t) => ({ ...t, timestamp: undefined })),
    'stored transfers',
  ).toEqual(transferIds.flatMap((id) => model.transfers.get(id) ?? []).map((t) => ({ ...t, timestamp: undefined })));

  // History rows of accounts flagged `history`, in order (timestamps are the engine's own).
  for (const id of accountIds) {
    const rows = await ledger.getAccountBalances({ accountId: id, limit: 8190 });
    expect(
      rows.map(({ timestamp: _, ...b }) => b),
      `history of account ${id - run.base}`,
    ).toEqual(model.historyOf(id));
    for (let k = 1; k < rows.length; k++) {
      expect((rows[k]?.timestamp ?? 0n) > (rows[k - 1]?.timestamp ?? 0n)).toBe(true);
    }
  }
  // Expire everything the model says is due, then both must agree again.
  clock.advanceMs(10_001);
  expect(await ledger.expirePendingTransfers()).toBe(model.expire(clock.nowNs()));
  await compareBalances('final sweep');
  expect(await verifyLedger(platform.db)).toEqual([]);
}

describe('ledger engine against the reference model', () => {
  let platform: Platform;
  const clock = new ManualClock();
  let runs = 0;

  beforeAll(async () => {
    platform = await freshPlatform({ clock });
  });
  afterAll(async () => {
    if (platform) {
      expect(await verifyLedger(platform.db)).toEqual([]);
      await platform.close();
    }
  });

  it('agrees on every result, balance, transfer and history row', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        await runScenario(platform, clock, new Run(++runs), scenario);
      }),
      {
        numRuns: Number(process.env.LEDGER_PROPERTY_RUNS ?? 200),
        // To replay a failure: LEDGER_PROPERTY_SEED=<seed> (and the reported path).
        ...(process.env.LEDGER_PROPERTY_SEED ? { seed: Number(process.env.LEDGER_PROPERTY_SEED) } : {}),
        ...(process.env.LEDGER_PROPERTY_PATH ? { path: process.env.LEDGER_PROPERTY_PATH } : {}),
      },
    );
  }, 240_000);

  it('keeps the books balanced under many small linked chains (no invalid input)', async () => {
    // Chains only: every submission is a chain of 2..4 legs whose last leg may fail.
    const legArb = fc.record({
      dr: fc.integer({ min: 1, max: ACCOUNTS }),
      cr: fc.integer({ min: 1, max: ACCOUNTS }),
      amount: fc.bigInt({ min: 1n, max: 40n }),
      kind: fc.constantFrom(TF.none, TF.pending, TF.balancingDebit, TF.balancingCredit),
    });
    const chainsArb = fc.array(fc.array(legArb, { minLength: 2, maxLength: 4 }), { minLength: 3, maxLength: 10 });
    await fc.assert(
      fc.asyncProperty(chainsArb, fc.boolean(), async (chains, openAtEnd) => {
        const run = new Run(++runs);
        let next = 1;
        const ops: Op[] = chains.map((legs, c) => ({
          kind: 'transfers',
          events: legs.map((l, k) => ({
            id: next++,
            dr: l.dr,
            cr: l.cr,
            amount: l.amount,
            pendingId: 0,
            timeout: 0,
            ledger: 1,
            code: 1,
            // The last chain of the scenario may be left open on purpose.
            flags: l.kind | (k < legs.length - 1 || (openAtEnd && c === chains.length - 1) ? TF.linked : 0),
            ud64: 0n,
            ud32: 0,
          })),
        }));
        const setup: AccountSpec[] = Array.from({ length: ACCOUNTS }, (_, i) => ({
          id: i + 1,
          ledger: 1,
          code: 1,
          flags: i < 3 ? AF.debitsMustNotExceedCredits : i === 3 ? AF.creditsMustNotExceedDebits : AF.history,
          ud128: 0n,
          ud32: 0,
        }));
        await runScenario(platform, clock, run, { setup, ops });
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
