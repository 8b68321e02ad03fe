/**
 * A frozen account (a risk operator's freeze, with a reason, through the console) pays,
 * transfers and withdraws nothing: the till's `alipay.trade.pay` with a payment code the buyer
 * showed before the freeze answers `ACQ.BUYER_ENABLE_STATUS_FORBID` and writes nothing (no trade,
 * the code unspent, no transfer), no new payment code is given, a transfer through the native
 * API is refused `account_frozen`; the frozen user still logs in and is paid back. Once unfrozen,
 * the same user pays again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMembersError } from '../../src/members/index.ts';
import { newBuyer, ok, type PlatformGateway, startPlatformGateway } from '../gateway/platform-support.ts';

let gw: PlatformGateway;
let risk = '';
let n = 0;

beforeAll(async () => {
  gw = await startPlatformGateway();
  risk = (await gw.platform.operators.create('risk desk', { roles: ['risk'] })).token;
});

afterAll(async () => {
  await gw.close();
});

const consoleCall = (url: string, payload: object) =>
  gw.app.inject({ method: 'POST', url: `/console/v1${url}`, headers: { authorization: `Bearer ${risk}` }, payload });

async function written(): Promise<{ transfers: bigint; trades: bigint; spent: bigint }> {
  const [row] = await gw.platform.db.query<{ transfers: bigint; trades: bigint; spent: bigint }>(
    `select (select count(*) from ledger_transfers)::bigint transfers, (select count(*) from trades)::bigint trades,
            (select count(*) from members_payment_codes where redeemed_at_ns is not null)::bigint spent`,
  );
  if (!row) throw new Error('no counts');
  return row;
}

describe('a frozen account', () => {
  it('pays nothing at a till, gets no payment code, sends no transfer — with a clear refusal and nothing written', async () => {
    const buyer = await newBuyer(gw.platform, '13700009001', 50_000n);
    const friend = await newBuyer(gw.platform, '13700009002', 0n);
    const shown = await buyer.paycode();
    const froze = await consoleCall(`/members/${buyer.userId}/freeze`, { reason: 'stolen phone reported' });
    expect(froze.statusCode, froze.body).toBe(200);
    expect(froze.json().frozen).toMatchObject({ reason: 'stolen phone reported' });

    const before = await written();
    const pay = await gw.a.call('legacy', 'alipay.trade.pay', {
      out_trade_no: `frozen-${++n}`,
      scene: 'bar_code',
      auth_code: shown,
      subject: 'Tea',
      total_amount: '12.00',
    });
    expect(pay).toMatchObject({ code: '40004', sub_code: 'ACQ.BUYER_ENABLE_STATUS_FORBID' });
    expect(String((pay as { sub_msg?: string }).sub_msg)).toMatch(/frozen/);
    expect(await written()).toEqual(before);
    expect(await gw.platform.members.walletBalance(buyer.userId)).toBe(50_000n);
    const query = await gw.a.call('legacy', 'alipay.trade.query', { out_trade_no: `frozen-${n}` });
    expect(query).toMatchObject({ code: '40004', sub_code: 'ACQ.TRADE_NOT_EXIST' });

    await expect(buyer.paycode()).rejects.toSatisfy((e) => isMembersError(e, 'account_frozen'));

    // The frozen user logs in, sees the balance, and cannot send it away.
    const login = await gw.app.inject({
      method: 'POST',
      url: '/api/v1/sessions',
      payload: { phone: buyer.phone, password: 'correct horse 1' },
    });
    expect(login.statusCode).toBe(201);
    const auth = { authorization: `Bearer ${login.json().token}` };
    const transfer = await gw.app.inject({
      method: 'POST',
      url: '/api/v1/transfers',
      headers: { ...auth, 'idempotency-key': 'frozen-transfer-1' },
      payload: { to_phone: friend.phone, amount: '5.00' },
    });
    expect({ status: transfer.statusCode, code: transfer.json().code }).toEqual({
      status: 403,
      code: 'account_frozen',
    });
    expect(transfer.json().message).toMatch(/frozen/);
    expect(await written()).toEqual(before);
    expect((await gw.app.inject({ method: 'GET', url: '/api/v1/balance', headers: auth })).json().available).toBe(
      '500.00',
    );

    // Unfrozen: the user pays again.
    const unfroze = await consoleCall(`/members/${buyer.userId}/unfreeze`, { reason: 'phone recovered' });
    expect(unfroze.statusCode).toBe(200);
    const paid = ok(
      await gw.a.call('legacy', 'alipay.trade.pay', {
        out_trade_no: `frozen-${++n}`,
        scene: 'bar_code',
        auth_code: await buyer.paycode(),
        subject: 'Tea',
        total_amount: '12.00',
      }),
    );
    expect(paid.total_amount).toBe('12.00');
    expect(await gw.platform.members.walletBalance(buyer.userId)).toBe(48_800n);
  });

  it('refuses a freeze of nobody, and an unfreeze of an account that is not frozen', async () => {
    const nobody = await consoleCall('/members/2088999999999999/freeze', { reason: 'x' });
    expect({ status: nobody.statusCode, code: nobody.json().code }).toEqual({ status: 404, code: 'user_not_found' });
    const buyer = await newBuyer(gw.platform, '13700009003', 0n);
    const notFrozen = await consoleCall(`/members/${buyer.userId}/unfreeze`, { reason: 'x' });
    expect({ status: notFrozen.statusCode, code: notFrozen.json().code }).toEqual({
      status: 409,
      code: 'account_not_frozen',
    });
  });
});
