/**
 * The fund tests' world: a platform on a manual clock (Wednesday 2026-11-11, 08:00 Beijing), a
 * fund company with a filled pool and two products, and users with money in their wallets; the
 * ledger's and the fund's books verified after every test.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { Fund, type FundParties, verifyFundBooks } from '../../src/fund/index.ts';
import { type Ledger, type TransferInput, verifyLedger } from '../../src/ledger/index.ts';
import type { Platform } from '../../src/platform.ts';
import { freshPlatform } from '../support/engine.ts';

export interface FundWorld {
  platform: Platform;
  clock: ManualClock;
  users: string[];
}

/** Beijing wall time as a UTC instant in ms ("2026-11-11 14:59"). */
export function beijing(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}:00+08:00`);
}

/** Moves the manual clock to a Beijing wall time (never backwards). */
export function moveTo(clock: ManualClock, text: string): void {
  const ms = beijing(text) - Number(clock.nowNs() / 1_000_000n);
  if (ms < 0) throw new Error(`the clock does not go back to ${text}`);
  clock.advanceMs(ms);
}

export function useFundWorld(options: { users?: number; balance?: bigint; pool?: string } = {}): () => FundWorld {
  let world: FundWorld | undefined;
  beforeAll(async () => {
    const clock = new ManualClock(beijing('2026-11-11 08:00'));
    const platform = await freshPlatform({ clock });
    await platform.fund.catalog.createCompany({ code: 'TIANHONG', name: 'Tianhong Asset Management' });
    await platform.fund.catalog.createProduct({ code: 'YEB', companyCode: 'TIANHONG', name: 'Tianhong Yu e Bao' });
    await platform.fund.catalog.createProduct({ code: 'YEB2', companyCode: 'TIANHONG', name: 'Tianhong Money Plus' });
    await platform.fund.catalog.refillPool('TIANHONG', options.pool ?? '50000.00', 'initial');
    const users: string[] = [];
    for (let i = 0; i < (options.users ?? 3); i++) {
      const user = await platform.members.createUser({
        phone: `1380013${String(8000 + i)}`,
        password: 'correct horse 1',
        openingBalance: options.balance ?? 10_000_000n,
      });
      users.push(user.userId);
    }
    world = { platform, clock, users };
  });
  afterEach(async () => {
    if (!world) return;
    expect(await verifyLedger(world.platform.db)).toEqual([]);
    expect(await verifyFundBooks(world.platform.db)).toEqual([]);
  });
  afterAll(async () => {
    await world?.platform.close();
  });
  return () => {
    if (!world) throw new Error('the fund world exists once the file has started');
    return world;
  };
}

/**
 * The fund of a process that dies right after the ledger commits a submission `dies` picks,
 * before the fund records what it did: the submission's money moved, its caller hears an error.
 */
export function dyingFund(
  world: FundWorld,
  dies: (events: readonly TransferInput[]) => boolean,
  options: { distributionPageLines?: number } = {},
): Fund {
  const { platform, clock } = world;
  const ledger = new Proxy(platform.ledger, {
    get(target, prop, receiver) {
      if (prop === 'createTransfers')
        return async (...args: Parameters<Ledger['createTransfers']>) => {
          const results = await target.createTransfers(...args);
          if (dies(args[0])) throw new Error('process killed');
          return results;
        };
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const parties: FundParties = { walletOf: async (u) => (await platform.members.getMember(u)).walletAccountId };
  return new Fund(platform.db, ledger, parties, clock, options);
}
