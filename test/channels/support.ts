/**
 * The channels under test: the bank simulator listening on its own port (in this process, with
 * its own database, reached only over HTTP), and a platform whose HTTP server listens too, so
 * the bank's callbacks and the browser's returns arrive over the network as in production.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import {
  type BankSimConfig,
  defaultConfig,
  noFaults,
  type RunningBankSim,
  startBankSim,
  verifyBooks,
} from '../../src/banksim/index.ts';
import { type ChannelBankConfig, defaultChannelBanks } from '../../src/channels/index.ts';
import type { Clock } from '../../src/core/clock.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { openPlatform, type Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { databaseUrl, freshSchema } from '../support/engine.ts';

export const operatorToken = 'op-token-for-tests';
export const regulatorToken = 'regulator-token-for-tests';

/** The default ICBC customers (docs/bank-sim.md): card, name, phone; card password 123456. */
export const zhang = { cardNo: '6222020000000001', name: 'Zhang San', phone: '13800000001' };
export const li = { cardNo: '6222020000000002', name: 'Li Si', phone: '13800000002' };
export const wang = { cardNo: '6222020000000003', name: 'Wang Wu', phone: '13800000003' };

export interface World {
  sim: RunningBankSim;
  platform: Platform;
  app: FastifyInstance;
  /** Where the platform listens. */
  base: string;
  /** How to open another platform on the same database and banks (a second server process). */
  platformOptions: Parameters<typeof openPlatform>[0];
  /**
   * Runs `fn` with the platform's public URL pointing nowhere (`http://127.0.0.1:9`), so that the
   * bank's callbacks for orders sent meanwhile are lost and only a query can confirm them.
   */
  losingCallbacks<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface WorldOptions {
  sim?: BankSimConfig;
  /** The simulator's clock (to expire unpaid gateway orders without waiting 30 minutes). */
  simClock?: Clock;
  requestTimeoutMs?: number;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const sim = await startBankSim({ port: 0, config: options.sim ?? defaultConfig(), clock: options.simClock });
  const banks: ChannelBankConfig[] = defaultChannelBanks(sim.url).map((b) => ({
    ...b,
    requestTimeoutMs: options.requestTimeoutMs ?? 3_000,
  }));
  let base = '';
  let losing = false;
  // The platform's public URL is where this world's server listens, known once it does.
  const publicUrl = () => (losing ? 'http://127.0.0.1:9' : base);
  const platformOptions = { databaseUrl, databaseSchema: freshSchema(), channelBanks: banks, publicUrl };
  const platform = await openPlatform(platformOptions);
  const app = await buildPlatformApp({ platform, publicUrl: () => base, operatorToken, regulatorToken });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    sim,
    platform,
    app,
    base,
    platformOptions,
    async losingCallbacks(fn) {
      losing = true;
      try {
        return await fn();
      } finally {
        losing = false;
      }
    },
    async close() {
      // The bank first: no callback can arrive while the platform closes.
      await sim.close();
      await app.close();
      await platform.close();
    },
  };
}

/** One world per test file; after every test the platform's ledger and the bank's books balance. */
export function useWorld(options: WorldOptions = {}): () => World {
  let world: World | undefined;
  beforeAll(async () => {
    world = await startWorld(options);
  });
  afterEach(async () => {
    if (!world) return;
    expect(await verifyLedger(world.platform.db)).toEqual([]);
    expect((await verifyBooks(world.sim.db)).problems).toEqual([]);
  });
  afterAll(async () => {
    await world?.close();
  });
  return () => {
    if (!world) throw new Error('useWorld: the world starts in beforeAll');
    return world;
  };
}

export async function setFaults(world: World, faults: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${world.sim.url}/admin/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...noFaults, ...faults }),
  });
  if (response.status !== 200) throw new Error(`faults: ${await response.text()}`);
}

let phones = 0;
/** A user with `fen` in the wallet. */
export async function newUser(world: World, fen = 0n): Promise<{ userId: string; phone: string; password: string }> {
  const phone = `137${(10_000_000 + ++phones + Math.floor(Math.random() * 1000) * 1000).toString().slice(-8)}`;
  const password = `password-${phone}`;
  const { userId } = await world.platform.members.createUser({ phone, password, openingBalance: fen });
  return { userId, phone, password };
}

export async function balance(world: World, userId: string): Promise<bigint> {
  return world.platform.members.walletBalance(userId);
}

/** A customer's balance at the bank, in yuan, from the simulator's admin API. */
export async function bankBalance(world: World, bank: string, accountNo: string): Promise<string | undefined> {
  const { banks } = (await (await fetch(`${world.sim.url}/admin/banks`)).json()) as {
    banks: { code: string; accounts: { account_no: string; balance: string }[] }[];
  };
  return banks.find((b) => b.code === bank)?.accounts.find((a) => a.account_no === accountNo)?.balance;
}

/** The newest SMS code the bank texted to a phone. */
export async function smsCode(world: World, phone: string): Promise<string> {
  const { messages } = (await (await fetch(`${world.sim.url}/admin/sms?phone=${phone}`)).json()) as {
    messages: { code: string }[];
  };
  const code = messages[0]?.code;
  if (!code) throw new Error(`no SMS to ${phone}`);
  return code;
}

/** Binds a card through the service, confirming with the SMS code from the bank's outbox. */
export async function bindCard(
  world: World,
  userId: string,
  card: { cardNo: string; name: string; phone: string },
  bank = 'ICBC',
): Promise<string> {
  const pending = await world.platform.channels.cards.bind(userId, { bank, ...card });
  const active = await world.platform.channels.cards.confirm(userId, pending.cardId, await smsCode(world, card.phone));
  expect(active.status).toBe('ACTIVE');
  return active.cardId;
}

/** The customer pays a gateway order on the bank's page (form POST); answers where the bank redirects. */
export async function payOnPage(payUrl: string, cardNo: string, password = '123456'): Promise<string | null> {
  const response = await fetch(payUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ card_no: cardNo, password }).toString(),
    redirect: 'manual',
  });
  await response.text();
  return response.headers.get('location');
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let keys = 0;
export const key = (prefix = 'k') => `${prefix}-${Date.now()}-${++keys}`;
