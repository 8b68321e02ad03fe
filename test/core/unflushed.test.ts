/**
 * `unflushedCommit`: a statement that carries it runs and commits as any other (its rows are
 * there for every reader), and the `synchronous_commit = off` it sets is its own transaction's
 * alone — the next statement on the same connection commits synchronously again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unflushedCommit } from '../../src/core/db/index.ts';
import type { Platform } from '../../src/platform.ts';
import { freshPlatform } from '../support/engine.ts';

let platform: Platform;
beforeAll(async () => {
  platform = await freshPlatform();
  await platform.db.exec('create table unflushed_probe (id text primary key, n int not null)');
  await platform.db.query(`insert into unflushed_probe values ('a', 0), ('b', 0)`);
});
afterAll(() => platform.close());

describe('unflushed commits', () => {
  it('commit the statement, and leave the session committing synchronously', async () => {
    for (let i = 0; i < 10; i++) {
      const rows = await platform.db.query<{ id: string; n: number }>(
        `update unflushed_probe p set n = n + 1 from unnest($1::text[]) as i(id)
         where ${unflushedCommit} and p.id = i.id returning p.id, p.n`,
        [['a']],
      );
      expect(rows).toEqual([{ id: 'a', n: i + 1 }]);
      // Whichever connections of the pool answer: the setting did not outlive its transaction.
      const settings = await Promise.all(
        Array.from({ length: 8 }, () => platform.db.query<{ synchronous_commit: string }>('show synchronous_commit')),
      );
      for (const [row] of settings) expect(row?.synchronous_commit).toBe('on');
    }
    const rows = await platform.db.query('select id, n from unflushed_probe order by id');
    expect(rows).toEqual([
      { id: 'a', n: 10 },
      { id: 'b', n: 0 },
    ]);
  });

  it('inside a transaction, stays that transaction’s (and the next one commits synchronously)', async () => {
    const during = await platform.db.transaction(async (tx) => {
      await tx.query(`update unflushed_probe set n = n + 1 where ${unflushedCommit} and id = 'b'`);
      return tx.query<{ synchronous_commit: string }>('show synchronous_commit');
    });
    expect(during[0]?.synchronous_commit).toBe('off');
    const after = await platform.db.transaction((tx) =>
      tx.query<{ synchronous_commit: string }>('show synchronous_commit'),
    );
    expect(after[0]?.synchronous_commit).toBe('on');
  });
});
