import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { type Db, typed } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import type { WalletTables } from './tables.ts';

/** What a login hands back: the bearer token (shown once, stored only hashed) and its expiry. */
export interface NewSession {
  token: string;
  userId: string;
  expiresAtNs: bigint;
}

const tokenPrefix = 'pbs_';
/** `pbs_` and 32 random bytes in base64url (43 characters). */
const tokenPattern = /^pbs_[A-Za-z0-9_-]{43}$/;

/** The stored form of a token. The token has 256 random bits, so a plain hash suffices. */
const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Bearer-token sessions of the native API. */
export class Sessions {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Opens a session for a user who has just proved who they are; retires the oldest beyond the cap. */
  async open(userId: string): Promise<NewSession> {
    const token = `${tokenPrefix}${randomBytes(32).toString('base64url')}`;
    const now = this.clock.nowNs();
    const expiresAtNs = now + BigInt(limits.sessionTtlMs) * 1_000_000n;
    const q = typed<WalletTables>(this.db);
    await q
      .insertInto('wallet_sessions')
      .values({ token_hash: tokenHash(token), user_id: userId, created_at_ns: now, expires_at_ns: expiresAtNs })
      .execute();
    const newest = q
      .selectFrom('wallet_sessions')
      .select('token_hash')
      .where('user_id', '=', userId)
      .where('revoked_at_ns', 'is', null)
      .orderBy('created_at_ns', 'desc')
      .orderBy('token_hash')
      .limit(limits.sessionsPerUserMax);
    await q
      .updateTable('wallet_sessions')
      .set({ revoked_at_ns: now })
      .where('user_id', '=', userId)
      .where('revoked_at_ns', 'is', null)
      .where('token_hash', 'not in', newest)
      .execute();
    return { token, userId, expiresAtNs };
  }

  /** The user of a live session, or undefined for an unknown, expired or revoked token. */
  async userOf(token: string): Promise<string | undefined> {
    if (!tokenPattern.test(token)) return undefined;
    const row = await typed<WalletTables>(this.db)
      .selectFrom('wallet_sessions')
      .select('user_id')
      .where('token_hash', '=', tokenHash(token))
      .where('revoked_at_ns', 'is', null)
      .where('expires_at_ns', '>', this.clock.nowNs())
      .executeTakeFirst();
    return row?.user_id;
  }

  /** Ends a session; ending one already ended does nothing. */
  async revoke(token: string): Promise<void> {
    if (!tokenPattern.test(token)) return;
    await typed<WalletTables>(this.db)
      .updateTable('wallet_sessions')
      .set({ revoked_at_ns: this.clock.nowNs() })
      .where('token_hash', '=', tokenHash(token))
      .where('revoked_at_ns', 'is', null)
      .execute();
  }
}
