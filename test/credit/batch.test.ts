/**
 * The nightly batch and the online read agree: after a run, every user's stored score and
 * reasons are exactly what `score(userId)` computes (the same features statement, one id against
 * a chunk). Users with too little data are N/A in both. A run that crashed after a chunk goes on
 * from its last user id and scores each user once; a finished run is not done again; the next
 * day's run adds a history point and reads the friends' scores of the day before. Paid trades are
 * real payments through the trades module; escrow completion and lost disputes are written as
 * the escrow and dispute paths leave them (a fixture: those paths have their own tests).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { idCheckCharacter } from '../../src/credit/index.ts';
import { keyPair } from '../gateway/support.ts';
import { usePlatform } from '../support/engine.ts';

// 03:00 in Beijing: the nightly run is due.
const clock = new ManualClock(Date.parse('2026-12-06T19:00:00Z'));
const platform = usePlatform({ clock });
const users: string[] = [];
let appId = '';
let outTradeNos = 0;

async function pay(buyerId: string, amount: string): Promise<string> {
  const { trades } = platform();
  const trade = await trades.create({
    appId,
    outTradeNo: `credit-${++outTradeNos}`,
    totalAmount: amount,
    subject: 'Tea',
  });
  await trades.pay(appId, { tradeNo: trade.tradeNo }, buyerId);
  return trade.tradeNo;
}

async function allAgree(day: string): Promise<void> {
  const { credit } = platform();
  for (const userId of users) {
    const online = await credit.score(userId);
    const stored = await credit.scoredOn(userId, day);
    expect({ userId, score: stored?.score, reasons: stored?.reasons }).toEqual({
      userId,
      score: online.score,
      reasons: online.reasons,
    });
  }
}

beforeAll(async () => {
  const { members, credit, social, db } = platform();
  appId = (await members.createApp({ name: 'Tea Shop', merchantPublicKeyPem: keyPair().publicKeyPem })).appId;
  for (let i = 0; i < 13; i++) {
    const { userId } = await members.createUser({
      phone: `1380000${String(i).padStart(4, '0')}`,
      password: 'pass word 1',
      openingBalance: BigInt(i) * 1_000_00n,
    });
    users.push(userId);
  }
  // Users 0 and 1 pay too little for a score; the others pay i times.
  for (const [i, userId] of users.entries()) {
    for (let n = 0; n < i; n++) await pay(userId, '1.00');
  }
  // Escrow trades completed (users 5–8), a dispute lost by user 6.
  for (const userId of users.slice(5, 9)) {
    await db.query(
      `update trades set escrow = true, status = 'TRADE_FINISHED', released_at = paid_at
        where buyer_id = $1`,
      [userId],
    );
  }
  const lostOn = (
    await db.query<{ trade_no: string }>('select trade_no from trades where buyer_id = $1 limit 1', [users[6]])
  )[0];
  await db.query(
    `insert into disputes (dispute_no, trade_no, app_id, buyer_id, seller_id, claim_fen, reason, status, created_at)
     select 'D-credit-1', t.trade_no, t.app_id, t.buyer_id, t.seller_id, 100, 'not received', 'RULED_FOR_SELLER', t.paid_at
       from trades t where t.trade_no = $1`,
    [lostOn?.trade_no],
  );
  for (const [i, userId] of users.slice(7).entries()) {
    const first17 = `11010519900101${100 + i}`;
    await credit.realNames.verify(userId, { name: '张三', idNumber: first17 + idCheckCharacter(first17) });
  }
  const [u9, u10, u11] = [users[9] ?? '', users[10] ?? '', users[11] ?? ''];
  for (const [a, b] of [
    [u9, u10],
    [u9, u11],
  ] as const) {
    const request = await social.friends.request(a, { toUserId: b });
    await social.friends.accept(b, request.requestId);
  }
  clock.advanceMs(40 * 86_400_000);
});

describe('the nightly batch and the online read', () => {
  it('agree for every user after a run, N/A included; merchants are not scored', async () => {
    const { credit } = platform();
    const progress: number[] = [];
    const report = await credit.run({ chunkUsers: 5, onProgress: (done) => progress.push(done) });
    expect(report).toMatchObject({ users: users.length, alreadyDone: false });
    expect(progress).toEqual([5, 10, 13]);
    await allAgree(report.day);
    expect((await credit.score(users[0] ?? '')).score).toBeNull();
    expect((await credit.score(users[1] ?? '')).reasons).toEqual(['PAYMENTS_FEW']);
    const scores = await Promise.all(users.slice(3).map(async (u) => (await credit.score(u)).score));
    for (const s of scores) expect(s).toBeGreaterThanOrEqual(350);
    // More paid, more held, escrow done and a verified name: user 12 scores above user 3.
    expect(scores.at(-1)).toBeGreaterThan(scores[0] ?? 0);
    // The dispute user 6 lost costs them against user 5's record.
    expect((await credit.scoredOn(users[6] ?? '', report.day))?.reasons).toContain('DISPUTES_LOST');
    expect(await credit.run()).toMatchObject({ users: 0, alreadyDone: true });
  });

  it('goes on after a crash from the last chunk committed, and scores everyone once', async () => {
    const { credit, db } = platform();
    clock.advanceMs(86_400_000);
    const crash = new Error('crashed after the first chunk');
    const failed = await credit
      .run({
        chunkUsers: 4,
        onProgress: () => {
          throw crash;
        },
      })
      .catch((e: unknown) => e);
    expect(failed).toBe(crash);
    const [run] = await db.query<{ users_done: bigint; last_user_id: string; finished_at: Date | null }>(
      'select users_done, last_user_id, finished_at from credit_runs order by day desc limit 1',
    );
    expect(run).toMatchObject({ users_done: 4n, last_user_id: [...users].sort()[3], finished_at: null });
    const resumed = await credit.run({ chunkUsers: 4 });
    expect(resumed.users).toBe(users.length - 4);
    await allAgree(resumed.day);
    const history = await credit.history(users[12] ?? '');
    expect(history.map((h) => h.day)).toEqual([
      (await db.query<{ day: string }>('select min(day) as day from credit_runs'))[0]?.day,
      resumed.day,
    ]);
    // Friends' scores come from the day before: user 9's relationships are no longer neutral.
    const u9 = await credit.score(users[9] ?? '');
    expect(u9.points.relationships).not.toBe(0);
  });

  it('reads one user’s score from the same statement whatever the chunk around it', async () => {
    const { credit } = platform();
    const report = await credit.run({ restart: true, chunkUsers: 1 });
    expect(report.users).toBe(users.length);
    await allAgree(report.day);
  });
});
