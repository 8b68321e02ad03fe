import { createHash, type KeyObject, randomInt, timingSafeEqual } from 'node:crypto';
import type { Insertable } from 'kysely';
import { assert, unreachable } from '../core/assert.ts';
import { Batcher, firstPerKey } from '../core/batcher.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import { type Db, type Queryable, typed } from '../core/db/index.ts';
import { id, u128FromUuid, uuidFromU128 } from '../core/ids.ts';
import { limits } from '../core/limits.ts';
import { amountMax, type Ledger } from '../ledger/index.ts';
import { MembersError, type MembersErrorCode } from './errors.ts';
import { newAppId, newPaymentCodeText, newUserId, paymentCodePattern } from './external-ids.ts';
import { type Freeze, Freezes } from './freezes.ts';
import { LoginThrottle } from './login-throttle.ts';
import { parseMerchantPublicKey } from './merchant-key.ts';
import { MerchantStaff } from './merchant-staff.ts';
import { decoyHash, hashPassword, verifyPassword } from './passwords.ts';
import { maskPhone, normalizePhone } from './phone.ts';
import { PlatformKeyStore, type PlatformKeys } from './platform-keys.ts';
import { type OutboxMessage, OutboxSmsSender, readOutbox, type SmsSender } from './sms.ts';
import type { MemberRow, MemberTables } from './tables.ts';
import { Wallets } from './wallets.ts';

export interface MembersOptions {
  clock?: Clock | undefined;
  /** Where SMS codes go; the development outbox when absent. */
  smsSender?: SmsSender | undefined;
  /** The platform's private keys are stored encrypted under it (`PAYBAO_KEY_PASSPHRASE`); in clear when absent. */
  keyPassphrase?: string | undefined;
}

/** A member: a user (phone, password) or a merchant (name, apps). Both hold a CNY wallet. */
export interface Member {
  userId: string;
  kind: 'user' | 'merchant';
  /** Users: the masked phone (`138****8000`), Alipay's `buyer_logon_id`. Merchants: undefined. */
  logonId: string | undefined;
  phone: string | undefined;
  name: string | undefined;
  walletAccountId: bigint;
  createdAtNs: bigint;
}

/** A member of kind `user`. */
export interface User extends Member {
  kind: 'user';
  logonId: string;
  phone: string;
}

export interface CreateUserInput {
  phone: string;
  password: string;
  /** Fen moved from the platform funding account into the new wallet; zero or absent for none. */
  openingBalance?: bigint | undefined;
}

export interface CreateAppInput {
  name: string;
  /** The merchant's RSA public key: SPKI or PKCS#1 PEM, or the bare base64 body. */
  merchantPublicKeyPem: string;
  notifyUrl?: string | undefined;
  /**
   * The app's authorisation callback address (Alipay's 授权回调地址): the authorise page sends a
   * user back only to a `redirect_uri` on its origin. Without one the app cannot ask users.
   */
  authRedirectUrl?: string | undefined;
  /** An existing merchant to own the app; absent, a new merchant named after the app is created. */
  sellerId?: string | undefined;
}

export interface CreatedApp {
  appId: string;
  /** The merchant's user id (2088…). */
  sellerId: string;
  /** The platform's active public key (SPKI PEM): the merchant's `alipayPublicKey`. */
  alipayPublicKey: string;
}

export interface App {
  appId: string;
  sellerId: string;
  name: string;
  /** SPKI PEM, as stored. */
  merchantPublicKeyPem: string;
  /** The same key, parsed: verifies the app's request signatures. */
  merchantPublicKey: KeyObject;
  notifyUrl: string | undefined;
  /** Where the authorise page may send users back (scheme, host and port must match); undefined: nowhere. */
  authRedirectUrl: string | undefined;
  createdAtNs: bigint;
}

/** The outcome of checking an SMS code inside its transaction (errors are thrown after commit). */
/** One payment code to spend: when, and for which payment (null: for no payment in particular). */
interface Redemption {
  code: string;
  atNs: bigint;
  spentFor: string | null;
}

type CodeCheck = 'ok' | Extract<MembersErrorCode, `sms_code_${string}`>;

/**
 * Members: users, merchants and their apps, logins, payment codes, and the platform's key pair.
 * Every method validates all of its input before it writes anything; operating errors are
 * `MembersError`s from the catalog in errors.ts.
 */
export class Members {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #sms: SmsSender;
  readonly #wallets: Wallets;
  readonly #keys: PlatformKeyStore;
  readonly #throttle: LoginThrottle;
  /** The merchant portal's logins: each merchant's staff, their codes and sessions. */
  readonly staff: MerchantStaff;
  /** Payment codes being spent, grouped across concurrent payments (see `#redeem`). */
  readonly #redemptions: Batcher<Redemption, string | null>;
  /** Account freezes (an operator's): a frozen member pays, transfers and withdraws nothing. */
  readonly freezes: Freezes;

  constructor(db: Db, ledger: Ledger, options: MembersOptions = {}) {
    this.#db = db;
    this.#clock = options.clock ?? systemClock;
    this.#sms = options.smsSender ?? new OutboxSmsSender(db, this.#clock);
    this.#wallets = new Wallets(db, ledger);
    this.#keys = new PlatformKeyStore(db, this.#clock, options.keyPassphrase);
    this.#throttle = new LoginThrottle(db, this.#clock);
    this.freezes = new Freezes(db, this.#clock);
    this.staff = new MerchantStaff(db, this.#clock, this.#sms);
    this.#redemptions = new Batcher(
      (items) =>
        firstPerKey(
          items,
          (i) => i.code,
          (unique) => this.#redeem(unique),
        ),
      {
        waitMs: 0,
        maxInFlight: 1,
        batchEventsMax: limits.paymentCodeBatchMax,
        submissionEventsMax: 1,
        queueEventsMax: limits.tradeWriteQueueMax,
        isolateFailures: true,
        name: 'payment codes',
      },
    );
  }

  /**
   * Registers a user with a wallet, funded with `openingBalance` by a ledger transfer from the
   * platform funding account. Throws `phone_invalid`, `password_invalid`, `amount_invalid`,
   * `phone_taken`.
   */
  async createUser(input: CreateUserInput): Promise<User> {
    const phone = requirePhone(input.phone);
    const length = [...input.password].length;
    if (length < limits.passwordLengthMin || length > limits.passwordLengthMax) {
      throw new MembersError('password_invalid');
    }
    const openingBalance = input.openingBalance ?? 0n;
    if (openingBalance < 0n || openingBalance > amountMax) throw new MembersError('amount_invalid');
    if (await this.#rowByPhone(phone)) throw new MembersError('phone_taken');
    const passwordHash = await hashPassword(input.password);
    const openingTransferId = openingBalance > 0n ? uuidFromU128(id()) : null;
    const userId = await this.#insertMember(this.#db, {
      kind: 'user',
      phone,
      password_hash: passwordHash,
      name: null,
      wallet_account_id: uuidFromU128(id()),
      opening_balance: openingBalance,
      opening_transfer_id: openingTransferId,
      created_at_ns: this.#clock.nowNs(),
    }).catch((error: unknown) => {
      // Only the phone can collide: user ids retry on conflict, the uuids are fresh.
      if ((error as { code?: unknown }).code === '23505') throw new MembersError('phone_taken');
      throw error;
    });
    await this.ensureWallet(userId);
    return this.getUser(userId);
  }

  /**
   * Creates the member's wallet and posts its opening balance, each only if missing. createUser
   * and createApp call it; run it again for a member whose creation a crash cut short.
   */
  async ensureWallet(userId: string): Promise<void> {
    const row = await this.#row(userId);
    if (!row) throw new MembersError('user_not_found');
    await this.#wallets.ensure({
      userId: row.user_id,
      kind: row.kind,
      walletAccountId: u128FromUuid(row.wallet_account_id),
      openingBalance: row.opening_balance,
      openingTransferId: row.opening_transfer_id === null ? undefined : u128FromUuid(row.opening_transfer_id),
    });
  }

  /** A member of either kind; throws `user_not_found`. */
  async getMember(userId: string): Promise<Member> {
    const row = await this.#row(userId);
    if (!row) throw new MembersError('user_not_found');
    return toMember(row);
  }

  /** A member of kind user; throws `user_not_found`. */
  async getUser(userId: string): Promise<User> {
    const row = await this.#row(userId);
    if (row?.kind !== 'user') throw new MembersError('user_not_found');
    return toMember(row) as User;
  }

  /** The user with this phone (in any accepted spelling); throws `user_not_found`. */
  async findUserByPhone(phone: string): Promise<User> {
    const normalized = normalizePhone(phone);
    const row = normalized === undefined ? undefined : await this.#rowByPhone(normalized);
    if (!row) throw new MembersError('user_not_found');
    return toMember(row) as User;
  }

  /** The users among `userIds` (merchants and unknown ids left out), in no particular order. */
  async findUsers(userIds: readonly string[]): Promise<User[]> {
    if (userIds.length === 0) return [];
    const rows = await this.#db.query<MemberRow>(
      "select * from members where kind = 'user' and user_id = any($1::text[])",
      [userIds],
    );
    return rows.map((r) => toMember(r) as User);
  }

  /**
   * The users whose phone's SHA-256 (hex, of the number as `normalizePhone` spells it) is among
   * `hashes`: contact matching, where the wallet sends hashes and never the address book.
   */
  async findUsersByPhoneHashes(hashes: readonly string[]): Promise<Array<User & { phoneSha256: string }>> {
    if (hashes.length === 0) return [];
    const rows = await this.#db.query<MemberRow & { phone_sha256: string }>(
      "select * from members where kind = 'user' and phone_sha256 = any($1::text[])",
      [hashes],
    );
    return rows.map((r) => ({ ...(toMember(r) as User), phoneSha256: r.phone_sha256 }));
  }

  /**
   * Members (users and merchants) for the console's search: by user id, by phone (any accepted
   * spelling, or its last digits), or by name (a merchant's, in part); newest first, at most
   * `memberSearchMax`, each with its freeze if any.
   */
  async search(
    text: string,
    options: { kind?: 'user' | 'merchant' | undefined; limit?: number | undefined } = {},
  ): Promise<Array<Member & { frozen: Freeze | null }>> {
    const needle = text.trim();
    const limit = Math.min(options.limit ?? limits.memberSearchMax, limits.memberSearchMax);
    let query = this.#tables().selectFrom('members').selectAll();
    if (options.kind !== undefined) query = query.where('kind', '=', options.kind);
    if (needle !== '') {
      const phone = normalizePhone(needle);
      const like = `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query = query.where((eb) =>
        eb.or([
          eb('user_id', '=', needle),
          ...(phone === undefined ? [] : [eb('phone', '=', phone)]),
          ...(/^[0-9]{4,11}$/.test(needle) ? [eb('phone', 'like', `%${needle}`)] : []),
          eb('name', 'ilike', like),
        ]),
      );
    }
    const rows = await query.orderBy('created_at_ns', 'desc').limit(limit).execute();
    const freezes = await this.freezes.of(rows.map((r) => r.user_id));
    return rows.map((r) => ({ ...toMember(r), frozen: freezes.get(r.user_id) ?? null }));
  }

  /**
   * Freezes a member's account with an operator's reason: from now on (see freezes.ts for other
   * processes) it pays, transfers and withdraws nothing, and the payment codes it holds are ended.
   * Throws `user_not_found`, RangeError for a blank reason.
   */
  async freeze(userId: string, reason: string, by: string): Promise<Freeze> {
    await this.getMember(userId);
    const freeze = await this.freezes.freeze(userId, reason, by);
    await this.#tables()
      .updateTable('members_payment_codes')
      .set({ expires_at_ns: this.#clock.nowNs() })
      .where('user_id', '=', userId)
      .where('redeemed_at_ns', 'is', null)
      .where('expires_at_ns', '>', this.#clock.nowNs())
      .execute();
    return freeze;
  }

  /** Lifts a freeze. Throws `user_not_found`, `account_not_frozen`. */
  async unfreeze(userId: string, reason: string): Promise<Freeze> {
    await this.getMember(userId);
    return this.freezes.unfreeze(userId, reason);
  }

  /** What the wallet can spend: posted credits less posted and pending debits, in fen. */
  async walletBalance(userId: string): Promise<bigint> {
    const member = await this.getMember(userId);
    let account = await this.#wallets.account(member.walletAccountId);
    if (!account) {
      await this.ensureWallet(userId);
      account = await this.#wallets.account(member.walletAccountId);
    }
    assert(account, `the wallet of ${userId} exists after ensureWallet`);
    return account.creditsPosted - account.debitsPosted - account.debitsPending;
  }

  /** The ledger account that funds opening balances (code 100), created on first use. */
  fundingAccountId(): Promise<bigint> {
    return this.#wallets.fundingAccountId();
  }

  /**
   * Password login. Throws `login_failed` alike for an unknown phone and a wrong password, and
   * takes as long for both, so that it does not tell which phones are registered. Throws
   * `login_throttled` (with `retryAfterMs`), without checking the password, once the phone or
   * the client address has had `loginFailuresPerPhoneMax` / `loginFailuresPerAddressMax` wrong
   * passwords in the window (see login-throttle.ts).
   */
  async loginWithPassword(
    phone: string,
    password: string,
    options: { clientAddress?: string | undefined } = {},
  ): Promise<User> {
    const normalized = normalizePhone(phone);
    const verdict = await this.#throttle.begin({ phone: normalized, clientAddress: options.clientAddress });
    if (!verdict.allowed) {
      const error = new MembersError('login_throttled', `try again in ${minutesText(verdict.retryAfterMs)}`);
      error.retryAfterMs = verdict.retryAfterMs;
      throw error;
    }
    const row = normalized === undefined ? undefined : await this.#rowByPhone(normalized);
    const stored = row?.password_hash ?? (await decoyHash());
    const matches = await verifyPassword(password, stored);
    if (!row || !matches) {
      await this.#throttle.failed();
      throw new MembersError('login_failed');
    }
    await this.#throttle.succeeded(verdict.keys);
    return toMember(row) as User;
  }

  /**
   * Sends a 6-digit login code to a registered phone; the newest code supersedes older ones. An
   * unregistered phone gets nothing, and the caller is not told. Throws `phone_invalid`,
   * `sms_code_too_frequent`, or what the sender throws (the code is then revoked).
   */
  async sendLoginCode(phone: string): Promise<void> {
    const normalized = requirePhone(phone);
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
    const codeId = uuidFromU128(id());
    const outcome = await this.#db.transaction(async (tx) => {
      // Locking the user row serialises concurrent requests for one phone.
      const t = typed<MemberTables>(tx);
      const user = await t
        .selectFrom('members')
        .select('user_id')
        .where('phone', '=', normalized)
        .forUpdate()
        .executeTakeFirst();
      if (!user) return 'no_user' as const;
      const now = this.#clock.nowNs();
      const last = await t
        .selectFrom('members_sms_codes')
        .select('created_at_ns')
        .where('phone', '=', normalized)
        .where('status', '<>', 'revoked')
        .orderBy('created_at_ns', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (last && now - last.created_at_ns < BigInt(limits.smsCodeResendIntervalMs) * 1_000_000n) {
        return 'sms_code_too_frequent' as const;
      }
      await t
        .updateTable('members_sms_codes')
        .set({ status: 'superseded' })
        .where('phone', '=', normalized)
        .where('status', '=', 'open')
        .execute();
      await t
        .insertInto('members_sms_codes')
        .values({
          id: codeId,
          phone: normalized,
          code_hash: codeHash(codeId, code),
          status: 'open',
          created_at_ns: now,
          expires_at_ns: now + msToNs(limits.smsCodeTtlMs),
        })
        .execute();
      return 'ok' as const;
    });
    if (outcome === 'sms_code_too_frequent') throw new MembersError(outcome);
    if (outcome === 'no_user') return;
    const minutes = Math.round(limits.smsCodeTtlMs / 60_000);
    const text = `[Paybao] Your login code is ${code}. It expires in ${minutes} minutes. Never share it.`;
    try {
      await this.#sms.send({ phone: normalized, text });
    } catch (error) {
      // Compensation: a code nobody received must not count against the next one.
      await this.#tables()
        .updateTable('members_sms_codes')
        .set({ status: 'revoked' })
        .where('id', '=', codeId)
        .execute();
      throw error;
    }
  }

  /**
   * Login with the newest code sent to the phone: it works once, until it expires, and dies after
   * `smsCodeAttemptsMax` wrong guesses. Throws `sms_code_invalid`, `sms_code_expired`,
   * `sms_code_attempts_exceeded`.
   */
  async loginWithSmsCode(phone: string, code: string): Promise<User> {
    const normalized = normalizePhone(phone);
    if (normalized === undefined || !/^\d{6}$/.test(code)) throw new MembersError('sms_code_invalid');
    const outcome = await this.#db.transaction((tx) => this.#checkCode(tx, normalized, code));
    if (outcome !== 'ok') throw new MembersError(outcome);
    return this.findUserByPhone(normalized);
  }

  /** The development SMS outbox, newest first. */
  smsOutbox(options: { phone?: string | undefined; limit?: number | undefined } = {}): Promise<OutboxMessage[]> {
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? limits.smsListMax), 1), limits.smsListMax);
    const phone = options.phone === undefined ? undefined : (normalizePhone(options.phone) ?? options.phone);
    return readOutbox(this.#db, { limit, phone });
  }

  /**
   * Registers a merchant app and returns what the merchant configures in its SDK. Throws
   * `app_name_invalid`, `merchant_public_key_invalid`, `notify_url_invalid`,
   * `auth_redirect_url_invalid`, `merchant_not_found`.
   */
  async createApp(input: CreateAppInput): Promise<CreatedApp> {
    const name = input.name.trim();
    if (name.length === 0 || [...name].length > limits.appNameLengthMax) throw new MembersError('app_name_invalid');
    const { pem } = parseMerchantPublicKey(input.merchantPublicKeyPem);
    const notifyUrl = validNotifyUrl(input.notifyUrl);
    const authRedirectUrl = validAuthRedirectUrl(input.authRedirectUrl);
    if (input.sellerId !== undefined) {
      const seller = await this.#row(input.sellerId);
      if (seller?.kind !== 'merchant') throw new MembersError('merchant_not_found');
    }
    // The key pair exists before anything is written: generating it is the step that can fail.
    const keys = await this.#keys.keys();
    const now = this.#clock.nowNs();
    const created = await this.#db.transaction(async (tx) => {
      const sellerId =
        input.sellerId ??
        (await this.#insertMember(tx, {
          kind: 'merchant',
          phone: null,
          password_hash: null,
          name,
          wallet_account_id: uuidFromU128(id()),
          opening_balance: 0n,
          opening_transfer_id: null,
          created_at_ns: now,
        }));
      const appId = await retryIds(newAppId, async (appId) => {
        const inserted = await typed<MemberTables>(tx)
          .insertInto('members_apps')
          .values({
            app_id: appId,
            seller_id: sellerId,
            name,
            merchant_public_key_pem: pem,
            notify_url: notifyUrl ?? null,
            auth_redirect_url: authRedirectUrl ?? null,
            created_at_ns: now,
          })
          .onConflict((oc) => oc.column('app_id').doNothing())
          .returning('app_id')
          .executeTakeFirst();
        return inserted !== undefined;
      });
      return { appId, sellerId };
    });
    await this.ensureWallet(created.sellerId);
    return { ...created, alipayPublicKey: keys.active.publicKeyPem };
  }

  /** An app; throws `app_not_found`. */
  async getApp(appId: string): Promise<App> {
    const row = await this.#tables()
      .selectFrom('members_apps')
      .selectAll()
      .where('app_id', '=', appId)
      .executeTakeFirst();
    if (!row) throw new MembersError('app_not_found');
    return {
      appId: row.app_id,
      sellerId: row.seller_id,
      name: row.name,
      merchantPublicKeyPem: row.merchant_public_key_pem,
      merchantPublicKey: parseMerchantPublicKey(row.merchant_public_key_pem).key,
      notifyUrl: row.notify_url ?? undefined,
      authRedirectUrl: row.auth_redirect_url ?? undefined,
      createdAtNs: row.created_at_ns,
    };
  }

  /** A merchant's apps, oldest first. */
  async appsOf(sellerId: string): Promise<App[]> {
    const rows = await this.#tables()
      .selectFrom('members_apps')
      .select('app_id')
      .where('seller_id', '=', sellerId)
      .orderBy('created_at_ns')
      .orderBy('app_id')
      .execute();
    return Promise.all(rows.map((r) => this.getApp(r.app_id)));
  }

  /** Sets (or, with undefined, removes) the app's notify URL. Throws `notify_url_invalid`, `app_not_found`. */
  async setNotifyUrl(appId: string, url: string | undefined): Promise<App> {
    const notifyUrl = validNotifyUrl(url);
    const updated = await this.#tables()
      .updateTable('members_apps')
      .set({ notify_url: notifyUrl ?? null })
      .where('app_id', '=', appId)
      .returning('app_id')
      .executeTakeFirst();
    if (!updated) throw new MembersError('app_not_found');
    return this.getApp(appId);
  }

  /**
   * Replaces the merchant public key the app's requests are verified with (the gateway's cache of
   * apps shows it within `gatewayAppCacheMs`). Throws `merchant_public_key_invalid`, `app_not_found`.
   */
  async setMerchantPublicKey(appId: string, key: string): Promise<App> {
    const { pem } = parseMerchantPublicKey(key);
    const updated = await this.#tables()
      .updateTable('members_apps')
      .set({ merchant_public_key_pem: pem })
      .where('app_id', '=', appId)
      .returning('app_id')
      .executeTakeFirst();
    if (!updated) throw new MembersError('app_not_found');
    return this.getApp(appId);
  }

  /**
   * Sets (or, with undefined, removes) the app's authorisation callback address. Throws
   * `auth_redirect_url_invalid`, `app_not_found`.
   */
  async setAuthRedirectUrl(appId: string, url: string | undefined): Promise<App> {
    const authRedirectUrl = validAuthRedirectUrl(url);
    const updated = await this.#tables()
      .updateTable('members_apps')
      .set({ auth_redirect_url: authRedirectUrl ?? null })
      .where('app_id', '=', appId)
      .returning('app_id')
      .executeTakeFirst();
    if (!updated) throw new MembersError('app_not_found');
    return this.getApp(appId);
  }

  /** The platform's key pairs: the active one (generated on first use) and the retired ones. */
  platformKeys(): Promise<PlatformKeys> {
    return this.#keys.keys();
  }

  /** Retires the active key pair (it stays listed) and makes a new one active. */
  rotatePlatformKeys(): Promise<PlatformKeys> {
    return this.#keys.rotate();
  }

  /** A fresh payment code for a user: 18 digits starting with 28, single use, short-lived. */
  async newPaymentCode(userId: string): Promise<string> {
    await this.getUser(userId);
    await this.freezes.refuseFrozen(userId);
    const now = this.#clock.nowNs();
    const expires = now + msToNs(limits.paymentCodeTtlMs);
    return retryIds(newPaymentCodeText, async (code) => {
      const inserted = await this.#tables()
        .insertInto('members_payment_codes')
        .values({ code, user_id: userId, created_at_ns: now, expires_at_ns: expires })
        .onConflict((oc) => oc.column('code').doNothing())
        .returning('code')
        .executeTakeFirst();
      return inserted !== undefined;
    });
  }

  /**
   * One fresh payment code for each of `userIds` (a user may appear many times), in order: what
   * `newPaymentCode` makes, written `paymentCodeBatchMax` to a statement, so that a load generator
   * can hand out tens of thousands within their short life. Throws `user_not_found`.
   */
  async newPaymentCodes(userIds: readonly string[]): Promise<string[]> {
    const distinct = [...new Set(userIds)];
    if ((await this.findUsers(distinct)).length !== distinct.length) throw new MembersError('user_not_found');
    const codes: string[] = [];
    for (let from = 0; from < userIds.length; from += limits.paymentCodeBatchMax) {
      codes.push(...(await this.#insertCodes(userIds.slice(from, from + limits.paymentCodeBatchMax))));
    }
    return codes;
  }

  /** Inserts one code per user; a code already taken (18 random digits: rarely) is drawn again. */
  async #insertCodes(userIds: readonly string[]): Promise<string[]> {
    const now = this.#clock.nowNs();
    const expires = now + msToNs(limits.paymentCodeTtlMs);
    const codes = userIds.map(() => newPaymentCodeText());
    let pending = codes.map((_, i) => i);
    for (let attempt = 1; pending.length > 0; attempt++) {
      assert(attempt <= limits.externalIdAttemptsMax, 'fresh payment codes collide again and again');
      const inserted = await this.#tables()
        .insertInto('members_payment_codes')
        .values(
          pending.map((i) => ({
            code: codes[i] as string,
            user_id: userIds[i] as string,
            created_at_ns: now,
            expires_at_ns: expires,
          })),
        )
        .onConflict((oc) => oc.column('code').doNothing())
        .returning('code')
        .execute();
      // A code is its first claimant's: one drawn twice in a batch is drawn again for the second.
      const written = new Set(inserted.map((r) => r.code));
      pending = pending.filter((i) => !written.delete(codes[i] as string));
      for (const i of pending) codes[i] = newPaymentCodeText();
    }
    return codes;
  }

  /**
   * Spends a payment code and returns its user's id. `spentFor` names the payment that spends it
   * (the gateway's app and out_trade_no): that payment's retry may spend it again, and no other.
   * Throws `payment_code_invalid`, `payment_code_not_found`, `payment_code_used`,
   * `payment_code_expired`.
   */
  async redeemPaymentCode(code: string, spentFor?: string): Promise<string> {
    if (!paymentCodePattern.test(code)) throw new MembersError('payment_code_invalid');
    const spent = await this.#redemptions.submit({ code, atNs: this.#clock.nowNs(), spentFor: spentFor ?? null });
    if (spent) return spent;
    const row = await this.#tables()
      .selectFrom('members_payment_codes')
      .select(['user_id', 'redeemed_at_ns', 'redeemed_for'])
      .where('code', '=', code)
      .executeTakeFirst();
    if (!row) throw new MembersError('payment_code_not_found');
    // A freeze ended the codes its member held (see `freeze`): say why, not merely that it expired.
    if (row.redeemed_at_ns === null) await this.freezes.refuseFrozen(row.user_id);
    // Spent by this very payment: its retry (the first try was cut off after the code was spent).
    if (spentFor !== undefined && row.redeemed_for === spentFor) return row.user_id;
    throw new MembersError(row.redeemed_at_ns === null ? 'payment_code_expired' : 'payment_code_used');
  }

  /**
   * Spends payment codes of concurrent payments in one statement: each answers its user's id, or
   * null when the code is unknown, spent or expired (a code twice in one batch: the first spends it).
   */
  async #redeem(items: readonly Redemption[]): Promise<(string | null)[]> {
    const rows = await this.#db.query<{ code: string; user_id: string }>(
      `update members_payment_codes c set redeemed_at_ns = i.at_ns, redeemed_for = i.spent_for
       from unnest($1::text[], $2::bigint[], $3::text[]) as i(code, at_ns, spent_for)
       where c.code = i.code and c.redeemed_at_ns is null and c.expires_at_ns > i.at_ns
       returning c.code, c.user_id`,
      [items.map((i) => i.code), items.map((i) => i.atNs.toString()), items.map((i) => i.spentFor)],
    );
    const byCode = new Map(rows.map((r) => [r.code, r.user_id]));
    return items.map((i) => byCode.get(i.code) ?? null);
  }

  async #checkCode(tx: Queryable, phone: string, code: string): Promise<CodeCheck> {
    const t = typed<MemberTables>(tx);
    const row = await t
      .selectFrom('members_sms_codes')
      .select(['id', 'code_hash', 'attempts', 'expires_at_ns'])
      .where('phone', '=', phone)
      .where('status', '=', 'open')
      .orderBy('created_at_ns', 'desc')
      .limit(1)
      .forUpdate()
      .executeTakeFirst();
    if (!row) return 'sms_code_invalid';
    if (row.expires_at_ns <= this.#clock.nowNs()) return 'sms_code_expired';
    if (row.attempts >= limits.smsCodeAttemptsMax) return 'sms_code_attempts_exceeded';
    const expected = Buffer.from(row.code_hash, 'hex');
    if (!timingSafeEqual(Buffer.from(codeHash(row.id, code), 'hex'), expected)) {
      await t
        .updateTable('members_sms_codes')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('id', '=', row.id)
        .execute();
      return 'sms_code_invalid';
    }
    await t.updateTable('members_sms_codes').set({ status: 'used' }).where('id', '=', row.id).execute();
    return 'ok';
  }

  /** Inserts a member row under a fresh user id, drawing again on the (rare) collision. */
  #insertMember(q: Queryable, member: Omit<Insertable<MemberTables['members']>, 'user_id'>): Promise<string> {
    return retryIds(newUserId, async (userId) => {
      const inserted = await typed<MemberTables>(q)
        .insertInto('members')
        .values({ ...member, user_id: userId })
        .onConflict((oc) => oc.column('user_id').doNothing())
        .returning('user_id')
        .executeTakeFirst();
      return inserted !== undefined;
    });
  }

  #row(userId: string): Promise<MemberRow | undefined> {
    return this.#tables().selectFrom('members').selectAll().where('user_id', '=', userId).executeTakeFirst();
  }

  #rowByPhone(phone: string): Promise<MemberRow | undefined> {
    return this.#tables().selectFrom('members').selectAll().where('phone', '=', phone).executeTakeFirst();
  }

  #tables() {
    return typed<MemberTables>(this.#db);
  }
}

function toMember(row: MemberRow): Member {
  return {
    userId: row.user_id,
    kind: row.kind,
    logonId: row.phone === null ? undefined : maskPhone(row.phone),
    phone: row.phone ?? undefined,
    name: row.name ?? undefined,
    walletAccountId: u128FromUuid(row.wallet_account_id),
    createdAtNs: row.created_at_ns,
  };
}

function requirePhone(phone: string): string {
  const normalized = normalizePhone(phone);
  if (normalized === undefined) throw new MembersError('phone_invalid');
  return normalized;
}

/**
 * A notify URL as given (an app's, or a request's `notify_url`): trimmed, undefined when blank;
 * throws `notify_url_invalid` unless it is an http or https URL of at most `notifyUrlLengthMax`.
 */
export function validNotifyUrl(input: string | undefined): string | undefined {
  return httpUrl(input, 'notify_url_invalid');
}

/**
 * An app's authorisation callback address as given: trimmed, undefined when blank; throws
 * `auth_redirect_url_invalid` unless it is an http or https URL of at most `notifyUrlLengthMax`
 * without a fragment (OAuth forbids one: the code is added to the query).
 */
export function validAuthRedirectUrl(input: string | undefined): string | undefined {
  const text = httpUrl(input, 'auth_redirect_url_invalid');
  if (text !== undefined && new URL(text).hash !== '') throw new MembersError('auth_redirect_url_invalid');
  return text;
}

/** `input` trimmed when it is an http or https URL of at most `notifyUrlLengthMax`; undefined when blank. */
function httpUrl(input: string | undefined, code: 'notify_url_invalid' | 'auth_redirect_url_invalid') {
  if (input === undefined || input.trim() === '') return undefined;
  const text = input.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new MembersError(code);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || text.length > limits.notifyUrlLengthMax) {
    throw new MembersError(code);
  }
  return text;
}

/** The stored form of an SMS code: bound to its row, so equal codes of two rows hash apart. */
function codeHash(codeId: string, code: string): string {
  return createHash('sha256').update(`${codeId}:${code}`).digest('hex');
}

const msToNs = (ms: number): bigint => BigInt(ms) * 1_000_000n;

/** "14 minutes", "1 minute": a wait as people read it, rounded up. */
function minutesText(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

/** Draws ids until `claim` stores one; `externalIdAttemptsMax` collisions in a row is a bug. */
async function retryIds(draw: () => string, claim: (candidate: string) => Promise<boolean>): Promise<string> {
  for (let attempt = 0; attempt < limits.externalIdAttemptsMax; attempt++) {
    const candidate = draw();
    if (await claim(candidate)) return candidate;
  }
  return unreachable(`${limits.externalIdAttemptsMax} random ids in a row collided`);
}
