/**
 * The courts' list of dishonest debtors: an import makes the list what the court's file says —
 * the same file again changes nothing and says so, a second file updates, adds and removes (the
 * removed kept, with why) — all or nothing: a malformed file or a bad line writes nothing, and
 * the report names every bad line. Plain identity numbers are hashed on reading and never
 * stored; a file of hashes made with the platform's key matches the same people. A user is
 * listed through their verified real name only, while an entry is in force: listing date to
 * expiry (two years by default), never after its removal.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { type CourtList, isCourtListError } from '../../src/court-list/index.ts';
import { idCheckCharacter } from '../../src/credit/index.ts';
import { usePlatform } from '../support/engine.ts';

const clock = new ManualClock(Date.parse('2026-12-07T04:00:00Z'));
const platform = usePlatform({ clock });
const list = (): CourtList => platform().courtList;

/** A valid identity number with the given first 17 digits. */
const idNumber = (first17: string) => first17 + idCheckCharacter(first17);
const zhang = idNumber('11010519800101001');
const li = idNumber('31010419750615002');
const wang = idNumber('44030519900220003');

const header = 'id_number,name,case_number,court,listing_date,grounds,expiry_date';
const csv = (...lines: string[]) => `${[header, ...lines].join('\n')}\n`;
const lineOf = (id: string, name: string, caseNo: string, listing = '2026-03-01', expiry = '') =>
  `${id},${name},${caseNo},北京市朝阳区人民法院,${listing},有履行能力而拒不履行生效法律文书确定义务,${expiry}`;

const importing = (text: string, dryRun = false) =>
  list().importList(text, { fileName: 'court.csv', actor: 'test', dryRun });

const count = async (table: string) =>
  Number((await platform().db.query<{ n: bigint }>(`select count(*)::int8 n from ${table}`))[0]?.n);
const snapshot = async () => ({
  entries: await count('court_list_entries'),
  changes: await count('court_list_changes'),
  imports: await count('court_list_imports'),
});

let phones = 0;
async function verifiedUser(id: string | undefined, name = '张三'): Promise<string> {
  const { userId } = await platform().members.createUser({
    phone: `1360000${String(++phones).padStart(4, '0')}`,
    password: 'pass word 1',
  });
  if (id !== undefined) await platform().credit.realNames.verify(userId, { name, idNumber: id });
  return userId;
}

async function refused(promise: Promise<unknown>, code: string): Promise<string> {
  const error = await promise.catch((e: unknown) => e);
  expect(isCourtListError(error) && error.code, String(error)).toBe(code);
  return (error as Error).message;
}

describe('importing the court’s list', () => {
  it('imports a file of plain identity numbers, keeps only their hashes, and changes nothing the second time', async () => {
    const file = csv(lineOf(zhang, '张三', '(2026)京0105执1号'), lineOf(li, '李四', '(2026)京0105执2号'));
    const first = await importing(file);
    expect(first).toMatchObject({
      lines: 2,
      added: 2,
      updated: 0,
      removed: 0,
      unchanged: 0,
      rejected: [],
      written: true,
    });
    expect(first.importedBefore).toBeNull();
    const stored = JSON.stringify(await platform().db.query('select * from court_list_entries'));
    expect(stored).not.toContain(zhang.slice(0, 17));
    expect(stored).not.toContain(li.slice(0, 17));
    const [entry] = await list().entries({ q: zhang });
    expect(entry).toMatchObject({
      name: '张三',
      idSha256: platform().credit.realNames.hashOf(zhang),
      listingDate: '2026-03-01',
      // No expiry in the file: the listing date plus two years.
      expiryDate: '2028-03-01',
      status: 'listed',
      source: 'import',
    });

    const before = await snapshot();
    const again = await importing(file);
    expect(again).toMatchObject({ added: 0, updated: 0, removed: 0, unchanged: 2, written: false });
    expect(again.importedBefore).toEqual(expect.any(Date));
    expect(await snapshot()).toEqual(before);
  });

  it('updates, adds and removes by a second file; the removed entry is kept with when and why', async () => {
    await importing(csv(lineOf(zhang, '张三', '(2026)京0105执1号'), lineOf(li, '李四', '(2026)京0105执2号')));
    const [li1] = await list().entries({ q: '(2026)京0105执2号' });
    const second = csv(
      lineOf(zhang, '张三', '(2026)京0105执1号', '2026-03-01', '2027-03-01'),
      lineOf(wang, '王五', '(2026)粤0305执9号', '2026-05-20'),
    );
    const report = await importing(second);
    expect(report).toMatchObject({ added: 1, updated: 1, removed: 1, unchanged: 0, written: true });
    expect((await list().entries({ q: zhang }))[0]).toMatchObject({ expiryDate: '2027-03-01', status: 'listed' });
    const removed = await list().entry(li1?.entryId ?? '');
    expect(removed).toMatchObject({ status: 'removed', removedBy: 'test' });
    expect(removed.removedReason).toMatch(/not on the court's list imported from court\.csv/);
    expect(removed.changes.map((c) => c.action)).toEqual(['added', 'removed']);
    const [updated] = await list().entries({ q: zhang });
    const history = await list().entry(updated?.entryId ?? '');
    expect(history.changes.map((c) => c.action)).toEqual(['added', 'updated']);
    expect(history.changes[1]?.before).toMatchObject({ expiry_date: '2028-03-01' });
    // Listed again later: a new entry beside the removed one, which stays.
    await importing(csv(lineOf(li, '李四', '(2026)京0105执2号')));
    const both = await list().entries({ q: li });
    expect(both.map((e) => e.status).sort()).toEqual(['listed', 'removed']);
  });

  it('matches a file of hashes made with the platform’s key to the same people', async () => {
    const hash = platform().credit.realNames.hashOf(zhang);
    const byHash = `id_hash,name,case_number,court,listing_date,grounds\n${hash},张三,(2026)京0105执1号,北京市朝阳区人民法院,2026-03-01,有履行能力而拒不履行生效法律文书确定义务\n`;
    const report = await importing(byHash);
    expect(report).toMatchObject({ identity: 'id_hash', lines: 1, rejected: [] });
    // The same person and case as the earlier tests' file: nothing new about them.
    expect((await list().entries({ q: zhang })).filter((e) => e.status === 'listed')).toHaveLength(1);
  });

  it('refuses a malformed file whole, writing nothing', async () => {
    const before = await snapshot();
    const good = lineOf(wang, '王五', '(2026)粤0305执9号');
    const headers = [
      'id_number,name,case_number,court,listing_date', // no grounds
      'id_number,id_hash,name,case_number,court,listing_date,grounds', // both identities
      'name,case_number,court,listing_date,grounds', // no identity
      'id_number,name,case_number,court,listing_date,grounds,debt', // unknown column
      'id_number,name,name,case_number,court,listing_date,grounds', // a column twice
    ];
    for (const h of headers) await refused(importing(`${h}\n${good}\n`), 'file_invalid');
    expect(await refused(importing(''), 'file_invalid')).toMatch(/empty/);
    expect(await refused(importing(`${header}\n`), 'file_invalid')).toMatch(/lists nobody/);
    expect(await refused(importing(`${header}\n${zhang},"张三,x\n`), 'file_invalid')).toMatch(/not CSV/);
    expect(await snapshot()).toEqual(before);
  });

  it('reports every bad line with its number and reason, and writes none of the file', async () => {
    const before = await snapshot();
    const current = await list().entries({ status: 'listed' });
    const report = await importing(
      csv(
        lineOf(wang, '王五', '(2026)粤0305执10号'),
        lineOf('110105198001010010', '赵六', '(2026)京0105执3号'), // a wrong check character
        lineOf(li, '李四', '(2026)京0105执4号', '2026-13-01'),
        lineOf(li, '李四', '(2026)京0105执5号', '2027-01-01'), // listed after today
        lineOf(li, '李四', '(2026)京0105执6号', '2026-03-01', '2026-02-01'), // expires before its listing
        `${zhang},张三,(2026)京0105执7号`, // too few fields
        lineOf(wang, '王五', '(2026)粤0305执10号'), // the same person and case twice
        lineOf(zhang, '', '(2026)京0105执8号'),
      ),
    );
    expect(report.written).toBe(false);
    expect(report.rejected).toEqual([
      { line: 3, reason: expect.stringMatching(/id_number is not a valid/) },
      { line: 4, reason: expect.stringMatching(/listing_date must be a day/) },
      { line: 5, reason: expect.stringMatching(/listing_date 2027-01-01 is after today/) },
      { line: 6, reason: 'expiry_date must be after listing_date' },
      { line: 7, reason: '3 fields, the header has 7' },
      { line: 8, reason: 'the same person and case_number as line 2' },
      { line: 9, reason: expect.stringMatching(/name must be text/) },
    ]);
    // The number itself is never repeated in a report.
    expect(JSON.stringify(report)).not.toContain('110105198001010010');
    expect(await snapshot()).toEqual(before);
    expect(await list().entries({ status: 'listed' })).toEqual(current);
  });

  it('counts a dry run’s changes and writes nothing', async () => {
    const before = await snapshot();
    const report = await importing(csv(lineOf(wang, '王五', '(2026)粤0305执11号')), true);
    expect(report.written).toBe(false);
    expect(report.added).toBe(1);
    expect(report.removed).toBeGreaterThan(0);
    expect(await snapshot()).toEqual(before);
  });
});

describe('who is listed', () => {
  it('lists a user through their verified real name only, while an entry is in force', async () => {
    const listed = await verifiedUser(zhang);
    const unverified = await verifiedUser(undefined);
    const other = await verifiedUser(idNumber('11010519851111004'), '钱七');
    // The file of the earlier tests is replaced: Zhang listed for one case until 2027-03-01.
    await importing(csv(lineOf(zhang, '张三', '(2026)京0105执1号', '2026-03-01', '2027-03-01')));
    expect(await list().isListed(listed)).toBe(true);
    expect(await list().isListed(unverified)).toBe(false);
    expect(await list().isListed(other)).toBe(false);
    expect(await list().listing(listed)).toEqual([expect.objectContaining({ caseNumber: '(2026)京0105执1号' })]);

    // The last day before the expiry date is still listed; the expiry date is not.
    const now = clock.nowNs();
    clock.advanceMs(Date.parse('2027-02-28T15:00:00Z') - Number(now / 1_000_000n)); // 23:00 Beijing, 28 Feb
    expect(await list().isListed(listed)).toBe(true);
    clock.advanceMs(2 * 3_600_000); // 01:00 Beijing, 1 March
    expect(await list().isListed(listed)).toBe(false);
    expect((await list().entries({ q: zhang, status: 'expired' })).length).toBe(1);
  });

  it('lets an operator add an entry and remove it with a reason; a bad request writes nothing', async () => {
    const user = await verifiedUser(wang, '王五');
    const input = {
      idNumber: wang,
      name: '王五',
      caseNumber: '(2027)粤0305执1号',
      court: '深圳市南山区人民法院',
      listingDate: '2027-03-01',
      grounds: '违反财产报告制度',
    };
    const { entry, created } = await list().add(input, 'operator:x');
    expect(created).toBe(true);
    expect(entry).toMatchObject({ source: 'console', expiryDate: '2029-03-01', status: 'listed' });
    expect(await list().isListed(user)).toBe(true);
    // The same again answers the entry; other details for the same case are refused.
    expect((await list().add(input, 'operator:x')).created).toBe(false);
    const before = await snapshot();
    await refused(list().add({ ...input, grounds: '其他' }, 'operator:x'), 'entry_exists');
    await refused(list().add({ ...input, idHash: 'ab' }, 'operator:x'), 'entry_invalid');
    await refused(list().add({ ...input, listingDate: '2027-02-30' }, 'operator:x'), 'entry_invalid');
    await refused(list().remove(entry.entryId, '  ', 'operator:x'), 'reason_invalid');
    await refused(list().remove('not-an-id', 'paid', 'operator:x'), 'entry_not_found');
    await refused(list().setRestrictedCategories(['air tickets'], 'operator:x'), 'categories_invalid');
    expect(await snapshot()).toEqual(before);

    const removed = await list().remove(entry.entryId, 'the debt was met: court notice 2027-04-02', 'operator:y');
    expect(removed).toMatchObject({ status: 'removed', removedReason: 'the debt was met: court notice 2027-04-02' });
    expect(await list().isListed(user)).toBe(false);
    await refused(list().remove(entry.entryId, 'again', 'operator:y'), 'entry_removed');
  });
});
