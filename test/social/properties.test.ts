/**
 * Friends and blocks against a model: random requests, answers, removals, blocks, unblocks and
 * transfers among five users; every outcome (done, or which refusal) is the model's, friendships
 * are always mutual, a blocked user never moves money to the one who blocked them, and the books
 * verify at the end.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/index.ts';
import type { User } from '../../src/members/index.ts';
import { isSocialError } from '../../src/social/index.ts';
import { isWalletError } from '../../src/wallet/index.ts';
import { usePlatform } from '../support/engine.ts';

const platformOf = usePlatform();
const users = 5;

type Op =
  | { kind: 'request' | 'remove' | 'block' | 'unblock' | 'transfer'; from: number; to: number }
  | { kind: 'accept' | 'decline'; from: number; to: number };

const op: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('request', 'accept', 'decline', 'remove', 'block', 'unblock', 'transfer'),
  from: fc.integer({ min: 0, max: users - 1 }),
  to: fc.integer({ min: 0, max: users - 1 }),
}) as fc.Arbitrary<Op>;

/** The rules, one operation at a time; returns "ok" or the refusal's code. */
class Model {
  readonly friends = new Set<string>();
  readonly blocks = new Set<string>();
  readonly pending = new Set<string>();
  static pair = (a: number, b: number) => `${a}>${b}`;

  apply(o: Op): string {
    const { from: a, to: b } = o;
    const p = Model.pair;
    switch (o.kind) {
      case 'request':
        if (a === b) return 'user_is_self';
        if (this.blocks.has(p(b, a))) return 'user_unavailable';
        if (this.friends.has(p(a, b))) return 'already_friends';
        if (this.pending.has(p(b, a))) this.#befriend(a, b);
        else this.pending.add(p(a, b));
        return 'ok';
      // `to` answers the request `from` sent.
      case 'accept':
      case 'decline':
        if (!this.pending.has(p(a, b))) return 'request_not_found';
        this.pending.delete(p(a, b));
        if (o.kind === 'accept') this.#befriend(a, b);
        return 'ok';
      case 'remove':
        if (!this.friends.has(p(a, b))) return 'not_friends';
        this.friends.delete(p(a, b));
        this.friends.delete(p(b, a));
        return 'ok';
      case 'block':
        if (a === b) return 'user_is_self';
        this.blocks.add(p(a, b));
        this.pending.delete(p(b, a));
        return 'ok';
      case 'unblock':
        this.blocks.delete(p(a, b));
        return 'ok';
      case 'transfer':
        if (a === b) return 'recipient_is_sender';
        return this.blocks.has(p(b, a)) ? 'recipient_unavailable' : 'ok';
    }
  }

  #befriend(a: number, b: number): void {
    this.friends.add(Model.pair(a, b));
    this.friends.add(Model.pair(b, a));
    this.pending.delete(Model.pair(a, b));
    this.pending.delete(Model.pair(b, a));
  }
}

describe('friends and blocks, against a model', () => {
  it('every outcome is the model’s; friendships mutual; no money past a block', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 30 }), async (ops) => {
        const { members, social, wallet } = platformOf();
        run++;
        const people: User[] = [];
        for (let i = 0; i < users; i++) {
          const phone = `137${(run * 10 + i).toString().padStart(8, '0')}`;
          people.push(await members.createUser({ phone, password: `pw-${phone}`, openingBalance: 100_00n }));
        }
        const id = (i: number) => (people[i] as User).userId;
        const model = new Model();
        let transfers = 0;
        const expectedBalances = people.map(() => 100_00n);
        for (const o of ops) {
          const expected = model.apply(o);
          const got = await (async () => {
            switch (o.kind) {
              case 'request':
                await social.friends.request(id(o.from), { toUserId: id(o.to) });
                break;
              case 'accept':
              case 'decline': {
                const open = await social.friends.requests(id(o.to), 'incoming');
                const request = open.find((r) => r.from.userId === id(o.from));
                if (!request) return 'request_not_found';
                await social.friends[o.kind](id(o.to), request.requestId);
                break;
              }
              case 'remove':
                await social.friends.remove(id(o.from), id(o.to));
                break;
              case 'block':
                await social.friends.block(id(o.from), id(o.to));
                break;
              case 'unblock':
                await social.friends.unblock(id(o.from), id(o.to));
                break;
              case 'transfer':
                await wallet.transfer(people[o.from] as User, `prop-${run}-${++transfers}`, {
                  toUserId: id(o.to),
                  amount: '0.01',
                });
                break;
            }
            return 'ok';
          })().catch((error: unknown) => {
            if (isSocialError(error) || isWalletError(error)) return error.code;
            throw error;
          });
          expect({ o, got }).toEqual({ o, got: expected });
          if (o.kind === 'transfer' && expected === 'ok') {
            expectedBalances[o.from] = (expectedBalances[o.from] ?? 0n) - 1n;
            expectedBalances[o.to] = (expectedBalances[o.to] ?? 0n) + 1n;
          }
        }
        for (let i = 0; i < users; i++) {
          const listed = (await social.friends.list(id(i))).map((f) => f.userId).sort();
          const modelled = [...Array(users).keys()]
            .filter((j) => model.friends.has(Model.pair(i, j)))
            .map(id)
            .sort();
          expect(listed).toEqual(modelled);
        }
        // Money moved exactly where the model let it: never past a block.
        expect(await Promise.all(people.map((u) => members.walletBalance(u.userId)))).toEqual(expectedBalances);
      }),
      { numRuns: 15 },
    );
    expect(await verifyLedger(platformOf().db)).toEqual([]);
  }, 120_000);
});
