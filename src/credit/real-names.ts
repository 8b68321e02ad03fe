/**
 * Real-name verification: a user states their name and their PRC resident identity number; the
 * number is checked (shape, birth date, check character) and kept only as its keyed hash
 * (id-number.ts). One identity per account, one account per identity: the same number again for
 * the same account is answered as done; another number, or a number another account verified,
 * is refused, writing nothing. (Paybao checks the number's arithmetic, not the person: a
 * production deployment would ask the Ministry of Public Security's service before recording.)
 */
import type { Clock } from '../core/clock.ts';
import { type Db, typed } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { isUnreadableText } from '../core/text.ts';
import { dateFromNs } from '../core/time.ts';
import { CreditError } from './errors.ts';
import { idNumberHash, normalizeIdNumber } from './id-number.ts';
import type { CreditTables } from './tables.ts';
import { beijingDate } from './window.ts';

export interface RealNameView {
  verified: boolean;
  /** The name with all but its last character masked (`**明`); null until verified. */
  maskedName: string | null;
  verifiedAt: Date | null;
}

/** Names: letters, with single spaces or middle dots between them (`李明`, `Li Ming`, `阿依·买买提`). */
const namePattern = /^\p{L}+(?:[ ·•]\p{L}+)*$/u;

const mask = (name: string): string => {
  const chars = [...name];
  return '*'.repeat(chars.length - 1) + (chars.at(-1) ?? '');
};

export class RealNames {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #key: string;

  constructor(db: Db, clock: Clock, idHashKey: string) {
    this.#db = db;
    this.#clock = clock;
    this.#key = idHashKey;
  }

  /** The keyed hash of an identity number as stored (what the court list's importer computes), or null when invalid. */
  hashOf(idNumber: string): string | null {
    const id = normalizeIdNumber(idNumber, beijingDate(this.#clock.nowNs()));
    return id === null ? null : idNumberHash(id, this.#key);
  }

  /**
   * Verifies `userId`'s real name. Throws `real_name_invalid`, `id_number_invalid`,
   * `user_not_found`, `real_name_verified` (verified with another number) and `id_number_taken`.
   */
  async verify(userId: string, input: { name: string; idNumber: string }): Promise<RealNameView> {
    const name = input.name.normalize('NFC').trim();
    if ([...name].length > limits.creditRealNameCharsMax || !namePattern.test(name) || isUnreadableText(name)) {
      throw new CreditError('real_name_invalid', { param: 'name' });
    }
    const hash = this.hashOf(input.idNumber);
    if (hash === null) throw new CreditError('id_number_invalid', { param: 'id_number' });
    const user = await this.#db.query<{ kind: string }>('select kind from members where user_id = $1', [userId]);
    if (user[0]?.kind !== 'user') throw new CreditError('user_not_found');
    const t = typed<CreditTables>(this.#db);
    const inserted = await t
      .insertInto('credit_real_names')
      .values({ user_id: userId, real_name: name, id_sha256: hash, verified_at: dateFromNs(this.#clock.nowNs()) })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return view(inserted);
    const mine = await t.selectFrom('credit_real_names').selectAll().where('user_id', '=', userId).executeTakeFirst();
    if (mine?.id_sha256 === hash) return view(mine);
    if (mine) throw new CreditError('real_name_verified', { param: 'id_number' });
    throw new CreditError('id_number_taken', { param: 'id_number' });
  }

  /** Whether `userId` verified a real name, masked. */
  async status(userId: string): Promise<RealNameView> {
    const row = await typed<CreditTables>(this.#db)
      .selectFrom('credit_real_names')
      .selectAll()
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row ? view(row) : { verified: false, maskedName: null, verifiedAt: null };
  }

  /** The identity hash of the user's verified real name, or null when they verified none (the court list's match). */
  async idHashOfUser(userId: string): Promise<string | null> {
    const row = await typed<CreditTables>(this.#db)
      .selectFrom('credit_real_names')
      .select('id_sha256')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row?.id_sha256 ?? null;
  }

  /** The user an identity hash is verified for, if any (the court list's match). */
  async userOfHash(idSha256: string): Promise<string | null> {
    const row = await typed<CreditTables>(this.#db)
      .selectFrom('credit_real_names')
      .select('user_id')
      .where('id_sha256', '=', idSha256)
      .executeTakeFirst();
    return row?.user_id ?? null;
  }
}

function view(row: { real_name: string; verified_at: Date }): RealNameView {
  return { verified: true, maskedName: mask(row.real_name), verifiedAt: row.verified_at };
}
