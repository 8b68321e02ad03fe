import type { Clock } from '../core/clock.ts';
import { type Db, type Queryable, typed } from '../core/db/index.ts';
import { id, isUuid, uuidFromU128 } from '../core/ids.ts';
import { limits } from '../core/limits.ts';
import { isUnreadableText } from '../core/text.ts';
import { SocialError } from './errors.ts';
import type { SocialTables } from './tables.ts';

/** A user as the social module needs one: the id, and the phone masked as Alipay masks it. */
export interface SocialUser {
  userId: string;
  logonId: string;
  /** The user's wallet in the ledger (red packets are sent from it and grabbed into it). */
  walletAccountId: bigint;
}

/** Where the social module finds users (members), wired in the root. */
export interface SocialParties {
  /** The users among `userIds`; unknown ids are left out. */
  users(userIds: readonly string[]): Promise<SocialUser[]>;
  userByPhone(phone: string): Promise<SocialUser | null>;
  /** The users whose phone's SHA-256 (hex) is among `hashes`, each with its hash. */
  usersByPhoneHashes(hashes: readonly string[]): Promise<Array<SocialUser & { phoneSha256: string }>>;
  /** Any member's wallet (a merchant's too: merchants fund campaign packets); null for none. */
  walletOf(memberId: string): Promise<bigint | null>;
}

/** What another user sees of you: never your phone or your nickname in clear. */
export interface PersonView {
  userId: string;
  /** The phone, masked: `138****8000`. */
  logonId: string;
  /** The nickname you chose, masked but for its last character (`**明`); null without one. */
  maskedName: string | null;
  /** The letter on your avatar: the one character of your nickname that shows, else your phone's last digit. */
  avatarInitial: string;
}

export interface FriendView extends PersonView {
  since: Date;
}

export interface FriendRequestView {
  requestId: string;
  from: PersonView;
  to: PersonView;
  message: string;
  status: 'PENDING' | 'ACCEPTED' | 'DECLINED' | 'CANCELLED';
  createdAt: Date;
  decidedAt: Date | null;
}

export interface ProfileView {
  nickname: string | null;
  /** Whether others find you by your phone (by number or by contact matching). */
  discoverable: boolean;
  /** Whether friends see your credit score's band (once scores exist). */
  showScoreBand: boolean;
}

/** Who to befriend: a user id or a phone, never both. */
export interface Target {
  toUserId?: string | undefined;
  toPhone?: string | undefined;
}

/** What a transfer from `payer` to `payee` must respect: the wallet asks before it moves money. */
export interface TransferRule {
  /** The payee blocked the payer: nothing may be sent. */
  blocked: boolean;
  /** The most the payer may send the payee per Beijing day (a new friendship); null: no limit here. */
  dailyLimitFen: bigint | null;
}

const hashPattern = /^[0-9a-f]{64}$/;
const msPerDay = 86_400_000;

/**
 * Friends: requests by user id or phone (a request to someone who asked you first makes you
 * friends at once), accept, decline, remove; blocks (a blocked user can send you nothing: no
 * request, no transfer, no red packet); contact matching by phone hashes; the profile that sets
 * what others see. A friendship is two rows, one per direction, written and removed together.
 */
export class Friends {
  constructor(
    private readonly db: Db,
    private readonly parties: SocialParties,
    private readonly clock: Clock,
  ) {}

  /**
   * Asks `fromId`'s friendship of the target. When the target has an open request to `fromId`,
   * that request is accepted instead (status `ACCEPTED`); an open request of the same pair is
   * answered again, unchanged. Throws `user_not_found`, `user_is_self`, `user_unavailable`
   * (the target blocked you), `already_friends`, `parameter_*`.
   */
  async request(fromId: string, target: Target & { message?: string | undefined }): Promise<FriendRequestView> {
    const message = target.message ?? '';
    checkText(message, limits.socialRequestMessageLengthMax, 'message');
    const to = await this.#target(target);
    if (to.userId === fromId) throw new SocialError('user_is_self');
    if (await this.isBlocked(fromId, to.userId)) throw new SocialError('user_unavailable');
    if (await this.#areFriends(fromId, to.userId)) throw new SocialError('already_friends');
    const now = this.#now();
    const requestId = await this.db.transaction(async (tx) => {
      const reverse = await this.#tables(tx)
        .selectFrom('social_friend_requests')
        .select('request_id')
        .where('from_user_id', '=', to.userId)
        .where('to_user_id', '=', fromId)
        .where('status', '=', 'PENDING')
        .executeTakeFirst();
      if (reverse) {
        await this.#befriend(tx, fromId, to.userId, now);
        return reverse.request_id;
      }
      const inserted = await this.#tables(tx)
        .insertInto('social_friend_requests')
        .values({
          request_id: uuidFromU128(id()),
          from_user_id: fromId,
          to_user_id: to.userId,
          message,
          status: 'PENDING',
          created_at: now,
          decided_at: null,
        })
        .onConflict((oc) => oc.columns(['from_user_id', 'to_user_id']).where('status', '=', 'PENDING').doNothing())
        .returning('request_id')
        .executeTakeFirst();
      if (inserted) return inserted.request_id;
      const open = await this.#tables(tx)
        .selectFrom('social_friend_requests')
        .select('request_id')
        .where('from_user_id', '=', fromId)
        .where('to_user_id', '=', to.userId)
        .where('status', '=', 'PENDING')
        .executeTakeFirstOrThrow();
      return open.request_id;
    });
    return this.#requestView(requestId);
  }

  /** The open requests sent to you (`incoming`) or by you (`outgoing`), newest first. */
  async requests(userId: string, box: 'incoming' | 'outgoing'): Promise<FriendRequestView[]> {
    const rows = await this.#tables()
      .selectFrom('social_friend_requests')
      .selectAll()
      .where(box === 'incoming' ? 'to_user_id' : 'from_user_id', '=', userId)
      .where('status', '=', 'PENDING')
      .orderBy('created_at', 'desc')
      .limit(limits.socialListMax)
      .execute();
    const people = await this.people(rows.flatMap((r) => [r.from_user_id, r.to_user_id]));
    return rows.map((r) => requestView(r, people));
  }

  /** Accepts a request sent to you: you are friends. Throws `request_not_found`, `request_not_pending`. */
  async accept(userId: string, requestId: string): Promise<FriendRequestView> {
    const request = await this.#ownRequest(userId, requestId);
    await this.db.transaction(async (tx) => {
      const updated = await this.#tables(tx)
        .updateTable('social_friend_requests')
        .set({ status: 'ACCEPTED', decided_at: this.#now() })
        .where('request_id', '=', request.request_id)
        .where('status', '=', 'PENDING')
        .returning('request_id')
        .executeTakeFirst();
      if (!updated) throw new SocialError('request_not_pending');
      await this.#befriend(tx, request.from_user_id, request.to_user_id, this.#now());
    });
    return this.#requestView(request.request_id);
  }

  /** Declines a request sent to you. Throws `request_not_found`, `request_not_pending`. */
  async decline(userId: string, requestId: string): Promise<FriendRequestView> {
    const request = await this.#ownRequest(userId, requestId);
    const updated = await this.#tables()
      .updateTable('social_friend_requests')
      .set({ status: 'DECLINED', decided_at: this.#now() })
      .where('request_id', '=', request.request_id)
      .where('status', '=', 'PENDING')
      .returning('request_id')
      .executeTakeFirst();
    if (!updated) throw new SocialError('request_not_pending');
    return this.#requestView(request.request_id);
  }

  /** Your friends, oldest friendship first. */
  async list(userId: string): Promise<FriendView[]> {
    const rows = await this.#tables()
      .selectFrom('social_friends')
      .select(['friend_id', 'since'])
      .where('user_id', '=', userId)
      .orderBy('since')
      .orderBy('friend_id')
      .limit(limits.socialListMax)
      .execute();
    const people = await this.people(rows.map((r) => r.friend_id));
    return rows.flatMap((r) => {
      const person = people.get(r.friend_id);
      return person ? [{ ...person, since: r.since }] : [];
    });
  }

  /** Ends a friendship, both ways. Throws `not_friends`. */
  async remove(userId: string, friendId: string): Promise<void> {
    const removed = await this.#tables()
      .deleteFrom('social_friends')
      .where((eb) =>
        eb.or([
          eb.and([eb('user_id', '=', userId), eb('friend_id', '=', friendId)]),
          eb.and([eb('user_id', '=', friendId), eb('friend_id', '=', userId)]),
        ]),
      )
      .returning('user_id')
      .execute();
    if (removed.length === 0) throw new SocialError('not_friends');
  }

  /**
   * Blocks a user: from now on they can send you nothing (their open requests to you are
   * declined). A friendship stays, so that unblocking restores it. Idempotent.
   */
  async block(userId: string, targetId: string): Promise<void> {
    if (targetId === userId) throw new SocialError('user_is_self');
    await this.#existing(targetId);
    const now = this.#now();
    await this.db.transaction(async (tx) => {
      await this.#tables(tx)
        .insertInto('social_blocks')
        .values({ user_id: userId, blocked_id: targetId, created_at: now })
        .onConflict((oc) => oc.columns(['user_id', 'blocked_id']).doNothing())
        .execute();
      await this.#tables(tx)
        .updateTable('social_friend_requests')
        .set({ status: 'DECLINED', decided_at: now })
        .where('from_user_id', '=', targetId)
        .where('to_user_id', '=', userId)
        .where('status', '=', 'PENDING')
        .execute();
    });
  }

  /** Lifts a block; idempotent. */
  async unblock(userId: string, targetId: string): Promise<void> {
    await this.#tables()
      .deleteFrom('social_blocks')
      .where('user_id', '=', userId)
      .where('blocked_id', '=', targetId)
      .execute();
  }

  /** The users you blocked, newest first. */
  async blocked(userId: string): Promise<PersonView[]> {
    const rows = await this.#tables()
      .selectFrom('social_blocks')
      .select('blocked_id')
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .limit(limits.socialListMax)
      .execute();
    const people = await this.people(rows.map((r) => r.blocked_id));
    return rows.flatMap((r) => people.get(r.blocked_id) ?? []);
  }

  /** Whether `receiverId` blocked `senderId`: then `senderId` may send them nothing. */
  async isBlocked(senderId: string, receiverId: string): Promise<boolean> {
    const row = await this.#tables()
      .selectFrom('social_blocks')
      .select('user_id')
      .where('user_id', '=', receiverId)
      .where('blocked_id', '=', senderId)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * The users behind the phone hashes a wallet uploaded (SHA-256, hex, of each number as
   * `normalizePhone` spells it): not you, not those who hide from search or blocked you. Each
   * with its hash, so the wallet can put the name from its own book beside it.
   */
  async match(
    userId: string,
    hashes: readonly string[],
  ): Promise<Array<PersonView & { phoneSha256: string; friend: boolean }>> {
    if (!Array.isArray(hashes) || hashes.length > limits.socialContactHashesMax)
      throw new SocialError('parameter_invalid', { param: 'phone_hashes' });
    const wanted = [...new Set(hashes.map((h) => (typeof h === 'string' ? h.toLowerCase() : '')))];
    if (!wanted.every((h) => hashPattern.test(h)))
      throw new SocialError('parameter_invalid', { param: 'phone_hashes' });
    const found = (await this.parties.usersByPhoneHashes(wanted)).filter((u) => u.userId !== userId);
    if (found.length === 0) return [];
    const ids = found.map((u) => u.userId);
    const [hidden, blockers, friends, people] = await Promise.all([
      this.#tables()
        .selectFrom('social_profiles')
        .select('user_id')
        .where('user_id', 'in', ids)
        .where('discoverable', '=', false)
        .execute(),
      this.#tables()
        .selectFrom('social_blocks')
        .select('user_id')
        .where('user_id', 'in', ids)
        .where('blocked_id', '=', userId)
        .execute(),
      this.#tables()
        .selectFrom('social_friends')
        .select('friend_id')
        .where('user_id', '=', userId)
        .where('friend_id', 'in', ids)
        .execute(),
      this.people(ids),
    ]);
    const out = new Set([...hidden, ...blockers].map((r) => r.user_id));
    const friendIds = new Set(friends.map((r) => r.friend_id));
    return found.flatMap((u) => {
      const person = people.get(u.userId);
      if (!person || out.has(u.userId)) return [];
      return [{ ...person, phoneSha256: u.phoneSha256, friend: friendIds.has(u.userId) }];
    });
  }

  async profile(userId: string): Promise<ProfileView> {
    const row = await this.#tables()
      .selectFrom('social_profiles')
      .selectAll()
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return {
      nickname: row?.nickname ?? null,
      discoverable: row?.discoverable ?? true,
      showScoreBand: row?.show_score_band ?? false,
    };
  }

  /** Changes what is given; a nickname of null (or empty) removes it. */
  async updateProfile(userId: string, change: Partial<ProfileView>): Promise<ProfileView> {
    const nickname = change.nickname === '' ? null : change.nickname;
    if (typeof nickname === 'string') checkText(nickname, limits.socialNicknameLengthMax, 'nickname');
    const current = await this.profile(userId);
    const next = {
      nickname: nickname === undefined ? current.nickname : nickname,
      discoverable: change.discoverable ?? current.discoverable,
      show_score_band: change.showScoreBand ?? current.showScoreBand,
      updated_at: this.#now(),
    };
    await this.#tables()
      .insertInto('social_profiles')
      .values({ user_id: userId, ...next })
      .onConflict((oc) => oc.column('user_id').doUpdateSet(next))
      .execute();
    return this.profile(userId);
  }

  /**
   * What a transfer from `payerId` to `payeeId` must respect: a block stops it; a friendship
   * younger than `socialNewFriendshipDays` caps what may go per day.
   */
  async transferRule(payerId: string, payeeId: string): Promise<TransferRule> {
    const [blocked, friendship] = await Promise.all([
      this.isBlocked(payerId, payeeId),
      this.#tables()
        .selectFrom('social_friends')
        .select('since')
        .where('user_id', '=', payerId)
        .where('friend_id', '=', payeeId)
        .executeTakeFirst(),
    ]);
    const young =
      friendship !== undefined &&
      this.#now().getTime() - friendship.since.getTime() < limits.socialNewFriendshipDays * msPerDay;
    return { blocked, dailyLimitFen: young ? BigInt(limits.socialNewFriendDailyFenMax) : null };
  }

  /** Whether the two are friends. */
  async areFriends(a: string, b: string): Promise<boolean> {
    return this.#areFriends(a, b);
  }

  /** How each of `userIds` appears to others (unknown ids left out). */
  async people(userIds: readonly string[]): Promise<Map<string, PersonView>> {
    const ids = [...new Set(userIds)];
    if (ids.length === 0) return new Map();
    return this.peopleOf(await this.parties.users(ids));
  }

  /** How each of `users` (already read) appears to others: their nicknames read in one query. */
  async peopleOf(users: readonly SocialUser[]): Promise<Map<string, PersonView>> {
    if (users.length === 0) return new Map();
    const profiles = await this.#tables()
      .selectFrom('social_profiles')
      .select(['user_id', 'nickname'])
      .where(
        'user_id',
        'in',
        users.map((u) => u.userId),
      )
      .execute();
    const nicknames = new Map(profiles.map((p) => [p.user_id, p.nickname]));
    return new Map(users.map((u) => [u.userId, personView(u, nicknames.get(u.userId) ?? null)]));
  }

  async #areFriends(a: string, b: string, q: Queryable = this.db): Promise<boolean> {
    const row = await this.#tables(q)
      .selectFrom('social_friends')
      .select('since')
      .where('user_id', '=', a)
      .where('friend_id', '=', b)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Both rows of a friendship, and every open request between the two closed as accepted. */
  async #befriend(tx: Queryable, a: string, b: string, now: Date): Promise<void> {
    await this.#tables(tx)
      .insertInto('social_friends')
      .values([
        { user_id: a, friend_id: b, since: now },
        { user_id: b, friend_id: a, since: now },
      ])
      .onConflict((oc) => oc.columns(['user_id', 'friend_id']).doNothing())
      .execute();
    await this.#tables(tx)
      .updateTable('social_friend_requests')
      .set({ status: 'ACCEPTED', decided_at: now })
      .where('status', '=', 'PENDING')
      .where((eb) =>
        eb.or([
          eb.and([eb('from_user_id', '=', a), eb('to_user_id', '=', b)]),
          eb.and([eb('from_user_id', '=', b), eb('to_user_id', '=', a)]),
        ]),
      )
      .execute();
  }

  async #ownRequest(userId: string, requestId: string) {
    const row = isUuid(requestId)
      ? await this.#tables()
          .selectFrom('social_friend_requests')
          .selectAll()
          .where('request_id', '=', requestId)
          .where('to_user_id', '=', userId)
          .executeTakeFirst()
      : undefined;
    if (!row) throw new SocialError('request_not_found');
    if (row.status !== 'PENDING') throw new SocialError('request_not_pending');
    return row;
  }

  async #requestView(requestId: string): Promise<FriendRequestView> {
    const row = await this.#tables()
      .selectFrom('social_friend_requests')
      .selectAll()
      .where('request_id', '=', requestId)
      .executeTakeFirstOrThrow();
    return requestView(row, await this.people([row.from_user_id, row.to_user_id]));
  }

  async #target(target: Target): Promise<SocialUser> {
    if ((target.toUserId === undefined) === (target.toPhone === undefined)) {
      throw new SocialError(target.toUserId === undefined ? 'parameter_missing' : 'parameter_invalid', {
        param: 'to_user_id',
        detail: 'give to_user_id or to_phone, not both',
      });
    }
    if (target.toUserId !== undefined) return this.#existing(target.toUserId);
    const user = await this.parties.userByPhone(target.toPhone ?? '');
    // A user who hides from search is not found by phone either.
    if (!user || !(await this.profile(user.userId)).discoverable)
      throw new SocialError('user_not_found', { param: 'to_phone' });
    return user;
  }

  async #existing(userId: string): Promise<SocialUser> {
    const [user] = await this.parties.users([userId]);
    if (!user) throw new SocialError('user_not_found', { param: 'to_user_id' });
    return user;
  }

  #now(): Date {
    return new Date(Number(this.clock.nowNs() / 1_000_000n));
  }

  #tables(q: Queryable = this.db) {
    return typed<SocialTables>(q);
  }
}

/** Refuses text too long, or with control characters or NUL (PostgreSQL text refuses NUL). */
export function checkText(text: unknown, lengthMax: number, param: string): asserts text is string {
  if (typeof text !== 'string' || [...text].length > lengthMax || /\p{Cc}/u.test(text) || isUnreadableText(text))
    throw new SocialError('parameter_invalid', { param });
}

/** `**明`: every character but the last hidden; one character is hidden whole. */
export function maskName(name: string): string {
  const chars = [...name];
  return chars.length <= 1 ? '*' : '*'.repeat(chars.length - 1) + chars[chars.length - 1];
}

function personView(user: SocialUser, nickname: string | null): PersonView {
  return {
    userId: user.userId,
    logonId: user.logonId,
    maskedName: nickname === null ? null : maskName(nickname),
    avatarInitial: nickname === null ? user.logonId.slice(-1) : ([...nickname].at(-1) ?? '?').toUpperCase(),
  };
}

export const unknownPerson = (userId: string): PersonView => ({
  userId,
  logonId: '',
  maskedName: null,
  avatarInitial: '?',
});

function requestView(row: SocialTables['social_friend_requests'], people: Map<string, PersonView>): FriendRequestView {
  return {
    requestId: row.request_id,
    from: people.get(row.from_user_id) ?? unknownPerson(row.from_user_id),
    to: people.get(row.to_user_id) ?? unknownPerson(row.to_user_id),
    message: row.message,
    status: row.status,
    createdAt: row.created_at,
    decidedAt: row.decided_at,
  };
}
