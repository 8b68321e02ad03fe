import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { limits } from '../core/limits.ts';
import type { EntryView, ImportReport } from '../court-list/index.ts';
import { cliOperator, withPlatform } from './open-platform.ts';

/**
 * `paybao blacklist …`: the courts' list of dishonest debtors (失信被执行人, docs/court-list.md).
 * `import FILE` makes the list what the court's CSV file says (it is the whole current list:
 * entries it lacks are removed), all or nothing; `show` lists entries; `check USER_ID` says
 * whether a user is listed. Like every command it reaches a running server's PGlite through the
 * server (src/cli/open-platform.ts), or opens the data directory itself when none runs.
 */
export function blacklistCommand(): Command {
  const blacklist = new Command('blacklist').description("the courts' list of dishonest debtors (失信被执行人)");
  blacklist
    .command('import')
    .description("make the list the court's CSV file (its whole current list); all or nothing")
    .argument('<file>', 'CSV: id_number or id_hash, name, case_number, court, listing_date, grounds[, expiry_date]')
    .option('--dry-run', 'check the file and count the changes, write nothing')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, options: { dryRun?: boolean; json?: boolean }) => {
      const text = readListText(file);
      const fileName = basename(file);
      const audited = {
        action: 'court_list.import',
        target: fileName,
        detail: (r: ImportReport) => ({ sha256: r.fileSha256, added: r.added, updated: r.updated, removed: r.removed }),
        changed: (r: ImportReport) => r.written,
      };
      const report = await withPlatform(async (p) => {
        const bar = new SingleBar({ format: 'court list [{bar}] {value}/{total} {phase}', stream: process.stderr });
        let phase: string | undefined;
        const result = await p.courtList.importList(text, {
          fileName,
          actor: cliOperator().name,
          dryRun: options.dryRun,
          onProgress: (next, done, total) => {
            if (phase !== next) {
              if (phase !== undefined) bar.stop();
              bar.start(total, done, { phase: next === 'checking' ? 'lines checked' : 'entries written' });
              phase = next;
            }
            bar.update(done);
          },
        });
        if (phase !== undefined) bar.stop();
        return result;
      }, audited);
      console.log(options.json ? JSON.stringify(reportJson(report)) : reportText(report));
      if (report.rejected.length > 0) process.exitCode = 1;
    });
  blacklist
    .command('show')
    .description('entries, newest first')
    .option('--q <text>', 'an identity number or its hash, a case number or a name')
    .option('--status <status>', 'listed, expired or removed', (v) => {
      if (!['listed', 'expired', 'removed'].includes(v)) throw new InvalidArgumentError('listed, expired or removed');
      return v as EntryView['status'];
    })
    .option('--limit <n>', `at most this many (up to ${limits.courtListPageMax})`, (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number from 1');
      return n;
    })
    .action(async (options: { q?: string; status?: EntryView['status']; limit?: number }) => {
      const entries = await withPlatform((p) => p.courtList.entries(options));
      for (const e of entries) console.log(JSON.stringify(entryLine(e)));
    });
  blacklist
    .command('check')
    .description('whether a user is listed today, through their verified real name')
    .argument('<user_id>')
    .action(async (userId: string) => {
      const entries = await withPlatform((p) => p.courtList.listing(userId));
      console.log(JSON.stringify({ user_id: userId, listed: entries.length > 0, entries: entries.map(entryLine) }));
    });
  return blacklist;
}

/** The file's text: refused when too large or not UTF-8 (a wrong encoding would garble names). */
function readListText(file: string): string {
  const size = statSync(file).size;
  if (size > limits.courtListFileBytesMax) {
    throw new Error(`${file} is ${size} bytes, more than ${limits.courtListFileBytesMax}; nothing was imported`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(file));
  } catch {
    throw new Error(`${file} is not UTF-8 text; nothing was imported`);
  }
}

const entryLine = (e: EntryView) => ({
  entry_id: e.entryId,
  case_number: e.caseNumber,
  name: e.name,
  court: e.court,
  listing_date: e.listingDate,
  expiry_date: e.expiryDate,
  status: e.status,
  removed_reason: e.removedReason,
});

function reportJson(r: ImportReport) {
  return {
    file: r.fileName,
    sha256: r.fileSha256,
    identity_column: r.identity,
    lines: r.lines,
    added: r.added,
    updated: r.updated,
    removed: r.removed,
    unchanged: r.unchanged,
    rejected: r.rejected,
    written: r.written,
    imported_before: r.importedBefore?.toISOString() ?? null,
  };
}

function reportText(r: ImportReport): string {
  const out = [
    `court list import: ${r.fileName} (sha256 ${r.fileSha256.slice(0, 16)}…, ${r.lines} lines, people by ${r.identity})`,
    `  added      ${r.added}`,
    `  updated    ${r.updated}`,
    `  removed    ${r.removed}`,
    `  unchanged  ${r.unchanged}`,
    `  rejected   ${r.rejected.length}`,
  ];
  for (const bad of r.rejected) out.push(`  line ${bad.line}: ${bad.reason}`);
  const changes = r.added + r.updated + r.removed;
  if (r.rejected.length > 0) {
    out.push(
      'nothing was written: the file is the whole list, so a bad line would remove its entry; correct the lines above and import again',
    );
  } else if (changes === 0) {
    const before = r.importedBefore ? ` (this file was imported at ${r.importedBefore.toISOString()})` : '';
    out.push(`nothing changed: the list already is what this file says${before}`);
  } else out.push(r.written ? 'written.' : 'dry run: nothing was written.');
  return out.join('\n');
}
