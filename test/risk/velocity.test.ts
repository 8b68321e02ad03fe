/**
 * The velocity counters against a store in memory: processes that mirror the store see each
 * other's payments after a sync without reading key by key; a store too big to mirror makes a
 * process read each new key first and read back the ones it uses; a flush that fails is kept; a
 * window slides with the clock; concurrent adds in one process are all counted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { limits } from '../../src/core/limits.ts';
import { type CounterRow, type CounterStore, Velocity } from '../../src/risk/index.ts';

class MemoryStore implements CounterStore {
  readonly rows = new Map<string, CounterRow>();
  keyReads = 0;
  tooBig = false;
  failing = false;
  readonly written = new Map<string, number>();
  async add(rows: readonly CounterRow[], nowMs: number): Promise<void> {
    if (this.failing) throw new Error('store down');
    for (const r of rows) {
      const id = `${r.key}@${r.bucket}`;
      const had = this.rows.get(id);
      this.rows.set(id, { ...r, count: (had?.count ?? 0) + r.count, fen: (had?.fen ?? 0n) + r.fen });
      this.written.set(id, nowMs);
    }
  }
  async readWritten(sinceMs: number): Promise<CounterRow[] | null> {
    if (this.tooBig) return null;
    return [...this.rows].filter(([id]) => (this.written.get(id) ?? 0) >= sinceMs).map(([, r]) => r);
  }
  async read(keys: readonly string[], since: number): Promise<CounterRow[]> {
    this.keyReads++;
    return [...this.rows.values()].filter((r) => keys.includes(r.key) && r.bucket >= since);
  }
  async readSince(since: number): Promise<CounterRow[] | null> {
    if (this.tooBig) return null;
    return [...this.rows.values()].filter((r) => r.bucket >= since);
  }
  async prune(before: number): Promise<void> {
    for (const [id, r] of this.rows) if (r.bucket < before) this.rows.delete(id);
  }
}

const t0 = Date.UTC(2026, 10, 11);
const minute = 60_000;

describe('velocity counters', () => {
  it('mirrors: each process sees the others’ payments after a sync, reading no key on its own', async () => {
    const store = new MemoryStore();
    const [a, b] = [new Velocity(store), new Velocity(store)];
    await a.ensure(['user:1'], t0);
    await b.ensure(['user:1'], t0);
    a.add(['user:1'], 100n, t0);
    b.add(['user:1'], 50n, t0 + 1);
    expect(a.sum('user:1', minute, t0 + 2)).toEqual({ count: 1, fen: 100n });
    await a.sync(t0 + 1000);
    await b.sync(t0 + 1000);
    await a.sync(t0 + 2000);
    expect(a.sum('user:1', minute, t0 + 2000)).toEqual({ count: 2, fen: 150n });
    expect(b.sum('user:1', minute, t0 + 2000)).toEqual({ count: 2, fen: 150n });
    // A key neither process held: another's payments arrive with the sync, still without a key read.
    b.add(['device:x'], 7n, t0 + 2500);
    await b.sync(t0 + 3000);
    await a.sync(t0 + 3000);
    await a.ensure(['device:x'], t0 + 3000);
    expect(a.sum('device:x', minute, t0 + 3000)).toEqual({ count: 1, fen: 7n });
    expect([a.whole, b.whole, store.keyReads]).toEqual([true, true, 0]);
  });

  it('starts from what the store holds over the longest window', async () => {
    const store = new MemoryStore();
    const first = new Velocity(store);
    await first.ensure(['card:9'], t0);
    first.add(['card:9'], 300n, t0);
    await first.sync(t0 + 1000);
    const restarted = new Velocity(store);
    await restarted.ensure(['card:9'], t0 + 2000);
    expect(restarted.sum('card:9', limits.riskWindowMaxMs, t0 + 2000)).toEqual({ count: 1, fen: 300n });
  });

  it('reads each new key from a store too big to mirror, and reads back the keys in use', async () => {
    const store = new MemoryStore();
    store.tooBig = true;
    const [a, b] = [new Velocity(store), new Velocity(store)];
    await a.ensure(['user:2'], t0);
    a.add(['user:2'], 10n, t0);
    await a.sync(t0 + 1000);
    await b.ensure(['user:2'], t0 + 1000);
    expect(b.sum('user:2', minute, t0 + 1000)).toEqual({ count: 1, fen: 10n });
    b.add(['user:2'], 10n, t0 + 1100);
    await b.sync(t0 + 2000);
    await a.sync(t0 + 2000);
    expect(a.sum('user:2', minute, t0 + 2000)).toEqual({ count: 2, fen: 20n });
    expect(a.whole).toBe(false);
    expect(store.keyReads).toBeGreaterThan(0);
  });

  it('reads back a flush that came late, of old buckets', async () => {
    const store = new MemoryStore();
    const [a, slow] = [new Velocity(store), new Velocity(store)];
    await a.ensure(['user:5'], t0);
    await slow.ensure(['user:5'], t0);
    slow.add(['user:5'], 9n, t0);
    await a.sync(t0 + 1000);
    await a.sync(t0 + 60_000);
    // The slow process flushes its old bucket a minute late; the next read back still finds it.
    await slow.sync(t0 + 61_000);
    await a.sync(t0 + 62_000);
    expect(a.sum('user:5', 5 * minute, t0 + 62_000)).toEqual({ count: 1, fen: 9n });
  });

  it('keeps what a failed flush carried for the next one', async () => {
    const store = new MemoryStore();
    const a = new Velocity(store);
    await a.ensure(['user:3'], t0);
    a.add(['user:3'], 5n, t0);
    store.failing = true;
    await expect(a.sync(t0 + 1000)).rejects.toThrow('store down');
    a.add(['user:3'], 5n, t0 + 1100);
    store.failing = false;
    await a.sync(t0 + 2000);
    expect(a.sum('user:3', minute, t0 + 2000)).toEqual({ count: 2, fen: 10n });
    const fresh = new Velocity(store);
    await fresh.ensure(['user:3'], t0 + 2000);
    expect(fresh.sum('user:3', minute, t0 + 2000)).toEqual({ count: 2, fen: 10n });
  });

  it('counts exactly what was added within each window, across processes and syncs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ process: fc.nat(2), atS: fc.nat(600), fen: fc.bigInt(1n, 1000n) }), { maxLength: 40 }),
        async (payments) => {
          const store = new MemoryStore();
          const processes = [new Velocity(store), new Velocity(store), new Velocity(store)];
          for (const v of processes) await v.ensure(['k'], t0);
          // Each process adds as its payments come and syncs on its own schedule (every 7 s here).
          const sorted = [...payments].sort((x, y) => x.atS - y.atS);
          let nextSync = t0 + 7000;
          for (const p of sorted) {
            const at = t0 + p.atS * 1000;
            for (; nextSync <= at; nextSync += 7000) for (const v of processes) await v.sync(nextSync);
            processes[p.process]?.add(['k'], p.fen, at);
          }
          const end = t0 + 601_000;
          for (const v of processes) await v.sync(end);
          for (const v of processes) await v.sync(end);
          for (const windowS of [60, 300, 600]) {
            const first = Velocity.bucketOf(end - windowS * 1000);
            const counted = sorted.filter((p) => Velocity.bucketOf(t0 + p.atS * 1000) >= first);
            const expected = { count: counted.length, fen: counted.reduce((s, p) => s + p.fen, 0n) };
            for (const v of processes) expect(v.sum('k', windowS * 1000, end)).toEqual(expected);
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});
