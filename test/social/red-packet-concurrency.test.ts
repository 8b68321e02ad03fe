/**
 * The hot spot: every member of a group grabs one packet at once. Exactly as many grabs succeed
 * as there are shares, each member at most once, the shares sum to the packet, and on PostgreSQL
 * two processes (two platforms on one schema) grab the same packet together, serialised by the
 * packet row's lock. A grab written but cut short before its payment is paid on the next look.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededUserId, seedUsers } from '../../src/cli/bench/redpacket.ts';
import { limits } from '../../src/core/limits.ts';
import { type Ledger, verifyLedger } from '../../src/ledger/index.ts';
import type { User } from '../../src/members/index.ts';
import type { Platform } from '../../src/platform.ts';
import { isSocialError, RedPackets, verifyRedPackets } from '../../src/social/index.ts';
import { engine, freshPlatform, freshSchema } from '../support/engine.ts';

const members = 150;
const shares = limits.redPacketSharesMax;
const schema = freshSchema();
const platforms: Platform[] = [];
let sender: User;
let grabbers: User[];
let groupId: string;

beforeAll(async () => {
  platforms.push(await freshPlatform({ schema }));
  // On PostgreSQL a second process on the same schema grabs the same packets.
  if (engine === 'postgres') platforms.push(await freshPlatform({ schema }));
  const [p] = platforms as [Platform];
  sender = await p.members.createUser({ phone: '13600000000', password: 'pw-sender', openingBalance: 10_000_00n });
  grabbers = [];
  for (let i = 0; i < members; i++) {
    const user = await p.members.createUser({
      phone: `136${(i + 1).toString().padStart(8, '0')}`,
      password: 'pw-grabber',
    });
    const request = await p.social.friends.request(sender.userId, { toUserId: user.userId });
    await p.social.friends.accept(user.userId, request.requestId);
    grabbers.push(user);
  }
  groupId = (await p.social.groups.create(sender.userId, { name: 'all', memberIds: grabbers.map((g) => g.userId) }))
    .groupId;
}, 120_000);

afterAll(async () => {
  const [p] = platforms;
  if (p) {
    expect(await verifyLedger(p.db)).toEqual([]);
    expect(await verifyRedPackets(p.db)).toEqual([]);
    if (schema) await p.db.exec(`drop schema ${schema} cascade`);
  }
  for (const q of platforms) await q.close();
});

/** Every grabber grabs at once, spread over the platforms; returns the outcomes in grabber order. */
async function everyoneGrabs(packetId: string): Promise<Array<{ amountFen: bigint; seq: number } | string>> {
  return Promise.all(
    grabbers.map((g, i) =>
      (platforms[i % platforms.length] as Platform).social.redPackets
        .grab(g.userId, packetId)
        .catch((error: unknown) => {
          if (isSocialError(error)) return error.code;
          throw error;
        }),
    ),
  );
}

describe(`${members} members grab a ${shares}-share packet at once (${engine}, ${platforms.length || '1 or 2'} processes)`, () => {
  it('exactly the shares succeed, once each, summing to the packet', async () => {
    const [p] = platforms as [Platform];
    const amountFen = 888_88n;
    const { packet } = await p.social.redPackets.send(sender.userId, 'hot-lucky', {
      kind: 'LUCKY',
      amount: '888.88',
      shares,
      groupId,
    });
    const outcomes = await everyoneGrabs(packet.packetId);
    const won = outcomes.filter((o): o is { amountFen: bigint; seq: number } => typeof o !== 'string');
    expect(won).toHaveLength(shares);
    expect(outcomes.filter((o) => o === 'all_grabbed')).toHaveLength(members - shares);
    expect(won.reduce((s, g) => s + g.amountFen, 0n)).toBe(amountFen);
    expect(new Set(won.map((g) => g.seq)).size).toBe(shares);
    for (const g of won) expect(g.amountFen).toBeGreaterThanOrEqual(1n);
    // Every share is in its grabber's wallet.
    const paid = await Promise.all(
      grabbers.map(async (g, i) => (typeof outcomes[i] === 'string' ? 0n : p.members.walletBalance(g.userId))),
    );
    expect(paid.reduce((s, b) => s + b, 0n)).toBe(amountFen);
    // Grabbing again answers the same share, on either process.
    const again = await everyoneGrabs(packet.packetId);
    expect(again.map((o) => (typeof o === 'string' ? o : o.amountFen))).toEqual(
      outcomes.map((o) => (typeof o === 'string' ? o : o.amountFen)),
    );
  }, 120_000);

  it('pays a share whose payment was cut short, when its grabber asks again or at the sweep', async () => {
    const [p] = platforms as [Platform];
    const { packet } = await p.social.redPackets.send(sender.userId, 'cut-short', {
      kind: 'EQUAL',
      amount: '3.00',
      shares: 3,
      groupId,
    });
    // A process whose ledger fails every grab payment: the shares are drawn and written, not paid.
    const failing = {
      prefetchAccounts: async () => {},
      createTransfers: async () => {
        throw new Error('the process died before the ledger answered');
      },
    } as unknown as Ledger;
    const crashed = new RedPackets(
      p.db,
      failing,
      p.social.friends,
      p.social.groups,
      partiesOf(p),
      p.clock,
      p.social.notices,
    );
    const [a, b] = grabbers as [User, User];
    const [aBefore, bBefore] = [await p.members.walletBalance(a.userId), await p.members.walletBalance(b.userId)];
    await expect(crashed.grab(a.userId, packet.packetId)).rejects.toThrow(/died/);
    await expect(crashed.grab(b.userId, packet.packetId)).rejects.toThrow(/died/);
    expect(await p.members.walletBalance(a.userId)).toBe(aBefore);
    // a asks again through a healthy process: the same share, paid now.
    expect((await p.social.redPackets.grab(a.userId, packet.packetId)).amountFen).toBe(100n);
    expect(await p.members.walletBalance(a.userId)).toBe(aBefore + 100n);
    expect(await verifyRedPackets(p.db)).toEqual([]);
    // b never asks again: the sweep pays b's share once the grace has passed.
    await p.db.query(
      "update social_red_packet_grabs set grabbed_at = grabbed_at - interval '1 hour' where paid_at is null",
    );
    await p.social.redPackets.sweep();
    expect(await p.members.walletBalance(b.userId)).toBe(bBefore + 100n);
  });
});

describe(`a campaign packet of 1,000 shares, 2,000 grabbers at once (${engine})`, () => {
  it('exactly 1,000 succeed, the rest find it all grabbed, and the shares sum to the packet', async () => {
    const [p] = platforms as [Platform];
    await seedUsers(p.db, p.ledger, 2000, () => {});
    const { packet } = await p.social.redPackets.send(sender.userId, 'campaign-2000', {
      kind: 'LUCKY',
      amount: '1000.00',
      shares: 1000,
      campaign: true,
    });
    const outcomes = await Promise.all(
      Array.from({ length: 2000 }, (_, i) =>
        (platforms[i % platforms.length] as Platform).social.redPackets
          .grab(seededUserId(i), packet.packetId)
          .then((g) => g.amountFen)
          .catch((error: unknown) => {
            if (isSocialError(error)) return error.code;
            throw error;
          }),
      ),
    );
    const won = outcomes.filter((o): o is bigint => typeof o === 'bigint');
    expect(won).toHaveLength(1000);
    expect(outcomes.filter((o) => o === 'all_grabbed')).toHaveLength(1000);
    expect(won.reduce((s, a) => s + a, 0n)).toBe(1000_00n);
    const grabs = await p.db.query<{ n: number; users: number }>(
      'select count(*)::int n, count(distinct user_id)::int users from social_red_packet_grabs where packet_id = $1',
      [packet.packetId],
    );
    expect(grabs[0]).toEqual({ n: 1000, users: 1000 });
    expect(await verifyRedPackets(p.db)).toEqual([]);
  }, 120_000);
});

describe('a send cut short', () => {
  it('is finished by the sweep once its lease has passed, moving the money once; its key then answers it', async () => {
    const [p] = platforms as [Platform];
    const dead = {
      prefetchAccounts: async () => {},
      createAccounts: async () => {
        throw new Error('the process died before the ledger answered');
      },
      createTransfers: async () => {
        throw new Error('the process died before the ledger answered');
      },
    } as unknown as Ledger;
    const crashed = new RedPackets(
      p.db,
      dead,
      p.social.friends,
      p.social.groups,
      partiesOf(p),
      p.clock,
      p.social.notices,
    );
    const before = await p.members.walletBalance(sender.userId);
    const input = { kind: 'EQUAL' as const, amount: '2.00', shares: 2, groupId };
    await expect(crashed.send(sender.userId, 'cut-short-send', input)).rejects.toThrow(/died/);
    expect(await p.members.walletBalance(sender.userId)).toBe(before);
    // Too soon for the sweep: the request may still be running.
    await p.social.redPackets.sweep();
    expect(await p.members.walletBalance(sender.userId)).toBe(before);
    await p.db.query(
      "update social_red_packets set created_at = created_at - interval '1 hour' where idempotency_key = 'cut-short-send'",
    );
    await p.social.redPackets.sweep();
    await p.social.redPackets.sweep();
    expect(await p.members.walletBalance(sender.userId)).toBe(before - 200n);
    const replay = await p.social.redPackets.send(sender.userId, 'cut-short-send', input);
    expect(replay).toMatchObject({ replayed: true, packet: { status: 'OPEN', amountFen: 200n } });
    expect(await p.members.walletBalance(sender.userId)).toBe(before - 200n);
    expect(await verifyRedPackets(p.db)).toEqual([]);
  });
});

function partiesOf(p: Platform) {
  return {
    users: async (ids: readonly string[]) =>
      (await p.members.findUsers(ids)).map((u) => ({
        userId: u.userId,
        logonId: u.logonId,
        walletAccountId: u.walletAccountId,
      })),
    userByPhone: async () => null,
    usersByPhoneHashes: async () => [],
    walletOf: async (id: string) => (await p.members.getMember(id)).walletAccountId,
  };
}
