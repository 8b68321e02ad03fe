/**
 * Fault injection, set through the admin API (and the same settings the CLI flags and the JSON
 * configuration take): each kind does what it promises, and the same seed with the same requests
 * gives the same faults. The books balance after every test, faults or not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, noFaults, startBankSim } from '../../src/banksim/index.ts';
import { balanceOf, call, callbackReceiver, icbcCard2, orderNo, useBankSim, waitFor } from './support.ts';

const { url } = useBankSim();
let receiver: Awaited<ReturnType<typeof callbackReceiver>>;
beforeAll(async () => {
  receiver = await callbackReceiver();
});
afterAll(() => receiver.close());

async function setFaults(faults: Record<string, unknown>): Promise<Response> {
  return fetch(`${url()}/admin/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...noFaults, ...faults }),
  });
}

const payout = (no: string, amount = '1.00', timeoutMs?: number) =>
  call(
    url(),
    'POST',
    '/banks/ICBC/payouts',
    { order_no: no, card_no: icbcCard2, name: 'Li Si', amount },
    { timeoutMs },
  );

describe('fault injection', () => {
  it('adds latency', async () => {
    expect((await setFaults({ latencyMinMs: 300, latencyMaxMs: 300 })).status).toBe(200);
    const started = Date.now();
    expect((await payout(orderNo('L'))).json.status).toBe('SUCCESS');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await setFaults({});
  });

  it('answers 503 at the error rate, moving nothing', async () => {
    await setFaults({ errorRate: 1 });
    const before = await balanceOf(url(), 'ICBC', icbcCard2);
    const no = orderNo('E');
    const busy = await payout(no);
    expect(busy.status).toBe(503);
    expect(busy.json.code).toBe('SYSTEM_BUSY');
    await setFaults({});
    expect((await call(url(), 'GET', `/banks/ICBC/orders/${no}`)).status).toBe(404);
    expect(await balanceOf(url(), 'ICBC', icbcCard2)).toBe(before);
  });

  it('times out before the money moves: dropped or hung past the client timeout, the order is absent', async () => {
    const before = await balanceOf(url(), 'ICBC', icbcCard2);
    await setFaults({ timeoutBeforeRate: 1, timeoutMode: 'drop' });
    const dropped = orderNo('TB');
    await expect(payout(dropped)).rejects.toThrow();
    await setFaults({ timeoutBeforeRate: 1, timeoutMode: 'hang', hangMs: 2000 });
    const hung = orderNo('TB');
    await expect(payout(hung, '1.00', 300)).rejects.toThrow();
    await setFaults({});
    expect((await call(url(), 'GET', `/banks/ICBC/orders/${dropped}`)).json.code).toBe('ORDER_NOT_FOUND');
    expect((await call(url(), 'GET', `/banks/ICBC/orders/${hung}`)).json.code).toBe('ORDER_NOT_FOUND');
    expect(await balanceOf(url(), 'ICBC', icbcCard2)).toBe(before);
    // A retry without the fault goes through once.
    expect((await payout(dropped)).json.status).toBe('SUCCESS');
  });

  it('times out after the money moved: the client fails, yet the order is SUCCESS at query time', async () => {
    const before = await balanceOf(url(), 'ICBC', icbcCard2);
    await setFaults({ timeoutAfterRate: 1, timeoutMode: 'hang', hangMs: 2000 });
    const no = orderNo('TA');
    await expect(payout(no, '7.00', 300)).rejects.toThrow();
    await setFaults({ timeoutAfterRate: 1, timeoutMode: 'drop' });
    const dropped = orderNo('TA');
    await expect(payout(dropped, '1.00')).rejects.toThrow();
    await setFaults({});
    expect((await call(url(), 'GET', `/banks/ICBC/orders/${no}`)).json).toMatchObject({
      status: 'SUCCESS',
      amount: '7.00',
    });
    expect((await call(url(), 'GET', `/banks/ICBC/orders/${dropped}`)).json.status).toBe('SUCCESS');
    expect(await balanceOf(url(), 'ICBC', icbcCard2)).toBe((Number(before) + 8).toFixed(2));
    // The retry the platform would make answers the finished order and moves nothing more.
    expect((await payout(no, '7.00')).json.status).toBe('SUCCESS');
    expect(await balanceOf(url(), 'ICBC', icbcCard2)).toBe((Number(before) + 8).toFixed(2));
  });

  it('delivers a callback twice at the duplicate rate', async () => {
    await setFaults({ duplicateCallbackRate: 1 });
    const no = orderNo('DC');
    const paid = await call(url(), 'POST', '/banks/ICBC/payouts', {
      order_no: no,
      card_no: icbcCard2,
      name: 'Li Si',
      amount: '1.00',
      notify_url: receiver.url,
    });
    expect(paid.json.status).toBe('SUCCESS');
    await waitFor('two callbacks', () =>
      receiver.received.filter((r) => r.body.includes(no)).length === 2 ? true : undefined,
    );
    const bodies = receiver.received.filter((r) => r.body.includes(no)).map((r) => r.body);
    expect(bodies[0]).toBe(bodies[1]);
    await setFaults({});
  });

  it('puts discrepancies into statements: drops lines, changes amounts, flips statuses', async () => {
    const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
    const statement = async () =>
      (await call(url(), 'GET', `/banks/ICBC/statements/${today}`)).text.trim().split('\n').slice(1);
    // Earlier tests' orders may still settle in the background: compare each faulted statement
    // with an honest one read just before it.
    const honestNow = async () => {
      await setFaults({});
      return statement();
    };
    let honest = await honestNow();
    expect(honest.length).toBeGreaterThan(3);
    await setFaults({ statementDropRate: 1 });
    expect(await statement()).toEqual([]);
    honest = await honestNow();
    await setFaults({ statementAmountRate: 1 });
    const amounts = (await statement()).map((l) => l.split(',')[3]);
    expect(amounts).toEqual(honest.map((l) => (Number(l.split(',')[3]) + 0.01).toFixed(2)));
    honest = await honestNow();
    await setFaults({ statementStatusRate: 1 });
    const flip: Record<string, string> = { SUCCESS: 'FAILED', FAILED: 'SUCCESS', PROCESSING: 'PROCESSING' };
    expect((await statement()).map((l) => l.split(',')[4])).toEqual(honest.map((l) => flip[l.split(',')[4] ?? '']));
    honest = await honestNow();
    // A rate of one half drops each line by a seeded coin: the same seed drops the same lines
    // every time, and some seed among a few drops some but not all of a handful of lines.
    const drops: number[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      await setFaults({ statementDropRate: 0.5, seed });
      const half = await statement();
      expect(await statement()).toEqual(half);
      expect(honest).toEqual(expect.arrayContaining(half));
      drops.push(honest.length - half.length);
    }
    expect(drops.some((d) => d > 0 && d < honest.length)).toBe(true);
    honest = await honestNow();
    expect(await statement()).toEqual(honest);
  });

  it('refuses a bad fault setting', async () => {
    expect((await setFaults({ errorRate: 2 })).status).toBe(400);
    expect((await setFaults({ bogus: 1 })).status).toBe(400);
    expect(((await (await fetch(`${url()}/admin/faults`)).json()) as { errorRate: number }).errorRate).toBe(0);
  });

  it('meets the same faults with the same seed and the same requests', async () => {
    const outcomes = async (seed: number): Promise<number[]> => {
      const sim = await startBankSim({
        port: 0,
        config: { ...defaultConfig(), faults: { ...noFaults, seed, errorRate: 0.5 } },
      });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 16; i++) {
          const answer = await call(sim.url, 'POST', '/banks/ICBC/payouts', {
            order_no: `SEEDED${i}`,
            card_no: icbcCard2,
            name: 'Li Si',
            amount: '1.00',
          });
          statuses.push(answer.status);
        }
        return statuses;
      } finally {
        await sim.close();
      }
    };
    const first = await outcomes(42);
    expect(first).toContain(503);
    expect(first).toContain(200);
    expect(await outcomes(42)).toEqual(first);
    expect(await outcomes(43)).not.toEqual(first);
  });
});
