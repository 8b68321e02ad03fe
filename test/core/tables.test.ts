/**
 * The Kysely types each module declares in its `src/<module>/tables.ts` are the tables its
 * migrations create, column for column: the same names, `| null` exactly where the column is
 * nullable, and the TypeScript type our drivers answer for the column's SQL type (int8 → bigint,
 * int4 → number, timestamptz → Date, text and uuid → string; jsonb as the module declares it).
 * A migration that adds, drops or changes a column without its declaration fails here rather
 * than in a query.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/platform.ts';
import { freshPlatform } from '../support/engine.ts';
import { declaredTables } from '../support/table-declarations.ts';

const srcDir = new URL('../../src/', import.meta.url);

/** What our drivers answer for each SQL type the modules' tables use. */
const tsTypeOf: Record<string, string> = {
  bigint: 'bigint',
  integer: 'number',
  text: 'string',
  uuid: 'string',
  boolean: 'boolean',
  'timestamp with time zone': 'Date',
  // The only arrays in a table are text[] (the risk rules' paths).
  ARRAY: 'string[]',
  cidr: 'string',
};

/** What a declared type reads as: `Generated` unwrapped, string literals and domain string types as string. */
function readType(declared: string): { type: string; nullable: boolean } {
  const parts = declared
    .replace(/^Generated<(.+)>$/, '$1')
    .split(' | ')
    .map((p) => p.trim());
  const base = parts.filter((p) => p !== 'null');
  const isString = base.every((p) => p.startsWith("'") || /^[A-Z]\w*(Status|Kind|Code)$/.test(p));
  return { type: isString ? 'string' : base.join(' | '), nullable: parts.includes('null') };
}

let platform: Platform;
beforeAll(async () => {
  platform = await freshPlatform();
});
afterAll(() => platform.close());

describe('tables.ts', () => {
  const files = readdirSync(srcDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => (readdirSync(new URL(`${d.name}/`, srcDir)).includes('tables.ts') ? [`${d.name}/tables.ts`] : []));

  it('is found in the modules that use typed()', () => {
    expect(files).toEqual(expect.arrayContaining(['channels/tables.ts', 'members/tables.ts', 'payouts/tables.ts']));
  });

  it.each(files)('%s declares its tables as the migrations create them', async (file) => {
    const rows = await platform.db.query<{
      table_name: string;
      column_name: string;
      is_nullable: string;
      data_type: string;
    }>(
      `select table_name, column_name, is_nullable, data_type from information_schema.columns
        where table_schema = current_schema()`,
    );
    for (const declared of declaredTables(readFileSync(new URL(file, srcDir), 'utf8'))) {
      const columns = rows.filter((r) => r.table_name === declared.table);
      expect(columns.length, `${declared.table} exists`).toBeGreaterThan(0);
      const columnsDeclared = Object.fromEntries([...declared.columns].map(([name, type]) => [name, readType(type)]));
      // jsonb holds whatever shape the module declares for it: only its nullability is checked.
      const typeOf = (c: { column_name: string; data_type: string }) =>
        c.data_type === 'jsonb'
          ? (columnsDeclared[c.column_name]?.type ?? 'jsonb')
          : (tsTypeOf[c.data_type] ?? c.data_type);
      const actual = Object.fromEntries(
        columns.map((c) => [c.column_name, { type: typeOf(c), nullable: c.is_nullable === 'YES' }]),
      );
      expect(columnsDeclared, `${file}: ${declared.table}`).toEqual(actual);
    }
  });
});
