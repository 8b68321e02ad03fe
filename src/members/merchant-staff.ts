import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { type Db, type Queryable, typed } from '../core/db/index.ts';
import { id, uuidFromU128 } from '../core/ids.ts';
import { limits } from '../core/limits.ts';
import { MembersError } from './errors.ts';
import { LoginThrottle } from './login-throttle.ts';
import { decoyHash, hashPassword, verifyPassword } from './passwords.ts';
import { maskPhone, normalizePhone } from './phone.ts';
import type { SmsSender } from './sms.ts';
import type { MemberTables } from './tables.ts';

/** What a member of a merchant's staff may do is decided by the role (src/merchants/roles.ts). */
export type StaffRole = 'owner' | 'finance' | 'support';
export const staffRoles: readonly StaffRole[] = ['owner', 'finance', 'support'];

/** A member of a merchant's staff, as the portal shows it. */
export interface Staff {
  staffId: string;
  merchantId: string;
  /** The merchant's name (its first app's, unless renamed). */
  merchantName: string;
  name: string;
  role: StaffRole;
  /** `138****8000` */
  phone: string;
  createdAtNs: bigint;
}

export interface NewStaff {
  phone: string;
  password: string;
  name: string;
  role: StaffRole;
}

/** One entry of a merchant's activity log: who of its staff did what, on what, when. */
export interface StaffActivity {
  id: string;
  staffId: string;
  staffName: string;
  role: StaffRole;
  action: string;
  target: string;
  /** What was asked, as JSON (never a password). */
  detail: string | null;
  atNs: bigint;
}

/** A portal session: the bearer token (shown once, stored as SHA-256) and its expiry. */
export interface StaffSession {
  token: string;
  staff: Staff;
  expiresAtNs: bigint;
}

const tokenPrefix = 'pbm_';
const tokenPattern = /^pbm_[A-Za-z0-9_-]{43}$/;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const msToNs = (ms: number): bigint => BigInt(ms) * 1_000_000n;

/**
 * The merchant portal's logins: a merchant's staff, each with a phone, a password and a role.
 * Logging in takes two steps: the password (throttled like the wallet's), which texts a 6-digit
 * code to the phone, then the password again with that code, which opens a bearer session.
 * Staff phones are their own namespace: a person may be a wallet user and a merchant's cashier
 * on one phone, and the two logins never share a code, a session or a throttle counter.
 */
export class MerchantStaff {
  readonly #throttle: LoginThrottle;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly sms: SmsSender,
  ) {
    this.#throttle = new LoginThrottle(db, clock);
  }

  /**
   * Adds a member of staff to a merchant. Throws `merchant_not_found`, `phone_invalid`,
   * `password_invalid`, `staff_name_invalid`, `staff_role_invalid`, `phone_taken`.
   */
  async add(merchantId: string, input: NewStaff, createdBy?: string): Promise<Staff> {
    const phone = normalizePhone(input.phone);
    if (phone === undefined) throw new MembersError('phone_invalid');
    const length = typeof input.password === 'string' ? [...input.password].length : 0;
    if (length < limits.passwordLengthMin || length > limits.passwordLengthMax) {
      throw new MembersError('password_invalid');
    }
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (!name || [...name].length > limits.staffNameLengthMax) throw new MembersError('staff_name_invalid');
    if (!staffRoles.includes(input.role)) throw new MembersError('staff_role_invalid');
    const merchant = await this.#t()
      .selectFrom('members')
      .select('kind')
      .where('user_id', '=', merchantId)
      .executeTakeFirst();
    if (merchant?.kind !== 'merchant') throw new MembersError('merchant_not_found');
    const staffId = uuidFromU128(id());
    const inserted = await this.#t()
      .insertInto('merchant_staff')
      .values({
        staff_id: staffId,
        merchant_id: merchantId,
        phone,
        password_hash: await hashPassword(input.password),
        name,
        role: input.role,
        created_by: createdBy ?? null,
        created_at_ns: this.clock.nowNs(),
      })
      .onConflict((oc) => oc.column('phone').doNothing())
      .returning('staff_id')
      .executeTakeFirst();
    if (!inserted) throw new MembersError('phone_taken', 'this phone already logs into a merchant');
    return this.get(staffId);
  }

  /** One member of staff; throws `staff_not_found`. */
  async get(staffId: string): Promise<Staff> {
    const [staff] = await this.#select().where('s.staff_id', '=', staffId).execute();
    if (!staff) throw new MembersError('staff_not_found');
    return toStaff(staff);
  }

  /** A merchant's staff, oldest first. */
  async list(merchantId: string): Promise<Staff[]> {
    const rows = await this.#select()
      .where('s.merchant_id', '=', merchantId)
      .orderBy('s.created_at_ns')
      .limit(limits.staffPerMerchantMax)
      .execute();
    return rows.map(toStaff);
  }

  /** Writes what a member of staff did to the merchant's activity log. */
  async record(staff: Staff, action: string, target: string, detail?: Record<string, unknown>): Promise<void> {
    await this.#t()
      .insertInto('merchant_staff_activity')
      .values({
        merchant_id: staff.merchantId,
        staff_id: staff.staffId,
        action,
        target,
        detail: detail === undefined ? null : JSON.stringify(detail).slice(0, limits.staffActivityDetailLengthMax),
        at_ns: this.clock.nowNs(),
      })
      .execute();
  }

  /** A merchant's activity log, newest first: a page of at most `limit` entries before the entry `before`. */
  async activity(merchantId: string, page: { before?: string | undefined; limit: number }): Promise<StaffActivity[]> {
    let query = this.#t()
      .selectFrom('merchant_staff_activity as a')
      .innerJoin('merchant_staff as s', 's.staff_id', 'a.staff_id')
      .select(['a.id', 'a.staff_id', 's.name', 's.role', 'a.action', 'a.target', 'a.detail', 'a.at_ns'])
      .where('a.merchant_id', '=', merchantId);
    if (page.before !== undefined) query = query.where('a.id', '<', BigInt(page.before));
    const rows = await query.orderBy('a.id', 'desc').limit(Math.min(page.limit, limits.merchantPageRowsMax)).execute();
    return rows.map((r) => ({
      id: String(r.id),
      staffId: r.staff_id,
      staffName: r.name,
      role: r.role,
      action: r.action,
      target: r.target,
      detail: r.detail,
      atNs: r.at_ns,
    }));
  }

  /**
   * Step one of a login: checks the password and texts a code to the phone. Throws `login_failed`
   * alike for an unknown phone and a wrong password, `login_throttled`, `sms_code_too_frequent`.
   */
  async sendLoginCode(phone: string, password: string, clientAddress?: string): Promise<void> {
    const staff = await this.#checkPassword(phone, password, clientAddress);
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
    const codeId = uuidFromU128(id());
    const sent = await this.db.transaction(async (tx) => {
      const t = typed<MemberTables>(tx);
      await t
        .selectFrom('merchant_staff')
        .select('staff_id')
        .where('staff_id', '=', staff.staffId)
        .forUpdate()
        .execute();
      const now = this.clock.nowNs();
      const last = await t
        .selectFrom('merchant_staff_codes')
        .select('created_at_ns')
        .where('staff_id', '=', staff.staffId)
        .where('status', '<>', 'revoked')
        .orderBy('created_at_ns', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (last && now - last.created_at_ns < msToNs(limits.smsCodeResendIntervalMs)) return false;
      await t
        .updateTable('merchant_staff_codes')
        .set({ status: 'superseded' })
        .where('staff_id', '=', staff.staffId)
        .where('status', '=', 'open')
        .execute();
      await t
        .insertInto('merchant_staff_codes')
        .values({
          id: codeId,
          staff_id: staff.staffId,
          code_hash: sha256(`${codeId}:${code}`),
          status: 'open',
          created_at_ns: now,
          expires_at_ns: now + msToNs(limits.smsCodeTtlMs),
        })
        .execute();
      return true;
    });
    if (!sent) throw new MembersError('sms_code_too_frequent');
    const minutes = Math.round(limits.smsCodeTtlMs / 60_000);
    const text = `[Paybao] Your merchant portal login code is ${code}. It expires in ${minutes} minutes. Never share it.`;
    try {
      await this.sms.send({ phone: staff.fullPhone, text });
    } catch (error) {
      // Compensation: a code nobody received must not hold back the next one.
      await this.#t().updateTable('merchant_staff_codes').set({ status: 'revoked' }).where('id', '=', codeId).execute();
      throw error;
    }
  }

  /**
   * Step two: the password again and the newest texted code open a session. Throws
   * `login_failed`, `login_throttled`, `sms_code_invalid`, `sms_code_expired`,
   * `sms_code_attempts_exceeded`.
   */
  async login(phone: string, password: string, code: string, clientAddress?: string): Promise<StaffSession> {
    const staff = await this.#checkPassword(phone, password, clientAddress);
    if (typeof code !== 'string' || !/^\d{6}$/.test(code)) throw new MembersError('sms_code_invalid');
    const outcome = await this.db.transaction((tx) => this.#useCode(tx, staff.staffId, code));
    if (outcome !== 'ok') throw new MembersError(outcome);
    const token = `${tokenPrefix}${randomBytes(32).toString('base64url')}`;
    const now = this.clock.nowNs();
    const expiresAtNs = now + msToNs(limits.sessionTtlMs);
    await this.#t()
      .insertInto('merchant_staff_sessions')
      .values({ token_hash: sha256(token), staff_id: staff.staffId, created_at_ns: now, expires_at_ns: expiresAtNs })
      .execute();
    return { token, staff: await this.get(staff.staffId), expiresAtNs };
  }

  /** The member of staff behind a live session token; undefined for anything else. */
  async authenticate(token: string): Promise<Staff | undefined> {
    if (!tokenPattern.test(token)) return undefined;
    const row = await this.#t()
      .selectFrom('merchant_staff_sessions')
      .select('staff_id')
      .where('token_hash', '=', sha256(token))
      .where('revoked_at_ns', 'is', null)
      .where('expires_at_ns', '>', this.clock.nowNs())
      .executeTakeFirst();
    return row ? this.get(row.staff_id) : undefined;
  }

  /** Ends a session; ending one already ended does nothing. */
  async logout(token: string): Promise<void> {
    if (!tokenPattern.test(token)) return;
    await this.#t()
      .updateTable('merchant_staff_sessions')
      .set({ revoked_at_ns: this.clock.nowNs() })
      .where('token_hash', '=', sha256(token))
      .where('revoked_at_ns', 'is', null)
      .execute();
  }

  async #checkPassword(
    phone: string,
    password: string,
    clientAddress: string | undefined,
  ): Promise<{ staffId: string; fullPhone: string }> {
    const normalized = typeof phone === 'string' ? normalizePhone(phone) : undefined;
    // The throttle's counters of staff phones are apart from the wallet's (`phone:staff:+86…`).
    const verdict = await this.#throttle.begin({
      phone: normalized === undefined ? undefined : `staff:${normalized}`,
      clientAddress,
    });
    if (!verdict.allowed) {
      const error = new MembersError('login_throttled');
      error.retryAfterMs = verdict.retryAfterMs;
      throw error;
    }
    const row =
      normalized === undefined
        ? undefined
        : await this.#t()
            .selectFrom('merchant_staff')
            .select(['staff_id', 'password_hash'])
            .where('phone', '=', normalized)
            .executeTakeFirst();
    const matches = await verifyPassword(
      typeof password === 'string' ? password : '',
      row?.password_hash ?? (await decoyHash()),
    );
    if (!row || !matches || normalized === undefined) {
      await this.#throttle.failed();
      throw new MembersError('login_failed');
    }
    await this.#throttle.succeeded(verdict.keys);
    return { staffId: row.staff_id, fullPhone: normalized };
  }

  async #useCode(
    tx: Queryable,
    staffId: string,
    code: string,
  ): Promise<'ok' | 'sms_code_invalid' | 'sms_code_expired' | 'sms_code_attempts_exceeded'> {
    const t = typed<MemberTables>(tx);
    const row = await t
      .selectFrom('merchant_staff_codes')
      .select(['id', 'code_hash', 'attempts', 'expires_at_ns'])
      .where('staff_id', '=', staffId)
      .where('status', '=', 'open')
      .orderBy('created_at_ns', 'desc')
      .limit(1)
      .forUpdate()
      .executeTakeFirst();
    if (!row) return 'sms_code_invalid';
    if (row.expires_at_ns <= this.clock.nowNs()) return 'sms_code_expired';
    if (row.attempts >= limits.smsCodeAttemptsMax) return 'sms_code_attempts_exceeded';
    const given = Buffer.from(sha256(`${row.id}:${code}`), 'hex');
    if (!timingSafeEqual(given, Buffer.from(row.code_hash, 'hex'))) {
      await t
        .updateTable('merchant_staff_codes')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('id', '=', row.id)
        .execute();
      return 'sms_code_invalid';
    }
    await t.updateTable('merchant_staff_codes').set({ status: 'used' }).where('id', '=', row.id).execute();
    return 'ok';
  }

  #select() {
    return this.#t()
      .selectFrom('merchant_staff as s')
      .innerJoin('members as m', 'm.user_id', 's.merchant_id')
      .select([
        's.staff_id',
        's.merchant_id',
        's.name',
        's.role',
        's.phone',
        's.created_at_ns',
        'm.name as merchant_name',
      ]);
  }

  #t() {
    return typed<MemberTables>(this.db);
  }
}

function toStaff(row: {
  staff_id: string;
  merchant_id: string;
  name: string;
  role: StaffRole;
  phone: string;
  created_at_ns: bigint;
  merchant_name: string | null;
}): Staff {
  return {
    staffId: row.staff_id,
    merchantId: row.merchant_id,
    merchantName: row.merchant_name ?? '',
    name: row.name,
    role: row.role,
    phone: maskPhone(row.phone),
    createdAtNs: row.created_at_ns,
  };
}
