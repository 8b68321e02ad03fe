/**
 * A merchant's campaign red packet over both protocols with the real alipay-sdk:
 * `alipay.fund.trans.app.pay` (STD_RED_PACKET) funds it from the merchant's wallet; users grab it
 * in the wallet; the merchant hands a share to a user it names (`paybao.fund.redpacket.grab`) and
 * sees what is left (`paybao.fund.redpacket.query`); a retry with the same out_biz_no answers the
 * same packet; other merchants see nothing of it; what is not grabbed comes back at expiry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import { verifyRedPackets } from '../../src/social/index.ts';
import {
  expectFailure,
  fundMerchant,
  newBuyer,
  ok,
  type PlatformGateway,
  protocols,
  startPlatformGateway,
  uniqueNo,
} from './platform-support.ts';

const clock = new ManualClock(Date.parse('2026-12-07T02:00:00Z'));
let gw: PlatformGateway;
let buyer: Awaited<ReturnType<typeof newBuyer>>;
const users: Array<Awaited<ReturnType<typeof newBuyer>>> = [];
const wallet = (userId: string) => gw.platform.members.walletBalance(userId);

beforeAll(async () => {
  gw = await startPlatformGateway({ clock });
  buyer = await newBuyer(gw.platform, '13900139101', 10_000_000n);
  for (let i = 0; i < 4; i++) users.push(await newBuyer(gw.platform, `1370013710${i}`, 0n));
  await fundMerchant(gw.a, buyer, '1000.00');
});

afterAll(async () => {
  expect(await verifyRedPackets(gw.platform.db)).toEqual([]);
  await gw.close();
});

const rain = (no: string, amount: string, params: Record<string, unknown>) => ({
  out_biz_no: no,
  trans_amount: amount,
  product_code: 'STD_RED_PACKET',
  biz_scene: 'PERSONAL_PAY',
  order_title: '双11红包雨',
  business_params: JSON.stringify(params),
});

describe.each(protocols)('campaign red packets over %s', (protocol) => {
  const call = (method: string, biz: Record<string, unknown>) => gw.a.call(protocol, method, biz);

  it('funds a campaign, hands shares out, answers a retry the same, and shows what is left', async () => {
    const no = uniqueNo(`rain-${protocol}`);
    const merchantBefore = await wallet(gw.a.sellerId);
    const funded = ok(await call('alipay.fund.trans.app.pay', rain(no, '10.00', { shares: 4, kind: 'LUCKY' })));
    expect(funded).toMatchObject({ out_biz_no: no, status: 'SUCCESS', trans_amount: '10.00', shares: 4 });
    expect(await wallet(gw.a.sellerId)).toBe(merchantBefore - 1000n);
    const again = ok(await call('alipay.fund.trans.app.pay', rain(no, '10.00', { shares: 4, kind: 'LUCKY' })));
    expect(again.order_id).toBe(funded.order_id);
    expect(await wallet(gw.a.sellerId)).toBe(merchantBefore - 1000n);
    expectFailure(
      await call('alipay.fund.trans.app.pay', rain(no, '11.00', { shares: 4 })),
      protocol,
      'PAYMENT_INFO_INCONSISTENCY',
    );

    // A user grabs in the wallet; the merchant hands one to a user it names.
    const [u0, u1] = users as [(typeof users)[0], (typeof users)[0]];
    const before1 = await wallet(u1.userId);
    const grabbed = await gw.platform.social.redPackets.grab(u0.userId, funded.order_id as string);
    const handed = ok(
      await call('paybao.fund.redpacket.grab', {
        order_id: funded.order_id,
        payee_info: { identity: u1.userId, identity_type: 'ALIPAY_USER_ID' },
      }),
    );
    expect(handed).toMatchObject({ payee_user_id: u1.userId, seq: 2, status: 'SUCCESS' });
    expect(await wallet(u1.userId)).toBe(before1 + BigInt(Math.round(Number(handed.trans_amount) * 100)));
    const left = ok(await call('paybao.fund.redpacket.query', { order_id: funded.order_id }));
    expect(left).toMatchObject({ shares: 4, remaining_shares: 2, status: 'SUCCESS' });
    const spent = grabbed.amountFen + BigInt(Math.round(Number(handed.trans_amount) * 100));
    expect(Math.round(Number(left.remaining_amount) * 100)).toBe(1000 - Number(spent));

    // Nobody else's: app B sees no such packet.
    expectFailure(
      await gw.b.call(protocol, 'paybao.fund.redpacket.query', { order_id: funded.order_id }),
      protocol,
      'PACKET_NOT_FOUND',
    );
    expectFailure(
      await call('paybao.fund.redpacket.grab', {
        order_id: funded.order_id,
        payee_info: { identity: '2088000000000000', identity_type: 'ALIPAY_USER_ID' },
      }),
      protocol,
      'PAYEE_NOT_EXIST',
    );
  });

  it('refuses a campaign the merchant cannot pay for, or with shares out of bounds, moving nothing', async () => {
    const before = await wallet(gw.a.sellerId);
    expectFailure(
      await call('alipay.fund.trans.app.pay', rain(uniqueNo('big'), '100000.00', { shares: 1000 })),
      protocol,
      'PAYER_BALANCE_NOT_ENOUGH',
    );
    expectFailure(
      await call('alipay.fund.trans.app.pay', rain(uniqueNo('thin'), '1.00', { shares: 1000 })),
      protocol,
      'SHARE_OUT_OF_BOUNDS',
    );
    expectFailure(
      await call('alipay.fund.trans.app.pay', { ...rain(uniqueNo('bad'), '1.00', {}), business_params: 'x' }),
      protocol,
      'INVALID_PARAMETER',
    );
    expect(await wallet(gw.a.sellerId)).toBe(before);
  });
});

it('gives what is not grabbed back to the merchant at expiry', async () => {
  const no = uniqueNo('expiring');
  const funded = ok(
    await gw.a.call('legacy', 'alipay.fund.trans.app.pay', rain(no, '5.00', { shares: 5, kind: 'EQUAL' })),
  );
  await gw.platform.social.redPackets.grab((users[3] as (typeof users)[0]).userId, funded.order_id as string);
  const before = await wallet(gw.a.sellerId);
  clock.advanceMs(limits.redPacketTtlMs);
  await gw.platform.social.sweep();
  // Every campaign of this merchant expired together: each one's rest came back, this one's 4.00.
  const refunded = (await gw.platform.social.redPackets.sent(gw.a.sellerId)).reduce(
    (s, p) => s + (p.refundedFen ?? 0n),
    0n,
  );
  expect(await wallet(gw.a.sellerId)).toBe(before + refunded);
  const closed = ok(await gw.a.call('legacy', 'paybao.fund.redpacket.query', { order_id: funded.order_id }));
  expect(closed).toMatchObject({ status: 'EXPIRED', refunded_amount: '4.00', remaining_shares: 4 });
});
