import { type Clock, systemClock } from '../core/clock.ts';
import type { Db } from '../core/db/index.ts';
import { u128Max } from '../core/ids.ts';
import { limits } from '../core/limits.ts';
import { Batcher } from './batcher.ts';
import type { CreateAccountResult, CreateTransferResult } from './results.ts';
import { StateMachine } from './state-machine.ts';
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
}

export interface LedgerOptions {
  clock?: Clock;
  /** Called after every committed batch. */
  onBatch?: (stats: BatchStats) => void;
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
  #sweep: NodeJS.Timeout | undefined;

  constructor(db: Db, options: LedgerOptions = {}) {
    this.#db = db;
    this.#clock = options.clock ?? systemClock;
    this.#onBatch = options.onBatch;
    this.#batcher = new Batcher((requests) => this.#executeBatch(requests));
  }

  /** Creates accounts; one result per event, in order. */
  createAccounts(events: readonly AccountInput[]): Promise<CreateAccountResult[]> {
    if (events.length === 0) return Promise.resolve([]);
    return this.#batcher.submit({ kind: 'accounts', events }, events.length) as Promise<CreateAccountResult[]>;
  }

  /** Creates transfers; one result per event, in order. */
  createTransfers(events: readonly TransferInput[]): Promise<CreateTransferResult[]> {
    if (events.length === 0) return Promise.resolve([]);
    return this.#batcher.submit({ kind: 'transfers', events }, events.length) as Promise<CreateTransferResult[]>;
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

  /** Starts the background sweep that voids expired pending transfers. */
  startExpirySweep(intervalMs: number = limits.expirySweepIntervalMs): void {
    if (this.#sweep) return;
    const tick = async () => {
      try {
        // Keep sweeping while whole sweep batches come back: a backlog drains at full speed.
        while ((await this.expirePendingTransfers()) === limits.expiryBatchMax) {}
      } catch {
        // A failed sweep is retried at the next tick; nothing was written.
      }
      if (this.#sweep) this.#sweep = setTimeout(tick, intervalMs);
    };
    this.#sweep = setTimeout(tick, intervalMs);
  }

  /** Stops the sweep, refuses new work, and resolves when every accepted event is answered. */
  async close(): Promise<void> {
    if (this.#sweep) clearTimeout(this.#sweep);
    this.#sweep = undefined;
    await this.#batcher.close();
  }

  async #executeBatch(requests: readonly Request[]): Promise<Response[]> {
    const started = performance.now();
    const responses = await this.#db.transaction(async (tx) => {
      const last = await store.lockLedger(tx);
      const now = this.#clock.nowNs();
      let next = now > last ? now : last + 1n;
      const sm = new StateMachine(() => next++);

      const dueIds = requests.some((r) => r.kind === 'expire')
        ? await store.selectDuePending(tx, now, limits.expiryBatchMax)
        : [];
      const transferIds = new Set<bigint>(dueIds);
      const accountIds = new Set<bigint>();
      collectIds(requests, transferIds, accountIds);
      await store.loadTransfers(tx, sm, transferIds);
      for (const t of sm.transfers.values()) {
        if (t.flags & TransferFlags.pending) {
          accountIds.add(t.debitAccountId);
          accountIds.add(t.creditAccountId);
        }
      }
      await store.loadAccounts(tx, sm, accountIds);

      const out: Response[] = requests.map((r) => {
        if (r.kind === 'accounts') return sm.createAccounts(r.events);
        if (r.kind === 'transfers') return sm.createTransfers(r.events);
        return sm.expire(dueIds, now);
      });
      await store.writeBatch(tx, sm, next - 1n);
      return out;
    });
    this.#onBatch?.({
      events: requests.reduce((n, r) => n + (r.kind === 'expire' ? 1 : r.events.length), 0),
      requests: requests.length,
      durationMs: performance.now() - started,
    });
    return responses;
  }
}

function collectIds(requests: readonly Request[], transferIds: Set<bigint>, accountIds: Set<bigint>): void {
  for (const r of requests) {
    if (r.kind === 'accounts') {
      for (const e of r.events) if (usableId(e.id)) accountIds.add(e.id);
    } else if (r.kind === 'transfers') {
      for (const e of r.events) {
        if (usableId(e.id)) transferIds.add(e.id);
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
