import { assert } from '../core/assert.ts';
import { cached } from '../core/cache.ts';
import type { Clock } from '../core/clock.ts';
import { type Db, type Queryable, typed } from '../core/db/index.ts';
import { isIdempotencyKey, refuseReusedKey, requestFingerprint } from '../core/idempotency.ts';
import { derivedId, id, isUuid, u128FromUuid, uuidFromU128 } from '../core/ids.ts';
import { cnyLedger, SocialAccountCode, SocialTransferCode } from '../core/ledger-codes.ts';
import { limits } from '../core/limits.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import {
  AccountFlags,
  assertLedgerResult,
  assertLedgerResults,
  type Ledger,
  type TransferInput,
} from '../ledger/index.ts';
import { challengeOnly, neitherSupported, type PaymentContext, type Risk } from '../risk/index.ts';
import { type Draw, drawEqual, drawLucky, type Random, secureRandom } from './draw.ts';
import { SocialError, type SocialErrorCode } from './errors.ts';
import {
  checkText,
  type Friends,
  type PersonView,
  type SocialParties,
  type SocialUser,
  unknownPerson,
} from './friends.ts';
import type { Groups } from './groups.ts';
import type { Notices } from './notices.ts';
import type { PacketKind, PacketStatus, SocialTables, TargetKind } from './tables.ts';

type PacketRow = SocialTables['social_red_packets'];
type GrabRow = SocialTables['social_red_packet_grabs'];

/** A packet as its sender asks for it. */
export interface SendInput {
  /** SINGLE: to one friend; EQUAL: a group's shares of one amount; LUCKY: a group's random shares. */
  kind: PacketKind;
  /** The whole packet, yuan as a decimal string. */
  amount: string;
  /** Shares of a group packet (a SINGLE packet is one share). */
  shares?: number | undefined;
  greeting?: string | undefined;
  /** The friend a SINGLE packet is for. */
  toUserId?: string | undefined;
  /** The group an EQUAL or LUCKY packet is for (you must be in it). */
  groupId?: string | undefined;
  /**
   * A campaign (a merchant's "red packet rain"): an EQUAL or LUCKY packet that anyone but its
   * sender may grab once, up to `redPacketCampaignSharesMax` shares.
   */
  campaign?: boolean | undefined;
}

export interface GrabView extends PersonView {
  seq: number;
  amountFen: bigint;
  grabbedAt: Date;
}

export interface PacketView {
  packetId: string;
  sender: PersonView;
  kind: PacketKind;
  /** The friend (USER), the group (GROUP), or `*` for anyone (CAMPAIGN). */
  target: { kind: TargetKind; id: string };
  amountFen: bigint;
  shares: number;
  greeting: string;
  remainingFen: bigint;
  remainingShares: number;
  status: PacketStatus;
  refundedFen: bigint | null;
  createdAt: Date;
  expiresAt: Date;
  /** Who got how much, in the order they grabbed (the first `socialListMax`). */
  grabs: GrabView[];
  /** The largest share of a lucky packet once every share is out (ties: the earlier grab); else null. */
  luckiestUserId: string | null;
}

export interface PacketOutcome {
  packet: PacketView;
  /** This answer is a stored one: the key had already sent the packet. */
  replayed: boolean;
}

/** A batch drawn: the packet as locked, and each grabber's share or refusal. */
interface Drawn {
  row: PacketRow;
  outcomes: Map<string, GrabRow | SocialErrorCode>;
}

/** A share grabbed, as its grabber sees it. */
export type GrabOutcome = GrabView & { packetId: string };

/** One grab waiting for its packet's next batch. */
interface Waiting {
  userId: string;
  resolve: (grab: GrabOutcome) => void;
  reject: (error: unknown) => void;
}

const shareBounds = {
  shareMinFen: BigInt(limits.redPacketShareFenMin),
  shareMaxFen: BigInt(limits.redPacketShareFenMax),
};

/**
 * Red packets (红包). A send moves the whole packet from the sender's wallet into the packet's own
 * ledger account (code 50, never below zero) in one transfer, so a packet is funded before anyone
 * grabs; each grab is one transfer from that account to the grabber; what is left at expiry goes
 * back to the sender in one transfer.
 *
 * The hot spot: everyone grabs a group packet at once. Grabs of one packet are gathered in this
 * process and drawn in batches (`redPacketGrabBatchMax`): one transaction takes the packet row's
 * lock once, draws every waiting grab in arrival order, writes their rows and the packet's
 * remainder; one ledger submission then pays them all. Processes serialise on that row lock.
 * A grab is answered once its money is in the grabber's wallet; a grab written but not paid (a
 * crash between the two) is paid by the sweep, under the same derived transfer id.
 */
export class RedPackets {
  readonly #waiting = new Map<string, Waiting[]>();
  /**
   * A packet's row as first read once it was sent: only its fixed facts (sender, kind, target,
   * account) are used from it; its state is read under the row's lock by each batch.
   */
  readonly #facts = cached((packetId: string) => this.#sentPacket(packetId), {
    max: limits.redPacketFactsCacheMax,
    ttlMs: limits.redPacketTtlMs,
  });

  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly friends: Friends,
    private readonly groups: Groups,
    private readonly parties: SocialParties,
    private readonly clock: Clock,
    private readonly notices: Notices,
    private readonly random: Random = secureRandom,
    /** The risk engine, asked before a packet is funded; none in the module's own tests. */
    private readonly risk: Risk | undefined = undefined,
  ) {}

  /**
   * Sends a packet, idempotent by (sender, key): the same key and request answer the first
   * outcome; another request under it is `idempotency_key_reused`. Throws `amount_invalid`,
   * `shares_invalid`, `share_out_of_bounds`, `not_divisible`, `not_friends`, `user_unavailable`,
   * `group_not_found`, `balance_not_enough` (stored), `parameter_*`; the risk engine's
   * `payment_denied` and `challenge_required` (nothing written but its record). A campaign is a
   * merchant's, sent from its server: it cannot be confirmed, so what would be is refused.
   */
  async send(senderId: string, key: string, input: SendInput, context: PaymentContext = {}): Promise<PacketOutcome> {
    if (!isIdempotencyKey(key)) throw new SocialError('idempotency_key_invalid', { param: 'Idempotency-Key' });
    const checked = checkSend(input);
    const existing = await this.#packetByKey(senderId, key);
    if (existing) return this.#resume(existing, checked.hash);
    if (checked.target.kind === 'CAMPAIGN') {
      // Anyone may grab a campaign packet: nobody to check.
    } else if (checked.target.kind === 'USER') {
      const to = checked.target.id;
      if (to === senderId) throw new SocialError('user_is_self');
      if (await this.friends.isBlocked(senderId, to)) throw new SocialError('user_unavailable');
      if (!(await this.friends.areFriends(senderId, to))) throw new SocialError('not_friends');
    } else if (!(await this.groups.isMember(senderId, checked.target.id))) {
      throw new SocialError('group_not_found', { param: 'group_id' });
    }
    const campaign = checked.target.kind === 'CAMPAIGN';
    await this.risk?.assess(
      {
        path: campaign ? 'campaign' : 'red_packet',
        userId: senderId,
        payeeId: checked.target.kind === 'USER' ? checked.target.id : undefined,
        amountFen: checked.fen,
        address: context.address,
        device: context.device,
        ref: `${senderId}/${key}`,
      },
      {
        supports: campaign ? neitherSupported : challengeOnly,
        fingerprint: checked.hash,
        challenge: context.challenge,
      },
    );
    const now = this.#now();
    const packetId = uuidFromU128(id());
    const claimed = await this.#tables()
      .insertInto('social_red_packets')
      .values({
        packet_id: packetId,
        sender_id: senderId,
        idempotency_key: key,
        request_hash: checked.hash,
        kind: input.kind,
        target_kind: checked.target.kind,
        target_id: checked.target.id,
        amount_fen: checked.fen,
        shares: checked.shares,
        greeting: checked.greeting,
        account_id: uuidFromU128(packetAccountId(packetId)),
        remaining_fen: checked.fen,
        remaining_shares: checked.shares,
        status: 'FUNDING',
        error_code: null,
        refunded_fen: null,
        created_at: now,
        expires_at: new Date(now.getTime() + limits.redPacketTtlMs),
        closed_at: null,
      })
      .onConflict((oc) => oc.columns(['sender_id', 'idempotency_key']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!claimed) {
      const raced = await this.#packetByKey(senderId, key);
      assert(raced, 'a conflicting packet row exists');
      return this.#resume(raced, checked.hash);
    }
    const funded = await this.#fund(claimed);
    if (funded.status === 'FAILED')
      throw new SocialError((funded.error_code ?? 'balance_not_enough') as SocialErrorCode);
    return { packet: await this.#view(funded), replayed: false };
  }

  /** A packet as its sender or one who may grab it sees it. Throws `packet_not_found`. */
  async get(userId: string, packetId: string): Promise<PacketView> {
    const row = await this.#visible(userId, packetId);
    return this.#view(row);
  }

  /**
   * Grabs one share of a packet: the amount is drawn now (lucky) and paid into the wallet before
   * the answer. Grabbing again answers the same share. Throws `packet_not_found` (not yours to
   * grab), `packet_expired`, `all_grabbed`. The hot path: a packet's fixed facts come from memory,
   * and everything else is decided by the packet's next batch.
   */
  async grab(userId: string, packetId: string): Promise<GrabOutcome> {
    const facts = isUuid(packetId) ? await this.#facts(packetId) : null;
    if (!facts || !(await this.#mayGrab(userId, facts))) throw new SocialError('packet_not_found');
    return new Promise<GrabOutcome>((resolve, reject) => this.#enqueue(packetId, { userId, resolve, reject }));
  }

  /** Whether `userId` may grab a share: the friend it is for, a member of its group, anyone but a campaign's sender. */
  async #mayGrab(userId: string, row: PacketRow): Promise<boolean> {
    if (row.sender_id === userId && row.target_kind !== 'GROUP') return false;
    if (row.target_kind === 'USER') return row.target_id === userId;
    if (row.target_kind === 'GROUP') return this.groups.isMember(userId, row.target_id);
    return true;
  }

  /** The packets you sent, newest first. */
  async sent(userId: string): Promise<PacketView[]> {
    const rows = await this.#tables()
      .selectFrom('social_red_packets')
      .selectAll()
      .where('sender_id', '=', userId)
      .where('status', '<>', 'FAILED')
      .orderBy('created_at', 'desc')
      .limit(limits.socialListMax)
      .execute();
    return Promise.all(rows.map((r) => this.#view(r)));
  }

  /**
   * A campaign's sender hands a share to a user it names (`paybao.fund.redpacket.grab`): the
   * share is drawn as if the user grabbed it, once per user. Throws `packet_not_found` unless the
   * packet is this sender's campaign, and what `grab` throws.
   */
  async grabFor(senderId: string, packetId: string, userId: string): Promise<GrabOutcome> {
    const facts = isUuid(packetId) ? await this.#facts(packetId) : null;
    if (facts?.sender_id !== senderId || facts.target_kind !== 'CAMPAIGN') throw new SocialError('packet_not_found');
    const [user] = await this.parties.users([userId]);
    if (!user) throw new SocialError('user_not_found', { param: 'payee_info' });
    return this.grab(userId, packetId);
  }

  /** A packet as its sender sees it (a campaign's, through the gateway). Throws `packet_not_found`. */
  async ofSender(senderId: string, packetId: string): Promise<PacketView> {
    const row = await this.#visible(senderId, packetId);
    if (row.sender_id !== senderId) throw new SocialError('packet_not_found');
    return this.#view(row);
  }

  /** The open packets you may grab and have not: to you, or to a group you are in; newest first. */
  async grabbable(userId: string): Promise<PacketView[]> {
    const now = this.#now();
    const rows = await this.db.query<PacketRow>(
      `select p.* from social_red_packets p
        where p.status = 'OPEN' and p.expires_at > $2
          and ((p.target_kind = 'USER' and p.target_id = $1)
            or (p.target_kind = 'GROUP' and exists (select 1 from social_group_members m
                                                     where m.group_id::text = p.target_id and m.user_id = $1)))
          and not exists (select 1 from social_red_packet_grabs g where g.packet_id = p.packet_id and g.user_id = $1)
        order by p.created_at desc
        limit $3`,
      [userId, now, limits.socialListMax],
    );
    return Promise.all(rows.map((r) => this.#view(r)));
  }

  /** What you grabbed, newest first: each share with its packet. */
  async received(userId: string): Promise<Array<{ packet: PacketView; amountFen: bigint; grabbedAt: Date }>> {
    const grabs = await this.#tables()
      .selectFrom('social_red_packet_grabs')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('grabbed_at', 'desc')
      .limit(limits.socialListMax)
      .execute();
    return Promise.all(
      grabs.map(async (g) => ({
        packet: await this.#view(await this.#packet(g.packet_id)),
        amountFen: g.amount_fen,
        grabbedAt: g.grabbed_at,
      })),
    );
  }

  /**
   * The sweep: sends packets whose funding a crash cut short (once their lease has passed), pays
   * grabs written but not paid, and refunds what is left of expired packets to their senders.
   * Returns how many packets it refunded.
   */
  async sweep(): Promise<number> {
    const now = this.#now();
    const stuck = await this.#tables()
      .selectFrom('social_red_packets')
      .selectAll()
      .where('status', '=', 'FUNDING')
      .where('created_at', '<', new Date(now.getTime() - limits.redPacketUnpaidGraceMs))
      .limit(limits.redPacketSweepBatchMax)
      .execute();
    for (const row of stuck) await this.#fund(row);
    const unpaid = await this.#tables()
      .selectFrom('social_red_packet_grabs')
      .selectAll()
      .where('paid_at', 'is', null)
      .where('grabbed_at', '<', new Date(now.getTime() - limits.redPacketUnpaidGraceMs))
      .limit(limits.redPacketGrabBatchMax)
      .execute();
    for (const packetId of new Set(unpaid.map((g) => g.packet_id))) {
      await this.#pay(
        await this.#packet(packetId),
        unpaid.filter((g) => g.packet_id === packetId),
      );
    }
    const due = await this.#tables()
      .selectFrom('social_red_packets')
      .select('packet_id')
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'OPEN'), eb('expires_at', '<=', now)]),
          eb.and([eb('status', '=', 'EXPIRED'), eb('closed_at', 'is', null)]),
        ]),
      )
      .orderBy('expires_at')
      .limit(limits.redPacketSweepBatchMax)
      .execute();
    for (const { packet_id } of due) await this.#expire(packet_id);
    return due.length;
  }

  /**
   * Closes an expired packet: under its row's lock it stops drawing (EXPIRED, with what is left
   * as the refund), then every grab it drew is paid, then the refund goes back to the sender, and
   * the packet is closed. Every step is idempotent, so a crash anywhere resumes at the next sweep.
   */
  async #expire(packetId: string): Promise<void> {
    const row = await this.db.transaction(async (tx) => {
      const [locked] = await tx.query<{ status: PacketStatus }>(
        'select status from social_red_packets where packet_id = $1 for update',
        [packetId],
      );
      if (locked?.status === 'OPEN') {
        await tx.query(
          "update social_red_packets set status = 'EXPIRED', refunded_fen = remaining_fen where packet_id = $1",
          [packetId],
        );
      }
      return this.#packet(packetId, tx);
    });
    if (row.status !== 'EXPIRED' || row.closed_at !== null) return;
    const grabs = await this.#tables()
      .selectFrom('social_red_packet_grabs')
      .selectAll()
      .where('packet_id', '=', packetId)
      .where('paid_at', 'is', null)
      .execute();
    if (grabs.length > 0) await this.#pay(row, grabs);
    const refund = row.refunded_fen ?? 0n;
    if (refund > 0n) {
      const senderWallet = await this.parties.walletOf(row.sender_id);
      assert(senderWallet !== null, `the sender of packet ${packetId} has a wallet`);
      const [result] = await this.ledger.createTransfers([
        {
          id: derivedId('social.red-packet.refund', packetId),
          debitAccountId: u128FromUuid(row.account_id),
          creditAccountId: senderWallet,
          amount: refund,
          ledger: cnyLedger,
          code: SocialTransferCode.redPacketRefund,
          userData128: u128FromUuid(packetId),
          userData64: BigInt(row.sender_id),
        },
      ]);
      assertLedgerResult(result, `refund of red packet ${packetId}`);
      await this.notices.tell(
        [row.sender_id],
        'red_packet_refunded',
        packetId,
        `Your red packet expired: ${formatAmount(refund)} came back to your wallet`,
      );
    }
    await this.#tables()
      .updateTable('social_red_packets')
      .set({ closed_at: this.#now() })
      .where('packet_id', '=', packetId)
      .execute();
  }

  /** Puts a grab in its packet's queue, and starts the packet's batches unless they run. */
  #enqueue(packetId: string, waiting: Waiting): void {
    const queue = this.#waiting.get(packetId);
    if (queue) {
      queue.push(waiting);
      return;
    }
    this.#waiting.set(packetId, [waiting]);
    void this.#drain(packetId);
  }

  /**
   * Runs the packet's batches until nobody waits; each takes up to `redPacketGrabBatchMax` grabs.
   * The next batch draws while the previous one is being paid (at most one payment in flight):
   * draws are serial under the row lock, payments are independent of one another.
   */
  async #drain(packetId: string): Promise<void> {
    let paying: Promise<void> = Promise.resolve();
    for (;;) {
      const queue = this.#waiting.get(packetId) ?? [];
      if (queue.length === 0) {
        this.#waiting.delete(packetId);
        await paying;
        return;
      }
      const batch = queue.splice(0, limits.redPacketGrabBatchMax);
      let drawn: Drawn;
      try {
        drawn = await this.#draw(
          packetId,
          batch.map((w) => w.userId),
        );
      } catch (error) {
        for (const w of batch) w.reject(error);
        continue;
      }
      await paying;
      paying = this.#settle(drawn.row, batch, drawn.outcomes);
    }
  }

  /**
   * Draws one batch of grabs of one packet under the packet row's lock: a share for every user
   * who has none (in arrival order); writes the shares and the packet's remainder. A user who
   * grabbed before gets that share again.
   */
  async #draw(packetId: string, userIds: readonly string[]): Promise<Drawn> {
    const users = [...new Set(userIds)];
    const now = this.#now();
    return this.db.transaction(async (tx) => {
      const row = await this.#tables(tx)
        .selectFrom('social_red_packets')
        .selectAll()
        .where('packet_id', '=', packetId)
        .forUpdate()
        .executeTakeFirstOrThrow();
      const before = await tx.query<GrabRow>(
        'select * from social_red_packet_grabs where packet_id = $1 and user_id = any($2::text[])',
        [packetId, users],
      );
      const outcomes = new Map<string, GrabRow | SocialErrorCode>(before.map((g) => [g.user_id, g]));
      const drawn: GrabRow[] = [];
      let remainingFen = row.remaining_fen;
      let remainingShares = row.remaining_shares;
      const closed = row.status === 'EXPIRED' || this.#expired(row);
      for (const userId of users) {
        if (outcomes.has(userId)) continue;
        if (closed) outcomes.set(userId, 'packet_expired');
        else if (remainingShares === 0) outcomes.set(userId, 'all_grabbed');
        else {
          const draw: Draw =
            row.kind === 'EQUAL'
              ? drawEqual(remainingFen, remainingShares)
              : drawLucky(remainingFen, remainingShares, shareBounds, this.random);
          const grab: GrabRow = {
            packet_id: packetId,
            user_id: userId,
            seq: row.shares - remainingShares + 1,
            amount_fen: draw.amountFen,
            low_fen: draw.lowFen,
            high_fen: draw.highFen,
            grabbed_at: now,
            paid_at: null,
          };
          remainingFen -= draw.amountFen;
          remainingShares -= 1;
          drawn.push(grab);
          outcomes.set(userId, grab);
        }
      }
      if (drawn.length > 0) {
        // One statement whatever the batch's size: the rows as arrays (a batch is up to thousands).
        await tx.query(
          `insert into social_red_packet_grabs (packet_id, user_id, seq, amount_fen, low_fen, high_fen, grabbed_at)
           select $1, u, s, a, l, h, $7 from unnest($2::text[], $3::int[], $4::int8[], $5::int8[], $6::int8[]) as t(u, s, a, l, h)`,
          [
            packetId,
            drawn.map((g) => g.user_id),
            drawn.map((g) => g.seq),
            drawn.map((g) => g.amount_fen),
            drawn.map((g) => g.low_fen),
            drawn.map((g) => g.high_fen),
            now,
          ],
        );
        await this.#tables(tx)
          .updateTable('social_red_packets')
          .set({
            remaining_fen: remainingFen,
            remaining_shares: remainingShares,
            ...(remainingShares === 0 && { status: 'FINISHED', closed_at: now }),
          })
          .where('packet_id', '=', packetId)
          .execute();
      }
      return { row, outcomes };
    });
  }

  /**
   * Pays every share of the batch not paid yet (those drawn now, and any a failed payment left)
   * in one ledger submission, then answers each grab: its share, or its refusal. Never throws:
   * a failure is every grab's answer.
   */
  async #settle(row: PacketRow, batch: readonly Waiting[], outcomes: Map<string, GrabRow | SocialErrorCode>) {
    try {
      const grabbed = [...outcomes.values()].filter((o): o is GrabRow => typeof o !== 'string');
      const users = await this.parties.users(grabbed.map((g) => g.user_id));
      const unpaid = grabbed.filter((g) => g.paid_at === null);
      // The payment, and how the grabbers appear (one read for the whole batch), at once.
      const [, people] = await Promise.all([
        unpaid.length > 0 ? this.#pay(row, unpaid, users) : undefined,
        this.friends.peopleOf(users),
      ]);
      for (const w of batch) {
        const outcome = outcomes.get(w.userId);
        assert(outcome, 'every grab of a batch has an outcome');
        if (typeof outcome === 'string') w.reject(new SocialError(outcome));
        else
          w.resolve({
            ...(people.get(w.userId) ?? unknownPerson(w.userId)),
            ...grabView(outcome),
            packetId: row.packet_id,
          });
      }
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }

  /** Pays drawn shares from the packet's account, each under its derived id, and marks them paid. */
  async #pay(row: PacketRow, grabs: readonly GrabRow[], known?: readonly SocialUser[]): Promise<void> {
    const users = known ?? (await this.parties.users(grabs.map((g) => g.user_id)));
    const wallets = new Map(users.map((u) => [u.userId, u]));
    const events: TransferInput[] = grabs.map((g) => {
      const wallet = wallets.get(g.user_id);
      assert(wallet, `the grabber ${g.user_id} exists`);
      return {
        id: grabTransferId(row.packet_id, g.user_id),
        debitAccountId: u128FromUuid(row.account_id),
        creditAccountId: wallet.walletAccountId,
        amount: g.amount_fen,
        ledger: cnyLedger,
        code: SocialTransferCode.redPacketGrab,
        userData128: u128FromUuid(row.packet_id),
        userData64: BigInt(g.user_id),
      };
    });
    // A rain's grabbers' wallets are not cached: read ahead, outside the ledger's lock.
    await this.ledger.prefetchAccounts(events.flatMap((e) => [e.debitAccountId, e.creditAccountId]));
    assertLedgerResults(await this.ledger.createTransfers(events), `grabs of red packet ${row.packet_id}`);
    await this.db.query(
      'update social_red_packet_grabs set paid_at = $3 where packet_id = $1 and user_id = any($2::text[]) and paid_at is null',
      [row.packet_id, grabs.map((g) => g.user_id), this.#now()],
    );
  }

  /**
   * Moves a claimed packet's money: creates its account and the send transfer (both idempotent),
   * then records OPEN, or FAILED when the wallet is short.
   */
  async #fund(row: PacketRow): Promise<PacketRow> {
    const senderWallet = await this.parties.walletOf(row.sender_id);
    assert(senderWallet !== null, `the sender ${row.sender_id} has a wallet`);
    const accountId = u128FromUuid(row.account_id);
    const [account] = await this.ledger.createAccounts([
      {
        id: accountId,
        ledger: cnyLedger,
        code: SocialAccountCode.redPacket,
        flags: AccountFlags.debitsMustNotExceedCredits,
        userData128: u128FromUuid(row.packet_id),
        userData64: BigInt(row.sender_id),
      },
    ]);
    assertLedgerResult(account, `account of red packet ${row.packet_id}`);
    const [sent] = await this.ledger.createTransfers([
      {
        id: derivedId('social.red-packet.send', row.packet_id),
        debitAccountId: senderWallet,
        creditAccountId: accountId,
        amount: row.amount_fen,
        ledger: cnyLedger,
        code: SocialTransferCode.redPacketSend,
        userData128: u128FromUuid(row.packet_id),
        userData64: BigInt(row.sender_id),
      },
    ]);
    assertLedgerResult(sent, `red packet ${row.packet_id}`, ['exceeds_credits']);
    const failed = sent === 'exceeds_credits';
    await this.#tables()
      .updateTable('social_red_packets')
      .set(failed ? { status: 'FAILED', error_code: 'balance_not_enough' } : { status: 'OPEN' })
      .where('packet_id', '=', row.packet_id)
      .where('status', '=', 'FUNDING')
      .execute();
    return this.#packet(row.packet_id);
  }

  /** A key seen before: the stored outcome, or the funding finished now (the request that held it died). */
  async #resume(row: PacketRow, hash: string): Promise<PacketOutcome> {
    refuseReusedKey(
      row.request_hash,
      hash,
      () => new SocialError('idempotency_key_reused', { param: 'Idempotency-Key' }),
    );
    const final = row.status === 'FUNDING' ? await this.#fund(row) : row;
    if (final.status === 'FAILED') throw new SocialError((final.error_code ?? 'balance_not_enough') as SocialErrorCode);
    return { packet: await this.#view(final), replayed: true };
  }

  /** The packet, if `userId` sent it or may grab it; `packet_not_found` otherwise (and for FAILED ones). */
  async #visible(userId: string, packetId: string): Promise<PacketRow> {
    const row = isUuid(packetId) ? await this.#packetOrNull(packetId) : undefined;
    if (!row || row.status === 'FAILED' || row.status === 'FUNDING') throw new SocialError('packet_not_found');
    if (row.sender_id !== userId && !(await this.#mayGrab(userId, row))) throw new SocialError('packet_not_found');
    return row;
  }

  async #view(row: PacketRow): Promise<PacketView> {
    // The first grabs in order (a campaign's may be a million: the list shows the first page).
    const grabs = await this.#tables()
      .selectFrom('social_red_packet_grabs')
      .selectAll()
      .where('packet_id', '=', row.packet_id)
      .orderBy('seq')
      .limit(limits.socialListMax)
      .execute();
    const people = await this.friends.people([row.sender_id, ...grabs.map((g) => g.user_id)]);
    // The luckiest once every share is out: the largest, the earlier grab on a tie.
    const luckiest =
      row.kind === 'LUCKY' && row.remaining_shares === 0
        ? await this.#tables()
            .selectFrom('social_red_packet_grabs')
            .select('user_id')
            .where('packet_id', '=', row.packet_id)
            .orderBy('amount_fen', 'desc')
            .orderBy('seq')
            .limit(1)
            .executeTakeFirst()
        : undefined;
    return {
      packetId: row.packet_id,
      sender: people.get(row.sender_id) ?? unknownPerson(row.sender_id),
      kind: row.kind,
      target: { kind: row.target_kind, id: row.target_id },
      amountFen: row.amount_fen,
      shares: row.shares,
      greeting: row.greeting,
      remainingFen: row.remaining_fen,
      remainingShares: row.remaining_shares,
      status: row.status,
      refundedFen: row.refunded_fen,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      grabs: grabs.map((g) => ({ ...(people.get(g.user_id) ?? unknownPerson(g.user_id)), ...grabView(g) })),
      luckiestUserId: luckiest?.user_id ?? null,
    };
  }

  /** The packet once sent (not FUNDING or FAILED), or null. */
  async #sentPacket(packetId: string): Promise<PacketRow | null> {
    const row = await this.#packetOrNull(packetId);
    return row && row.status !== 'FUNDING' && row.status !== 'FAILED' ? row : null;
  }

  #expired(row: PacketRow): boolean {
    return this.#now().getTime() >= row.expires_at.getTime();
  }

  #packetByKey(senderId: string, key: string): Promise<PacketRow | undefined> {
    return this.#tables()
      .selectFrom('social_red_packets')
      .selectAll()
      .where('sender_id', '=', senderId)
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
  }

  #packetOrNull(packetId: string, q: Queryable = this.db): Promise<PacketRow | undefined> {
    return this.#tables(q)
      .selectFrom('social_red_packets')
      .selectAll()
      .where('packet_id', '=', packetId)
      .executeTakeFirst();
  }

  async #packet(packetId: string, q: Queryable = this.db): Promise<PacketRow> {
    const row = await this.#packetOrNull(packetId, q);
    assert(row, `packet ${packetId} exists`);
    return row;
  }

  #now(): Date {
    return new Date(Number(this.clock.nowNs() / 1_000_000n));
  }

  #tables(q: Queryable = this.db) {
    return typed<SocialTables>(q);
  }
}

/** The ledger account of a packet. */
export function packetAccountId(packetId: string): bigint {
  return derivedId('social.red-packet', packetId);
}

/** The ledger id of the transfer paying `userId`'s share of a packet. */
export function grabTransferId(packetId: string, userId: string): bigint {
  return derivedId('social.red-packet.grab', `${packetId}/${userId}`);
}

function grabView(g: GrabRow): { seq: number; amountFen: bigint; grabbedAt: Date } {
  return { seq: g.seq, amountFen: g.amount_fen, grabbedAt: g.grabbed_at };
}

/** Everything that can be judged without the database, and the request's fingerprint. */
function checkSend(input: SendInput): {
  fen: bigint;
  shares: number;
  greeting: string;
  target: { kind: TargetKind; id: string };
  hash: string;
} {
  if (!['SINGLE', 'EQUAL', 'LUCKY'].includes(input.kind)) throw new SocialError('parameter_invalid', { param: 'kind' });
  const fen = typeof input.amount === 'string' ? parseAmount(input.amount) : undefined;
  if (fen === undefined || fen <= 0n) throw new SocialError('amount_invalid', { param: 'amount' });
  const greeting = input.greeting ?? '';
  checkText(greeting, limits.redPacketGreetingLengthMax, 'greeting');
  const single = input.kind === 'SINGLE';
  const campaign = input.campaign === true;
  if (campaign && single)
    throw new SocialError('parameter_invalid', { param: 'kind', detail: 'a campaign is EQUAL or LUCKY' });
  const shares = single ? (input.shares ?? 1) : input.shares;
  const sharesMax = single ? 1 : campaign ? limits.redPacketCampaignSharesMax : limits.redPacketSharesMax;
  if (!Number.isInteger(shares) || shares === undefined || shares < 1 || shares > sharesMax)
    throw new SocialError('shares_invalid', { param: 'shares' });
  const n = BigInt(shares);
  const { shareMinFen: min, shareMaxFen: max } = shareBounds;
  if (input.kind === 'EQUAL' && fen % n !== 0n) throw new SocialError('not_divisible', { param: 'amount' });
  if (fen < n * min || fen > n * max) throw new SocialError('share_out_of_bounds', { param: 'amount' });
  const fingerprint = (to: { kind: TargetKind; id: string }) =>
    requestFingerprint({ kind: input.kind, amount_fen: fen.toString(), shares, greeting, to });
  if (campaign) {
    if (input.toUserId !== undefined || input.groupId !== undefined)
      throw new SocialError('parameter_invalid', { param: 'group_id', detail: 'a campaign goes to anyone' });
    const to = { kind: 'CAMPAIGN' as const, id: '*' };
    return { fen, shares, greeting, target: to, hash: fingerprint(to) };
  }
  const target = single ? input.toUserId : input.groupId;
  if (typeof target !== 'string' || (single ? input.groupId : input.toUserId) !== undefined)
    throw new SocialError('parameter_invalid', {
      param: single ? 'to_user_id' : 'group_id',
      detail: single ? 'a SINGLE packet goes to to_user_id' : 'a group packet goes to group_id',
    });
  if (!single && !isUuid(target)) throw new SocialError('group_not_found', { param: 'group_id' });
  const to = { kind: single ? ('USER' as const) : ('GROUP' as const), id: target };
  return {
    fen,
    shares,
    greeting,
    target: to,
    hash: fingerprint(to),
  };
}
