/**
 * A restored database knows its moment, and the server refuses books that fail: `paybao start`
 * runs `refuseUnsoundRestore` before it records or serves anything. A database never restored is
 * not verified at start; a restored one whose books fail is refused in words naming the moment
 * and the first violation; once they are corrected, the next start verifies them, records it, and
 * does not verify again.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { refuseUnsoundRestore } from '../../src/cli/ledger.ts';
import { recordRestore, restoredFrom } from '../../src/core/db/index.ts';
import type { Platform } from '../../src/platform.ts';
import { freshPlatform } from '../support/engine.ts';

let platform: Platform;

beforeAll(async () => {
  platform = await freshPlatform();
  await platform.members.createUser({ phone: '13800000041', password: 'pw restored 1', openingBalance: 1_000n });
});

afterAll(async () => {
  await platform.close();
});

it('starts a database never restored without verifying it, and refuses a restored one whose books fail until corrected', async () => {
  const db = platform.db;
  expect(await restoredFrom(db)).toBeNull();
  await refuseUnsoundRestore(db);

  await recordRestore(db, {
    point_in_time: '2026-12-07T06:00:00Z',
    source: '/backups/monday',
    taken_at: '2026-12-07T05:00:00Z',
    target_time: '2026-12-07 06:00:00+00',
  });
  // One account's balance no longer equals its transfers: the books fail.
  const [account] = await db.query<{ id: string }>('select id from ledger_accounts where credits_posted > 0 limit 1');
  await db.query('update ledger_accounts set credits_posted = credits_posted + 1 where id = $1', [account?.id]);
  await expect(refuseUnsoundRestore(db)).rejects.toThrow(
    /restored from \/backups\/monday to 2026-12-07.*fail verification \(\d+ violations; the first: \w+/,
  );
  expect(await restoredFrom(db)).toMatchObject({ source: '/backups/monday', verified_at: null });
  expect((await restoredFrom(db))?.violations).toBeGreaterThan(0);

  await db.query('update ledger_accounts set credits_posted = credits_posted - 1 where id = $1', [account?.id]);
  await refuseUnsoundRestore(db);
  const verified = await restoredFrom(db);
  expect(verified).toMatchObject({ violations: 0, source: '/backups/monday' });
  expect(Date.parse(verified?.point_in_time ?? '')).toBe(Date.parse('2026-12-07T06:00:00Z'));
  expect(verified?.verified_at).not.toBeNull();
}, 60_000);
