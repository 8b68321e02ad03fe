/**
 * The dishonest-debtor list's hook on the gateway, over both protocols with the real alipay-sdk:
 * the credit service's `restricted(userId)` (here a stub set; the platform wires the real list)
 * refuses a listed customer's credit-based freeze by payment code with `BUYER_RESTRICTED` and a
 * clear sub_msg, before the code is spent and writing nothing; the same customer's plain freeze
 * goes on, and off the list the credit-based one is granted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { checkPreauthBooks, preauthErrors } from '../../src/preauth/index.ts';
import { withCredit, written } from '../preauth/support.ts';
import {
  expectFailure,
  newBuyer,
  ok,
  type PlatformGateway,
  protocols,
  startPlatformGateway,
  uniqueNo,
} from './platform-support.ts';

const clock = new ManualClock(Date.now());
const scores = new Map<string, number>();
const restricted = new Set<string>();
let gw: PlatformGateway;
let ask = '';

beforeAll(async () => {
  gw = await startPlatformGateway({
    clock,
    serve: (platform) => ({ ...platform, preauth: withCredit(platform, clock, scores, restricted) }),
  });
  const service = await gw.platform.preauth.creditServices.grant(gw.a.appId, { category: 'RENT_PHONE' }, 'test');
  ask = JSON.stringify({ category: 'RENT_PHONE', serviceId: service.serviceId });
});

afterAll(async () => {
  expect((await checkPreauthBooks(gw.platform.db)).violations).toEqual([]);
  await gw.close();
});

describe.each(protocols)('a restricted customer over %s', (protocol) => {
  it('is refused a credit-based freeze with BUYER_RESTRICTED, writing nothing; a plain one goes on', async () => {
    const customer = await newBuyer(gw.platform, protocol === 'legacy' ? '13712349001' : '13712349002', 500_00n);
    scores.set(customer.userId, 800);
    restricted.add(customer.userId);
    const freeze = (code: string, order: string, extra?: string) =>
      gw.a.call(protocol, 'alipay.fund.auth.order.freeze', {
        out_order_no: order,
        out_request_no: `${order}-f`,
        order_title: 'Phone deposit',
        amount: '300.00',
        auth_code: code,
        auth_code_type: 'bar_code',
        ...(extra ? { extra_param: extra } : {}),
      });
    const before = await written(gw.platform);
    const code = await customer.paycode();
    const refused = await freeze(code, uniqueNo('r'), ask);
    expectFailure(refused, protocol, 'BUYER_RESTRICTED');
    if (protocol === 'legacy') expect(refused).toMatchObject({ sub_msg: preauthErrors.buyer_restricted.message });
    expect(await written(gw.platform)).toBe(before);

    // The same code still pays a plain freeze, held in full.
    const plain = ok(await freeze(code, uniqueNo('p')));
    expect(plain).toMatchObject({ credit_amount: '0.00', fund_amount: '300.00' });
    ok(
      await gw.a.call(protocol, 'alipay.fund.auth.order.unfreeze', {
        auth_no: plain.auth_no,
        out_request_no: 'u',
        amount: '300.00',
        remark: 'r',
      }),
    );
    restricted.delete(customer.userId);
    const granted = ok(await freeze(await customer.paycode(), uniqueNo('g'), ask));
    expect(granted).toMatchObject({ credit_amount: '300.00', fund_amount: '0.00', pre_auth_type: 'CREDIT_AUTH' });
    ok(
      await gw.a.call(protocol, 'alipay.fund.auth.order.unfreeze', {
        auth_no: granted.auth_no,
        out_request_no: 'u',
        amount: '300.00',
        remark: 'r',
      }),
    );
  });
});
