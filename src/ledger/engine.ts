import { randomBytes } from 'node:crypto';
import { Batcher, type Lane } from '../core/batcher.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import type { Db } from '../core/db/index.ts';
import { u128Max } from '../core/ids.ts';
import { limits } from '../core/limits.ts';
import type { CreateAccountResult, CreateTransferResult } from './results.ts';
import { type AccountState, StateMachine } from './state-machine.ts';
import * as store from './store.ts';
import {
  type Account,
  type AccountBalance,
  type AccountFilter,
  type AccountInput,
  type Transfer,
  TransferFlags,
  type TransferInput,
} from './types.ts';

type Request =
  | { kind: 'accounts'; events: readonly AccountInput[] }
  | { kind: 'transfers'; events: readonly TransferInput[] }
  | { kind: 'expire' };
type Response = CreateAccountResult[] | CreateTransferResult[] | number;

/** What one committed batch did, for metrics. */
export interface BatchStats {
  events: number;
  requests: number;
  durationMs: number;
  /** Where the batch's time went: lock, load, apply (in memory), write, commit. */
  phasesMs: { lock: number; load: number; apply: number; write: number; commit: number };
}

export interface LedgerOptions {
  clock?: Clock;
  /** Called after every committed batch. */
  onBatch?: (stats: BatchStats) => void;
  /** Events one batch of the bulk lane carries (`limits.bulkBatchEventsMax` when absent). */
  bulkBatchEventsMax?: number | undefined;
  /** Accounts kept in memory between batches (`limits.accountCacheMax` when absent). */
  accountCacheMax?: number;
}

const usableId = (id: unknown): id is bigint => typeof id === 'bigint' && id > 0n && id < u128Max;

/**
 * The ledger engine: TigerBeetle's semantics on PostgreSQL, with group commit. Every write goes
 * through one batcher per process; every batch is one database transaction that first takes the
 * ledger's commit lock, so batches from any number of processes apply in one serial order.
 */
export class Ledger {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #onBatch: ((s: BatchStats) => void) | undefined;
  readonly #batcher: Batcher<Request, Response>;
  /**
   * Accounts as of the last batch this process applied. Valid while `#cacheVersion` equals the
   * version token in ledger_state (after the batches in flight commit): no other process wrote.
   */
  readonly #cache = new Map<bigint, AccountState>();
  /** The version token the cache reflects; null while it is invalid or being changed. */
  #cacheVersion: bigint | null = null;
  /** The last timestamp issued by this process (valid with the cache). */
  #lastTimestamp = 0n;
  /** Numbers batches, to attach each account once per batch without a set of ids. */
  #batchSeq = 0;
  /** Events one batch of the bulk lane carries: a bulk submission larger than this is one batch alone. */
  readonly bulkBatchEventsMax: number;
  readonly #accountCacheMax: number;
  /** Careful batches run one at a time, and never beside a speculation being decided. */
  readonly #careful = new Mutex();
  /** The reads of accounts ahead of submissions under way (see `prefetchAccounts`). */
  readonly #prefetches = new Set<Prefetch>();

  constructor(db: Db, options: LedgerOptions = {}) {
    this.#db = db;
    this.#clock = options.clock ?? systemClock;
    this.#onBatch = options.onBatch;
    this.bulkBatchEventsMax = options.bulkBatchEventsMax ?? limits.bulkBatchEventsMax;
    this.#accountCacheMax = options.accountCacheMax ?? limits.accountCacheMax;
    this.#batcher = new Batcher((requests) => this.#executeBatch(requests), {
      bulkBatchEventsMax: this.bulkBatchEventsMax,
    });
  }

  /** Creates accounts; one result per event, in order. */
  createAccounts(events: readonly AccountInput[]): Promise<CreateAccountResult[]> {
    if (events.length === 0) return Promise.resolve([]);
    return this.#batcher.submit({ kind: 'accounts', events }, events.length) as Promise<CreateAccountResult[]>;
  }

  /**
   * Creates transfers; one result per event, in order. A background job's pages go in the `bulk`
   * lane: applied only while no other submission waits, in batches of at most
   * `bulkBatchEventsMax` events, so that payments meanwhile wait behind one small batch at most.
   */
  createTransfers(events: readonly TransferInput[], lane: Lane = 'interactive'): Promise<CreateTransferResult[]> {
    if (events.length === 0) return Promise.resolve([]);
    return this.#batcher.submit({ kind: 'transfers', events }, events.length, lane) as Promise<CreateTransferResult[]>;
  }

  /**
   * Reads the accounts among `ids` that the cache lacks, outside the commit lock, so that a
   * submission made next finds them cached (and speculates) instead of loading them under the
   * lock while everyone else waits: call it before submitting transfers on many accounts this
   * process has not touched lately (a distribution to a million holders loads a million
   * accounts, a red packet rain two hundred thousand wallets). A row read here goes into the
   * cache only if no batch can have written its account since the read began: a batch of this
   * process that touches an account holds it in the cache until it is evicted, so a row whose
   * account is cached by then, or was evicted meanwhile, stays out; another process's batch
   * changes the version token, which drops the whole cache at this process's next batch, so a
   * read that saw a drop stays out entirely. A failed read is forgotten: the batch loads what it
   * needs itself. Submissions stay in call order: this is a separate call, never inside one.
   */
  async prefetchAccounts(accountIds: Iterable<bigint>): Promise<void> {
    const ids = new Set<bigint>();
    for (const id of accountIds) if (usableId(id) && !this.#cache.has(id)) ids.add(id);
    if (ids.size === 0) return;
    const read: Prefetch = { ids, stale: new Set(), dropped: false };
    this.#prefetches.add(read);
    try {
      const loaded = new Map<bigint, AccountState>();
      await store.loadAccounts(this.#db, loaded, [...ids]);
      if (read.dropped) return;
      for (const [id, s] of loaded) if (!this.#cache.has(id) && !read.stale.has(id)) this.#cache.set(id, s);
      // Speculative batches never trim: the cache is trimmed here, between careful batches (one
      // may rely on an account staying cached from its look at the cache to its attach).
      if (this.#cache.size > this.#accountCacheMax) void this.#careful.run(async () => this.#trimCache());
    } catch {
      // Nothing to undo: the cache was not touched.
    } finally {
      this.#prefetches.delete(read);
    }
  }

  /** Voids pending transfers whose timeout has passed (at most one sweep batch); returns how many. */
  expirePendingTransfers(): Promise<number> {
    return this.#batcher.submit({ kind: 'expire' }, 1) as Promise<number>;
  }

  lookupAccounts(ids: readonly bigint[]): Promise<Account[]> {
    assertLookup(ids);
    return store.selectAccounts(this.#db, ids.filter(usableId));
  }

  lookupTransfers(ids: readonly bigint[]): Promise<Transfer[]> {
    assertLookup(ids);
    return store.selectTransfers(this.#db, ids.filter(usableId));
  }

  /** One page of an account's transfers, oldest first unless `reversed`. */
  getAccountTransfers(filter: AccountFilter): Promise<Transfer[]> {
    if (!validFilter(filter)) return Promise.resolve([]);
    return store.selectAccountTransfers(this.#db, filter);
  }

  /** One page of the balances of an account flagged `history`, after each of its transfers. */
  getAccountBalances(filter: AccountFilter): Promise<AccountBalance[]> {
    if (!validFilter(filter)) return Promise.resolve([]);
    return store.selectAccountBalances(this.#db, filter);
  }

  /** Refuses new work, and resolves when every accepted event is answered. */
  async close(): Promise<void> {
    await this.#batcher.close();
  }

  /**
   * Runs one batch; up to two run at once. A batch of plain transfers whose accounts are all
   * cached is applied at once, on top of the batch still being written ("speculation"); its
   * transaction then proves, under the commit lock, that the books are exactly what it assumed
   * (the version token) and that its transfer ids were new (`on conflict do nothing` skipped
   * nothing). Everything else, and every batch whose proof fails, runs the careful way: one at a
   * time, state loaded under the lock. Nothing is answered before its commit.
   */
  async #executeBatch(requests: readonly Request[]): Promise<Response[]> {
    try {
      const out = await this.#speculate(requests);
      if (out) return out;
    } catch {
      // The cache holds what the failed speculation applied: no batch may speculate on it from
      // now on, and it is emptied in turn with the careful batches — not at once, since a careful
      // batch of the other slot may be between loading what the cache lacked and attaching what
      // it had, and would find accounts gone (a wrong "not found").
      this.#cacheVersion = null;
      return this.#careful.run(() => {
        this.#dropCache();
        return this.#runCarefully(requests);
      });
    }
    return this.#careful.run(() => this.#runCarefully(requests));
  }

  /**
   * Attaches every account of a batch from the cache, in one pass; returns null when the batch
   * cannot speculate (not plain transfers only, an account not cached, or a careful batch busy).
   */
  #speculativeMachine(requests: readonly Request[], nextTimestamp: () => bigint): StateMachine | null {
    if (this.#cacheVersion === null || this.#careful.busy) return null;
    const resolving = TransferFlags.postPendingTransfer | TransferFlags.voidPendingTransfer;
    const sm = new StateMachine(nextTimestamp);
    const batch = ++this.#batchSeq;
    const attach = (id: bigint): boolean => {
      const s = this.#cache.get(id);
      if (!s) return false;
      if (s.batch !== batch) {
        s.batch = batch;
        snapshot(s);
        sm.accounts.set(id, s);
      }
      return true;
    };
    for (const r of requests) {
      if (r.kind !== 'transfers') return null;
      for (const e of r.events) {
        if ((e.flags ?? 0) & resolving) return null;
        if (!attach(e.debitAccountId) || !attach(e.creditAccountId)) return null;
      }
    }
    return sm;
  }

  /** Speculates when the batch allows it (see `#executeBatch`); null when it does not. */
  async #speculate(requests: readonly Request[]): Promise<Response[] | null> {
    const started = performance.now();
    const expected = this.#cacheVersion;
    const now = this.#clock.nowNs();
    let next = now > this.#lastTimestamp ? now : this.#lastTimestamp + 1n;
    const sm = this.#speculativeMachine(requests, () => next++);
    if (!sm) return null;
    const version = newVersion();
    const out = applyAll(sm, requests, [], now);
    this.#cacheVersion = version;
    this.#lastTimestamp = next - 1n;
    const write = store.prepareWrite(sm, next - 1n, version, failedIds(requests, out));
    const applied = performance.now();
    await this.#db.transaction(async (tx) => {
      const state = await store.lockLedger(tx);
      if (state.version !== expected) throw new StaleSpeculation();
      await store.writeBatch(tx, write);
    });
    this.#report(requests, started, {
      lock: 0,
      load: 0,
      apply: applied - started,
      write: performance.now() - applied,
      commit: 0,
    });
    return out;
  }

  async #runCarefully(requests: readonly Request[]): Promise<Response[]> {
    try {
      return await this.#attempt(requests, false);
    } catch {
      this.#dropCache();
      try {
        return await this.#attempt(requests, true);
      } catch (error) {
        this.#dropCache();
        throw error;
      }
    }
  }

  /** One careful attempt: lock, load what the cache lacks, apply, write, commit. */
  async #attempt(requests: readonly Request[], lookupIds: boolean): Promise<Response[]> {
    const started = performance.now();
    const phasesMs = { lock: 0, load: 0, apply: 0, write: 0, commit: 0 };
    let mark = started;
    const lap = (phase: keyof typeof phasesMs) => {
      const now = performance.now();
      phasesMs[phase] += now - mark;
      mark = now;
    };
    const version = newVersion();
    let lastTimestamp = 0n;
    const responses = await this.#db.transaction(async (tx) => {
      const state = await store.lockLedger(tx);
      if (state.version !== this.#cacheVersion) this.#dropCache();
      // From here until the commit the cache holds uncommitted state: nobody may speculate on it.
      this.#cacheVersion = null;
      lap('lock');
      const now = this.#clock.nowNs();
      let next = now > state.lastTimestamp ? now : state.lastTimestamp + 1n;
      const sm = new StateMachine(() => next++);

      const dueIds = requests.some((r) => r.kind === 'expire')
        ? await store.selectDuePending(tx, now, limits.expiryBatchMax)
        : [];
      const transferIds = new Set<bigint>(dueIds);
      const accountIds = new Set<bigint>();
      collectIds(requests, lookupIds, transferIds, accountIds);
      await store.loadTransfers(tx, sm, transferIds);
      for (const t of sm.transfers.values()) {
        if (t.flags & TransferFlags.pending) {
          accountIds.add(t.debitAccountId);
          accountIds.add(t.creditAccountId);
        }
      }
      const missing = [...accountIds].filter((id) => !this.#cache.has(id));
      await store.loadAccounts(tx, this.#cache, missing);
      this.#attachCached(sm, accountIds);
      lap('load');
      const out = applyAll(sm, requests, dueIds, now);
      for (const created of sm.createdAccounts) this.#cache.set(created.account.id, created);
      lastTimestamp = next - 1n;
      const write = store.prepareWrite(sm, lastTimestamp, version, lookupIds ? [] : failedIds(requests, out));
      lap('apply');
      await store.writeBatch(tx, write);
      lap('write');
      return out;
    });
    lap('commit');
    this.#cacheVersion = version;
    this.#lastTimestamp = lastTimestamp;
    this.#trimCache();
    this.#report(requests, started, phasesMs);
    return responses;
  }

  #report(requests: readonly Request[], started: number, phasesMs: BatchStats['phasesMs']): void {
    this.#onBatch?.({
      events: requests.reduce((n, r) => n + (r.kind === 'expire' ? 1 : r.events.length), 0),
      requests: requests.length,
      durationMs: performance.now() - started,
      phasesMs,
    });
  }

  /**
   * Puts every cached account the batch touches into the state machine, each with a snapshot of
   * its balances so that the write is a net delta. Accounts not found stay out: "not found".
   */
  #attachCached(sm: StateMachine, ids: ReadonlySet<bigint>): void {
    for (const id of ids) {
      const s = this.#cache.get(id);
      if (!s) continue;
      snapshot(s);
      sm.accounts.set(id, s);
    }
  }

  #dropCache(): void {
    this.#cache.clear();
    this.#cacheVersion = null;
    for (const read of this.#prefetches) read.dropped = true;
  }

  /** Forgets the oldest cached accounts beyond the limit (Map keeps insertion order). */
  #trimCache(): void {
    let excess = this.#cache.size - this.#accountCacheMax;
    if (excess <= 0) return;
    for (const id of this.#cache.keys()) {
      if (excess-- <= 0) break;
      this.#cache.delete(id);
      for (const read of this.#prefetches) if (read.ids.has(id)) read.stale.add(id);
    }
  }
}

/**
 * Remembers an account's balances at the start of a batch, reusing the object (no garbage). Safe
 * because a batch serialises its write right after applying, before any other batch attaches.
 */
function snapshot(s: AccountState): void {
  const a = s.account;
  const l = s.loaded;
  if (!l) {
    s.loaded = { dp: a.debitsPending, dpo: a.debitsPosted, cp: a.creditsPending, cpo: a.creditsPosted, flags: a.flags };
    return;
  }
  l.dp = a.debitsPending;
  l.dpo = a.debitsPosted;
  l.cp = a.creditsPending;
  l.cpo = a.creditsPosted;
  l.flags = a.flags;
}

function applyAll(sm: StateMachine, requests: readonly Request[], dueIds: readonly bigint[], now: bigint): Response[] {
  return requests.map((r) => {
    if (r.kind === 'accounts') return sm.createAccounts(r.events);
    if (r.kind === 'transfers') return sm.createTransfers(r.events);
    return sm.expire(dueIds, now);
  });
}

/**
 * Ids of transfer events that failed with something other than `exists…`. When ids were not
 * looked up, one of them may be stored already, and then its answer must be `exists…`: the write
 * checks these ids and sends the batch down the careful path if any is found.
 */
function failedIds(requests: readonly Request[], responses: readonly Response[]): bigint[] {
  const ids: bigint[] = [];
  requests.forEach((r, i) => {
    if (r.kind !== 'transfers') return;
    const results = responses[i] as CreateTransferResult[];
    r.events.forEach((e, j) => {
      const result = results[j];
      if (result !== 'ok' && !result?.startsWith('exists') && usableId(e.id)) ids.push(e.id);
    });
  });
  return ids;
}

/** A random, non-zero version token for the books (int8). */
function newVersion(): bigint {
  return randomBytes(8).readBigInt64BE() || 1n;
}

/** A read of accounts for the cache, and what happened to the cache while it ran. */
interface Prefetch {
  ids: ReadonlySet<bigint>;
  /** Accounts evicted while the read ran: a batch may have written them since. */
  stale: Set<bigint>;
  /** The whole cache was dropped while the read ran. */
  dropped: boolean;
}

/** The books were not what a speculative batch assumed: it runs again, carefully. */
class StaleSpeculation extends Error {}

/** A minimal async mutex: runs tasks one at a time, in arrival order. */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  get busy(): boolean {
    return this.#waiting > 0;
  }
  run<T>(task: () => Promise<T>): Promise<T> {
    this.#waiting++;
    const result = this.#tail.then(task);
    this.#tail = result.then(
      () => this.#waiting--,
      () => this.#waiting--,
    );
    return result;
  }
}

/** The ids a batch must see: pending transfers always, transfer ids only when `careful`. */
function collectIds(
  requests: readonly Request[],
  careful: boolean,
  transferIds: Set<bigint>,
  accountIds: Set<bigint>,
): void {
  for (const r of requests) {
    if (r.kind === 'accounts') {
      for (const e of r.events) if (usableId(e.id)) accountIds.add(e.id);
    } else if (r.kind === 'transfers') {
      for (const e of r.events) {
        if (careful && usableId(e.id)) transferIds.add(e.id);
        if (usableId(e.pendingId)) transferIds.add(e.pendingId);
        if (usableId(e.debitAccountId)) accountIds.add(e.debitAccountId);
        if (usableId(e.creditAccountId)) accountIds.add(e.creditAccountId);
      }
    }
  }
}

function assertLookup(ids: readonly bigint[]): void {
  if (ids.length > limits.lookupIdsMax) throw new RangeError(`at most ${limits.lookupIdsMax} ids per lookup`);
}

function validFilter(f: AccountFilter): boolean {
  if (!Number.isInteger(f.limit) || f.limit <= 0 || f.limit > limits.queryPageMax) {
    throw new RangeError(`limit must be an integer from 1 to ${limits.queryPageMax}`);
  }
  return usableId(f.accountId);
}
