/**
 * The native API under test: a platform on the test engine, the whole app from buildPlatformApp,
 * users logged in through the API, and a merchant whose trades they pay.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Clock } from '../../src/core/clock.ts';
import type { Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { freshPlatform } from '../support/engine.ts';

export interface ApiWorld {
  platform: Platform;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function apiWorld(options: { clock?: Clock } = {}): Promise<ApiWorld> {
  const platform = await freshPlatform(options);
  const app = await buildPlatformApp({ platform, publicUrl: () => 'http://127.0.0.1' });
  return {
    platform,
    app,
    async close() {
      await app.close();
      await platform.close();
    },
  };
}

export interface ApiUser {
  userId: string;
  phone: string;
  password: string;
  token: string;
  /** Injects a request carrying this user's bearer token. */
  call(options: InjectOptions): Promise<LightMyRequestResponse>;
}

let phones = 0;
/** A fresh phone for each user a test file creates (unique within one platform). */
export const nextPhone = (): string => `139${(10_000_000 + ++phones).toString().slice(-8)}`;

/** Registers a user with `yuan` in the wallet and logs in through POST /api/v1/sessions. */
export async function apiUser(world: ApiWorld, fen: bigint): Promise<ApiUser> {
  const phone = nextPhone();
  const password = `password-${phone}`;
  const { userId } = await world.platform.members.createUser({ phone, password, openingBalance: fen });
  const res = await world.app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { phone, password } });
  if (res.statusCode !== 201) throw new Error(`login failed: ${res.body}`);
  const token = res.json().token as string;
  return {
    userId,
    phone,
    password,
    token,
    call: (options) =>
      world.app.inject({ ...options, headers: { authorization: `Bearer ${token}`, ...options.headers } }),
  };
}

/** Logs `user` in again (the clock moved past the session's life); answers the user with the new token. */
export async function loginAgain(world: ApiWorld, user: ApiUser): Promise<ApiUser> {
  const res = await world.app.inject({
    method: 'POST',
    url: '/api/v1/sessions',
    payload: { phone: user.phone, password: user.password },
  });
  if (res.statusCode !== 201) throw new Error(`login failed: ${res.body}`);
  const token = res.json().token as string;
  return {
    ...user,
    token,
    call: (options) =>
      world.app.inject({ ...options, headers: { authorization: `Bearer ${token}`, ...options.headers } }),
  };
}

/** Makes `a` and `b` friends: a's request, b's acceptance; answers the request's id. */
export async function befriend(a: ApiUser, b: ApiUser): Promise<string> {
  const asked = await a.call({ method: 'POST', url: '/api/v1/friends/requests', payload: { to_user_id: b.userId } });
  expect(asked.statusCode, asked.body).toBe(201);
  const requestId = asked.json().request_id as string;
  const accepted = await b.call({ method: 'POST', url: `/api/v1/friends/requests/${requestId}/accept` });
  expect(accepted.statusCode, accepted.body).toBe(200);
  return requestId;
}

/** A group of `owner` and `members`, each made a friend of the owner first; answers its id. */
export async function groupOf(owner: ApiUser, members: readonly ApiUser[]): Promise<string> {
  for (const m of members) await befriend(owner, m);
  const res = await owner.call({
    method: 'POST',
    url: '/api/v1/groups',
    payload: { name: 'friends', member_ids: members.map((m) => m.userId) },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().group_id;
}

export async function balanceOf(user: ApiUser): Promise<string> {
  const res = await user.call({ method: 'GET', url: '/api/v1/balance' });
  if (res.statusCode !== 200) throw new Error(`balance failed: ${res.body}`);
  return res.json().available;
}

/** A merchant app, for trades that API users pay. */
export async function merchantApp(world: ApiWorld): Promise<string> {
  const { publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return (await world.platform.members.createApp({ name: 'Tea Shop', merchantPublicKeyPem: publicKey })).appId;
}

let trades = 0;
/** A trade of `amount` created by the app and paid by the buyer; answers its trade_no. */
export async function paidTrade(world: ApiWorld, appId: string, buyerId: string, amount: string): Promise<string> {
  const { trades: service } = world.platform;
  const trade = await service.create({ appId, outTradeNo: `api-${++trades}`, totalAmount: amount, subject: 'Tea' });
  await service.pay(appId, { tradeNo: trade.tradeNo }, buyerId);
  return trade.tradeNo;
}

/** The refusal is `status` with exactly `{type, code, message, param}`, of `code` (and `param`). */
export function expectError(res: LightMyRequestResponse, status: number, code: string, param?: string | null): void {
  expect({ status: res.statusCode, body: res.json() }).toMatchObject({ status, body: { code } });
  const body = res.json();
  expect(Object.keys(body).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof body.type).toBe('string');
  expect(typeof body.message).toBe('string');
  if (param !== undefined) expect(body.param).toBe(param);
}

export interface StaffLogin {
  token: string;
  /** Injects a request carrying this member of staff's bearer token. */
  call(options: InjectOptions): Promise<LightMyRequestResponse>;
}

/** Logs a merchant's member of staff in to the portal's API through both steps, the code read from the SMS outbox. */
export async function staffLogin(world: ApiWorld, phone: string, password: string): Promise<StaffLogin> {
  const sent = await world.app.inject({
    method: 'POST',
    url: '/api/v1/merchant/sessions/code',
    payload: { phone, password },
  });
  expect(sent.statusCode, sent.body).toBe(202);
  const [message] = await world.platform.members.smsOutbox({ phone, limit: 1 });
  const code = /(\d{6})/.exec(message?.text ?? '')?.[1] ?? '';
  const res = await world.app.inject({
    method: 'POST',
    url: '/api/v1/merchant/sessions',
    payload: { phone, password, sms_code: code },
  });
  expect(res.statusCode, res.body).toBe(201);
  const token = res.json().token as string;
  return {
    token,
    call: (options) =>
      world.app.inject({ ...options, headers: { authorization: `Bearer ${token}`, ...options.headers } }),
  };
}
