/**
 * Example-based specs of the ledger's semantics: one behaviour per test, each opening with what it
 * proves. All tests share one platform; each uses fresh ids, and the books must verify after each.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { id } from '../../src/core/ids.ts';
import {
  type Account,
  type AccountInput,
  AccountFlags as AF,
  chainCommitted,
  TransferFlags as TF,
  type TransferInput,
} from '../../src/ledger/index.ts';
import { usePlatform } from '../support/engine.ts';

const clock = new ManualClock();
const platformOf = usePlatform({ clock });

const ledger = () => platformOf().ledger;

/** Creates accounts on ledger 1 (code 1) with the given flags; returns their ids. */
async function accounts(...flags: number[]): Promise<bigint[]> {
  const events: AccountInput[] = flags.map((f) => ({ id: id(), ledger: 1, code: 1, flags: f }));
  expect(await ledger().createAccounts(events)).toEqual(events.map(() => 'ok'));
  return events.map((e) => e.id);
}

async function account(accountId: bigint): Promise<Account> {
  const [a] = await ledger().lookupAccounts([accountId]);
  if (!a) throw new Error(`account ${accountId} not found`);
  return a;
}

/** The four balances as [debitsPending, debitsPosted, creditsPending, creditsPosted]. */
async function balances(accountId: bigint): Promise<bigint[]> {
  const a = await account(accountId);
  return [a.debitsPending, a.debitsPosted, a.creditsPending, a.creditsPosted];
}

const transfer = (dr: bigint, cr: bigint, amount: bigint, more: Partial<TransferInput> = {}): TransferInput => ({
  id: id(),
  debitAccountId: dr,
  creditAccountId: cr,
  amount,
  ledger: 1,
  code: 1,
  ...more,
});

/** Resolves a pending transfer, leaving accounts, ledger and code zero (taken from the pending). */
const resolve = (pendingId: bigint, flag: number, amount = 0n, more: Partial<TransferInput> = {}): TransferInput => ({
  id: id(),
  debitAccountId: 0n,
  creditAccountId: 0n,
  amount,
  pendingId,
  ledger: 0,
  code: 0,
  flags: flag,
  ...more,
});

async function ok(...events: TransferInput[]): Promise<void> {
  expect(await ledger().createTransfers(events)).toEqual(events.map(() => 'ok'));
}

describe('two-phase transfers', () => {
  it('posts part of a pending transfer and releases the rest', async () => {
    // Proves: a partial post moves the posted part and releases the whole pending reservation.
    const [a, b] = (await accounts(0, 0)) as [bigint, bigint];
    const p = transfer(a, b, 100n, { flags: TF.pending });
    await ok(p);
    expect(await balances(a)).toEqual([100n, 0n, 0n, 0n]);
    expect(await balances(b)).toEqual([0n, 0n, 100n, 0n]);
    const post = resolve(p.id, TF.postPendingTransfer, 60n);
    await ok(post);
    expect(await balances(a)).toEqual([0n, 60n, 0n, 0n]);
    expect(await balances(b)).toEqual([0n, 0n, 0n, 60n]);
    const [stored] = await ledger().lookupTransfers([post.id]);
    expect(stored).toMatchObject({ amount: 60n, debitAccountId: a, creditAccountId: b, ledger: 1, code: 1 });
    // Posting again, or voiding, is refused: the pending transfer is settled.
    expect(await ledger().createTransfers([resolve(p.id, TF.postPendingTransfer, 10n)])).toEqual([
      'pending_transfer_already_posted',
    ]);
    expect(await ledger().createTransfers([resolve(p.id, TF.voidPendingTransfer)])).toEqual([
      'pending_transfer_already_posted',
    ]);
  });

  it('posts the whole pending amount when the post amount is zero, and refuses more', async () => {
    // Proves: amount 0 on a post means "all of it"; a post above the pending amount is refused.
    const [a, b] = (await accounts(0, 0)) as [bigint, bigint];
    const p = transfer(a, b, 30n, { flags: TF.pending });
    await ok(p);
    expect(await ledger().createTransfers([resolve(p.id, TF.postPendingTransfer, 31n)])).toEqual([
      'exceeds_pending_transfer_amount',
    ]);
    await ok(resolve(p.id, TF.postPendingTransfer));
    expect(await balances(b)).toEqual([0n, 0n, 0n, 30n]);
  });

  it('voids a pending transfer: balances return to where they were', async () => {
    // Proves: a void releases the reservation and moves nothing; a second void is refused.
    const [a, b] = (await accounts(0, 0)) as [bigint, bigint];
    const p = transfer(a, b, 40n, { flags: TF.pending });
    await ok(p);
    expect(await ledger().createTransfers([resolve(p.id, TF.voidPendingTransfer, 39n)])).toEqual([
      'pending_transfer_has_different_amount',
    ]);
    await ok(resolve(p.id, TF.voidPendingTransfer, 40n));
    expect(await balances(a)).toEqual([0n, 0n, 0n, 0n]);
    expect(await balances(b)).toEqual([0n, 0n, 0n, 0n]);
    expect(await ledger().createTransfers([resolve(p.id, TF.voidPendingTransfer)])).toEqual([
      'pending_transfer_already_voided',
    ]);
  });

  it('expires a pending transfer after its timeout, through the sweep', async () => {
    // Proves: the sweep voids only due transfers; posting after the timeout is pending_transfer_expired.
    const [a, b] = (await accounts(0, 0)) as [bigint, bigint];
    const soon = transfer(a, b, 10n, { flags: TF.pending, timeout: 5 });
    const later = transfer(a, b, 20n, { flags: TF.pending, timeout: 60 });
    await ok(soon, later);
    clock.advanceSeconds(4);
    expect(await ledger().expirePendingTransfers()).toBe(0);
    expect(await balances(a)).toEqual([30n, 0n, 0n, 0n]);
    clock.advanceSeconds(2);
    expect(await ledger().expirePendingTransfers()).toBe(1);
    expect(await balances(a)).toEqual([20n, 0n, 0n, 0n]);
    expect(await ledger().createTransfers([resolve(soon.id, TF.postPendingTransfer)])).toEqual([
      'pending_transfer_expired',
    ]);
    // The other one is still pending and can be posted.
    await ok(resolve(later.id, TF.postPendingTransfer));
    expect(await balances(a)).toEqual([0n, 20n, 0n, 0n]);
  });

  it('refuses to post a pending transfer past its timeout even before the sweep ran', async () => {
    // Proves: expiry is decided by the event's timestamp, not by whether the sweep has run yet.
    const [a, b] = (await accounts(0, 0)) as [bigint, bigint];
    const p = transfer(a, b, 10n, { flags: TF.pending, timeout: 1 });
    await ok(p);
    clock.advanceSeconds(2);
    expect(await ledger().createTransfers([resolve(p.id, TF.postPendingTransfer)])).toEqual([
      'pending_transfer_expired',
    ]);
    expect(await balances(a)).toEqual([10n, 0n, 0n, 0n]); // still reserved until swept
    expect(await ledger().expirePendingTransfers()).toBeGreaterThanOrEqual(1);
    expect(await balances(a)).toEqual([0n, 0n, 0n, 0n]);
  });
});

describe('linked chains', () => {
  it('tells a replayed chain (committed before) from a failed one', async () => {
    const [funding, wallet, shop] = (await accounts(0, AF.debitsMustNotExceedCredits, 0)) as [bigint, bigint, bigint];
    const chain = [transfer(funding, wallet, 10n, { flags: TF.linked }), transfer(wallet, shop, 4n)];
    const first = await ledger().createTransfers(chain);
    expect(chainCommitted(first)).toBe(true);
    // Submitted again, twice at once: it fails on its first existing leg, and is committed.
    const [again, racing] = await Promise.all([ledger().createTransfers(chain), ledger().createTransfers(chain)]);
    expect(again).toEqual(['exists', 'linked_event_failed']);
    expect(chainCommitted(again)).toBe(true);
    expect(chainCommitted(racing ?? [])).toBe(true);
    expect(await balances(shop)).toEqual([0n, 0n, 0n, 4n]);
    // A chain that fails for a reason of its own is not committed.
    const broken = await ledger().createTransfers([
      transfer(funding, wallet, 1n, { flags: TF.linked }),
      transfer(wallet, shop, 100n),
    ]);
    expect(chainCommitted(broken)).toBe(false);
  });

  it('rolls back every leg of a chain when one leg fails, balances included', async () => {
    // Proves: all-or-nothing; earlier legs report linked_event_failed and moved nothing.
    const [funding, wallet, shop] = (await accounts(0, AF.debitsMustNotExceedCredits, 0)) as [bigint, bigint, bigint];
    await ok(transfer(funding, wallet, 50n));
    const legs = [
      transfer(funding, wallet, 10n, { flags: TF.linked }),
      transfer(wallet, shop, 30n, { flags: TF.linked }),
      transfer(wallet, shop, 31n), // 50 + 10 - 30 = 30 left: this leg exceeds the wallet's credits
    ];
    expect(await ledger().createTransfers(legs)).toEqual([
      'linked_event_failed',
      'linked_event_failed',
      'exceeds_credits',
    ]);
    expect(await balances(wallet)).toEqual([0n, 0n, 0n, 50n]);
    expect(await balances(shop)).toEqual([0n, 0n, 0n, 0n]);
    expect(await ledger().lookupTransfers(legs.map((l) => l.id))).toEqual([]);
    // The same legs with an affordable last leg all commit.
    const fixed = legs.map((l, i) => ({ ...l, amount: i === 2 ? 30n : l.amount }));
    await ok(...fixed);
    expect(await balances(wallet)).toEqual([0n, 60n, 0n, 60n]);
  });

  it('fails a chain left open at the end of a submission, and keeps the chains before it', async () => {
    // Proves: linked_event_chain_open on the last event; the chain is undone; other events stand.
    const [a, b] = (await accounts(0, 0)) as [bigint, bigint];
    const alone = transfer(a, b, 1n);
    const open = [transfer(a, b, 2n, { flags: TF.linked }), transfer(a, b, 3n, { flags: TF.linked })];
    expect(await ledger().createTransfers([alone, ...open])).toEqual([
      'ok',
      'linked_event_failed',
      'linked_event_chain_open',
    ]);
    expect(await balances(a)).toEqual([0n, 1n, 0n, 0n]);
  });

  it('reports linked_event_chain_open on the last event even when the open chain already failed', async () => {
    // Proves: TigerBeetle's precedence: chain_open wins over linked_event_failed on the last event.
    const [a, b] = (await accounts(0, 0)) as [bigint, bigint];
    const events = [transfer(a, a, 1n, { flags: TF.linked }), transfer(a, b, 2n, { flags: TF.linked })];
    expect(await ledger().createTransfers(events)).toEqual(['accounts_must_be_different', 'linked_event_chain_open']);
  });
});

describe('balancing and closing', () => {
  it('moves only what is available with balancing_debit', async () => {
    // Proves: a balancing debit is capped at the debit account's credit balance and stores what moved.
    const [funding, wallet, shop] = (await accounts(0, AF.debitsMustNotExceedCredits, 0)) as [bigint, bigint, bigint];
    await ok(transfer(funding, wallet, 70n));
    const sweep = transfer(wallet, shop, 1000n, { flags: TF.balancingDebit });
    await ok(sweep);
    expect(await balances(wallet)).toEqual([0n, 70n, 0n, 70n]);
    const [stored] = await ledger().lookupTransfers([sweep.id]);
    expect(stored?.amount).toBe(70n);
    // Replaying with any bound at least what moved is `exists`; a smaller bound is not.
    expect(await ledger().createTransfers([{ ...sweep, amount: 70n }])).toEqual(['exists']);
    expect(await ledger().createTransfers([{ ...sweep, amount: 69n }])).toEqual(['exists_with_different_amount']);
  });

  it('closes an account with a pending closing transfer, and reopens it with a void', async () => {
    // Proves: closing_debit closes the account for new transfers; voiding the closer reopens it.
    const [a, b] = (await accounts(0, 0)) as [bigint, bigint];
    await ok(transfer(b, a, 5n));
    const closer = transfer(a, b, 5n, { flags: TF.pending | TF.closingDebit });
    await ok(closer);
    expect((await account(a)).flags & AF.closed).toBe(AF.closed);
    expect(await ledger().createTransfers([transfer(a, b, 1n)])).toEqual(['debit_account_already_closed']);
    expect(await ledger().createTransfers([transfer(b, a, 1n)])).toEqual(['credit_account_already_closed']);
    await ok(resolve(closer.id, TF.voidPendingTransfer));
    expect((await account(a)).flags & AF.closed).toBe(0);
    await ok(transfer(a, b, 1n));
  });

  it('answers pending_transfer_expired before debit_account_already_closed', async () => {
    // Proves: results.ts precedence: an expired pending transfer on a since-closed account is "expired".
    const [a, b] = (await accounts(0, 0)) as [bigint, bigint];
    const p = transfer(a, b, 3n, { flags: TF.pending, timeout: 1 });
    await ok(p, transfer(a, b, 1n, { flags: TF.pending | TF.closingDebit }));
    clock.advanceSeconds(2);
    expect(await ledger().createTransfers([resolve(p.id, TF.postPendingTransfer)])).toEqual([
      'pending_transfer_expired',
    ]);
    expect(await ledger().expirePendingTransfers()).toBeGreaterThanOrEqual(1);
  });

  it('refuses a closing transfer that is not pending', async () => {
    // Proves: closing flags need the pending flag (closing_transfer_must_be_pending).
    const [a, b] = (await accounts(0, 0)) as [bigint, bigint];
    expect(await ledger().createTransfers([transfer(a, b, 1n, { flags: TF.closingCredit })])).toEqual([
      'closing_transfer_must_be_pending',
    ]);
  });
});

describe('history and queries', () => {
  it('keeps the balances after every transfer of a history account', async () => {
    // Proves: getAccountBalances returns one row per change, in order, with increasing timestamps.
    const [h, other] = (await accounts(AF.history, 0)) as [bigint, bigint];
    const p = transfer(other, h, 10n, { flags: TF.pending, timeout: 3 });
    await ok(transfer(other, h, 5n), transfer(h, other, 2n), p);
    clock.advanceSeconds(4);
    expect(await ledger().expirePendingTransfers()).toBeGreaterThanOrEqual(1);
    const rows = await ledger().getAccountBalances({ accountId: h, limit: 10 });
    expect(rows.map((r) => [r.debitsPending, r.debitsPosted, r.creditsPending, r.creditsPosted])).toEqual([
      [0n, 0n, 0n, 5n],
      [0n, 2n, 0n, 5n],
      [0n, 2n, 10n, 5n],
      [0n, 2n, 0n, 5n], // the expiry
    ]);
    const ts = rows.map((r) => r.timestamp);
    expect([...ts].sort((x, y) => (x < y ? -1 : 1))).toEqual(ts);
    expect(new Set(ts).size).toBe(ts.length);
    // An account without the flag keeps no history.
    expect(await ledger().getAccountBalances({ accountId: other, limit: 10 })).toEqual([]);
    // Reversed and limited.
    const last = await ledger().getAccountBalances({ accountId: h, limit: 1, reversed: true });
    expect(last.map((r) => r.timestamp)).toEqual([ts[3]]);
  });

  it('pages through an account transfers with limit, cursor, reversed, code and side filters', async () => {
    // Proves: getAccountTransfers honours every filter and a timestampMin cursor pages without gaps.
    const [a, b, c] = (await accounts(0, 0, 0)) as [bigint, bigint, bigint];
    const events = [
      transfer(a, b, 1n, { code: 7 }),
      transfer(b, a, 2n, { code: 8 }),
      transfer(a, c, 3n, { code: 7 }),
      transfer(c, a, 4n, { code: 8 }),
      transfer(b, c, 5n, { code: 7 }), // does not touch a
      transfer(a, b, 6n, { code: 8 }),
    ];
    for (const e of events) await ok(e); // one submission each: distinct batches
    const amounts = (ts: { amount: bigint }[]) => ts.map((t) => t.amount);

    expect(amounts(await ledger().getAccountTransfers({ accountId: a, limit: 100 }))).toEqual([1n, 2n, 3n, 4n, 6n]);
    // Paging by cursor: the next page starts just after the last timestamp seen.
    const page1 = await ledger().getAccountTransfers({ accountId: a, limit: 2 });
    expect(amounts(page1)).toEqual([1n, 2n]);
    const page2 = await ledger().getAccountTransfers({
      accountId: a,
      limit: 2,
      timestampMin: (page1.at(-1)?.timestamp ?? 0n) + 1n,
    });
    expect(amounts(page2)).toEqual([3n, 4n]);
    const page3 = await ledger().getAccountTransfers({
      accountId: a,
      limit: 2,
      timestampMin: (page2.at(-1)?.timestamp ?? 0n) + 1n,
    });
    expect(amounts(page3)).toEqual([6n]);
    // Reversed, with a timestampMax cursor.
    const newest = await ledger().getAccountTransfers({ accountId: a, limit: 2, reversed: true });
    expect(amounts(newest)).toEqual([6n, 4n]);
    const older = await ledger().getAccountTransfers({
      accountId: a,
      limit: 2,
      reversed: true,
      timestampMax: (newest.at(-1)?.timestamp ?? 0n) - 1n,
    });
    expect(amounts(older)).toEqual([3n, 2n]);
    // Filters.
    expect(amounts(await ledger().getAccountTransfers({ accountId: a, limit: 100, code: 8 }))).toEqual([2n, 4n, 6n]);
    expect(amounts(await ledger().getAccountTransfers({ accountId: a, limit: 100, credits: false }))).toEqual([
      1n,
      3n,
      6n,
    ]);
    expect(amounts(await ledger().getAccountTransfers({ accountId: a, limit: 100, debits: false }))).toEqual([2n, 4n]);
    expect(await ledger().getAccountTransfers({ accountId: a, limit: 100, debits: false, credits: false })).toEqual([]);
    expect(amounts(await ledger().getAccountTransfers({ accountId: a, limit: 100, debits: false, code: 7 }))).toEqual(
      [],
    );
    // An invalid limit is a programming error.
    await expect(async () => ledger().getAccountTransfers({ accountId: a, limit: 0 })).rejects.toThrow(RangeError);
  });
});

describe('idempotency', () => {
  it('answers a replay with exists and moves nothing twice', async () => {
    // Proves: resubmitting the same transfer is `exists`; a changed amount is exists_with_different_amount.
    const [a, b] = (await accounts(0, 0)) as [bigint, bigint];
    const t = transfer(a, b, 25n, { userData64: 3n });
    await ok(t);
    const count = async () => (await ledger().getAccountTransfers({ accountId: a, limit: 100 })).length;
    expect(await count()).toBe(1);
    expect(await ledger().createTransfers([t])).toEqual(['exists']);
    expect(await ledger().createTransfers([{ ...t, amount: 26n }])).toEqual(['exists_with_different_amount']);
    expect(await ledger().createTransfers([{ ...t, userData64: 4n }])).toEqual(['exists_with_different_user_data_64']);
    expect(await ledger().createTransfers([{ ...t, flags: TF.pending }])).toEqual(['exists_with_different_flags']);
    expect(await count()).toBe(1);
    expect(await balances(a)).toEqual([0n, 25n, 0n, 0n]);
    const [stored] = await ledger().lookupTransfers([t.id]);
    expect(stored?.amount).toBe(25n);
  });

  it('answers an account replay with exists, or the first field that differs', async () => {
    // Proves: account creation is idempotent too.
    const e: AccountInput = { id: id(), ledger: 1, code: 1, flags: AF.history, userData32: 9 };
    expect(await ledger().createAccounts([e])).toEqual(['ok']);
    expect(await ledger().createAccounts([e])).toEqual(['exists']);
    expect(await ledger().createAccounts([{ ...e, flags: 0 }])).toEqual(['exists_with_different_flags']);
    expect(await ledger().createAccounts([{ ...e, code: 2 }])).toEqual(['exists_with_different_code']);
    expect(await ledger().createAccounts([{ ...e, userData32: 1, code: 2 }])).toEqual([
      'exists_with_different_user_data_32',
    ]);
  });

  it('lets later events of one submission see earlier ones', async () => {
    // Proves: within one createTransfers call, events apply in order (create, then post, then replay).
    const [a, b] = (await accounts(0, AF.creditsMustNotExceedDebits)) as [bigint, bigint];
    const fund = transfer(b, a, 10n);
    const p = transfer(a, b, 8n, { flags: TF.pending });
    const post = resolve(p.id, TF.postPendingTransfer, 8n);
    expect(await ledger().createTransfers([p, fund, post, post, resolve(p.id, TF.voidPendingTransfer)])).toEqual([
      'exceeds_debits', // b's credits may not exceed its debits, and b has no debits yet
      'ok',
      'pending_transfer_not_found', // p was refused above
      'pending_transfer_not_found',
      'pending_transfer_not_found',
    ]);
    const p2 = { ...p, id: id() };
    const post2 = resolve(p2.id, TF.postPendingTransfer, 8n);
    expect(await ledger().createTransfers([p2, post2, post2, resolve(p2.id, TF.voidPendingTransfer)])).toEqual([
      'ok',
      'ok',
      'exists',
      'pending_transfer_already_posted',
    ]);
    expect(await balances(b)).toEqual([0n, 10n, 0n, 8n]);
  });
});
