/**
 * Deposit-free rental over both protocols with the real alipay-sdk and the platform's real credit
 * score. A rental merchant whose app the platform granted a credit service (RENT_PHONE, 650, a
 * ¥2,000 cap) freezes deposits asking for credit as Alipay's rental merchants do
 * (`extra_param` `{"category": "RENT_PHONE", "serviceId": "…"}`):
 *
 * - a customer scoring 650 or more has the cap waived (`credit_amount` 2000.00, `fund_amount`
 *   the rest held, `pre_auth_type` CREDIT_AUTH), by the payment code and at the cashier alike;
 * - one below 650, and one with no score (N/A), have it all held;
 * - the same freeze on an app without a credit service is refused (`CREDIT_SERVICE_NOT_OPEN`),
 *   writing nothing and leaving the payment code unspent; a plain freeze there is held in full.
 *
 * Settling: NOT_COMPLETE takes the held funds; COMPLETE takes the rest of the funds and then the
 * credit part, collected from the wallet as far as it goes, the rest advanced to the merchant and
 * recorded as the customer's debt, whose score then drops below the line (no more credit); when
 * money comes back the sweep (the server's job) collects the debt. An unfreeze releases it all.
 * The books check holds throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { idCheckCharacter } from '../../src/credit/index.ts';
import { checkPreauthBooks } from '../../src/preauth/index.ts';
import { moneyBack, written } from '../preauth/support.ts';
import {
  expectFailure,
  newBuyer,
  ok,
  type PlatformGateway,
  protocols,
  startPlatformGateway,
  uniqueNo,
} from './platform-support.ts';

const dayMs = 86_400_000;
// The customers' accounts are 31 days old when the test runs (a score needs 30); the clock then
// stands at the real time, which the sdk's signed timestamps must be near.
const clock = new ManualClock(Date.now() - 31 * dayMs);
let gw: PlatformGateway;
let ask: string;
let people = 0;

type Customer = Awaited<ReturnType<typeof newBuyer>>;
const customers = {} as Record<string, { good: Customer; low: Customer; none: Customer }>;

/** A customer with `opening` in the wallet, verified by real name when `named`. */
async function customer(opening: bigint, named: boolean): Promise<Customer> {
  const n = ++people;
  const c = await newBuyer(gw.platform, `1371234${String(n).padStart(4, '0')}`, opening);
  if (named) {
    const base = `11010519900101${String(n).padStart(3, '0')}`;
    await gw.platform.credit.realNames.verify(c.userId, { name: '张三', idNumber: base + idCheckCharacter(base) });
  }
  return c;
}

async function payTrades(userId: string, count: number, amount: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    const trade = await gw.platform.trades.create({
      appId: gw.b.appId,
      outTradeNo: uniqueNo('spend'),
      totalAmount: amount,
      subject: 'Coffee',
    });
    await gw.platform.trades.pay(gw.b.appId, { tradeNo: trade.tradeNo }, userId);
  }
}

const score = async (userId: string) => (await gw.platform.credit.score(userId)).score;

async function wallet(userId: string): Promise<{ available: bigint; held: bigint }> {
  const member = await gw.platform.members.getMember(userId);
  const [a] = await gw.platform.ledger.lookupAccounts([member.walletAccountId]);
  const posted = (a?.creditsPosted ?? 0n) - (a?.debitsPosted ?? 0n);
  return { available: posted - (a?.debitsPending ?? 0n), held: a?.debitsPending ?? 0n };
}

beforeAll(async () => {
  gw = await startPlatformGateway({ clock });
  for (const protocol of protocols) {
    customers[protocol] = {
      good: await customer(5_000_00n, true),
      low: await customer(5_000_00n, false),
      none: await customer(1_000_00n, true),
    };
  }
  clock.advanceMs(31 * dayMs);
  for (const protocol of protocols) {
    const { good, low } = customers[protocol] as { good: Customer; low: Customer };
    await payTrades(good.userId, 3, '1.00');
    await payTrades(low.userId, 3, '1.00');
  }
  const service = await gw.platform.preauth.creditServices.grant(
    gw.a.appId,
    { category: 'RENT_PHONE', waiverMaxFen: 2_000_00n },
    'operator:test',
  );
  expect(service.scoreThreshold).toBe(650);
  ask = JSON.stringify({ category: 'RENT_PHONE', serviceId: service.serviceId });
});

afterAll(async () => {
  expect((await checkPreauthBooks(gw.platform.db)).violations).toEqual([]);
  await gw.close();
});

describe.each(protocols)('deposit-free rental over %s', (protocol) => {
  const call = (method: string, biz: Record<string, unknown>) => gw.a.call(protocol, method, biz);
  const people = () => customers[protocol] as { good: Customer; low: Customer; none: Customer };
  const freeze = async (who: Customer, order: string, amount: string, extra = ask) =>
    call('alipay.fund.auth.order.freeze', {
      out_order_no: order,
      out_request_no: `${order}-f`,
      order_title: 'iPhone rental deposit',
      amount,
      product_code: 'PRE_AUTH',
      auth_code: await who.paycode(),
      auth_code_type: 'bar_code',
      extra_param: extra,
    });

  it('waives up to the cap at 650+, holds it all below and for N/A, and refuses an app without the service', async () => {
    const { good, low, none } = people();
    expect(await score(good.userId)).toBeGreaterThanOrEqual(650);
    expect(await score(low.userId)).toBeLessThan(650);
    expect(await score(low.userId)).not.toBeNull();
    expect(await score(none.userId)).toBeNull();

    const granted = ok(await freeze(good, uniqueNo(`good-${protocol}`), '3000.00'));
    expect(granted).toMatchObject({
      status: 'SUCCESS',
      amount: '3000.00',
      credit_amount: '2000.00',
      fund_amount: '1000.00',
      pre_auth_type: 'CREDIT_AUTH',
    });
    expect(await wallet(good.userId)).toMatchObject({ held: 1_000_00n });
    const unfreeze = async (authNo: string | undefined, amount: string) =>
      ok(await call('alipay.fund.auth.order.unfreeze', { auth_no: authNo, out_request_no: 'u', amount, remark: 'r' }));
    for (const who of [low, none]) {
      const held = ok(await freeze(who, uniqueNo(`held-${protocol}`), '300.00'));
      expect(held).toMatchObject({ credit_amount: '0.00', fund_amount: '300.00' });
      expect(held.pre_auth_type).toBeUndefined();
      expect(await wallet(who.userId)).toMatchObject({ held: 300_00n });
      await unfreeze(held.auth_no, '300.00');
      expect(await wallet(who.userId)).toMatchObject({ held: 0n });
    }
    await unfreeze(granted.auth_no, '3000.00');
    expect(await wallet(good.userId)).toMatchObject({ held: 0n });

    // Shop B has no credit service: asking is refused, nothing written, the code not spent.
    const before = await written(gw.platform);
    const code = await good.paycode();
    const refused = await gw.b.call(protocol, 'alipay.fund.auth.order.freeze', {
      out_order_no: uniqueNo('b'),
      out_request_no: 'f',
      order_title: 'Deposit',
      amount: '10.00',
      auth_code: code,
      auth_code_type: 'bar_code',
      extra_param: ask,
    });
    expectFailure(refused, protocol, 'CREDIT_SERVICE_NOT_OPEN');
    expectFailure(
      await freeze(
        good,
        uniqueNo('mismatch'),
        '10.00',
        JSON.stringify({ category: 'RENT_CAR', serviceId: JSON.parse(ask).serviceId }),
      ),
      protocol,
      'CREDIT_SERVICE_MISMATCH',
    );
    expectFailure(await freeze(good, uniqueNo('bad'), '10.00', '{"serviceId": 7'), protocol, 'INVALID_PARAMETER');
    expect(await written(gw.platform)).toBe(before);
    // The refused freeze's code is still good: here for a plain freeze, held in full.
    const plain = ok(
      await gw.b.call(protocol, 'alipay.fund.auth.order.freeze', {
        out_order_no: uniqueNo('b-plain'),
        out_request_no: 'f',
        order_title: 'Deposit',
        amount: '10.00',
        auth_code: code,
        auth_code_type: 'bar_code',
      }),
    );
    expect(plain).toMatchObject({ credit_amount: '0.00', fund_amount: '10.00' });
    ok(
      await gw.b.call(protocol, 'alipay.fund.auth.order.unfreeze', {
        auth_no: plain.auth_no,
        out_request_no: 'u',
        amount: '10.00',
        remark: 'plain',
      }),
    );
  });

  it('settles NOT_COMPLETE then COMPLETE, advances what the wallet lacks as a debt, and collects it later', async () => {
    const { good } = people();
    const order = uniqueNo(`debt-${protocol}`);
    const frozen = ok(await freeze(good, order, '3000.00'));
    expect(frozen).toMatchObject({ credit_amount: '2000.00', fund_amount: '1000.00' });
    // The customer spends the rest of the wallet: ¥50 is left besides what is held.
    const { available } = await wallet(good.userId);
    await payTrades(good.userId, 1, ((Number(available) - 50_00) / 100).toFixed(2));
    expect(await wallet(good.userId)).toMatchObject({ available: 50_00n });

    const merchantBefore = await gw.platform.members.walletBalance(gw.a.sellerId);
    const pay = (no: string, amount: string, mode: string) =>
      call('alipay.trade.pay', {
        out_trade_no: `${order}-${no}`,
        product_code: 'PREAUTH_PAY',
        auth_no: frozen.auth_no,
        auth_confirm_mode: mode,
        total_amount: amount,
        subject: 'Rental',
      });
    ok(await pay('t1', '200.00', 'NOT_COMPLETE'));
    expect(await wallet(good.userId)).toMatchObject({ available: 50_00n, held: 800_00n });
    // ¥2,500: the ¥800 still held, then ¥1,700 of credit: ¥50 from the wallet, ¥1,650 advanced.
    ok(await pay('t2', '2500.00', 'COMPLETE'));
    expect(await gw.platform.members.walletBalance(gw.a.sellerId)).toBe(merchantBefore + 2_700_00n);
    expect(await wallet(good.userId)).toMatchObject({ available: 0n, held: 0n });
    const detail = ok(await call('alipay.fund.auth.operation.detail.query', { auth_no: frozen.auth_no }));
    expect(detail).toMatchObject({
      order_status: 'FINISH',
      total_pay_amount: '2700.00',
      total_pay_fund_amount: '1000.00',
      total_pay_credit_amount: '1700.00',
      rest_amount: '0.00',
    });
    expect(await gw.platform.preauth.overdueDebt(good.userId)).toMatchObject({ openFen: 1_650_00n, debts: 1 });

    // The debt is a strong negative: below the line, the next freeze is held in full (and refused for want of money).
    const owing = await gw.platform.credit.score(good.userId);
    expect(owing.score).toBeLessThan(650);
    expect(owing.reasons).toContain('DEBT_OVERDUE');
    expectFailure(await freeze(good, uniqueNo('again'), '100.00'), protocol, 'PAYER_BALANCE_NOT_ENOUGH');

    // Money comes back: the sweep collects as far as it goes, then the rest.
    const topUp = (fen: bigint) => moneyBack(gw.platform, good.userId, fen);
    await topUp(1_000_00n);
    await gw.platform.preauth.sweep();
    expect(await gw.platform.preauth.overdueDebt(good.userId)).toMatchObject({ openFen: 650_00n });
    await topUp(5_000_00n);
    await gw.platform.preauth.sweep();
    expect(await gw.platform.preauth.overdueDebt(good.userId)).toMatchObject({ openFen: 0n, debts: 0 });
    expect(await wallet(good.userId)).toMatchObject({ available: 4_350_00n });
    expect((await gw.platform.credit.score(good.userId)).reasons).not.toContain('DEBT_OVERDUE');
    expect((await checkPreauthBooks(gw.platform.db)).violations).toEqual([]);
  });

  it('unfreezes a credit-based freeze, the credit part first', async () => {
    const { good } = people();
    const frozen = ok(await freeze(good, uniqueNo(`unfreeze-${protocol}`), '2500.00'));
    expect(frozen).toMatchObject({ credit_amount: '2000.00', fund_amount: '500.00' });
    const part = ok(
      await call('alipay.fund.auth.order.unfreeze', {
        auth_no: frozen.auth_no,
        out_request_no: 'u1',
        amount: '2100.00',
        remark: 'returned',
      }),
    );
    expect(part).toMatchObject({ credit_amount: '2000.00', fund_amount: '100.00' });
    expect(await wallet(good.userId)).toMatchObject({ held: 400_00n });
    ok(
      await call('alipay.fund.auth.order.unfreeze', {
        auth_no: frozen.auth_no,
        out_request_no: 'u2',
        amount: '400.00',
        remark: 'returned',
      }),
    );
    expect(await wallet(good.userId)).toMatchObject({ held: 0n });
    expect(ok(await call('alipay.fund.auth.operation.detail.query', { auth_no: frozen.auth_no }))).toMatchObject({
      order_status: 'CLOSED',
      rest_amount: '0.00',
    });
  });

  it('asks for credit in an app freeze, granted when the customer confirms at the cashier', async () => {
    const { good } = people();
    const order = uniqueNo(`app-${protocol}`);
    const orderString = gw.a.sdk.sdkExecute('alipay.fund.auth.order.app.freeze', {
      bizContent: {
        out_order_no: order,
        out_request_no: `${order}-f`,
        order_title: 'Camera rental',
        amount: '1500.00',
        product_code: 'PRE_AUTH_ONLINE',
        extra_param: ask,
      },
    });
    const res = await fetch(`${gw.base}/gateway.do?${orderString}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const authNo = (res.headers.get('location') ?? '').split('/').at(-1) as string;
    await gw.platform.preauth.confirmAppFreeze(authNo, good.userId);
    expect(ok(await call('alipay.fund.auth.operation.detail.query', { auth_no: authNo }))).toMatchObject({
      order_status: 'AUTHORIZED',
      total_freeze_credit_amount: '1500.00',
      total_freeze_fund_amount: '0.00',
      credit_amount: '1500.00',
      fund_amount: '0.00',
    });
    expect(await wallet(good.userId)).toMatchObject({ held: 0n });
    ok(
      await call('alipay.fund.auth.order.unfreeze', {
        auth_no: authNo,
        out_request_no: 'u',
        amount: '1500.00',
        remark: 'done',
      }),
    );
  });
});
