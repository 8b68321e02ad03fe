import { parseCsvLines } from '../core/csv.ts';
import { limits } from '../core/limits.ts';
import { checkEntry, type EntryFields, entryKey, type HashOf, type RawEntry } from './entry.ts';
import { CourtListError } from './errors.ts';

/**
 * The court's list as a CSV file (docs/court-list.md): a header naming the columns, in any order,
 * then one line per person and case. The person is given by exactly one of two columns:
 * `id_number` (plain identity numbers, hashed on reading with the platform's key and never kept)
 * or `id_hash` (hashes already made with that key). `expiry_date` may be left out or empty.
 */
export const fileColumns = {
  required: ['name', 'case_number', 'court', 'listing_date', 'grounds'],
  identity: ['id_number', 'id_hash'],
  optional: ['expiry_date'],
} as const;

const known: readonly string[] = [...fileColumns.required, ...fileColumns.identity, ...fileColumns.optional];

/** A line the reader refused: its number in the file and why. */
export interface RejectedLine {
  line: number;
  reason: string;
}

export interface ListFile {
  /** Which column named the people. */
  identity: 'id_number' | 'id_hash';
  /** The lines under the header. */
  lines: number;
  entries: EntryFields[];
  rejected: RejectedLine[];
}

const fileInvalid = (detail: string) => new CourtListError('file_invalid', { detail });

/** The header's columns by name, or `file_invalid` (nothing is imported from a file whose header is wrong). */
function columnsOf(header: readonly string[]): { index: Map<string, number>; identity: 'id_number' | 'id_hash' } {
  const index = new Map<string, number>();
  header.forEach((raw, i) => {
    const name = raw.trim().toLowerCase();
    if (!known.includes(name)) throw fileInvalid(`unknown column "${raw.trim()}"; the columns are ${known.join(', ')}`);
    if (index.has(name)) throw fileInvalid(`column ${name} appears twice`);
    index.set(name, i);
  });
  const missing = fileColumns.required.filter((c) => !index.has(c));
  if (missing.length > 0) throw fileInvalid(`the header lacks ${missing.join(', ')}`);
  const identities = fileColumns.identity.filter((c) => index.has(c));
  if (identities.length !== 1 || identities[0] === undefined) {
    throw fileInvalid(
      'the header must name exactly one of id_number (plain) and id_hash (hashed with the platform’s key)',
    );
  }
  return { index, identity: identities[0] };
}

/**
 * Reads a court list file: throws `file_invalid` for what makes the whole file unreadable (not
 * CSV, a wrong header, no line at all, too many), and answers every line checked — the entries of
 * the good ones, and each bad one with its line number and reason. A person and case given twice
 * is refused on its second line. `onLine` is called as lines are checked (for a progress bar).
 */
export function readListFile(
  text: string,
  today: string,
  hashOf: HashOf,
  onLine?: (done: number, total: number) => void,
): ListFile {
  const parsed = parseCsvLines(text);
  if ('error' in parsed) throw fileInvalid(`not CSV: ${parsed.error}`);
  const [header, ...rows] = parsed.records;
  if (!header) throw fileInvalid('the file is empty');
  const { index, identity } = columnsOf(header.fields);
  // An empty list would remove every entry: far likelier a wrong file than a court that lists nobody.
  if (rows.length === 0) throw fileInvalid('the file lists nobody; importing it would remove every entry');
  if (rows.length > limits.courtListFileLinesMax) {
    throw fileInvalid(`${rows.length} lines, more than ${limits.courtListFileLinesMax}`);
  }
  const field = (fields: readonly string[], name: string) => {
    const i = index.get(name);
    return i === undefined ? undefined : fields[i];
  };
  const entries: EntryFields[] = [];
  const rejected: RejectedLine[] = [];
  const firstLine = new Map<string, number>();
  rows.forEach(({ line, fields }, i) => {
    if (i % 1000 === 0) onLine?.(i, rows.length);
    if (fields.length !== header.fields.length) {
      rejected.push({ line, reason: `${fields.length} fields, the header has ${header.fields.length}` });
      return;
    }
    const raw: RawEntry = {
      [identity === 'id_number' ? 'idNumber' : 'idHash']: field(fields, identity),
      name: field(fields, 'name'),
      caseNumber: field(fields, 'case_number'),
      court: field(fields, 'court'),
      listingDate: field(fields, 'listing_date'),
      grounds: field(fields, 'grounds'),
      expiryDate: field(fields, 'expiry_date'),
    };
    const checked = checkEntry(raw, today, hashOf);
    if ('reason' in checked) {
      rejected.push({ line, reason: checked.reason });
      return;
    }
    const key = entryKey(checked);
    const earlier = firstLine.get(key);
    if (earlier !== undefined) {
      rejected.push({ line, reason: `the same person and case_number as line ${earlier}` });
      return;
    }
    firstLine.set(key, line);
    entries.push(checked);
  });
  onLine?.(rows.length, rows.length);
  return { identity, lines: rows.length, entries, rejected };
}
