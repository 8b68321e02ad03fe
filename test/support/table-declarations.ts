/**
 * Reads a module's `tables.ts` as text: the tables of its `…Tables` interface and each table's
 * columns with their declared types, whether a table's columns are written inline
 * (`channel_orders: { … }`) or as an interface of their own (`trades: TradesTable`).
 */
export interface DeclaredTable {
  table: string;
  /** Column name → its declared TypeScript type, as written (`Generated<bigint>`, `Date | null`). */
  columns: Map<string, string>;
}

export function declaredTables(source: string): DeclaredTable[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const interfaces = new Map(
    [...code.matchAll(/^export interface (\w+) \{\n([\s\S]*?)^\}/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
  const columnsOf = (body: string) =>
    new Map([...body.matchAll(/^ +(\w+): (.+);$/gm)].map((m) => [m[1] as string, m[2] as string]));
  return [...interfaces]
    .filter(([name]) => name.endsWith('Tables'))
    .flatMap(([, body]) => [
      ...[...body.matchAll(/^ {2}(\w+): \{\n([\s\S]*?)^ {2}\};$/gm)].map((m) => ({
        table: m[1] as string,
        columns: columnsOf(m[2] as string),
      })),
      ...[...body.matchAll(/^ {2}(\w+): (\w+);$/gm)].map((m) => ({
        table: m[1] as string,
        columns: columnsOf(interfaces.get(m[2] as string) ?? ''),
      })),
    ]);
}
