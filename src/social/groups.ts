import type { Clock } from '../core/clock.ts';
import { type Db, type Queryable, typed } from '../core/db/index.ts';
import { id, isUuid, uuidFromU128 } from '../core/ids.ts';
import { limits } from '../core/limits.ts';
import { SocialError } from './errors.ts';
import { checkText, type Friends, type PersonView } from './friends.ts';
import type { SocialTables } from './tables.ts';

export interface GroupSummary {
  groupId: string;
  name: string;
  ownerId: string;
  members: number;
  createdAt: Date;
}

export interface GroupView extends GroupSummary {
  /** The owner first, then by the day they joined. */
  memberList: Array<PersonView & { joinedAt: Date }>;
}

/**
 * Groups of friends, for group red packets and bills: an owner gathers friends (at most
 * `socialGroupMembersMax` members, the owner included); only the owner adds or removes; a member
 * may leave. A user who blocked the owner cannot be added. Only members see a group.
 */
export class Groups {
  constructor(
    private readonly db: Db,
    private readonly friends: Friends,
    private readonly clock: Clock,
  ) {}

  /** Creates a group of the owner and some of the owner's friends. */
  async create(ownerId: string, input: { name: string; memberIds: readonly string[] }): Promise<GroupView> {
    checkText(input.name, limits.socialGroupNameLengthMax, 'name');
    if (input.name.trim() === '') throw new SocialError('parameter_invalid', { param: 'name' });
    const members = await this.#joinable(ownerId, input.memberIds);
    if (members.length + 1 > limits.socialGroupMembersMax) throw new SocialError('group_full');
    const groupId = uuidFromU128(id());
    const now = this.#now();
    await this.db.transaction(async (tx) => {
      await this.#tables(tx)
        .insertInto('social_groups')
        .values({ group_id: groupId, owner_id: ownerId, name: input.name.trim(), created_at: now })
        .execute();
      await this.#tables(tx)
        .insertInto('social_group_members')
        .values([ownerId, ...members].map((user_id) => ({ group_id: groupId, user_id, joined_at: now })))
        .execute();
    });
    return this.get(ownerId, groupId);
  }

  /** The groups you are in, newest first. */
  async list(userId: string): Promise<GroupSummary[]> {
    const rows = await this.#tables()
      .selectFrom('social_groups as g')
      .innerJoin('social_group_members as m', 'm.group_id', 'g.group_id')
      .select(['g.group_id', 'g.name', 'g.owner_id', 'g.created_at'])
      .select((eb) =>
        eb
          .selectFrom('social_group_members as c')
          .select(eb.fn.countAll<string>().as('n'))
          .whereRef('c.group_id', '=', 'g.group_id')
          .as('members'),
      )
      .where('m.user_id', '=', userId)
      .orderBy('g.created_at', 'desc')
      .limit(limits.socialListMax)
      .execute();
    return rows.map((r) => ({
      groupId: r.group_id,
      name: r.name,
      ownerId: r.owner_id,
      members: Number(r.members),
      createdAt: r.created_at,
    }));
  }

  /** A group you are in, with its members. Throws `group_not_found`. */
  async get(userId: string, groupId: string): Promise<GroupView> {
    const group = await this.#memberOf(userId, groupId);
    const rows = await this.#tables()
      .selectFrom('social_group_members')
      .select(['user_id', 'joined_at'])
      .where('group_id', '=', groupId)
      .orderBy('joined_at')
      .orderBy('user_id')
      .execute();
    const people = await this.friends.people(rows.map((r) => r.user_id));
    const memberList = rows
      .flatMap((r) => {
        const person = people.get(r.user_id);
        return person ? [{ ...person, joinedAt: r.joined_at }] : [];
      })
      .sort((a, b) => Number(b.userId === group.owner_id) - Number(a.userId === group.owner_id));
    return {
      groupId: group.group_id,
      name: group.name,
      ownerId: group.owner_id,
      members: rows.length,
      createdAt: group.created_at,
      memberList,
    };
  }

  /** The user ids of a group's members (for a group red packet or bill); throws `group_not_found` unless you are one. */
  async memberIds(userId: string, groupId: string): Promise<string[]> {
    await this.#memberOf(userId, groupId);
    const rows = await this.#tables()
      .selectFrom('social_group_members')
      .select('user_id')
      .where('group_id', '=', groupId)
      .execute();
    return rows.map((r) => r.user_id);
  }

  /** Adds friends of the owner; those already in stay. Throws `not_group_owner`, `group_full`, `not_friends`. */
  async addMembers(ownerId: string, groupId: string, memberIds: readonly string[]): Promise<GroupView> {
    const group = await this.#memberOf(ownerId, groupId);
    if (group.owner_id !== ownerId) throw new SocialError('not_group_owner');
    const members = await this.#joinable(ownerId, memberIds);
    await this.db.transaction(async (tx) => {
      // The group's row locked: two additions at once cannot both pass the count.
      await this.#tables(tx)
        .selectFrom('social_groups')
        .select('group_id')
        .where('group_id', '=', groupId)
        .forUpdate()
        .execute();
      const [count] = await this.#tables(tx)
        .selectFrom('social_group_members')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('group_id', '=', groupId)
        .where('user_id', 'not in', members.length > 0 ? members : [''])
        .execute();
      if (Number(count?.n ?? 0) + members.length > limits.socialGroupMembersMax) throw new SocialError('group_full');
      if (members.length === 0) return;
      await this.#tables(tx)
        .insertInto('social_group_members')
        .values(members.map((user_id) => ({ group_id: groupId, user_id, joined_at: this.#now() })))
        .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
        .execute();
    });
    return this.get(ownerId, groupId);
  }

  /**
   * Takes a member out: the owner removes anyone else; a member removes only themself (leaves).
   * Throws `not_group_owner`, `owner_cannot_leave`, `group_not_found`.
   */
  async removeMember(actorId: string, groupId: string, memberId: string): Promise<void> {
    const group = await this.#memberOf(actorId, groupId);
    if (memberId === group.owner_id) throw new SocialError('owner_cannot_leave');
    if (actorId !== group.owner_id && actorId !== memberId) throw new SocialError('not_group_owner');
    await this.#tables()
      .deleteFrom('social_group_members')
      .where('group_id', '=', groupId)
      .where('user_id', '=', memberId)
      .execute();
  }

  /** Whether `userId` is a member of `groupId`. */
  async isMember(userId: string, groupId: string): Promise<boolean> {
    if (!isUuid(groupId)) return false;
    const row = await this.#tables()
      .selectFrom('social_group_members')
      .select('user_id')
      .where('group_id', '=', groupId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** The distinct ids, each a friend of the owner who has not blocked them; the owner left out. */
  async #joinable(ownerId: string, memberIds: readonly string[]): Promise<string[]> {
    if (!Array.isArray(memberIds) || memberIds.length > limits.socialGroupMembersMax)
      throw new SocialError('parameter_invalid', { param: 'member_ids' });
    const ids = [...new Set(memberIds)].filter((m) => m !== ownerId);
    for (const m of ids) {
      if (typeof m !== 'string') throw new SocialError('parameter_invalid', { param: 'member_ids' });
      if (!(await this.friends.areFriends(ownerId, m))) throw new SocialError('not_friends', { detail: m });
      if (await this.friends.isBlocked(ownerId, m)) throw new SocialError('user_unavailable', { detail: m });
    }
    return ids;
  }

  async #memberOf(userId: string, groupId: string) {
    if (!(await this.isMember(userId, groupId))) throw new SocialError('group_not_found');
    return this.#tables()
      .selectFrom('social_groups')
      .selectAll()
      .where('group_id', '=', groupId)
      .executeTakeFirstOrThrow();
  }

  #now(): Date {
    return new Date(Number(this.clock.nowNs() / 1_000_000n));
  }

  #tables(q: Queryable = this.db) {
    return typed<SocialTables>(q);
  }
}
