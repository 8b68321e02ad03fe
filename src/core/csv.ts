import { CsvError, parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

/**
 * CSV as RFC 4180 has it, the one way Paybao writes and reads it (trade bills, the
 * reconciliation queue, bank statements). A field is quoted when it holds a comma, a quote or a
 * line break (either of CR and LF, whatever the records end with), its quotes doubled; nothing
 * else is quoted, so plain files stay as a hand-written join would make them.
 */

/** How records end: CRLF as RFC 4180 (and Alipay's bills) has it, or LF. */
export type CsvRecordEnd = '\r\n' | '\n';

/** Records as CSV text, every record (the last too) ended by `end`. */
export function csvRecords(records: readonly (readonly string[])[], end: CsvRecordEnd): string {
  if (records.length === 0) return '';
  return stringify(records as string[][], { record_delimiter: end, quoted_match: /[\r\n]/ });
}

/**
 * CSV text → records of fields; null when the text is not well-formed CSV (an unclosed quote, a
 * quote inside an unquoted field). Records may end in CRLF or LF; empty lines are skipped.
 */
export function parseCsv(text: string): string[][] | null {
  try {
    return parse(text, {
      record_delimiter: ['\r\n', '\n'],
      skip_empty_lines: true,
      relax_column_count: true,
    }) as string[][];
  } catch (error) {
    if (error instanceof CsvError) return null;
    throw error;
  }
}

/** A record of a file with the line it ends on (1-based), for reports that name the line at fault. */
export interface CsvLine {
  line: number;
  fields: string[];
}

/**
 * CSV text → records with their line numbers, or the parser's reason when the text is not
 * well-formed CSV (an unclosed quote, a quote inside an unquoted field). Records may end in CRLF
 * or LF; empty lines are skipped; a UTF-8 byte order mark is dropped (spreadsheets write one).
 */
export function parseCsvLines(text: string): { records: CsvLine[] } | { error: string } {
  try {
    const rows = parse(text, {
      bom: true,
      record_delimiter: ['\r\n', '\n'],
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
    }) as unknown as { info: { lines: number }; record: string[] }[];
    return { records: rows.map((r) => ({ line: r.info.lines, fields: r.record })) };
  } catch (error) {
    if (error instanceof CsvError) return { error: error.message };
    throw error;
  }
}
