/**
 * How the court's whole list differs from the entries in force (`diffList`, pure): applying the
 * changes — drop the removed, replace the updated, add the added — gives exactly the court's
 * list; every line is added, updated or unchanged once, every current entry updated, unchanged
 * or removed once; and a list compared with itself changes nothing (the same file twice).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffList, type EntryFields, yearsAfter } from '../../src/court-list/index.ts';

const key = (e: EntryFields) => `${e.idSha256}/${e.caseNumber}`;
const entry: fc.Arbitrary<EntryFields> = fc.record({
  idSha256: fc.constantFrom('a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)),
  caseNumber: fc.constantFrom('(2026)京0105执1号', '(2026)京0105执2号', '(2026)粤0305执9号'),
  name: fc.constantFrom('张三', '李四'),
  court: fc.constantFrom('北京市朝阳区人民法院', '深圳市南山区人民法院'),
  listingDate: fc.constantFrom('2026-01-05', '2026-03-01'),
  grounds: fc.constantFrom('违反财产报告制度', '拒不履行'),
  expiryDate: fc.constantFrom('2028-01-05', '2028-03-01'),
});
const entries = fc.uniqueArray(entry, { selector: key, maxLength: 9 });

describe('diffList', () => {
  it('makes the entries in force the court’s list, each line and entry counted once', () => {
    fc.assert(
      fc.property(entries, entries, (current, list) => {
        const diff = diffList(current, list);
        const removed = new Set(diff.removed.map(key));
        const after = new Map(current.filter((c) => !removed.has(key(c))).map((c) => [key(c), c]));
        for (const { fields } of diff.updated) after.set(key(fields), fields);
        for (const added of diff.added) {
          expect(after.has(key(added))).toBe(false);
          after.set(key(added), added);
        }
        const sorted = (xs: EntryFields[]) => [...xs].sort((a, b) => (key(a) < key(b) ? -1 : 1));
        expect(sorted([...after.values()])).toEqual(sorted(list));
        expect(diff.added.length + diff.updated.length + diff.unchanged).toBe(list.length);
        expect(diff.removed.length + diff.updated.length + diff.unchanged).toBe(current.length);
        expect(diffList(list, list)).toEqual({ added: [], updated: [], removed: [], unchanged: list.length });
      }),
    );
  });

  it('puts the default expiry two years on, the 29th of February on the 28th', () => {
    expect(yearsAfter('2026-03-01', 2)).toBe('2028-03-01');
    expect(yearsAfter('2028-02-29', 2)).toBe('2030-02-28');
    expect(yearsAfter('2026-12-31', 2)).toBe('2028-12-31');
  });
});
