/**
 * The group-commit batcher shared by the ledger and the payment path: concurrent requests share
 * one execution, each caller gets its own answer, and (where requests are independent) one bad
 * request fails only its own caller.
 */
import { describe, expect, it } from 'vitest';
import { Batcher, firstPerKey } from '../../src/core/batcher.ts';

describe('Batcher', () => {
  it('runs requests that arrive together as one batch and answers each its own result', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number, number>(
      async (items) => {
        batches.push([...items]);
        return items.map((x) => x * 10);
      },
      { waitMs: 0, maxInFlight: 1 },
    );
    const answers = await Promise.all([1, 2, 3, 4, 5].map((x) => batcher.submit(x)));
    expect(answers).toEqual([10, 20, 30, 40, 50]);
    expect(batches).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('gathers the next batch while one is in flight, up to its size limit', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number, number>(
      async (items) => {
        batches.push([...items]);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return [...items];
      },
      { waitMs: 0, maxInFlight: 1, batchEventsMax: 3 },
    );
    const first = batcher.submit(0);
    await new Promise((resolve) => setTimeout(resolve, 1));
    const rest = [1, 2, 3, 4].map((x) => batcher.submit(x));
    expect(await Promise.all([first, ...rest])).toEqual([0, 1, 2, 3, 4]);
    expect(batches).toEqual([[0], [1, 2, 3], [4]]);
  });

  it('takes bulk requests behind the interactive ones, in small batches, one batch at a time while bulk is out', async () => {
    const batches: string[][] = [];
    let release: (() => void) | undefined;
    let held = false;
    const batcher = new Batcher<string, string>(
      async (items) => {
        batches.push([...items]);
        // The first batch (a lone bulk page) is held until the test lets it go.
        if (!held) {
          held = true;
          await new Promise<void>((resolve) => (release = resolve));
        }
        return [...items];
      },
      { waitMs: 0, maxInFlight: 2, bulkBatchEventsMax: 2 },
    );
    const bulk = ['b1', 'b2', 'b3', 'b4', 'b5'].map((x) => batcher.submit(x, 1, 'bulk'));
    await new Promise((resolve) => setTimeout(resolve, 1));
    // Payments arriving while a bulk batch is out wait for it (not beside it), then go first in
    // the next batch, ahead of the job's other pages.
    const payments = ['p1', 'p2'].map((x) => batcher.submit(x));
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(batches).toEqual([['b1', 'b2']]);
    release?.();
    expect(await Promise.all([...payments, ...bulk])).toEqual(['p1', 'p2', 'b1', 'b2', 'b3', 'b4', 'b5']);
    expect(batches).toEqual([['b1', 'b2'], ['p1', 'p2', 'b3', 'b4'], ['b5']]);
    // With no bulk work, interactive batches go as before, two at once.
    batches.length = 0;
    await Promise.all([batcher.submit('p3'), batcher.submit('p4')]);
    expect(batches).toEqual([['p3', 'p4']]);
  });

  it('fails every caller of a failed batch, or with isolateFailures only the bad one', async () => {
    const execute = async (items: readonly string[]) => {
      if (items.includes('bad')) throw new Error(`batch of ${items.length} failed`);
      return items.map((x) => x.toUpperCase());
    };
    const together = new Batcher(execute, { waitMs: 0 });
    const all = await Promise.allSettled(['a', 'bad', 'c'].map((x) => together.submit(x)));
    expect(all.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);

    const isolating = new Batcher(execute, { waitMs: 0, isolateFailures: true });
    const alone = await Promise.allSettled(['a', 'bad', 'c'].map((x) => isolating.submit(x)));
    expect(alone).toEqual([
      { status: 'fulfilled', value: 'A' },
      { status: 'rejected', reason: new Error('batch of 1 failed') },
      { status: 'fulfilled', value: 'C' },
    ]);
  });

  it('refuses requests once closed, after answering the queued ones', async () => {
    const batcher = new Batcher(async (items: readonly number[]) => [...items], { waitMs: 0, name: 'test writes' });
    const queued = batcher.submit(1);
    await batcher.close();
    expect(await queued).toBe(1);
    await expect(batcher.submit(2)).rejects.toThrow('test writes is shutting down');
  });
});

describe('firstPerKey', () => {
  it('runs the first request of each key and answers null, in place, for the later ones', async () => {
    const ran: string[][] = [];
    const answers = await firstPerKey(
      ['a1', 'b1', 'a2', 'c1', 'b2'],
      (x) => x.slice(0, 1),
      async (unique) => {
        ran.push([...unique]);
        return unique.map((x) => `${x}!`);
      },
    );
    expect(ran).toEqual([['a1', 'b1', 'c1']]);
    expect(answers).toEqual(['a1!', 'b1!', null, 'c1!', null]);
  });
});
