/**
 * The Kysely types each module declares in its `src/<module>/tables.ts` are the tables its
 * migrations create, column for column: the same names, `| null` exactly where the column is
 * nullable, and the TypeScript type our drivers answer for the column's SQL type (int8 → bigint,
 * int4 → number, timestamptz → Date, text and uuid → string). A migration that adds, drops or
 * changes a column without its declaration fails here rather than in a query.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/platform.ts';
import { freshPlatform } from '../support/engine.ts';

const srcDir = new URL('../../src/', import.meta.url);

/** What our drivers answer for each SQL type the modules' tables use. */
const tsTypeOf: Record<string, string> = {
  bigint: 'bigint',
  integer: 'number',
  text: 'string',
  uuid: 'string',
  boolean: 'boolean',
  'timestamp with time zone': 'Date',
};

interface Declared {
  file: string;
  table: string;
  columns: Map<string, { type: string; nullable: boolean }>;
}

/** The tables and columns of a tables.ts: tables two spaces in, their columns four. */
function declarations(file: string): Declared[] {
  const text = readFileSync(new URL(file, srcDir), 'utf8').replace(/\/\*\*[\s\S]*?\*\//g, '');
  const found: Declared[] = [];
  for (const line of text.split('\n')) {
    const table = /^ {2}(\w+): \{$/.exec(line);
    if (table) found.push({ file, table: table[1] as string, columns: new Map() });
    const column = /^ {4}(\w+): (.+);$/.exec(line);
    if (column && found.length > 0) {
      const type = (column[2] as string).replace(/^Generated<(.+)>$/, '$1');
      const parts = type.split(' | ').map((p) => p.trim());
      const base = parts.filter((p) => p !== 'null');
      // A union of string literals, or a string-valued type named for the domain, is a string.
      const isString = base.every((p) => p.startsWith("'") || /^[A-Z]\w*(Status|Kind|Code)$/.test(p));
      (found.at(-1) as Declared).columns.set(column[1] as string, {
        type: isString ? 'string' : base.join(' | '),
        nullable: parts.includes('null'),
      });
    }
  }
  return found;
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
    for (const declared of declarations(file)) {
      const columns = rows.filter((r) => r.table_name === declared.table);
      expect(columns.length, `${declared.table} exists`).toBeGreaterThan(0);
      const actual = Object.fromEntries(
        columns.map((c) => [
          c.column_name,
          { type: tsTypeOf[c.data_type] ?? c.data_type, nullable: c.is_nullable === 'YES' },
        ]),
      );
      expect(Object.fromEntries(declared.columns), `${file}: ${declared.table}`).toEqual(actual);
    }
  });
});
