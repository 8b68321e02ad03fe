/**
 * The credit score over the native API: `POST /api/v1/me/real-name` verifies a real name (the
 * same identity again is done; a bad number, a bad name, another identity, or one another
 * account holds are clear refusals that write nothing; no session is a 401), `GET
 * /api/v1/me/real-name` shows it masked, and `GET /api/v1/me/credit-score` is the online read
 * (N/A with too little data, with why) with the band, the reasons and the nightly history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { idCheckCharacter } from '../../src/credit/index.ts';
import {
  type ApiUser,
  type ApiWorld,
  apiUser,
  apiWorld,
  expectError,
  loginAgain,
  merchantApp,
  paidTrade,
} from './support.ts';

const clock = new ManualClock(Date.parse('2026-12-06T19:00:00Z'));
let world: ApiWorld;
let alice: ApiUser;
let bob: ApiUser;
const aliceId = `32010219850615123${idCheckCharacter('32010219850615123')}`;

const realNames = async () => (await world.platform.db.query('select user_id from credit_real_names')).length;

beforeAll(async () => {
  world = await apiWorld({ clock });
  alice = await apiUser(world, 20_000_00n);
  bob = await apiUser(world, 0n);
  const appId = await merchantApp(world);
  for (let i = 0; i < 4; i++) await paidTrade(world, appId, alice.userId, '12.50');
  clock.advanceMs(45 * 86_400_000);
  // Sessions last a day: log in again on the day the scores are read.
  alice = await loginAgain(world, alice);
  bob = await loginAgain(world, bob);
});

afterAll(async () => {
  await world.close();
});

describe('/api/v1/me/real-name', () => {
  it('verifies a real name once, shows it masked, and answers the same identity again as done', async () => {
    const before = await alice.call({ method: 'GET', url: '/api/v1/me/real-name' });
    expect(before.json()).toEqual({ verified: false, masked_name: null, verified_at: null });
    const res = await alice.call({
      method: 'POST',
      url: '/api/v1/me/real-name',
      payload: { name: '王小红', id_number: aliceId },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ verified: true, masked_name: '**红', verified_at: expect.any(String) });
    const again = await alice.call({
      method: 'POST',
      url: '/api/v1/me/real-name',
      payload: { name: '王小红', id_number: aliceId },
    });
    expect(again.json()).toEqual(res.json());
    expect((await alice.call({ method: 'GET', url: '/api/v1/me/real-name' })).json()).toEqual(res.json());
  });

  it('refuses bad input clearly, writing nothing', async () => {
    const count = await realNames();
    const post = (user: ApiUser, payload: Record<string, unknown>) =>
      user.call({ method: 'POST', url: '/api/v1/me/real-name', payload });
    const other = `32010219850615124${idCheckCharacter('32010219850615124')}`;
    const wrongCheck = aliceId.slice(0, 17) + (aliceId.endsWith('1') ? '2' : '1');
    expectError(await post(bob, { name: '李雷', id_number: wrongCheck }), 400, 'id_number_invalid', 'id_number');
    expectError(await post(bob, { name: '李雷', id_number: '12345' }), 400, 'id_number_invalid', 'id_number');
    expectError(await post(bob, { name: 'R2-D2', id_number: other }), 400, 'real_name_invalid', 'name');
    expectError(await post(bob, { name: '李雷' }), 400, 'parameter_missing');
    expectError(await post(bob, { name: '李雷', id_number: aliceId }), 409, 'id_number_taken', 'id_number');
    expectError(await post(alice, { name: '王小红', id_number: other }), 409, 'real_name_verified', 'id_number');
    const anonymous = await world.app.inject({
      method: 'POST',
      url: '/api/v1/me/real-name',
      payload: { name: '李雷', id_number: other },
    });
    expect(anonymous.statusCode).toBe(401);
    expect(await realNames()).toBe(count);
  });
});

describe('/api/v1/me/credit-score', () => {
  it('is N/A with too little data, and says why', async () => {
    const res = await bob.call({ method: 'GET', url: '/api/v1/me/credit-score' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ score: null, band: null, reasons: ['PAYMENTS_FEW'], history: [] });
  });

  it('is the online read, with band, reasons and the nightly history', async () => {
    const report = await world.platform.credit.run();
    const res = await alice.call({ method: 'GET', url: '/api/v1/me/credit-score' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const online = await world.platform.credit.score(alice.userId);
    expect(body).toMatchObject({
      score: online.score,
      band: online.band,
      reasons: online.reasons,
      history: [{ day: report.day, score: online.score }],
    });
    expect(body.score).toBeGreaterThanOrEqual(350);
    expect(body.reasons).not.toContain('REAL_NAME_MISSING');
    expect(Object.keys(body.points).sort()).toEqual(['ability', 'behaviour', 'history', 'identity', 'relationships']);
  });
});
