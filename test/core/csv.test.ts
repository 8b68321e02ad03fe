/**
 * CSV in core (`csvRecords`, `parseCsv`, on csv-stringify and csv-parse): the bytes are those
 * the hand-written writers made before (RFC 4180 quoting of a comma, a quote or a line break,
 * nothing else quoted), so bills, the reconciliation queue and bank statements did not change;
 * and what is written reads back field for field, line breaks inside fields included. Read with
 * line numbers (`parseCsvLines`), each record names the line it ends on, for reports of bad lines.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvRecords, parseCsv, parseCsvLines } from '../../src/core/csv.ts';

/** The writer the trade bills, the reconciliation queue and the bank simulator had by hand. */
function handWritten(records: readonly (readonly string[])[], end: string): string {
  const field = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  return records.map((r) => `${r.map(field).join(',')}${end}`).join('');
}

const field = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', ',', '"', '\r', '\n', '中', '\t', ';') });
const record = fc.array(field, { minLength: 2, maxLength: 8 });
const records = fc.array(record, { maxLength: 10 });
const end = fc.constantFrom('\r\n' as const, '\n' as const);

describe('csvRecords', () => {
  it('writes the bytes the hand-written writers wrote', () => {
    fc.assert(fc.property(records, end, (rs, e) => csvRecords(rs, e) === handWritten(rs, e)));
  });

  it('quotes only what would break the record', () => {
    expect(csvRecords([['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\r', '', ' pad ']], '\r\n')).toBe(
      'plain,"a,b","say ""hi""","two\nlines","cr\r",, pad \r\n',
    );
    expect(csvRecords([], '\n')).toBe('');
  });
});

describe('parseCsv', () => {
  it('reads back what csvRecords wrote', () => {
    // Records of two fields or more: a lone empty field writes an empty line, which reads as none.
    fc.assert(
      fc.property(records, end, (rs, e) => {
        expect(parseCsv(csvRecords(rs, e))).toEqual(rs);
      }),
    );
  });

  it('takes CRLF and LF, skips empty lines, and refuses malformed quoting', () => {
    expect(parseCsv('a,b\r\n\n"x\ny","q""q"\n')).toEqual([
      ['a', 'b'],
      ['x\ny', 'q"q'],
    ]);
    expect(parseCsv('a,b\n"unclosed,c\n')).toBeNull();
    expect(parseCsv('a,b\nst"ray,c\n')).toBeNull();
  });
});

describe('parseCsvLines', () => {
  it('names the line each record ends on, past empty lines and line breaks in fields, without a BOM', () => {
    expect(parseCsvLines('\ufeffa,b\r\n\n"x\ny",z\nc,d\n')).toEqual({
      records: [
        { line: 1, fields: ['a', 'b'] },
        { line: 4, fields: ['x\ny', 'z'] },
        { line: 5, fields: ['c', 'd'] },
      ],
    });
    expect(parseCsvLines('a,b\n"unclosed,c\n')).toEqual({ error: expect.stringMatching(/quote/i) });
  });
});
