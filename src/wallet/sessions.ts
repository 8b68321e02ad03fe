import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { Db } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';

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
    await this.db.query(
      `insert into wallet_sessions (token_hash, user_id, created_at_ns, expires_at_ns) values ($1, $2, $3, $4)`,
      [tokenHash(token), userId, now.toString(), expiresAtNs.toString()],
    );
    await this.db.query(
      `update wallet_sessions set revoked_at_ns = $3
       where user_id = $1 and revoked_at_ns is null and token_hash not in (
         select token_hash from wallet_sessions where user_id = $1 and revoked_at_ns is null
         order by created_at_ns desc, token_hash limit $2)`,
      [userId, limits.sessionsPerUserMax, now.toString()],
    );
    return { token, userId, expiresAtNs };
  }

  /** The user of a live session, or undefined for an unknown, expired or revoked token. */
  async userOf(token: string): Promise<string | undefined> {
    if (!tokenPattern.test(token)) return undefined;
    const [row] = await this.db.query<{ user_id: string }>(
      `select user_id from wallet_sessions where token_hash = $1 and revoked_at_ns is null and expires_at_ns > $2`,
      [tokenHash(token), this.clock.nowNs().toString()],
    );
    return row?.user_id;
  }

  /** Ends a session; ending one already ended does nothing. */
  async revoke(token: string): Promise<void> {
    if (!tokenPattern.test(token)) return;
    await this.db.query(
      'update wallet_sessions set revoked_at_ns = $2 where token_hash = $1 and revoked_at_ns is null',
      [tokenHash(token), this.clock.nowNs().toString()],
    );
  }
}
