/**
 * The courts' list in the operators' console: a risk operator searches entries (by a plain
 * identity number, its hash, a case number), adds one from a court's notice, reads it with its
 * changes, removes it with the reason (kept, never deleted), checks whether a user is listed and
 * sets the restricted merchant categories. Every change is in the audit log — the plain identity
 * number never; every bad request is a clear 400 and writes nothing; the routes are in the
 * OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idCheckCharacter } from '../../src/credit/index.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { type ApiUser, type ApiWorld, apiUser, apiWorld } from './support.ts';

let world: ApiWorld;
let token = '';
let user: ApiUser;
const idNumber = (first17: string) => first17 + idCheckCharacter(first17);
const zhang = idNumber('11010519800101001');

beforeAll(async () => {
  world = await apiWorld();
  token = (await world.platform.operators.create('risk-ops', { roles: ['risk'] })).token;
  user = await apiUser(world, 0n);
  await world.platform.credit.realNames.verify(user.userId, { name: '张三', idNumber: zhang });
});

afterAll(async () => {
  expect(await verifyLedger(world.platform.db)).toEqual([]);
  await world.close();
});

const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
  world.app.inject({ method, url: `/console/v1${url}`, headers: { authorization: `Bearer ${token}` }, payload });

const counts = async () => {
  const n = async (table: string) =>
    Number((await world.platform.db.query<{ n: bigint }>(`select count(*)::int8 n from ${table}`))[0]?.n);
  return {
    entries: await n('court_list_entries'),
    changes: await n('court_list_changes'),
    categories: await n('court_list_restricted_categories'),
    audit: await n('operator_audit'),
  };
};

const notice = {
  id_number: zhang,
  name: '张三',
  case_number: '(2026)京0105执1号',
  court: '北京市朝阳区人民法院',
  listing_date: '2026-01-05',
  grounds: '有履行能力而拒不履行生效法律文书确定义务',
};

describe('the court list in the console', () => {
  it('adds an entry, finds it, lists the user, removes it with its reason; each change audited', async () => {
    const added = await call('POST', '/court-list/entries', notice);
    expect(added.statusCode, added.body).toBe(201);
    const entry = added.json();
    expect(entry).toMatchObject({
      case_number: '(2026)京0105执1号',
      expiry_date: '2028-01-05',
      status: 'listed',
      source: 'console',
      created_by: expect.stringMatching(/^operator:/),
      id_hash: world.platform.credit.realNames.hashOf(zhang),
    });
    // The same notice again is the same entry; nothing new.
    const again = await call('POST', '/court-list/entries', notice);
    expect(again.statusCode).toBe(200);
    expect(again.json().entry_id).toBe(entry.entry_id);

    for (const q of [zhang, entry.id_hash, notice.case_number]) {
      const found = await call('GET', `/court-list/entries?q=${encodeURIComponent(q)}&status=listed`);
      expect(found.json().data.map((e: { entry_id: string }) => e.entry_id)).toEqual([entry.entry_id]);
    }
    const check = await call('GET', `/court-list/users/${user.userId}`);
    expect(check.json()).toMatchObject({ listed: true, entries: [{ entry_id: entry.entry_id }] });

    const removed = await call('POST', `/court-list/entries/${entry.entry_id}/removal`, {
      reason: 'the debt was met: court notice 2026-12-01',
    });
    expect(removed.statusCode, removed.body).toBe(200);
    expect(removed.json()).toMatchObject({
      status: 'removed',
      removed_reason: 'the debt was met: court notice 2026-12-01',
    });
    expect((await call('GET', `/court-list/users/${user.userId}`)).json().listed).toBe(false);
    const one = (await call('GET', `/court-list/entries/${entry.entry_id}`)).json();
    expect(one.changes.map((c: { action: string }) => c.action)).toEqual(['added', 'removed']);
    const twice = await call('POST', `/court-list/entries/${entry.entry_id}/removal`, { reason: 'again' });
    expect({ status: twice.statusCode, code: twice.json().code }).toEqual({ status: 409, code: 'entry_removed' });

    const audit = await world.platform.operators.audit({ action: 'court_list.entry.add' }, {});
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatchObject({ target: '(2026)京0105执1号' });
    expect(JSON.stringify(audit)).not.toContain(zhang);
    expect(audit[0]?.detail).toContain('"id_number":"[redacted]"');
    const removal = await world.platform.operators.audit({ action: 'court_list.entry.remove' }, {});
    expect(removal).toEqual([
      expect.objectContaining({ target: entry.entry_id, reason: 'the debt was met: court notice 2026-12-01' }),
    ]);
    const stored = JSON.stringify(await world.platform.db.query('select * from court_list_entries'));
    expect(stored).not.toContain(zhang.slice(0, 17));
  });

  it('sets the restricted categories, audited', async () => {
    expect((await call('GET', '/court-list/restricted-categories')).json()).toEqual({
      categories: ['air_tickets', 'luxury_travel', 'rail_first_class'],
    });
    const set = await call('PUT', '/court-list/restricted-categories', {
      categories: ['air_tickets', 'rail_first_class', 'luxury_travel', 'yacht_charter'],
      reason: 'the court added yachts',
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().categories).toEqual(['air_tickets', 'luxury_travel', 'rail_first_class', 'yacht_charter']);
    const [entry] = await world.platform.operators.audit({ action: 'court_list.categories.set' }, {});
    expect(entry).toMatchObject({ target: 'restricted-categories', reason: 'the court added yachts' });
  });

  it('answers bad requests with clear 400s and writes nothing', async () => {
    const before = await counts();
    const bad: [string, string, object, string, string | null][] = [
      ['POST', '/court-list/entries', { ...notice, id_number: '110105198001010010' }, 'entry_invalid', 'id_number'],
      ['POST', '/court-list/entries', { ...notice, id_hash: 'ab' }, 'entry_invalid', 'id_number'],
      [
        'POST',
        '/court-list/entries',
        { ...notice, id_number: undefined, id_hash: 'zz'.repeat(32) },
        'entry_invalid',
        'id_hash',
      ],
      ['POST', '/court-list/entries', { ...notice, listing_date: '2026-02-30' }, 'entry_invalid', 'listing_date'],
      ['POST', '/court-list/entries', { ...notice, listing_date: '2099-01-01' }, 'entry_invalid', 'listing_date'],
      ['POST', '/court-list/entries', { ...notice, expiry_date: '2025-01-01' }, 'entry_invalid', 'expiry_date'],
      ['POST', '/court-list/entries', { ...notice, name: '  ' }, 'entry_invalid', 'name'],
      [
        'POST',
        '/court-list/entries',
        { ...notice, case_number: '(2026)京0105执9号', debt: '1' },
        'INVALID_PARAMETER',
        null,
      ],
      ['PUT', '/court-list/restricted-categories', { categories: ['air tickets'] }, 'categories_invalid', 'categories'],
      ['PUT', '/court-list/restricted-categories', { categories: 'air_tickets' }, 'INVALID_PARAMETER', null],
    ];
    for (const [method, url, payload, code, param] of bad) {
      const res = await call(method as 'POST', url, payload);
      expect({ url, payload, status: res.statusCode }).toEqual({ url, payload, status: 400 });
      expect(res.json().code).toBe(code);
      if (param !== null) expect(res.json().message).toMatch(new RegExp(param));
    }
    const unknown = await call('POST', '/court-list/entries/00000000-0000-7000-8000-000000000000/removal', {
      reason: 'paid',
    });
    expect({ status: unknown.statusCode, code: unknown.json().code }).toEqual({ status: 404, code: 'entry_not_found' });
    const [entry] = (await call('GET', '/court-list/entries')).json().data;
    const noReason = await call('POST', `/court-list/entries/${entry.entry_id}/removal`, { reason: '' });
    expect(noReason.statusCode).toBe(400);
    expect(await counts()).toEqual(before);
  });

  it('is described in the OpenAPI document', async () => {
    const spec = (await world.app.inject({ method: 'GET', url: '/docs/json' })).json();
    const paths = Object.keys(spec.paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/console/v1/court-list/entries',
        '/console/v1/court-list/entries/{entryId}',
        '/console/v1/court-list/entries/{entryId}/removal',
        '/console/v1/court-list/users/{userId}',
        '/console/v1/court-list/restricted-categories',
      ]),
    );
  });
});
