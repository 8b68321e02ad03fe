/**
 * Collection requests (AA) against a model: random requests, payments (some twice, some short of
 * money), clock moves and sweeps among four members of a group. Every payment's outcome is the
 * model's (paid once, refused when short or closed), money is conserved, the requester receives
 * exactly the shares paid, and each unpaid member is reminded at most once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { formatAmount } from '../../src/core/money.ts';
import type { User } from '../../src/members/index.ts';
import { isSocialError } from '../../src/social/index.ts';
import { usePlatform } from '../support/engine.ts';

const clock = new ManualClock(Date.parse('2026-12-07T02:00:00Z'));
const platformOf = usePlatform({ clock });
const people = 4;

type Op =
  | { kind: 'ask'; who: number; eachFen: number }
  | { kind: 'pay'; who: number; request: number }
  | { kind: 'wait'; days: number }
  | { kind: 'sweep' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('ask' as const),
      who: fc.integer({ min: 0, max: people - 1 }),
      eachFen: fc.integer({ min: 1, max: 4_000 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('pay' as const),
      who: fc.integer({ min: 0, max: people - 1 }),
      request: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), days: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sweep' as const) }) },
);

describe('collection requests, against a model', () => {
  it('pay each share once, only while open and covered; conserve money; remind at most once', async () => {
    const { members, social } = platformOf();
    const users: User[] = [];
    for (let i = 0; i < people; i++)
      users.push(
        await members.createUser({
          phone: `134${i.toString().padStart(8, '0')}`,
          password: 'password-aa',
          openingBalance: 100_00n,
        }),
      );
    const id = (i: number) => (users[i] as User).userId;
    for (let j = 1; j < people; j++)
      await social.friends.accept(id(j), (await social.friends.request(id(0), { toUserId: id(j) })).requestId);
    const group = await social.groups.create(id(0), { name: 'aa', memberIds: users.slice(1).map((u) => u.userId) });
    let run = 0;

    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 30 }), async (ops) => {
        run++;
        const balances = async () => Promise.all(users.map((u) => members.walletBalance(u.userId)));
        const start = await balances();
        const expected = [...start];
        const requests: Array<{ id: string; requester: number; each: bigint; paid: Set<number>; closesAtMs: number }> =
          [];
        let n = 0;
        for (const o of ops) {
          if (o.kind === 'wait') clock.advanceMs(o.days * 86_400_000);
          else if (o.kind === 'sweep') await social.sweep();
          else if (o.kind === 'ask') {
            const c = await social.collections.request(id(o.who), `aa-${run}-${++n}`, {
              groupId: group.groupId,
              title: `t${n}`,
              amountPerPerson: formatAmount(BigInt(o.eachFen)),
            });
            requests.push({
              id: c.collectionId,
              requester: o.who,
              each: BigInt(o.eachFen),
              paid: new Set(),
              closesAtMs: c.closesAt.getTime(),
            });
          } else if (requests.length > 0) {
            const r = requests[o.request % requests.length] as (typeof requests)[number];
            const nowMs = Number(clock.nowNs() / 1_000_000n);
            const want =
              o.who === r.requester
                ? 'collection_not_found'
                : r.paid.has(o.who)
                  ? 'ok'
                  : nowMs >= r.closesAtMs
                    ? 'collection_closed'
                    : (expected[o.who] ?? 0n) < r.each
                      ? 'balance_not_enough'
                      : 'ok';
            const got = await social.collections
              .pay(id(o.who), r.id)
              .then(() => 'ok')
              .catch((error: unknown) => {
                if (isSocialError(error)) return error.code;
                throw error;
              });
            expect({ o, got }).toEqual({ o, got: want });
            if (got === 'ok' && !r.paid.has(o.who)) {
              r.paid.add(o.who);
              expected[o.who] = (expected[o.who] ?? 0n) - r.each;
              expected[r.requester] = (expected[r.requester] ?? 0n) + r.each;
            }
          }
        }
        expect(await balances()).toEqual(expected);
        for (const r of requests) {
          const view = await social.collections.get(id(r.requester), r.id);
          expect(view.paidFen).toBe(r.each * BigInt(r.paid.size));
        }
        // At most one reminder per member and request, however often the sweep ran.
        for (let i = 0; i < people; i++) {
          const reminders = (await social.notices.list(id(i))).filter((x) => x.kind === 'collection_reminder');
          expect(new Set(reminders.map((x) => x.ref)).size).toBe(reminders.length);
        }
      }),
      { numRuns: 10 },
    );
  }, 180_000);
});
