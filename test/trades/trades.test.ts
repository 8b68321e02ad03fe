/**
 * Trades on the ledger: the lifecycle create → pay → refund/close, idempotency by out_trade_no
 * and out_request_no, money moving exactly once under concurrency, app isolation, bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { derivedId, id } from '../../src/core/ids.ts';
import { cnyLedger } from '../../src/core/ledger-codes.ts';
import { AccountFlags, verifyLedger } from '../../src/ledger/index.ts';
import type { Platform } from '../../src/platform.ts';
import { TradeError, type TradeParties, Trades, verifyTradePayments } from '../../src/trades/index.ts';
import { freshPlatform } from '../support/engine.ts';

const clock = new ManualClock();
let platform: Platform;
let trades: Trades;
const wallets = new Map<string, bigint>();
const funding = id();
const parties: TradeParties = {
  sellerOf: async (appId) => {
    const accountId = wallets.get(`seller:${appId}`);
    return accountId ? { sellerId: `2088${appId.slice(-12)}`, accountId } : null;
  },
  buyer: async (userId) => {
    const accountId = wallets.get(userId);
    return accountId ? { userId, accountId } : null;
  },
};

async function wallet(name: string, balanceFen = 0n): Promise<bigint> {
  const accountId = id();
  const results = await platform.ledger.createAccounts([
    { id: accountId, ledger: cnyLedger, code: 1, flags: AccountFlags.debitsMustNotExceedCredits },
  ]);
  expect(results).toEqual(['ok']);
  if (balanceFen > 0n) {
    const [r] = await platform.ledger.createTransfers([
      { id: id(), debitAccountId: funding, creditAccountId: accountId, amount: balanceFen, ledger: cnyLedger, code: 1 },
    ]);
    expect(r).toBe('ok');
  }
  wallets.set(name, accountId);
  return accountId;
}

async function balance(accountId: bigint): Promise<bigint> {
  const [a] = await platform.ledger.lookupAccounts([accountId]);
  return (a?.creditsPosted ?? 0n) - (a?.debitsPosted ?? 0n);
}

async function rejects(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TradeError);
  expect((error as TradeError).code).toBe(code);
}

let n = 0;
const outTradeNo = () => `order-${Date.now()}-${++n}`;

beforeAll(async () => {
  platform = await freshPlatform({ clock });
  await platform.ledger.createAccounts([{ id: funding, ledger: cnyLedger, code: 100 }]);
  trades = new Trades(platform.db, platform.ledger, parties, clock);
  await wallet('seller:2021000000000001');
  await wallet('seller:2021000000000002');
});

afterAll(async () => {
  expect(await verifyLedger(platform.db)).toEqual([]);
  await platform.close();
});

describe('trades', () => {
  const app = '2021000000000001';
  const otherApp = '2021000000000002';

  it('creates a trade once per out_trade_no and refuses the same number with other terms', async () => {
    const no = outTradeNo();
    const a = await trades.create({ appId: app, outTradeNo: no, totalAmount: '88.88', subject: 'tea' });
    expect(a.status).toBe('WAIT_BUYER_PAY');
    expect(a.tradeNo).toMatch(/^\d{8}22\d{18}$/);
    const b = await trades.create({ appId: app, outTradeNo: no, totalAmount: '88.88', subject: 'tea' });
    expect(b.tradeNo).toBe(a.tradeNo);
    await rejects(
      trades.create({ appId: app, outTradeNo: no, totalAmount: '88.89', subject: 'tea' }),
      'CONTEXT_INCONSISTENT',
    );
  });

  it('pays from the wallet, moves the money once, and reports TRADE_HAS_SUCCESS after', async () => {
    const buyer = await wallet('buyer-1', 10_000n);
    const seller = wallets.get(`seller:${app}`) as bigint;
    const before = await balance(seller);
    const t = await trades.create({ appId: app, outTradeNo: outTradeNo(), totalAmount: '12.34', subject: 'book' });
    const paid = await trades.pay(app, { tradeNo: t.tradeNo }, 'buyer-1');
    expect(paid.status).toBe('TRADE_SUCCESS');
    expect(paid.buyerId).toBe('buyer-1');
    expect(await balance(buyer)).toBe(10_000n - 1234n);
    expect(await balance(seller)).toBe(before + 1234n);
    await rejects(trades.pay(app, { tradeNo: t.tradeNo }, 'buyer-1'), 'TRADE_HAS_SUCCESS');
    const notes = await platform.db.query<{ event: string }>(
      'select event from trade_notifications where trade_no = $1',
      [t.tradeNo],
    );
    expect(notes.map((x) => x.event)).toEqual(['TRADE_SUCCESS']);
  });

  it('moves money once when the same trade is paid twice at once', async () => {
    const buyer = await wallet('buyer-2', 10_000n);
    const t = await trades.create({ appId: app, outTradeNo: outTradeNo(), totalAmount: '30.00', subject: 'x' });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, () => trades.pay(app, { outTradeNo: t.outTradeNo }, 'buyer-2')),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(await balance(buyer)).toBe(7_000n);
    expect((await trades.query(app, { tradeNo: t.tradeNo })).status).toBe('TRADE_SUCCESS');
  });

  it('answers many payments at once each with its own trade, recording every step once', async () => {
    // Concurrent payments share statements (TradeWrites); each must still be its own.
    const buyer = await wallet('buyer-many', 100_000n);
    const seller = wallets.get(`seller:${app}`) as bigint;
    const sellerBefore = await balance(seller);
    const nos = Array.from({ length: 30 }, () => outTradeNo());
    const created = await Promise.all(
      nos.map((no, i) => trades.create({ appId: app, outTradeNo: no, totalAmount: `${i + 1}.00`, subject: `s${i}` })),
    );
    // Every other trade paid twice at once, and ten more created and paid in one call.
    const extra = Array.from({ length: 10 }, () => outTradeNo());
    const outcomes = await Promise.allSettled([
      ...created.flatMap((t, i) =>
        Array.from({ length: i % 2 === 0 ? 2 : 1 }, () => trades.pay(app, { outTradeNo: t.outTradeNo }, 'buyer-many')),
      ),
      ...extra.map((no) =>
        trades.createAndPay({ appId: app, outTradeNo: no, totalAmount: '1.00', subject: 'extra' }, 'buyer-many'),
      ),
    ]);
    const paid = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    expect(paid).toHaveLength(40);
    expect(new Set(paid.map((t) => t.tradeNo)).size).toBe(40);
    for (const [i, t] of created.entries()) {
      const mine = paid.find((p) => p.tradeNo === t.tradeNo);
      expect(mine).toMatchObject({ status: 'TRADE_SUCCESS', totalAmount: `${i + 1}.00`, subject: `s${i}` });
    }
    const spent = 465_00n + 10_00n; // 1 + 2 + … + 30 yuan, and ten of 1 yuan
    expect(await balance(buyer)).toBe(100_000n - spent);
    expect(await balance(seller)).toBe(sellerBefore + spent);
    const tradeNos = paid.map((t) => t.tradeNo);
    const steps = await platform.db.query<{ trade_no: string; n: string }>(
      `select trade_no, count(*)::text as n from trade_transitions where trade_no = any($1::text[]) group by trade_no`,
      [tradeNos],
    );
    expect(steps.map((s) => s.n)).toEqual(tradeNos.map(() => '2')); // → PAYING, → TRADE_SUCCESS
    const notes = await platform.db.query<{ n: string }>(
      'select count(*)::text as n from trade_notifications where trade_no = any($1::text[])',
      [tradeNos],
    );
    expect(notes[0]?.n).toBe('40');
  });

  it('creates one trade when the same out_trade_no arrives several times at once', async () => {
    const no = outTradeNo();
    const same = { appId: app, outTradeNo: no, totalAmount: '7.00', subject: 'same' };
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 5 }, () => trades.create(same)),
      trades.create({ ...same, totalAmount: '7.01' }),
    ]);
    const made = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as TradeError] : []));
    if (made.length === 6) throw new Error('the other terms were accepted');
    expect(new Set(made.map((t) => t.tradeNo)).size).toBe(1);
    // The other terms are refused, unless they came first, in which case the five are.
    expect(refused.every((e) => e.code === 'CONTEXT_INCONSISTENT')).toBe(true);
    expect([1, 5]).toContain(refused.length);
  });

  it('refuses a payment the balance cannot cover and leaves the trade waiting', async () => {
    const buyer = await wallet('buyer-3', 500n);
    const t = await trades.create({ appId: app, outTradeNo: outTradeNo(), totalAmount: '5.01', subject: 'x' });
    await rejects(trades.pay(app, { tradeNo: t.tradeNo }, 'buyer-3'), 'BUYER_BALANCE_NOT_ENOUGH');
    expect(await balance(buyer)).toBe(500n);
    expect((await trades.query(app, { tradeNo: t.tradeNo })).status).toBe('WAIT_BUYER_PAY');
  });

  it('refunds in parts, idempotently by out_request_no, never beyond the total, and closes when full', async () => {
    const buyer = await wallet('buyer-4', 10_000n);
    const t = await trades.create({ appId: app, outTradeNo: outTradeNo(), totalAmount: '10.00', subject: 'x' });
    await trades.pay(app, { tradeNo: t.tradeNo }, 'buyer-4');
    const r1 = await trades.refund(app, { tradeNo: t.tradeNo }, { refundAmount: '3.00', outRequestNo: 'r1' });
    expect(r1).toMatchObject({ status: 'SUCCESS', fundChange: true, refundedTotal: '3.00' });
    const again = await trades.refund(app, { tradeNo: t.tradeNo }, { refundAmount: '3.00', outRequestNo: 'r1' });
    expect(again).toMatchObject({ status: 'SUCCESS', fundChange: false, refundedTotal: '3.00' });
    await rejects(
      trades.refund(app, { tradeNo: t.tradeNo }, { refundAmount: '7.01', outRequestNo: 'r2' }),
      'REFUND_AMT_NOT_EQUAL_TOTAL',
    );
    await trades.refund(app, { tradeNo: t.tradeNo }, { refundAmount: '7.00', outRequestNo: 'r3' });
    expect(await balance(buyer)).toBe(10_000n);
    const closed = await trades.query(app, { tradeNo: t.tradeNo });
    expect(closed).toMatchObject({ status: 'TRADE_CLOSED', refundedAmount: '10.00' });
    expect((await trades.refundQuery(app, { tradeNo: t.tradeNo }, 'r1'))?.refundAmount).toBe('3.00');
  });

  it('never refunds more than was paid under concurrent refunds', async () => {
    const buyer = await wallet('buyer-5', 10_000n);
    const t = await trades.create({ appId: app, outTradeNo: outTradeNo(), totalAmount: '10.00', subject: 'x' });
    await trades.pay(app, { tradeNo: t.tradeNo }, 'buyer-5');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        trades.refund(app, { tradeNo: t.tradeNo }, { refundAmount: '3.00', outRequestNo: `c${i}` }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    expect(await balance(buyer)).toBe(9_900n);
    expect((await trades.query(app, { tradeNo: t.tradeNo })).refundedAmount).toBe('9.00');
  });

  it('closes unpaid trades on request and at their timeout, and refuses to close a paid one', async () => {
    await wallet('buyer-6', 10_000n);
    const a = await trades.create({ appId: app, outTradeNo: outTradeNo(), totalAmount: '1.00', subject: 'x' });
    expect((await trades.close(app, { tradeNo: a.tradeNo })).status).toBe('TRADE_CLOSED');
    await rejects(trades.pay(app, { tradeNo: a.tradeNo }, 'buyer-6'), 'TRADE_HAS_CLOSE');
    const b = await trades.create({
      appId: app,
      outTradeNo: outTradeNo(),
      totalAmount: '1.00',
      subject: 'x',
      timeoutExpress: '5m',
    });
    clock.advanceMs(5 * 60_000 + 1);
    expect(await trades.sweep()).toBeGreaterThanOrEqual(1);
    expect((await trades.query(app, { tradeNo: b.tradeNo })).status).toBe('TRADE_CLOSED');
    const c = await trades.create({ appId: app, outTradeNo: outTradeNo(), totalAmount: '1.00', subject: 'x' });
    await trades.pay(app, { tradeNo: c.tradeNo }, 'buyer-6');
    await rejects(trades.close(app, { tradeNo: c.tradeNo }), 'TRADE_STATUS_ERROR');
    const cancelled = await trades.cancel(app, { tradeNo: c.tradeNo });
    expect(cancelled).toMatchObject({ action: 'refund', trade: { status: 'TRADE_CLOSED' } });
  });

  it("keeps one app's trades from another app", async () => {
    await wallet('buyer-7', 10_000n);
    const t = await trades.create({ appId: app, outTradeNo: outTradeNo(), totalAmount: '2.00', subject: 'x' });
    await trades.pay(app, { tradeNo: t.tradeNo }, 'buyer-7');
    await rejects(trades.query(otherApp, { tradeNo: t.tradeNo }), 'TRADE_NOT_EXIST');
    await rejects(trades.query(otherApp, { outTradeNo: t.outTradeNo }), 'TRADE_NOT_EXIST');
    await rejects(trades.refund(otherApp, { tradeNo: t.tradeNo }, { refundAmount: '1.00' }), 'TRADE_NOT_EXIST');
  });

  it.each(['1e3', '-1', '0.001', '0', '0.00', '100000000.01', '99999999999999999999', ' 1', '１', ''])(
    'refuses the amount %j and writes nothing',
    async (amount) => {
      const [{ count }] = (await platform.db.query<{ count: bigint }>('select count(*) as count from trades')) as [
        { count: bigint },
      ];
      await rejects(
        trades.create({ appId: app, outTradeNo: outTradeNo(), totalAmount: amount, subject: 'x' }),
        'INVALID_PARAMETER',
      );
      const [after] = await platform.db.query<{ count: bigint }>('select count(*) as count from trades');
      expect(after?.count).toBe(count);
    },
  );
});

describe('the trades against the ledger (verifyTradePayments)', () => {
  const app = '2021000000000003';

  it('finds every paid trade with its payment, and names a paid trade without one and money moved for an unpaid one', async () => {
    const seller = await wallet(`seller:${app}`);
    const buyer = await wallet('buyer-verify', 10_000n);
    const paid = await trades.create({ appId: app, outTradeNo: outTradeNo(), totalAmount: '1.00', subject: 'x' });
    await trades.pay(app, { tradeNo: paid.tradeNo }, 'buyer-verify');
    // Refunded in full: closed, and still a paid trade whose payment moved.
    const refunded = await trades.create({ appId: app, outTradeNo: outTradeNo(), totalAmount: '2.00', subject: 'x' });
    await trades.pay(app, { tradeNo: refunded.tradeNo }, 'buyer-verify');
    await trades.refund(app, { tradeNo: refunded.tradeNo }, { refundAmount: '2.00', outRequestNo: 'all' });
    const unpaid = await trades.create({ appId: app, outTradeNo: outTradeNo(), totalAmount: '3.00', subject: 'x' });
    expect(await verifyTradePayments(platform.db, platform.ledger, { appId: app })).toEqual({
      trades: 3,
      paid: 2,
      payingMoved: 0,
      violations: [],
    });

    // Money moved for the unpaid trade under its payment's id, and a trade marked paid by hand.
    const [moved] = await platform.ledger.createTransfers([
      {
        id: derivedId('trade.pay', unpaid.tradeNo),
        debitAccountId: buyer,
        creditAccountId: seller,
        amount: 300n,
        ledger: cnyLedger,
        code: 1,
      },
    ]);
    expect(moved).toBe('ok');
    const marked = await trades.create({ appId: app, outTradeNo: outTradeNo(), totalAmount: '4.00', subject: 'x' });
    await platform.db.query("update trades set status = 'TRADE_SUCCESS', paid_at = now() where trade_no = $1", [
      marked.tradeNo,
    ]);
    const check = await verifyTradePayments(platform.db, platform.ledger, { appId: app });
    expect(check.violations).toEqual(
      expect.arrayContaining([
        { kind: 'payment_of_unpaid_trade', detail: unpaid.tradeNo },
        { kind: 'paid_trade_without_payment', detail: marked.tradeNo },
      ]),
    );
    expect(check.violations).toHaveLength(2);
  });
});

describe('the trade sweep', () => {
  const app = '2021000000000001';

  it('goes on past a trade it cannot finish and reports the failure instead of swallowing it', async () => {
    // A PAYING trade without a buyer account is a broken invariant: the sweep must say so (the
    // job runner logs and counts it), and still close the expired trade beside it.
    const broken = await trades.create({ appId: app, outTradeNo: outTradeNo(), totalAmount: '1.00', subject: 'x' });
    await platform.db.query(
      `update trades set status = 'PAYING', paying_at = $2, buyer_account = null where trade_no = $1`,
      [broken.tradeNo, new Date(Date.UTC(2000, 0, 1))],
    );
    const expiring = await trades.create({
      appId: app,
      outTradeNo: outTradeNo(),
      totalAmount: '1.00',
      subject: 'x',
      timeoutExpress: '1m',
    });
    clock.advanceMs(60_000 + 1);
    const failure = await trades.sweep().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(AggregateError);
    const errors = (failure as AggregateError).errors as Error[];
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/buyer account/);
    expect((await trades.query(app, { tradeNo: expiring.tradeNo })).status).toBe('TRADE_CLOSED');
    // Mended, the next sweep has nothing to report.
    await platform.db.query(`update trades set status = 'WAIT_BUYER_PAY' where trade_no = $1`, [broken.tradeNo]);
    await trades.close(app, { tradeNo: broken.tradeNo });
    await expect(trades.sweep()).resolves.toBeGreaterThanOrEqual(0);
  });
});
