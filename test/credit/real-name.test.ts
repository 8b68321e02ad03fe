/**
 * Real-name verification: an 18-character PRC identity number is taken only with a right check
 * character and a real birth date; only its keyed hash is stored (the documented HMAC, so the
 * court list's importer computes the same); one identity per account and one account per
 * identity, the same number again being done already. Every refusal writes nothing.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { idCheckCharacter, isCreditError, normalizeIdNumber } from '../../src/credit/index.ts';
import { usePlatform } from '../support/engine.ts';

const clock = new ManualClock(Date.parse('2026-12-07T04:00:00Z'));
const platform = usePlatform({ clock });
let phones = 0;
const newUser = async () =>
  (
    await platform().members.createUser({
      phone: `1370000${String(++phones).padStart(4, '0')}`,
      password: 'pass word 1',
    })
  ).userId;

/** A valid number with the given first 17 digits. */
const withCheck = (first17: string) => first17 + idCheckCharacter(first17);

async function refused(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.catch((e: unknown) => e);
  expect(isCreditError(error) && error.code).toBe(code);
}

const rows = async () => (await platform().db.query('select * from credit_real_names order by user_id')).length;

describe('identity numbers', () => {
  it('takes the published example and refuses a wrong check character, date or shape', () => {
    // GB 11643-1999's example: 11010519491231002X.
    expect(normalizeIdNumber('11010519491231002x', '2026-12-07')).toBe('11010519491231002X');
    expect(normalizeIdNumber('110105194912310021', '2026-12-07')).toBeNull();
    expect(normalizeIdNumber(withCheck('11010519490230002'), '2026-12-07')).toBeNull(); // 30 February
    expect(normalizeIdNumber(withCheck('11010520291231002'), '2026-12-07')).toBeNull(); // born in the future
    expect(normalizeIdNumber('1101051949123100', '2026-12-07')).toBeNull();
    expect(normalizeIdNumber(withCheck('01010519491231002'), '2026-12-07')).toBeNull();
    expect(normalizeIdNumber('11010519491231002X ', '2026-12-07')).toBe('11010519491231002X');
  });
});

describe('real-name verification', () => {
  it('stores only the documented keyed hash of the number, and shows the name masked', async () => {
    const { credit, db } = platform();
    const userId = await newUser();
    const view = await credit.realNames.verify(userId, { name: '李小明', idNumber: '11010519491231002x' });
    expect(view).toMatchObject({ verified: true, maskedName: '**明' });
    const expected = createHmac('sha256', 'paybao development identity hash key')
      .update('paybao-id-v1:11010519491231002X')
      .digest('hex');
    const stored = await db.query<Record<string, unknown>>('select * from credit_real_names where user_id = $1', [
      userId,
    ]);
    expect(stored[0]?.id_sha256).toBe(expected);
    expect(JSON.stringify(stored)).not.toContain('11010519491231002');
    expect(credit.realNames.hashOf('11010519491231002X')).toBe(expected);
    expect(await credit.realNames.userOfHash(expected)).toBe(userId);
    expect(await credit.realNames.status(userId)).toMatchObject({ verified: true, maskedName: '**明' });
    // The same number again is done already.
    expect(await credit.realNames.verify(userId, { name: '李小明', idNumber: '11010519491231002X' })).toMatchObject({
      verified: true,
    });
  });

  it('refuses bad input, a second identity and a taken one, writing nothing', async () => {
    const { credit } = platform();
    const a = await newUser();
    const b = await newUser();
    const id = withCheck('44030419900101123');
    await credit.realNames.verify(a, { name: 'Li Ming', idNumber: id });
    const before = await rows();
    const wrongCheck = id.slice(0, 17) + (id.endsWith('1') ? '2' : '1');
    await refused(credit.realNames.verify(b, { name: '王', idNumber: wrongCheck }), 'id_number_invalid');
    await refused(credit.realNames.verify(b, { name: '王', idNumber: '' }), 'id_number_invalid');
    await refused(
      credit.realNames.verify(b, { name: '', idNumber: withCheck('44030419900101124') }),
      'real_name_invalid',
    );
    await refused(
      credit.realNames.verify(b, { name: 'Li 1', idNumber: withCheck('44030419900101124') }),
      'real_name_invalid',
    );
    await refused(
      credit.realNames.verify(b, { name: '李'.repeat(41), idNumber: withCheck('44030419900101124') }),
      'real_name_invalid',
    );
    await refused(credit.realNames.verify(b, { name: '王芳', idNumber: id }), 'id_number_taken');
    await refused(
      credit.realNames.verify(a, { name: 'Li Ming', idNumber: withCheck('44030419900101124') }),
      'real_name_verified',
    );
    await refused(
      credit.realNames.verify('2088999999999999', { name: '王芳', idNumber: withCheck('44030419900101125') }),
      'user_not_found',
    );
    expect(await rows()).toBe(before);
    expect(await credit.realNames.status(b)).toEqual({ verified: false, maskedName: null, verifiedAt: null });
  });
});
