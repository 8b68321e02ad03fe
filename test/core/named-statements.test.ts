/**
 * Named prepared statements (`QueryOptions.name`): the same answers as an unnamed statement, on
 * the pool and inside transactions, with int8 still bigint; PGlite runs them as plain statements.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/platform.ts';
import { freshPlatform } from '../support/engine.ts';

let platform: Platform;
beforeAll(async () => {
  platform = await freshPlatform();
  await platform.db.exec('create table named_probe (id text primary key, amount_fen bigint not null)');
  await platform.db.query(`insert into named_probe values ('a', 9007199254740993), ('b', 7)`);
});
afterAll(() => platform.close());

const read = 'select id, amount_fen from named_probe where id = $1';

describe('named statements', () => {
  it('answer as the unnamed statement does, again and again, on the pool and in transactions', async () => {
    const plain = await platform.db.query(read, ['a']);
    expect(plain).toEqual([{ id: 'a', amount_fen: 9_007_199_254_740_993n }]);
    for (let i = 0; i < 20; i++) {
      expect(await platform.db.query(read, ['a'], { name: 'named_probe_read' })).toEqual(plain);
    }
    const inTx = await platform.db.transaction(async (tx) => {
      await tx.query('update named_probe set amount_fen = amount_fen + 1 where id = $1', ['b']);
      return tx.query(read, ['b'], { name: 'named_probe_read' });
    });
    expect(inTx).toEqual([{ id: 'b', amount_fen: 8n }]);
  });
});
