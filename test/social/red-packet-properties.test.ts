/**
 * Red packets against a model: random sends (lucky, equal, to a friend), grabs, clock moves and
 * sweeps among four friends in one group. Money is conserved (wallets and packet accounts sum to
 * what was there), every packet's shares sum exactly to it, a refund is exactly what was not
 * grabbed, nobody grabs twice (a second grab answers the first share), and every refusal is the
 * model's: all grabbed once the shares are out, expired from the packet's 24th hour on.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import { formatAmount } from '../../src/core/money.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import type { User } from '../../src/members/index.ts';
import { isSocialError, verifyRedPackets } from '../../src/social/index.ts';
import { usePlatform } from '../support/engine.ts';

const clock = new ManualClock(Date.parse('2026-12-07T02:00:00Z'));
const platformOf = usePlatform({ clock });
const people = 4;
const opening = 200_00n;

type Op =
  | { kind: 'send'; from: number; type: 'LUCKY' | 'EQUAL' | 'SINGLE'; shares: number; perShareFen: number; to: number }
  | { kind: 'grab'; who: number; packet: number }
  | { kind: 'wait'; hours: number }
  | { kind: 'sweep' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      from: fc.integer({ min: 0, max: people - 1 }),
      type: fc.constantFrom('LUCKY' as const, 'EQUAL' as const, 'SINGLE' as const),
      shares: fc.integer({ min: 1, max: 5 }),
      perShareFen: fc.integer({ min: 1, max: 500 }),
      to: fc.integer({ min: 0, max: people - 1 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('grab' as const),
      who: fc.integer({ min: 0, max: people - 1 }),
      packet: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), hours: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sweep' as const) }) },
);

interface Modelled {
  id: string;
  sender: number;
  amount: bigint;
  shares: number;
  target: number | 'group';
  expiresAtMs: number;
  grabbed: Map<number, bigint>;
}

describe('red packets, against a model', () => {
  it('conserve money, sum exactly, refund exactly the rest, never pay twice', async () => {
    const { members, social, db } = platformOf();
    const users: User[] = [];
    for (let i = 0; i < people; i++) {
      users.push(
        await members.createUser({
          phone: `135${i.toString().padStart(8, '0')}`,
          password: 'pw-props',
          openingBalance: opening,
        }),
      );
    }
    const id = (i: number) => (users[i] as User).userId;
    for (let i = 0; i < people; i++)
      for (let j = i + 1; j < people; j++) {
        const r = await social.friends.request(id(i), { toUserId: id(j) });
        await social.friends.accept(id(j), r.requestId);
      }
    const group = await social.groups.create(id(0), { name: 'all', memberIds: users.slice(1).map((u) => u.userId) });
    let run = 0;

    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), async (ops) => {
        run++;
        const packets: Modelled[] = [];
        const total = async () =>
          (await Promise.all(users.map((u) => members.walletBalance(u.userId)))).reduce((s, b) => s + b, 0n);
        const [held] = await db.query<{ fen: bigint }>(
          `select coalesce(sum(a.credits_posted - a.debits_posted), 0)::bigint fen
             from social_red_packets p join ledger_accounts a on a.id = p.account_id`,
        );
        const before = (await total()) + (held?.fen ?? 0n);
        let n = 0;
        for (const o of ops) {
          if (o.kind === 'wait') clock.advanceMs(o.hours * 3_600_000);
          else if (o.kind === 'sweep') await social.redPackets.sweep();
          else if (o.kind === 'send') {
            const single = o.type === 'SINGLE';
            if (single && o.to === o.from) continue;
            const shares = single ? 1 : o.shares;
            const amount = BigInt(o.perShareFen * shares);
            const balance = await members.walletBalance(id(o.from));
            const sent = await social.redPackets
              .send(id(o.from), `prop-${run}-${++n}`, {
                kind: o.type,
                amount: formatAmount(amount),
                shares: single ? undefined : shares,
                ...(single ? { toUserId: id(o.to) } : { groupId: group.groupId }),
              })
              .catch((error: unknown) => {
                if (isSocialError(error, 'balance_not_enough')) return null;
                throw error;
              });
            expect(sent === null, 'refused exactly when the wallet is short').toBe(balance < amount);
            if (sent)
              packets.push({
                id: sent.packet.packetId,
                sender: o.from,
                amount,
                shares,
                target: single ? o.to : 'group',
                expiresAtMs: sent.packet.expiresAt.getTime(),
                grabbed: new Map(),
              });
          } else if (packets.length > 0) {
            const p = packets[o.packet % packets.length] as Modelled;
            const got = await social.redPackets.grab(id(o.who), p.id).catch((error: unknown) => {
              if (isSocialError(error)) return error.code;
              throw error;
            });
            const mine = p.grabbed.get(o.who);
            const expected =
              p.target !== 'group' && p.target !== o.who
                ? 'packet_not_found'
                : mine !== undefined
                  ? mine
                  : Number(clock.nowNs() / 1_000_000n) >= p.expiresAtMs
                    ? 'packet_expired'
                    : p.grabbed.size === p.shares
                      ? 'all_grabbed'
                      : 'a new share';
            if (typeof got === 'string') expect({ o, got }).toEqual({ o, got: expected });
            else {
              if (mine !== undefined) expect(got.amountFen).toBe(mine);
              else expect(expected).toBe('a new share');
              p.grabbed.set(o.who, got.amountFen);
            }
          }
        }
        // Everything due is refunded, then every packet's books close.
        clock.advanceMs(limits.redPacketTtlMs);
        await social.redPackets.sweep();
        for (const p of packets) {
          const view = await social.redPackets.get(id(p.sender), p.id);
          const grabbed = [...p.grabbed.values()].reduce((s, a) => s + a, 0n);
          expect(view.grabs.map((g) => g.amountFen).reduce((s, a) => s + a, 0n)).toBe(grabbed);
          if (p.grabbed.size === p.shares) expect(grabbed).toBe(p.amount);
          else expect(view).toMatchObject({ status: 'EXPIRED', refundedFen: p.amount - grabbed });
        }
        const [after] = await db.query<{ fen: bigint }>(
          `select coalesce(sum(a.credits_posted - a.debits_posted), 0)::bigint fen
             from social_red_packets p join ledger_accounts a on a.id = p.account_id`,
        );
        expect((await total()) + (after?.fen ?? 0n)).toBe(before);
        expect(after?.fen).toBe(0n); // every packet paid out or refunded
        expect(await verifyRedPackets(db)).toEqual([]);
      }),
      { numRuns: 12 },
    );
    expect(await verifyLedger(db)).toEqual([]);
  }, 180_000);
});
