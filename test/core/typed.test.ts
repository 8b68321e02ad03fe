/**
 * `typed()`: Kysely's statements run through Paybao's own `Queryable`, on the database or inside a
 * transaction opened with `Db.transaction` — committed and rolled back with it — and int8 columns
 * come back as bigint, as they do from hand-written SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { typed } from '../../src/core/db/typed.ts';
import type { Platform } from '../../src/platform.ts';
import { freshPlatform } from '../support/engine.ts';

interface Tables {
  typed_probe: { id: string; amount_fen: bigint; note: string | null };
}

let platform: Platform;
beforeAll(async () => {
  platform = await freshPlatform();
  await platform.db.exec('create table typed_probe (id text primary key, amount_fen bigint not null, note text)');
});
afterAll(() => platform.close());

describe('typed', () => {
  it('inserts, updates with returning and reads back, bigint for int8', async () => {
    const q = typed<Tables>(platform.db);
    await q.insertInto('typed_probe').values({ id: 'a', amount_fen: 12_345_678_901_234n, note: null }).execute();
    const changed = await q
      .updateTable('typed_probe')
      .set({ note: 'x' })
      .where('id', '=', 'a')
      .returning(['id', 'amount_fen'])
      .execute();
    expect(changed).toEqual([{ id: 'a', amount_fen: 12_345_678_901_234n }]);
    expect(await q.selectFrom('typed_probe').selectAll().where('id', '=', 'a').executeTakeFirst()).toEqual({
      id: 'a',
      amount_fen: 12_345_678_901_234n,
      note: 'x',
    });
    expect(typed<Tables>(platform.db)).toBe(q);
  });

  it('runs inside a Db.transaction and rolls back with it', async () => {
    await expect(
      platform.db.transaction(async (tx) => {
        await typed<Tables>(tx).insertInto('typed_probe').values({ id: 'b', amount_fen: 1n, note: null }).execute();
        const seen = await tx.query<{ n: bigint }>("select count(*)::bigint n from typed_probe where id = 'b'");
        expect(seen[0]?.n).toBe(1n);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const rows = await typed<Tables>(platform.db)
      .selectFrom('typed_probe')
      .select('id')
      .where('id', '=', 'b')
      .execute();
    expect(rows).toEqual([]);
  });

  it('refuses to open a transaction of its own', async () => {
    await expect(
      typed<Tables>(platform.db)
        .transaction()
        .execute(async () => undefined),
    ).rejects.toThrow('Db.transaction');
  });
});
