/**
 * A bank that answers slowly trips its circuit breaker and the other banks keep serving: ICBC is
 * reached at one bank simulator whose faults add latency to every request, CMB at another
 * without faults. Once enough of ICBC's calls were slow, its breaker opens: a quick-pay top-up
 * on an ICBC card is refused at once (`bank_unavailable`), writing nothing and moving nothing,
 * and a call that is not made answers `refused` with `CIRCUIT_OPEN`, never `unknown`; CMB's
 * top-ups go on. When ICBC is quick again, the breaker lets a probe through after its open
 * time and closes. Money moves once and the books balance on both sides.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, noFaults, type RunningBankSim, startBankSim, verifyBooks } from '../../src/banksim/index.ts';
import { defaultChannelBanks, isChannelError } from '../../src/channels/index.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { openPlatform, type Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { databaseUrl, freshSchema } from '../support/engine.ts';
import { key } from './support.ts';

const slowMs = 300;
const openMs = 1_500;
let slowSim: RunningBankSim;
let quickSim: RunningBankSim;
let platform: Platform;
let app: FastifyInstance;

beforeAll(async () => {
  slowSim = await startBankSim({ port: 0, config: defaultConfig() });
  quickSim = await startBankSim({ port: 0, config: defaultConfig() });
  // ICBC at the simulator that will be slow, CMB at the one that stays quick.
  const banks = [
    ...defaultChannelBanks(slowSim.url).filter((b) => b.code === 'ICBC'),
    ...defaultChannelBanks(quickSim.url).filter((b) => b.code === 'CMB'),
  ];
  let base = '';
  platform = await openPlatform({
    databaseUrl,
    databaseSchema: freshSchema(),
    channelBanks: banks,
    publicUrl: () => base,
    channelBreakers: { slowCallMs: slowMs / 2, callsMin: 3, openMs, probesMax: 1 },
  });
  app = await buildPlatformApp({ platform, publicUrl: () => base });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  for (const sim of [slowSim, quickSim]) if (sim) expect((await verifyBooks(sim.db)).problems).toEqual([]);
  if (platform) expect(await verifyLedger(platform.db)).toEqual([]);
  // The banks first: no callback can arrive while the platform closes.
  await slowSim?.close();
  await quickSim?.close();
  await app?.close();
  await platform?.close();
});

async function setFaults(sim: RunningBankSim, faults: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${sim.url}/admin/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...noFaults, ...faults }),
  });
  expect(response.status).toBe(200);
}

const zhang = { name: 'Zhang San', phone: '13800000001' };
const li = { name: 'Li Si', phone: '13800000002' };

/** A user with an active card at `bank` (a customer of the simulator's), bound by SMS code. */
async function userWithCard(sim: RunningBankSim, bank: string, cardNo: string, phone: string, holder = zhang) {
  const { userId } = await platform.members.createUser({ phone, password: `password-${phone}` });
  const pending = await platform.channels.cards.bind(userId, { bank, cardNo, ...holder });
  const { messages } = (await (await fetch(`${sim.url}/admin/sms?phone=${holder.phone}`)).json()) as {
    messages: { code: string }[];
  };
  const card = await platform.channels.cards.confirm(userId, pending.cardId, messages[0]?.code ?? '');
  expect(card.status).toBe('ACTIVE');
  return { userId, cardId: card.cardId };
}

const orderCount = async () =>
  Number((await platform.db.query<{ n: string }>('select count(*)::text as n from channel_orders'))[0]?.n);

describe('a circuit breaker per bank', () => {
  it('opens on a slow bank, refuses it at once without writing, keeps the other banks serving, and closes after a good probe', async () => {
    const icbc = await userWithCard(slowSim, 'ICBC', '6222020000000001', '13711110001');
    const cmb = await userWithCard(quickSim, 'CMB', '6225880000000001', '13711110002');
    const topUp = (user: { userId: string; cardId: string }, amount = '10.00') =>
      platform.channels.topUpByCard(user.userId, { cardId: user.cardId, amount, idempotencyKey: key('breaker') });

    await setFaults(slowSim, { latencyMinMs: slowMs, latencyMaxMs: slowMs });
    // Slow answers are still answers: both top-ups succeed. The second makes the slow calls half
    // of the window's four (with the binding's two quick ones), and the breaker opens.
    expect(await topUp(icbc)).toMatchObject({ bank: 'ICBC', status: 'SUCCESS' });
    expect(platform.channels.breakerStates().get('ICBC')).toBe('closed');
    expect(await topUp(icbc)).toMatchObject({ bank: 'ICBC', status: 'SUCCESS' });
    expect(platform.channels.breakerStates().get('ICBC')).toBe('open');

    // Refused at once, before any order is written or any money held or moved.
    const orders = await orderCount();
    const before = await platform.members.walletBalance(icbc.userId);
    const started = performance.now();
    await expect(topUp(icbc)).rejects.toSatisfy((e) => isChannelError(e, 'bank_unavailable'));
    expect(performance.now() - started).toBeLessThan(slowMs);
    expect(await orderCount()).toBe(orders);
    expect(await platform.members.walletBalance(icbc.userId)).toBe(before);
    // A call the breaker does not let through is a clear refusal, never an unknown outcome.
    expect(await platform.channels.adapter('ICBC').query('NO-SUCH-ORDER')).toMatchObject({
      kind: 'refused',
      code: 'CIRCUIT_OPEN',
    });

    // The other bank keeps serving, its breaker closed.
    for (let i = 0; i < 3; i++) expect(await topUp(cmb)).toMatchObject({ bank: 'CMB', status: 'SUCCESS' });
    expect(platform.channels.breakerStates().get('CMB')).toBe('closed');
    expect(await platform.members.walletBalance(cmb.userId)).toBe(3_000n);

    // ICBC answers quickly again: after the open time one probe goes through, and it closes.
    await setFaults(slowSim, {});
    await new Promise((r) => setTimeout(r, openMs));
    expect(platform.channels.breakerStates().get('ICBC')).toBe('half_open');
    expect(await topUp(icbc)).toMatchObject({ bank: 'ICBC', status: 'SUCCESS' });
    expect(platform.channels.breakerStates().get('ICBC')).toBe('closed');
    expect(await platform.members.walletBalance(icbc.userId)).toBe(3_000n);
  });

  it('never fails an order on a call it did not make: an unanswered order stays open while the breaker is open', async () => {
    const icbc = await userWithCard(slowSim, 'ICBC', '6222020000000002', '13711110003', li);
    const topUp = () =>
      platform.channels.topUpByCard(icbc.userId, { cardId: icbc.cardId, amount: '5.00', idempotencyKey: key('b') });
    // Withholdings the bank never gets nor answers: two unknown outcomes of four calls (with the
    // binding's two) open the breaker, and the next top-up is refused before it is written.
    await setFaults(slowSim, { timeoutMode: 'drop', timeoutBeforeRate: 1 });
    const orders = [await topUp(), await topUp()];
    expect(orders.map((o) => o.status)).toEqual(['UNKNOWN', 'UNKNOWN']);
    expect(platform.channels.breakerStates().get('ICBC')).toBe('open');
    await expect(topUp()).rejects.toSatisfy((e) => isChannelError(e, 'bank_unavailable'));
    await setFaults(slowSim, {});
    // Asking the bank is refused by the breaker: the order stays UNKNOWN (not FAILED), nothing moves.
    for (const order of orders)
      expect(await platform.channels.resolve(order.orderNo, { waits: [] })).toMatchObject({ status: 'UNKNOWN' });
    expect(await platform.members.walletBalance(icbc.userId)).toBe(0n);
    // After the open time a probe asks the bank, which never got the order: it is sent again and paid.
    await new Promise((r) => setTimeout(r, openMs));
    for (const order of orders)
      expect(await platform.channels.resolve(order.orderNo)).toMatchObject({ status: 'SUCCESS' });
    expect(platform.channels.breakerStates().get('ICBC')).toBe('closed');
    expect(await platform.members.walletBalance(icbc.userId)).toBe(1_000n);
  });
});
