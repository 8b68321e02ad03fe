/**
 * The layering of DESIGN.md, enforced on every import of every .ts file under src/ (static,
 * type-only, re-exports and dynamic imports alike). Paths below are relative to src/; a file's
 * "area" is its top-level directory, or the root for files directly under src/ (the composition
 * root: platform.ts, config.ts).
 *
 * 1. src/core imports only src/core: it is the bottom layer.
 * 2. src/ledger imports only src/ledger and src/core: it knows nothing of trades, HTTP or config.
 * 3. Domain areas (every directory but core, ledger, server, cli) and core and ledger never import
 *    the composition root; only the root itself, server and cli do.
 * 4. Only src/server and src/cli (and src/banksim, the bank simulator's own server) import fastify,
 *    @fastify/* or src/server.
 * 7. src/banksim imports only src/banksim and src/core: the bank is an outside system.
 * 5. Only src/cli imports src/cli.
 * 6. Across areas, a module is imported through its index.ts (`ledger/index.ts`, never
 *    `ledger/engine.ts`). src/core is the exception, being a shelf of small modules: its files are
 *    imported directly (`core/limits.ts`) and its directories through their index
 *    (`core/db/index.ts`, never `core/db/open.ts`).
 * 8. Shared helpers come from src/core itself: no module's index.ts passes on anything of
 *    src/core, and nothing outside src/core exports a name that src/core exports (a second
 *    `derivedId`, `allocate` or `cnyLedger` beside core's).
 * 9. src/core/ledger-codes.ts is the only place ledger ids, account codes and transfer codes are
 *    declared: elsewhere no `code:` or `ledger:` takes a number, no SQL compares `code` or
 *    `ledger` with a number, and no constant named like a code or a ledger holds numbers.
 * 10. No domain module imports an HTTP client or server library (undici, node:http, node:https,
 *    node:http2). The one exception is src/notifications, the merchant notification outbox's
 *    delivery: posting forms over HTTP is what it exists for. It imports only src/notifications
 *    and src/core, so it stays a client, with no road to the HTTP server code or to a domain.
 * 11. Every limit lives in src/core/limits.ts: elsewhere no constant, field or parameter default
 *    named like a limit (ending in Max, Min, Ms, Bytes or Limit) takes a number literal. The few
 *    named constants that are facts of a protocol or a format, not choices, are listed in
 *    `notLimits` with their reason. Mutable state (`let lastMs = 0`) is no limit.
 * 12. The global `fetch` is an HTTP client too: outside the interfaces and src/notifications, only
 *    src/channels/adapter.ts calls it, the `BankAdapter` being the one door to the banks.
 * 13. Inside src/trades, one folder per concept: `trade/` and `escrow/` are the base (a trade and
 *    its escrow lean on each other); `after-sale/` and `settlement/` build on them. No file in
 *    trade/ or escrow/ imports after-sale or settlement, and neither of the two imports the other;
 *    the module-wide files at the top (index.ts, tables.ts, migrations.ts, errors.ts) see every
 *    folder. (From outside the module, rule 6 already allows only src/trades/index.ts.)
 * 14. A module declares for Kysely only the tables it owns: every table in a `src/<area>/tables.ts`
 *    is created by that area's own migrations (`create table` in its .ts or .sql files), and no
 *    table is declared in two areas.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { declaredTables } from './support/table-declarations.ts';

const srcDir = fileURLToPath(new URL('../src/', import.meta.url));
// banksim: the bank simulator is an outside system in its own process, with its own HTTP server.
const interfaces = new Set(['server', 'cli', 'banksim']);
// notifications: the outbox's delivery, an HTTP client by purpose (rule 10).
const httpAreas = new Set([...interfaces, 'notifications']);
const httpLibraries = /^(?:node:)?https?$|^(?:node:)?http2$|^undici(?:\/|$)/;

/** Every .ts file under src/, as a path relative to src/ with forward slashes. */
function sourceFiles(dir = srcDir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [relative(srcDir, path).split('\\').join('/')] : [];
  });
}

/** The module specifiers a source text imports, re-exports or imports dynamically. */
function importSpecifiers(source: string): string[] {
  // Comments are dropped first so that an example in a doc comment is not taken for an import.
  const code = withoutComments(source);
  const patterns = [
    /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((m) => m[1] ?? ''));
}

/** The text of a source without its comments, so that a documented example does not count. */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/**
 * Where a source declares a ledger number of its own (rule 9): a numeric `code:`/`ledger:`
 * (`ledgerId:` too) as a property's value, SQL that compares `code` or `ledger` with a number, or
 * a constant whose name ends in Code(s), Ledger or LedgerId (a status code excepted: the ledger's
 * own encoding of pending states is no ledger code) and that holds a number or numbers.
 */
function codeDeclarations(source: string): string[] {
  const code = withoutComments(source);
  const patterns = [
    /\b(?:code|ledger|ledgerId)\s*:\s*-?\d[\d_]*n?(?=\s*[,}\n])/g,
    /\b(?:code|ledger)\s*(?:=|<>|!=|in\s*\()\s*\d+/gi,
    /\b(?:const|let|var)\s+\w*(?<![Ss]tatus)(?:Codes?|Ledger|LedgerId)\s*(?::[^=]+)?=\s*(?:\{[^}]*?:\s*\d|-?\d)/g,
  ];
  return patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((m) => m[0].replace(/\s+/g, ' ')));
}

/**
 * Where a source sets a limit of its own (rule 11): a name ending in Max, Min, Ms, Bytes or Limit
 * given a number literal by `const`, `readonly` or a parameter default — not by `let`, which is
 * state, nor by a comparison.
 */
function limitDeclarations(source: string): string[] {
  const pattern =
    /(?<!\blet\s+)(?<![.#\w])([A-Za-z_]\w*(?:Max|Min|Ms|Bytes|Limit))\s*(?::\s*number\s*)?=(?![=>])\s*-?\d/g;
  return [...withoutComments(source).matchAll(pattern)].map((m) => m[1] ?? '');
}

/**
 * Named numbers that look like limits but are facts nobody may tune; each with its reason.
 * A new entry needs the same: a protocol or format that fixes the number.
 */
const notLimits: Record<string, string> = {
  'ledger/state-machine.ts u32Max': 'the width of a u32 field in the TigerBeetle data model',
  'ledger/state-machine.ts ledgerMax': 'the largest ledger id the accounts table stores (int4)',
  'ledger/state-machine.ts codeMax': 'the width of a u16 code field in the TigerBeetle data model',
  'members/passwords.ts saltBytes': 'part of the stored scrypt hash format: changing it breaks every stored password',
  'members/passwords.ts hashBytes': 'part of the stored scrypt hash format: changing it breaks every stored password',
  'core/time.ts beijingOffsetMs': 'the offset of Beijing time (UTC+8, no daylight saving), a fact',
};

/** The module specifiers a source re-exports (`export … from`). */
function reexportSpecifiers(source: string): string[] {
  const pattern = /^\s*export\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm;
  return [...withoutComments(source).matchAll(pattern)].map((m) => m[1] ?? '');
}

/** The names a source exports as values (functions, classes, constants). */
function exportedNames(source: string): string[] {
  const pattern = /^export\s+(?:async\s+)?(?:function\*?|class|const|let)\s+(\w+)/gm;
  return [...withoutComments(source).matchAll(pattern)].map((m) => m[1] ?? '');
}

const areaOf = (path: string): string => (path.includes('/') ? (path.split('/')[0] ?? '') : '');

/** Why `file` may not import `specifier`, or undefined when it may. */
function violation(file: string, specifier: string): string | undefined {
  const from = areaOf(file);
  if (!specifier.startsWith('.')) {
    const isFastify = specifier === 'fastify' || specifier.startsWith('fastify/') || specifier.startsWith('@fastify/');
    if (isFastify && !interfaces.has(from)) return 'only src/server and src/cli import fastify';
    if (httpLibraries.test(specifier) && !httpAreas.has(from))
      return 'only the interfaces and src/notifications import an HTTP library';
    return undefined;
  }
  const target = posix.normalize(posix.join(posix.dirname(file), specifier));
  if (target.startsWith('../')) return 'imports from outside src/';
  const to = areaOf(target);
  if (from === 'core' && to !== 'core') return 'src/core imports only src/core';
  if (from === 'ledger' && to !== 'ledger' && to !== 'core') return 'src/ledger imports only src/ledger and src/core';
  if (from === 'banksim' && to !== 'banksim' && to !== 'core')
    return 'src/banksim imports only src/banksim and src/core';
  if (from === 'notifications' && to !== 'notifications' && to !== 'core')
    return 'src/notifications imports only src/notifications and src/core';
  if (to === '' && from !== '' && !interfaces.has(from)) return 'only the root, server and cli import the root';
  if (to === 'server' && !interfaces.has(from)) return 'only src/server and src/cli import src/server';
  if (to === 'cli' && from !== 'cli') return 'only src/cli imports src/cli';
  if (to === from || to === '') return undefined;
  // The one path through which another area may reach `target`.
  const inner = target.slice(to.length + 1).split('/');
  const entry = to !== 'core' ? `${to}/index.ts` : inner.length === 1 ? target : `core/${inner[0]}/index.ts`;
  if (target !== entry) return `import src/${posix.dirname(entry)} through src/${entry}`;
  return undefined;
}

describe('architecture', () => {
  const files = sourceFiles();
  const imports = files.flatMap((file) =>
    importSpecifiers(readFileSync(join(srcDir, file), 'utf8')).map((specifier) => ({ file, specifier })),
  );

  it('finds the imports it checks', () => {
    // Guards the parser: if it stopped seeing imports, every rule would pass vacuously.
    expect(imports).toContainEqual({ file: 'platform.ts', specifier: './ledger/index.ts' });
    expect(imports).toContainEqual({ file: 'ledger/engine.ts', specifier: '../core/db/index.ts' });
    expect(imports).toContainEqual({ file: 'ledger/engine.ts', specifier: './results.ts' });
    expect(imports.length).toBeGreaterThan(files.length);
  });

  it('holds for every import under src/', () => {
    const broken = imports.flatMap(({ file, specifier }) => {
      const why = violation(file, specifier);
      return why ? [`src/${file} imports '${specifier}': ${why}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it('reads every form of import and skips comments', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from '../b/index.ts';",
      'import {\n  c,\n  type D,\n} from "./c.ts";',
      "export { e } from './e.ts';",
      "export * from './f.ts';",
      "import './g.ts';",
      "const h = await import('./h.ts');",
      "// import { x } from './commented.ts';",
      "/** e.g. import { y } from './documented.ts' */",
      "const s = 'from ./not-an-import.ts';",
    ].join('\n');
    expect(importSpecifiers(source).sort()).toEqual(
      ['../b/index.ts', './a.ts', './c.ts', './e.ts', './f.ts', './g.ts', './h.ts'].sort(),
    );
  });

  it('declares ledger ids and codes only in the registry, src/core/ledger-codes.ts', () => {
    const registry = 'core/ledger-codes.ts';
    // Guards the detector: it must see the registry's own declarations.
    expect(codeDeclarations(readFileSync(join(srcDir, registry), 'utf8')).length).toBeGreaterThan(5);
    const declared = files
      .filter((file) => file !== registry)
      .flatMap((file) =>
        codeDeclarations(readFileSync(join(srcDir, file), 'utf8')).map((found) => `src/${file}: ${found}`),
      );
    expect(declared).toEqual([]);
  });

  it('finds every form of a code declared outside the registry, and skips comments', () => {
    const source = [
      'await ledger.createAccounts([{ id, ledger: 156, code: 1 }]);',
      'const t = { ledgerId: 7 };',
      "await db.query('select sum(amount) from transfers where code = 300 and ledger=156');",
      "await db.query('select 1 from accounts where code in (1, 2)');",
      'export const RedPacketTransferCode = { send: 400, claim: 401 } as const;',
      'const fundLedger = 9001;',
      'const benchLedgerId: number = 1;',
      '// { code: 5 } in a comment',
      '/** `ledger: 156` in a doc comment */',
      'const entry = { code: AccountCode.userWallet, ledger: cnyLedger };',
      'const codePattern = /^28\\d{16}$/;',
      "const help = 'transfer code: 1 opening_balance';",
      'const statusCode = { pending: 1, posted: 2 };',
    ].join('\n');
    expect(codeDeclarations(source)).toEqual([
      'ledger: 156',
      'code: 1',
      'ledgerId: 7',
      'code = 300',
      'ledger=156',
      'code in (1',
      'const RedPacketTransferCode = { send: 4',
      'const fundLedger = 9',
      'const benchLedgerId: number = 1',
    ]);
  });

  it('keeps every limit in src/core/limits.ts (rule 11)', () => {
    const found = files
      .filter((file) => file !== 'core/limits.ts')
      .flatMap((file) => limitDeclarations(readFileSync(join(srcDir, file), 'utf8')).map((name) => `${file} ${name}`));
    // Guards the detector: the exempt facts must still be found, or the list has gone stale.
    expect(found.filter((entry) => entry in notLimits).sort()).toEqual(Object.keys(notLimits).sort());
    expect(found.filter((entry) => !(entry in notLimits))).toEqual([]);
  });

  it('calls the global fetch in a domain module only in the bank adapter (rule 12)', () => {
    const callers = files.filter(
      (file) =>
        !httpAreas.has(areaOf(file)) &&
        /(?<![.\w])fetch\s*\(/.test(withoutComments(readFileSync(join(srcDir, file), 'utf8'))),
    );
    expect(callers).toEqual(['channels/adapter.ts']);
  });

  it('keeps after-sale and settlement on top of trade and escrow in src/trades (rule 13)', () => {
    const upper = ['trades/after-sale/', 'trades/settlement/'];
    const folderOf = (path: string) => upper.find((folder) => path.startsWith(folder));
    const inner = imports.flatMap(({ file, specifier }) =>
      specifier.startsWith('.') && areaOf(file) === 'trades'
        ? [{ file, target: posix.normalize(posix.join(posix.dirname(file), specifier)) }]
        : [],
    );
    // Guards the reader: the index must be seen reaching both folders.
    for (const folder of upper)
      expect(inner.some(({ file, target }) => file === 'trades/index.ts' && folderOf(target) === folder)).toBe(true);
    const broken = inner
      .filter(({ file, target }) => {
        const to = folderOf(target);
        const inFolder = file.split('/').length > 2;
        return to !== undefined && inFolder && folderOf(file) !== to;
      })
      .map(({ file, target }) => `src/${file} imports src/${target}`);
    expect(broken).toEqual([]);
  });

  it('finds every form of a limit set outside limits.ts, and skips state and comparisons', () => {
    const source = [
      'const textMax = 512;',
      'const retryMs: number = 1_000;',
      'constructor(readonly sweepIntervalMs = 60_000) {}',
      'function f(max = 1, pageLimit = 20, bodyBytes: number = 1024) {}',
      'let lastMs = 0;',
      'if (elapsedMs === 0 || waitMs >= 5) return;',
      'this.#lastSweepMs = 0;',
      'const fooMax = limits.fooMax;',
      '// const commentedMs = 5;',
      'const minimumAge = 18;',
    ].join('\n');
    expect(limitDeclarations(source)).toEqual(['textMax', 'retryMs', 'sweepIntervalMs', 'pageLimit', 'bodyBytes']);
  });

  it('declares the Kysely types of a table only in the module that creates it (rule 14)', () => {
    const areaFiles = (area: string) =>
      readdirSync(join(srcDir, area), { recursive: true, encoding: 'utf8' }).filter(
        (f) => f.endsWith('.ts') || f.endsWith('.sql'),
      );
    const declaredBy = new Map<string, string[]>();
    const foreign: string[] = [];
    for (const file of files.filter((f) => /^[^/]+\/tables\.ts$/.test(f))) {
      const area = file.split('/')[0] as string;
      const created = new Set(
        areaFiles(area).flatMap((f) =>
          [...readFileSync(join(srcDir, area, f), 'utf8').matchAll(/create table (\w+)/g)].map((m) => m[1]),
        ),
      );
      const tables = declaredTables(readFileSync(join(srcDir, file), 'utf8')).map((t) => t.table);
      expect(tables.length, `${file} declares tables`).toBeGreaterThan(0);
      for (const table of tables) {
        if (!created.has(table)) foreign.push(`src/${file} declares ${table}, which src/${area} does not create`);
        declaredBy.set(table, [...(declaredBy.get(table) ?? []), area]);
      }
    }
    expect(foreign).toEqual([]);
    expect([...declaredBy].filter(([, areas]) => areas.length > 1)).toEqual([]);
  });

  it('takes shared helpers from src/core, never from another module passing them on', () => {
    const coreNames = new Set(
      files.filter((f) => areaOf(f) === 'core').flatMap((f) => exportedNames(readFileSync(join(srcDir, f), 'utf8'))),
    );
    // Guards the reader: core's helpers must be among the names it found.
    for (const name of ['derivedId', 'allocate', 'cnyLedger', 'csvRecords', 'dailyNumber'])
      expect(coreNames).toContain(name);
    const again = files
      .filter((f) => areaOf(f) !== 'core')
      .flatMap((f) =>
        exportedNames(readFileSync(join(srcDir, f), 'utf8'))
          .filter((name) => coreNames.has(name))
          .map((name) => `src/${f} exports ${name}, which src/core exports`),
      );
    const passedOn = files
      .filter((f) => f.endsWith('/index.ts') && areaOf(f) !== 'core')
      .flatMap((f) =>
        reexportSpecifiers(readFileSync(join(srcDir, f), 'utf8'))
          .filter((specifier) => areaOf(posix.normalize(posix.join(posix.dirname(f), specifier))) === 'core')
          .map((specifier) => `src/${f} passes on '${specifier}'`),
      );
    expect([...again, ...passedOn]).toEqual([]);
  });

  it.each([
    ['core/limits.ts', '../ledger/index.ts', 'src/core imports only src/core'],
    ['core/db/open.ts', '../../platform.ts', 'src/core imports only src/core'],
    ['ledger/engine.ts', '../trades/index.ts', 'src/ledger imports only src/ledger and src/core'],
    ['ledger/engine.ts', '../config.ts', 'src/ledger imports only src/ledger and src/core'],
    ['ledger/engine.ts', 'fastify', 'only src/server and src/cli import fastify'],
    ['trades/routes.ts', '@fastify/formbody', 'only src/server and src/cli import fastify'],
    ['trades/service.ts', '../server/index.ts', 'only src/server and src/cli import src/server'],
    ['platform.ts', './server/index.ts', 'only src/server and src/cli import src/server'],
    ['trades/service.ts', '../platform.ts', 'only the root, server and cli import the root'],
    ['server/app.ts', '../cli/main.ts', 'only src/cli imports src/cli'],
    ['trades/service.ts', '../ledger/engine.ts', 'import src/ledger through src/ledger/index.ts'],
    ['server/app.ts', '../ledger/verify.ts', 'import src/ledger through src/ledger/index.ts'],
    ['platform.ts', './ledger/migrations/index.ts', 'import src/ledger through src/ledger/index.ts'],
    ['ledger/engine.ts', '../core/db/open.ts', 'import src/core/db through src/core/db/index.ts'],
    ['server/main.ts', '../../package.json', 'imports from outside src/'],
    ['banksim/bank.ts', '../ledger/index.ts', 'src/banksim imports only src/banksim and src/core'],
    ['banksim/http.ts', '../platform.ts', 'src/banksim imports only src/banksim and src/core'],
    ['trades/service.ts', 'undici', 'only the interfaces and src/notifications import an HTTP library'],
    ['channels/adapter.ts', 'node:http', 'only the interfaces and src/notifications import an HTTP library'],
    ['members/apps.ts', 'https', 'only the interfaces and src/notifications import an HTTP library'],
    ['ledger/engine.ts', 'undici/types/agent', 'only the interfaces and src/notifications import an HTTP library'],
    [
      'notifications/post-form.ts',
      '../server/index.ts',
      'src/notifications imports only src/notifications and src/core',
    ],
    [
      'notifications/dispatcher.ts',
      '../trades/index.ts',
      'src/notifications imports only src/notifications and src/core',
    ],
    ['server/console.ts', '../trades/after-sale/after-sale.ts', 'import src/trades through src/trades/index.ts'],
    ['wallet/escrow.ts', '../trades/trade/store.ts', 'import src/trades through src/trades/index.ts'],
  ])('refuses %s importing %s', (file, specifier, why) => {
    expect(violation(file, specifier)).toBe(why);
  });

  it.each([
    ['core/db/postgres.ts', '../limits.ts'],
    ['ledger/engine.ts', '../core/db/index.ts'],
    ['ledger/engine.ts', '../core/limits.ts'],
    ['ledger/engine.ts', './migrations/index.ts'],
    ['trades/service.ts', '../ledger/index.ts'],
    ['platform.ts', './ledger/index.ts'],
    ['server/app.ts', '../platform.ts'],
    ['server/app.ts', 'fastify'],
    ['cli/start.ts', '../server/index.ts'],
    ['cli/bench/ledger.ts', '../../platform.ts'],
    ['banksim/http.ts', 'fastify'],
    ['cli/bank-sim.ts', '../banksim/index.ts'],
    ['notifications/post-form.ts', 'undici'],
    ['notifications/dispatcher.ts', '../core/limits.ts'],
    ['cli/bench/gateway.ts', 'node:http'],
    ['server/main.ts', '../notifications/index.ts'],
    ['trades/service.ts', 'node:crypto'],
    ['trades/after-sale/disputes.ts', '../trade/service.ts'],
    ['trades/index.ts', './settlement/settlement.ts'],
  ])('allows %s importing %s', (file, specifier) => {
    expect(violation(file, specifier)).toBeUndefined();
  });
});
