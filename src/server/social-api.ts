/**
 * Social payments over the native API (`/api/v1`, bearer session as the rest of it): friends and
 * their requests, blocks, contact matching by phone hashes, the profile others see, groups of
 * friends. Transfers to friends are `POST /api/v1/transfers` (the wallet's), under the rules of
 * `Friends.transferRule`. TypeBox schemas on every route; refusals are `{type, code, message, param}`.
 * The routes are thin: `Social` decides.
 */
import { type Static, Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { limits } from '../core/limits.ts';
import { formatAmount } from '../core/money.ts';
import type {
  CollectionView,
  FriendRequestView,
  GroupSummary,
  GroupView,
  PacketView,
  PersonView,
  ProfileView,
  Social,
} from '../social/index.ts';
import type { Wallet } from '../wallet/index.ts';
import { IdempotencyKeyHeaders } from './api.ts';
import { errorResponses } from './api-errors.ts';
import { registerApiScope } from './api-scope.ts';
import { requireUser, userOf } from './bearer-user.ts';
import { challengeFields, paymentContext } from './payment-context.ts';

export interface SocialApiDeps {
  social: Social;
  wallet: Wallet;
}

const Strict = { additionalProperties: false } as const;
const errors = errorResponses;
const UserId = Type.String({ pattern: '^2088[0-9]{12}$', description: '16 digits from 2088.' });
const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const Time = Type.String({ format: 'date-time' });
const Phone = Type.String({ pattern: '^\\+?[0-9][0-9 -]{6,22}$', maxLength: 24 });

const Person = Type.Object({
  user_id: UserId,
  logon_id: Type.String({ description: 'The phone, masked: 138****8000.' }),
  masked_name: Type.Union([
    Type.String({ description: 'The nickname, all but its last character hidden.' }),
    Type.Null(),
  ]),
  avatar_initial: Type.String(),
});
const Friend = Type.Object({ ...Person.properties, since: Time });
const Friends = Type.Object({ data: Type.Array(Friend) });
const FriendRequest = Type.Object({
  request_id: Uuid,
  from: Person,
  to: Person,
  message: Type.String(),
  status: Type.String({ description: 'PENDING, ACCEPTED (you are friends), DECLINED or CANCELLED' }),
  created_at: Time,
  decided_at: Type.Union([Time, Type.Null()]),
});
const FriendRequestBody = Type.Object(
  {
    to_user_id: Type.Optional(UserId),
    to_phone: Type.Optional(Phone),
    message: Type.Optional(Type.String({ maxLength: limits.socialRequestMessageLengthMax })),
  },
  { ...Strict, description: 'Give to_user_id or to_phone.' },
);
const RequestsQuery = Type.Object(
  { box: Type.Optional(Type.Union([Type.Literal('incoming'), Type.Literal('outgoing')])) },
  Strict,
);
const RequestParams = Type.Object({ requestId: Uuid });
const UserParams = Type.Object({ userId: UserId });
const Match = Type.Object({
  data: Type.Array(Type.Object({ ...Person.properties, phone_sha256: Type.String(), friend: Type.Boolean() })),
});
const MatchBody = Type.Object(
  {
    phone_hashes: Type.Array(Type.String({ pattern: '^[0-9a-fA-F]{64}$' }), {
      maxItems: limits.socialContactHashesMax,
      description: 'SHA-256 (hex) of each phone of your address book, as 13800138000 (mainland) or +E.164.',
    }),
  },
  Strict,
);
const Profile = Type.Object({
  nickname: Type.Union([Type.String(), Type.Null()]),
  discoverable: Type.Boolean({ description: 'Others find you by your phone.' }),
  show_score_band: Type.Boolean({ description: 'Friends see your credit score band (once scores exist).' }),
});
const ProfileBody = Type.Object(
  {
    nickname: Type.Optional(Type.Union([Type.String({ maxLength: limits.socialNicknameLengthMax }), Type.Null()])),
    discoverable: Type.Optional(Type.Boolean()),
    show_score_band: Type.Optional(Type.Boolean()),
  },
  Strict,
);
const GroupSummarySchema = Type.Object({
  group_id: Uuid,
  name: Type.String(),
  owner_id: UserId,
  members: Type.Integer(),
  created_at: Time,
});
const Group = Type.Object({
  ...GroupSummarySchema.properties,
  member_list: Type.Array(Type.Object({ ...Person.properties, joined_at: Time })),
});
const Groups = Type.Object({ data: Type.Array(GroupSummarySchema) });
const GroupBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: limits.socialGroupNameLengthMax }),
    member_ids: Type.Array(UserId, { maxItems: limits.socialGroupMembersMax - 1 }),
  },
  Strict,
);
const MembersBody = Type.Object({ user_ids: Type.Array(UserId, { maxItems: limits.socialGroupMembersMax }) }, Strict);
const GroupParams = Type.Object({ groupId: Uuid });
const GroupMemberParams = Type.Object({ groupId: Uuid, userId: UserId });

const Amount = Type.String({ description: 'Yuan as a decimal string with at most 2 places.', examples: ['8.88'] });
const Grab = Type.Object({
  ...Person.properties,
  seq: Type.Integer({ description: 'The order of the grab: 1 for the first.' }),
  amount: Amount,
  grabbed_at: Time,
});
const RedPacket = Type.Object({
  packet_id: Uuid,
  sender: Person,
  kind: Type.String({
    description: 'SINGLE (to one friend), EQUAL (a group, equal shares) or LUCKY (a group, random shares)',
  }),
  to_user_id: Type.Union([UserId, Type.Null()]),
  group_id: Type.Union([Uuid, Type.Null()]),
  amount: Amount,
  shares: Type.Integer(),
  greeting: Type.String(),
  remaining_amount: Amount,
  remaining_shares: Type.Integer(),
  status: Type.String({ description: 'OPEN, FINISHED (every share grabbed) or EXPIRED (the rest went back)' }),
  refunded_amount: Type.Union([Amount, Type.Null()]),
  created_at: Time,
  expires_at: Time,
  grabs: Type.Array(Grab),
  luckiest_user_id: Type.Union([UserId, Type.Null()]),
});
const RedPacketBody = Type.Object(
  {
    kind: Type.Union([Type.Literal('SINGLE'), Type.Literal('EQUAL'), Type.Literal('LUCKY')]),
    amount: Type.String({ maxLength: 20, description: 'The whole packet, in yuan.' }),
    shares: Type.Optional(Type.Integer({ minimum: 1, maximum: limits.redPacketSharesMax })),
    greeting: Type.Optional(Type.String({ maxLength: limits.redPacketGreetingLengthMax })),
    to_user_id: Type.Optional(UserId),
    group_id: Type.Optional(Type.String({ maxLength: 36 })),
    ...challengeFields,
  },
  { ...Strict, description: 'SINGLE: to_user_id (a friend). EQUAL and LUCKY: group_id and shares.' },
);
const PacketParams = Type.Object({ packetId: Uuid });
const PacketsQuery = Type.Object(
  { box: Type.Optional(Type.Union([Type.Literal('sent'), Type.Literal('received')])) },
  Strict,
);

const Collection = Type.Object({
  collection_id: Uuid,
  requester: Person,
  group_id: Uuid,
  title: Type.String(),
  status: Type.String({ description: 'OPEN, or CLOSED (7 days after the request)' }),
  total_amount: Amount,
  paid_amount: Amount,
  created_at: Time,
  closes_at: Time,
  shares: Type.Array(Type.Object({ ...Person.properties, amount: Amount, paid_at: Type.Union([Time, Type.Null()]) })),
});
const CollectionBody = Type.Object(
  {
    group_id: Uuid,
    title: Type.String({ minLength: 1, maxLength: limits.collectionTitleLengthMax }),
    amount_per_person: Type.Optional(Type.String({ maxLength: 20 })),
    shares: Type.Optional(
      Type.Array(Type.Object({ user_id: UserId, amount: Type.String({ maxLength: 20 }) }, Strict), {
        maxItems: limits.socialGroupMembersMax,
      }),
    ),
  },
  { ...Strict, description: 'amount_per_person (every other member pays it), or shares (set per member).' },
);
const CollectionParams = Type.Object({ collectionId: Uuid });
const CollectionsQuery = Type.Object(
  { box: Type.Optional(Type.Union([Type.Literal('requested'), Type.Literal('owed')])) },
  Strict,
);
const Notice = Type.Object({
  notice_id: Uuid,
  kind: Type.String({ description: 'red_packet_refunded, collection_reminder or collection_paid' }),
  message: Type.String(),
  ref: Type.String({ description: 'The red packet or collection it is about.' }),
  created_at: Time,
});

function collectionView(c: CollectionView): Static<typeof Collection> {
  return {
    collection_id: c.collectionId,
    requester: personView(c.requester),
    group_id: c.groupId,
    title: c.title,
    status: c.status,
    total_amount: formatAmount(c.totalFen),
    paid_amount: formatAmount(c.paidFen),
    created_at: c.createdAt.toISOString(),
    closes_at: c.closesAt.toISOString(),
    shares: c.shares.map((s) => ({
      ...personView(s),
      amount: formatAmount(s.amountFen),
      paid_at: s.paidAt?.toISOString() ?? null,
    })),
  };
}

function grabView(g: PacketView['grabs'][number]): Static<typeof Grab> {
  return { ...personView(g), seq: g.seq, amount: formatAmount(g.amountFen), grabbed_at: g.grabbedAt.toISOString() };
}

function packetView(p: PacketView): Static<typeof RedPacket> {
  return {
    packet_id: p.packetId,
    sender: personView(p.sender),
    kind: p.kind,
    to_user_id: p.target.kind === 'USER' ? p.target.id : null,
    group_id: p.target.kind === 'GROUP' ? p.target.id : null,
    amount: formatAmount(p.amountFen),
    shares: p.shares,
    greeting: p.greeting,
    remaining_amount: formatAmount(p.remainingFen),
    remaining_shares: p.remainingShares,
    status: p.status,
    refunded_amount: p.refundedFen === null ? null : formatAmount(p.refundedFen),
    created_at: p.createdAt.toISOString(),
    expires_at: p.expiresAt.toISOString(),
    grabs: p.grabs.map(grabView),
    luckiest_user_id: p.luckiestUserId,
  };
}

function personView(p: PersonView): Static<typeof Person> {
  return { user_id: p.userId, logon_id: p.logonId, masked_name: p.maskedName, avatar_initial: p.avatarInitial };
}

function requestView(r: FriendRequestView): Static<typeof FriendRequest> {
  return {
    request_id: r.requestId,
    from: personView(r.from),
    to: personView(r.to),
    message: r.message,
    status: r.status,
    created_at: r.createdAt.toISOString(),
    decided_at: r.decidedAt?.toISOString() ?? null,
  };
}

function profileView(p: ProfileView): Static<typeof Profile> {
  return { nickname: p.nickname, discoverable: p.discoverable, show_score_band: p.showScoreBand };
}

function groupSummaryView(g: GroupSummary): Static<typeof GroupSummarySchema> {
  return {
    group_id: g.groupId,
    name: g.name,
    owner_id: g.ownerId,
    members: g.members,
    created_at: g.createdAt.toISOString(),
  };
}

function groupView(g: GroupView): Static<typeof Group> {
  return {
    ...groupSummaryView(g),
    member_list: g.memberList.map((m) => ({ ...personView(m), joined_at: m.joinedAt.toISOString() })),
  };
}

function routes(api: FastifyInstance, { social, wallet }: SocialApiDeps): void {
  requireUser(api, wallet);
  const typed = api.withTypeProvider<TypeBoxTypeProvider>();
  const doc = (summary: string, tag: string) => ({ summary, tags: [tag], security: [{ bearerAuth: [] }] });
  const { friends, groups, redPackets, collections, notices } = social;

  typed.post(
    '/collections',
    {
      schema: {
        ...doc(
          'Ask the other members of a group for a share each (AA): the same amount, or set per member; closes in 7 days; requires an Idempotency-Key',
          'collections',
        ),
        headers: IdempotencyKeyHeaders,
        body: CollectionBody,
        response: { 201: Collection, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const view = await collections.request(userOf(request), request.headers['idempotency-key'], {
        groupId: b.group_id,
        title: b.title,
        amountPerPerson: b.amount_per_person,
        shares: b.shares?.map((s) => ({ userId: s.user_id, amount: s.amount })),
      });
      return reply.code(201).send(collectionView(view));
    },
  );
  typed.get(
    '/collections',
    {
      schema: {
        ...doc('Collections you asked for (box=requested, the default), or that ask you (owed)', 'collections'),
        querystring: CollectionsQuery,
        response: { 200: Type.Object({ data: Type.Array(Collection) }), ...errors },
      },
    },
    async (request) => ({
      data: (await collections.list(userOf(request), request.query.box ?? 'requested')).map(collectionView),
    }),
  );
  typed.get(
    '/collections/:collectionId',
    {
      schema: {
        ...doc('A collection of a group you are in: who owes what, who paid', 'collections'),
        params: CollectionParams,
        response: { 200: Collection, ...errors },
      },
    },
    async (request) => collectionView(await collections.get(userOf(request), request.params.collectionId)),
  );
  typed.post(
    '/collections/:collectionId/pay',
    {
      schema: {
        ...doc(
          'Pay your share from your wallet to the requester (paying again answers the same); after challenge_required, send {challenge_id, challenge_code}',
          'collections',
        ),
        params: CollectionParams,
        response: { 200: Collection, ...errors },
      },
    },
    async (request) =>
      collectionView(
        await collections.pay(
          userOf(request),
          request.params.collectionId,
          // The body is optional (none for a plain payment): the engine checks what it holds.
          paymentContext(request, optionalChallenge(request.body)),
        ),
      ),
  );
  typed.get(
    '/notices',
    {
      schema: {
        ...doc('What you were told, newest first: red packets refunded, collections to pay or paid', 'friends'),
        response: { 200: Type.Object({ data: Type.Array(Notice) }), ...errors },
      },
    },
    async (request) => ({
      data: (await notices.list(userOf(request))).map((n) => ({
        notice_id: n.noticeId,
        kind: n.kind,
        message: n.message,
        ref: n.ref,
        created_at: n.createdAt.toISOString(),
      })),
    }),
  );

  typed.post(
    '/red-packets',
    {
      schema: {
        ...doc(
          'Send a red packet: to a friend (SINGLE), or to a group in equal or lucky shares; the money leaves your wallet now, and what is not grabbed in 24 hours comes back; requires an Idempotency-Key',
          'red packets',
        ),
        headers: IdempotencyKeyHeaders,
        body: RedPacketBody,
        response: { 201: RedPacket, 200: RedPacket, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const outcome = await redPackets.send(
        userOf(request),
        request.headers['idempotency-key'],
        {
          kind: b.kind,
          amount: b.amount,
          shares: b.shares,
          greeting: b.greeting,
          toUserId: b.to_user_id,
          groupId: b.group_id,
        },
        paymentContext(request, b),
      );
      if (outcome.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(outcome.replayed ? 200 : 201).send(packetView(outcome.packet));
    },
  );
  typed.get(
    '/red-packets',
    {
      schema: {
        ...doc(
          'Red packets you sent (box=sent, the default), or the ones you grabbed a share of (received)',
          'red packets',
        ),
        querystring: PacketsQuery,
        response: { 200: Type.Object({ data: Type.Array(RedPacket) }), ...errors },
      },
    },
    async (request) => {
      const user = userOf(request);
      const packets =
        request.query.box === 'received'
          ? (await redPackets.received(user)).map((r) => r.packet)
          : await redPackets.sent(user);
      return { data: packets.map(packetView) };
    },
  );
  typed.get(
    '/red-packets/:packetId',
    {
      schema: {
        ...doc('A red packet you sent or may grab: who got how much, and the luckiest', 'red packets'),
        params: PacketParams,
        response: { 200: RedPacket, ...errors },
      },
    },
    async (request) => packetView(await redPackets.get(userOf(request), request.params.packetId)),
  );
  typed.post(
    '/red-packets/:packetId/grab',
    {
      schema: {
        ...doc(
          'Grab your share of a red packet (once: grabbing again shows the same share); the money is in your wallet when this answers',
          'red packets',
        ),
        params: PacketParams,
        response: { 200: Type.Object({ packet_id: Uuid, ...Grab.properties }), ...errors },
      },
    },
    async (request) => {
      const grab = await redPackets.grab(userOf(request), request.params.packetId);
      return { packet_id: grab.packetId, ...grabView(grab) };
    },
  );

  typed.get(
    '/friends',
    { schema: { ...doc('Your friends, oldest friendship first', 'friends'), response: { 200: Friends, ...errors } } },
    async (request) => ({
      data: (await friends.list(userOf(request))).map((f) => ({ ...personView(f), since: f.since.toISOString() })),
    }),
  );
  typed.delete(
    '/friends/:userId',
    {
      schema: {
        ...doc('End a friendship, both ways', 'friends'),
        params: UserParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await friends.remove(userOf(request), request.params.userId);
      return reply.code(204).send(null);
    },
  );
  typed.post(
    '/friends/requests',
    {
      schema: {
        ...doc(
          'Ask a user (by id or phone) to be your friend; if they asked you first, you are friends at once (status ACCEPTED)',
          'friends',
        ),
        body: FriendRequestBody,
        response: { 201: FriendRequest, ...errors },
      },
    },
    async (request, reply) => {
      const { to_user_id: toUserId, to_phone: toPhone, message } = request.body;
      const view = await friends.request(userOf(request), { toUserId, toPhone, message });
      return reply.code(201).send(requestView(view));
    },
  );
  typed.get(
    '/friends/requests',
    {
      schema: {
        ...doc('Open friend requests sent to you (box=incoming, the default) or by you (outgoing)', 'friends'),
        querystring: RequestsQuery,
        response: { 200: Type.Object({ data: Type.Array(FriendRequest) }), ...errors },
      },
    },
    async (request) => ({
      data: (await friends.requests(userOf(request), request.query.box ?? 'incoming')).map(requestView),
    }),
  );
  for (const [action, summary] of [
    ['accept', 'Accept a friend request sent to you'],
    ['decline', 'Decline a friend request sent to you'],
  ] as const) {
    typed.post(
      `/friends/requests/:requestId/${action}`,
      {
        schema: { ...doc(summary, 'friends'), params: RequestParams, response: { 200: FriendRequest, ...errors } },
      },
      async (request) => requestView(await friends[action](userOf(request), request.params.requestId)),
    );
  }
  typed.get(
    '/blocks',
    {
      schema: {
        ...doc('The users you blocked, newest first', 'friends'),
        response: { 200: Type.Object({ data: Type.Array(Person) }), ...errors },
      },
    },
    async (request) => ({ data: (await friends.blocked(userOf(request))).map(personView) }),
  );
  typed.put(
    '/blocks/:userId',
    {
      schema: {
        ...doc('Block a user: they can send you no request, transfer or red packet', 'friends'),
        params: UserParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await friends.block(userOf(request), request.params.userId);
      return reply.code(204).send(null);
    },
  );
  typed.delete(
    '/blocks/:userId',
    { schema: { ...doc('Lift a block', 'friends'), params: UserParams, response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await friends.unblock(userOf(request), request.params.userId);
      return reply.code(204).send(null);
    },
  );
  typed.post(
    '/contacts/match',
    {
      schema: {
        ...doc(
          'Find which of your contacts use Paybao, from the hashes of their phones (never the numbers)',
          'friends',
        ),
        body: MatchBody,
        response: { 200: Match, ...errors },
      },
    },
    async (request) => ({
      data: (await friends.match(userOf(request), request.body.phone_hashes)).map((m) => ({
        ...personView(m),
        phone_sha256: m.phoneSha256,
        friend: m.friend,
      })),
    }),
  );
  typed.get(
    '/profile',
    {
      schema: {
        ...doc('What others see of you, and who may find you', 'friends'),
        response: { 200: Profile, ...errors },
      },
    },
    async (request) => profileView(await friends.profile(userOf(request))),
  );
  typed.put(
    '/profile',
    {
      schema: {
        ...doc('Change your nickname (null removes it), whether others find you by phone, your score band', 'friends'),
        body: ProfileBody,
        response: { 200: Profile, ...errors },
      },
    },
    async (request) => {
      const { nickname, discoverable, show_score_band: showScoreBand } = request.body;
      const change = {
        ...(nickname !== undefined && { nickname }),
        ...(discoverable !== undefined && { discoverable }),
        ...(showScoreBand !== undefined && { showScoreBand }),
      };
      return profileView(await friends.updateProfile(userOf(request), change));
    },
  );
  typed.get(
    '/groups',
    { schema: { ...doc('The groups you are in, newest first', 'groups'), response: { 200: Groups, ...errors } } },
    async (request) => ({ data: (await groups.list(userOf(request))).map(groupSummaryView) }),
  );
  typed.post(
    '/groups',
    {
      schema: {
        ...doc(
          `Create a group of you and some of your friends (at most ${limits.socialGroupMembersMax} members)`,
          'groups',
        ),
        body: GroupBody,
        response: { 201: Group, ...errors },
      },
    },
    async (request, reply) => {
      const group = await groups.create(userOf(request), {
        name: request.body.name,
        memberIds: request.body.member_ids,
      });
      return reply.code(201).send(groupView(group));
    },
  );
  typed.get(
    '/groups/:groupId',
    {
      schema: {
        ...doc('A group you are in, with its members', 'groups'),
        params: GroupParams,
        response: { 200: Group, ...errors },
      },
    },
    async (request) => groupView(await groups.get(userOf(request), request.params.groupId)),
  );
  typed.post(
    '/groups/:groupId/members',
    {
      schema: {
        ...doc("Add friends to your group (the owner's only)", 'groups'),
        params: GroupParams,
        body: MembersBody,
        response: { 200: Group, ...errors },
      },
    },
    async (request) =>
      groupView(await groups.addMembers(userOf(request), request.params.groupId, request.body.user_ids)),
  );
  typed.delete(
    '/groups/:groupId/members/:userId',
    {
      schema: {
        ...doc('Remove a member (the owner), or leave (yourself)', 'groups'),
        params: GroupMemberParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await groups.removeMember(userOf(request), request.params.groupId, request.params.userId);
      return reply.code(204).send(null);
    },
  );
}

/** The confirmation a body without a schema may carry (a route whose body is optional). */
function optionalChallenge(body: unknown): { challenge_id?: string; challenge_code?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const { challenge_id: id, challenge_code: code } = body as Record<string, unknown>;
  return {
    ...(typeof id === 'string' && { challenge_id: id }),
    ...(typeof code === 'string' && { challenge_code: code }),
  };
}

/** Mounts the social routes under `/api/v1` (register before `registerApi`'s spec is built, as the channels' are). */
export function registerSocialApi(app: FastifyInstance, deps: SocialApiDeps): Promise<void> {
  return registerApiScope(app, '/api/v1', (scope) => routes(scope, deps));
}
