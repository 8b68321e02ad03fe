import { assert } from '../core/assert.ts';
import type { Clock } from '../core/clock.ts';
import { type Db, typed } from '../core/db/index.ts';
import { isIdempotencyKey, refuseReusedKey, requestFingerprint } from '../core/idempotency.ts';
import { derivedId, id, isUuid, uuidFromU128 } from '../core/ids.ts';
import { cnyLedger, SocialTransferCode } from '../core/ledger-codes.ts';
import { limits } from '../core/limits.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import { assertLedgerResult, type Ledger } from '../ledger/index.ts';
import { challengeOnly, type PaymentContext, type Risk } from '../risk/index.ts';
import { SocialError } from './errors.ts';
import { checkText, type Friends, type PersonView, type SocialParties, unknownPerson } from './friends.ts';
import type { Groups } from './groups.ts';
import type { Notices } from './notices.ts';
import type { SocialTables } from './tables.ts';

type CollectionRow = SocialTables['social_collections'];

/** A collection request as its requester asks for it: the same amount from everyone, or set per member. */
export interface CollectionInput {
  groupId: string;
  title: string;
  /** Yuan each member pays (every member of the group but you). */
  amountPerPerson?: string | undefined;
  /** Or yuan per member, by user id (members of the group only). */
  shares?: ReadonlyArray<{ userId: string; amount: string }> | undefined;
}

export interface CollectionView {
  collectionId: string;
  requester: PersonView;
  groupId: string;
  title: string;
  status: 'OPEN' | 'CLOSED';
  totalFen: bigint;
  paidFen: bigint;
  createdAt: Date;
  closesAt: Date;
  /** Who owes what, and who paid (the requester sees everyone; a member sees everyone too: it is their group). */
  shares: Array<PersonView & { amountFen: bigint; paidAt: Date | null }>;
}

/**
 * Collection requests (AA, 群收款): a member of a group asks the others for a share each, the same
 * amount or set per member; each pays from the wallet to the requester; the requester sees who
 * paid. A request closes `collectionOpenMs` (7 days) after it is made, and reminds the unpaid
 * once, `collectionRemindAfterMs` after it is made. A payment is one ledger transfer whose id is
 * derived from (request, payer): paying twice, or again after a crash, moves the money once.
 */
export class Collections {
  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly friends: Friends,
    private readonly groups: Groups,
    private readonly parties: SocialParties,
    private readonly notices: Notices,
    private readonly clock: Clock,
    /** The risk engine, asked before a share is paid; none in the module's own tests. */
    private readonly risk: Risk | undefined = undefined,
  ) {}

  /**
   * Asks the group for its shares, idempotent by (requester, key). Throws `group_not_found`,
   * `amount_invalid`, `parameter_*` (a share for someone outside the group, both or neither of
   * the two ways), `idempotency_key_*`.
   */
  async request(requesterId: string, key: string, input: CollectionInput): Promise<CollectionView> {
    if (!isIdempotencyKey(key)) throw new SocialError('idempotency_key_invalid', { param: 'Idempotency-Key' });
    checkText(input.title, limits.collectionTitleLengthMax, 'title');
    if (input.title.trim() === '') throw new SocialError('parameter_invalid', { param: 'title' });
    if ((input.amountPerPerson === undefined) === (input.shares === undefined))
      throw new SocialError('parameter_invalid', {
        param: 'amount_per_person',
        detail: 'give amount_per_person or shares',
      });
    const members = await this.groups.memberIds(requesterId, input.groupId).catch((error: unknown) => {
      throw error instanceof SocialError ? new SocialError('group_not_found', { param: 'group_id' }) : error;
    });
    const others = members.filter((m) => m !== requesterId);
    let shares: Array<{ userId: string; fen: bigint }>;
    if (input.amountPerPerson !== undefined) {
      const fen = shareFen(input.amountPerPerson);
      shares = others.map((userId) => ({ userId, fen }));
    } else {
      const asked = input.shares ?? [];
      const seen = new Set<string>();
      shares = asked.map((s) => {
        if (!others.includes(s.userId) || seen.has(s.userId))
          throw new SocialError('parameter_invalid', {
            param: 'shares',
            detail: `${s.userId} is not another member of the group, once`,
          });
        seen.add(s.userId);
        return { userId: s.userId, fen: shareFen(s.amount) };
      });
    }
    if (shares.length === 0) throw new SocialError('parameter_invalid', { param: 'shares', detail: 'nobody to ask' });
    const hash = requestFingerprint({
      group: input.groupId,
      title: input.title,
      shares: shares.map((s) => [s.userId, s.fen.toString()]),
    });
    const existing = await this.#byKey(requesterId, key);
    if (existing) {
      refuseReusedKey(
        existing.request_hash,
        hash,
        () => new SocialError('idempotency_key_reused', { param: 'Idempotency-Key' }),
      );
      return this.#view(existing);
    }
    const now = this.#now();
    const collectionId = uuidFromU128(id());
    const created = await this.db.transaction(async (tx) => {
      const row = await typed<SocialTables>(tx)
        .insertInto('social_collections')
        .values({
          collection_id: collectionId,
          requester_id: requesterId,
          idempotency_key: key,
          request_hash: hash,
          group_id: input.groupId,
          title: input.title.trim(),
          status: 'OPEN',
          created_at: now,
          closes_at: new Date(now.getTime() + limits.collectionOpenMs),
          reminded_at: null,
          closed_at: null,
        })
        .onConflict((oc) => oc.columns(['requester_id', 'idempotency_key']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      await typed<SocialTables>(tx)
        .insertInto('social_collection_shares')
        .values(
          shares.map((s) => ({ collection_id: collectionId, user_id: s.userId, amount_fen: s.fen, paid_at: null })),
        )
        .execute();
      return row;
    });
    const row = created ?? (await this.#byKey(requesterId, key));
    assert(row, 'a collection row exists for the key');
    return this.#view(row);
  }

  /** A collection of a group you are in. Throws `collection_not_found`. */
  async get(userId: string, collectionId: string): Promise<CollectionView> {
    return this.#view(await this.#visible(userId, collectionId));
  }

  /** Collections you asked for (`requested`) or that ask you (`owed`), newest first. */
  async list(userId: string, box: 'requested' | 'owed'): Promise<CollectionView[]> {
    const q = typed<SocialTables>(this.db).selectFrom('social_collections as c').selectAll('c');
    const rows = await (box === 'requested'
      ? q.where('c.requester_id', '=', userId)
      : q
          .innerJoin('social_collection_shares as s', 's.collection_id', 'c.collection_id')
          .where('s.user_id', '=', userId)
    )
      .orderBy('c.created_at', 'desc')
      .limit(limits.socialListMax)
      .execute();
    return Promise.all(rows.map((r) => this.#view(r)));
  }

  /**
   * Pays your share of a collection from your wallet to its requester. Paying again answers the
   * same. Throws `collection_not_found` (nothing asked of you), `collection_closed`,
   * `balance_not_enough` (nothing moved); the risk engine's `payment_denied` and
   * `challenge_required` (a payment to a friend, as a transfer is).
   */
  async pay(userId: string, collectionId: string, context: PaymentContext = {}): Promise<CollectionView> {
    const row = await this.#visible(userId, collectionId);
    const share = await typed<SocialTables>(this.db)
      .selectFrom('social_collection_shares')
      .selectAll()
      .where('collection_id', '=', collectionId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!share) throw new SocialError('collection_not_found');
    if (share.paid_at !== null) return this.#view(row);
    if (row.status === 'CLOSED' || this.#now() >= row.closes_at) throw new SocialError('collection_closed');
    await this.risk?.assess(
      {
        path: 'transfer',
        userId,
        payeeId: row.requester_id,
        amountFen: share.amount_fen,
        address: context.address,
        device: context.device,
        ref: `collection/${collectionId}/${userId}`,
      },
      { supports: challengeOnly, fingerprint: `collection/${collectionId}/${userId}`, challenge: context.challenge },
    );
    const wallets = new Map((await this.parties.users([userId, row.requester_id])).map((u) => [u.userId, u]));
    const payer = wallets.get(userId);
    const payee = wallets.get(row.requester_id);
    assert(payer && payee, 'the payer and the requester exist');
    const [result] = await this.ledger.createTransfers([
      {
        id: derivedId('social.collection', `${collectionId}/${userId}`),
        debitAccountId: payer.walletAccountId,
        creditAccountId: payee.walletAccountId,
        amount: share.amount_fen,
        ledger: cnyLedger,
        code: SocialTransferCode.collectionPayment,
        userData64: BigInt(userId),
      },
    ]);
    assertLedgerResult(result, `payment of collection ${collectionId}`, ['exceeds_credits']);
    if (result === 'exceeds_credits') throw new SocialError('balance_not_enough');
    // The ledger is the truth: the transfer exists, so the share is paid, whatever ran before.
    await typed<SocialTables>(this.db)
      .updateTable('social_collection_shares')
      .set({ paid_at: this.#now() })
      .where('collection_id', '=', collectionId)
      .where('user_id', '=', userId)
      .where('paid_at', 'is', null)
      .execute();
    await this.notices.tell(
      [row.requester_id],
      'collection_paid',
      `${collectionId}/${userId}`,
      `${row.title}: ${formatAmount(share.amount_fen)} received`,
    );
    return this.#view(row);
  }

  /** The sweep: reminds the unpaid once, and closes requests whose time is over. Returns how many closed. */
  async sweep(): Promise<number> {
    const now = this.#now();
    const toRemind = await typed<SocialTables>(this.db)
      .selectFrom('social_collections')
      .selectAll()
      .where('status', '=', 'OPEN')
      .where('reminded_at', 'is', null)
      .where('created_at', '<=', new Date(now.getTime() - limits.collectionRemindAfterMs))
      .limit(limits.redPacketSweepBatchMax)
      .execute();
    for (const c of toRemind) {
      const unpaid = await typed<SocialTables>(this.db)
        .selectFrom('social_collection_shares')
        .select(['user_id', 'amount_fen'])
        .where('collection_id', '=', c.collection_id)
        .where('paid_at', 'is', null)
        .execute();
      await this.db.transaction(async (tx) => {
        for (const u of unpaid)
          await this.notices.tell(
            [u.user_id],
            'collection_reminder',
            c.collection_id,
            `${c.title}: ${formatAmount(u.amount_fen)} still to pay`,
            tx,
          );
        await typed<SocialTables>(tx)
          .updateTable('social_collections')
          .set({ reminded_at: now })
          .where('collection_id', '=', c.collection_id)
          .execute();
      });
    }
    const closed = await typed<SocialTables>(this.db)
      .updateTable('social_collections')
      .set({ status: 'CLOSED', closed_at: now })
      .where('status', '=', 'OPEN')
      .where('closes_at', '<=', now)
      .returning('collection_id')
      .execute();
    return closed.length;
  }

  async #visible(userId: string, collectionId: string): Promise<CollectionRow> {
    const row = isUuid(collectionId)
      ? await typed<SocialTables>(this.db)
          .selectFrom('social_collections')
          .selectAll()
          .where('collection_id', '=', collectionId)
          .executeTakeFirst()
      : undefined;
    if (!row || !(row.requester_id === userId || (await this.groups.isMember(userId, row.group_id))))
      throw new SocialError('collection_not_found');
    return row;
  }

  async #view(row: CollectionRow): Promise<CollectionView> {
    const shares = await typed<SocialTables>(this.db)
      .selectFrom('social_collection_shares')
      .selectAll()
      .where('collection_id', '=', row.collection_id)
      .orderBy('user_id')
      .execute();
    const people = await this.friends.people([row.requester_id, ...shares.map((s) => s.user_id)]);
    return {
      collectionId: row.collection_id,
      requester: people.get(row.requester_id) ?? unknownPerson(row.requester_id),
      groupId: row.group_id,
      title: row.title,
      status: row.status === 'OPEN' && this.#now() >= row.closes_at ? 'CLOSED' : row.status,
      totalFen: shares.reduce((s, x) => s + x.amount_fen, 0n),
      paidFen: shares.reduce((s, x) => s + (x.paid_at ? x.amount_fen : 0n), 0n),
      createdAt: row.created_at,
      closesAt: row.closes_at,
      shares: shares.map((s) => ({
        ...(people.get(s.user_id) ?? unknownPerson(s.user_id)),
        amountFen: s.amount_fen,
        paidAt: s.paid_at,
      })),
    };
  }

  #byKey(requesterId: string, key: string): Promise<CollectionRow | undefined> {
    return typed<SocialTables>(this.db)
      .selectFrom('social_collections')
      .selectAll()
      .where('requester_id', '=', requesterId)
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
  }

  #now(): Date {
    return new Date(Number(this.clock.nowNs() / 1_000_000n));
  }
}

function shareFen(amount: string): bigint {
  const fen = typeof amount === 'string' ? parseAmount(amount) : undefined;
  if (fen === undefined || fen < 1n || fen > BigInt(limits.collectionShareFenMax))
    throw new SocialError('amount_invalid', { param: 'amount' });
  return fen;
}
