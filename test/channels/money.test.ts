/**
 * Money in and out through the banks, end to end against the simulator over HTTP: a top-up on
 * the bank's gateway page (callback and browser return), card binding with the bank's SMS code,
 * a quick-pay top-up by withholding, a withdrawal to the bound card. The wallet, the bank's
 * reserve account in the ledger and the customer's bank balance move together, once.
 */
import { describe, expect, it } from 'vitest';
import { isChannelError, reserveAccountId } from '../../src/channels/index.ts';
import {
  balance,
  bankBalance,
  bindCard,
  key,
  li,
  newUser,
  payOnPage,
  smsCode,
  useWorld,
  waitFor,
  wang,
  zhang,
} from './support.ts';

const world = useWorld();

async function reserve(bank: string): Promise<bigint> {
  const [account] = await world().platform.ledger.lookupAccounts([reserveAccountId(bank)]);
  return account ? account.debitsPosted - account.creditsPosted : 0n;
}

describe('top-up through the gateway page', () => {
  it('credits the wallet once the bank confirms, by callback; the browser return confirms by query', async () => {
    const { platform } = world();
    const user = await newUser(world());
    const reserveBefore = await reserve('ICBC');
    const bankBefore = await bankBalance(world(), 'ICBC', zhang.cardNo);
    const order = await platform.channels.topUpByGateway(user.userId, {
      bank: 'ICBC',
      amount: '120.50',
      idempotencyKey: key(),
    });
    expect(order).toMatchObject({ kind: 'TOPUP_GATEWAY', bank: 'ICBC', status: 'IN_FLIGHT', amount: '120.50' });
    expect(order.payUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/banks\/ICBC\/gateway\/pay\//);
    // Nothing moves before the bank confirms.
    expect(await balance(world(), user.userId)).toBe(0n);

    const location = await payOnPage(order.payUrl ?? '', zhang.cardNo);
    expect(location).toContain(`${world().base}/channels/return/ICBC?`);
    const log = async () => (await fetch(`${world().sim.url}/admin/callbacks?order_no=${order.orderNo}`)).json();
    await waitFor('the callback', async () =>
      (await platform.channels.order(user.userId, order.orderNo)).status === 'SUCCESS' ? true : undefined,
    ).catch(async (e) => {
      console.log(JSON.stringify(await log()));
      throw e;
    });
    expect(await balance(world(), user.userId)).toBe(12_050n);
    expect((await reserve('ICBC')) - reserveBefore).toBe(12_050n);
    expect(await bankBalance(world(), 'ICBC', zhang.cardNo)).toBe((Number(bankBefore) - 120.5).toFixed(2));

    // The browser comes back with signed parameters: the page shows the confirmed status.
    const page = await fetch(location ?? '');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Top-up successful');
    // Tampered return parameters are refused and move nothing.
    const forged = new URL(location ?? '');
    forged.searchParams.set('amount', '999.00');
    const refused = await fetch(forged);
    expect(refused.status).toBe(400);
    expect(await balance(world(), user.userId)).toBe(12_050n);
  });

  it('routes to the first bank whose limits take the amount, and refuses what no bank takes', async () => {
    const { platform } = world();
    const user = await newUser(world());
    const routed = await platform.channels.topUpByGateway(user.userId, { amount: '100.00', idempotencyKey: key() });
    expect(routed.bank).toBe('ICBC');
    // ABC takes at most 10,000.00 a payment.
    const overAbc = platform.channels.topUpByGateway(user.userId, {
      bank: 'ABC',
      amount: '10000.01',
      idempotencyKey: key(),
    });
    await expect(overAbc).rejects.toSatisfy((e) => isChannelError(e, 'payment_limit_exceeded'));
    // CMB: 20,000.00 a payment, 50,000.00 a day for this user.
    await platform.channels.topUpByGateway(user.userId, { bank: 'CMB', amount: '20000.00', idempotencyKey: key() });
    await platform.channels.topUpByGateway(user.userId, { bank: 'CMB', amount: '20000.00', idempotencyKey: key() });
    const third = platform.channels.topUpByGateway(user.userId, {
      bank: 'CMB',
      amount: '10000.01',
      idempotencyKey: key(),
    });
    await expect(third).rejects.toSatisfy((e) => isChannelError(e, 'daily_limit_exceeded'));
    // Above every bank's per-payment limit: no bank.
    const huge = platform.channels.topUpByGateway(user.userId, { amount: '60000.00', idempotencyKey: key() });
    await expect(huge).rejects.toSatisfy((e) => isChannelError(e, 'no_bank_available'));
    const [{ n }] = (await platform.db.query<{ n: bigint }>(
      'select count(*)::bigint n from channel_orders where user_id = $1',
      [user.userId],
    )) as [{ n: bigint }];
    expect(n).toBe(3n);
  });

  it('answers the same order for a repeated Idempotency-Key and refuses the key with another body', async () => {
    const { platform } = world();
    const user = await newUser(world());
    const k = key();
    const first = await platform.channels.topUpByGateway(user.userId, {
      bank: 'ICBC',
      amount: '5.00',
      idempotencyKey: k,
    });
    const again = await platform.channels.topUpByGateway(user.userId, {
      bank: 'ICBC',
      amount: '5.00',
      idempotencyKey: k,
    });
    expect(again.orderNo).toBe(first.orderNo);
    const other = platform.channels.topUpByGateway(user.userId, { bank: 'ICBC', amount: '6.00', idempotencyKey: k });
    await expect(other).rejects.toSatisfy((e) => isChannelError(e, 'idempotency_key_reused'));
    for (const amount of ['0', '0.00', '-1', '1.001', 'abc', '1e3']) {
      const bad = platform.channels.topUpByGateway(user.userId, { bank: 'ICBC', amount, idempotencyKey: key() });
      await expect(bad).rejects.toSatisfy((e) => isChannelError(e, 'amount_invalid'));
    }
  });
});

describe('card binding, quick pay and withdrawal', () => {
  it('binds a card with the SMS code the bank sent, and refuses a wrong code or card details', async () => {
    const { platform } = world();
    const user = await newUser(world());
    const pending = await platform.channels.cards.bind(user.userId, { bank: 'ICBC', ...wang });
    expect(pending).toMatchObject({ status: 'PENDING', cardNo: '************0003' });
    const code = await smsCode(world(), wang.phone);
    const wrong = code === '000000' ? '111111' : '000000';
    await expect(platform.channels.cards.confirm(user.userId, pending.cardId, wrong)).rejects.toSatisfy((e) =>
      isChannelError(e, 'sms_code_invalid'),
    );
    await expect(platform.channels.cards.confirm(user.userId, pending.cardId, code)).resolves.toMatchObject({
      status: 'ACTIVE',
    });
    const mismatch = platform.channels.cards.bind(user.userId, { bank: 'ICBC', ...wang, name: 'Someone Else' });
    await expect(mismatch).rejects.toSatisfy((e) => isChannelError(e, 'card_rejected'));
    expect((await platform.channels.cards.list(user.userId)).map((c) => c.status)).toEqual(['ACTIVE']);
    // Someone else's card is not yours.
    const other = await newUser(world());
    const topUp = platform.channels.topUpByCard(other.userId, {
      cardId: pending.cardId,
      amount: '1.00',
      idempotencyKey: key(),
    });
    await expect(topUp).rejects.toSatisfy((e) => isChannelError(e, 'card_not_found'));
  });

  it('tops up by withholding from the bound card, and withdraws back to it', async () => {
    const { platform } = world();
    const user = await newUser(world());
    const cardId = await bindCard(world(), user.userId, li);
    const cardBefore = Number(await bankBalance(world(), 'ICBC', li.cardNo));
    const reserveBefore = await reserve('ICBC');

    const topUp = await platform.channels.topUpByCard(user.userId, { cardId, amount: '300.00', idempotencyKey: key() });
    expect(topUp).toMatchObject({ kind: 'TOPUP_WITHHOLD', status: 'SUCCESS', failCode: null });
    expect(await balance(world(), user.userId)).toBe(30_000n);

    const out = await platform.channels.withdraw(user.userId, { cardId, amount: '120.00', idempotencyKey: key() });
    expect(out).toMatchObject({ kind: 'WITHDRAW', status: 'SUCCESS' });
    expect(await balance(world(), user.userId)).toBe(18_000n);
    expect(Number(await bankBalance(world(), 'ICBC', li.cardNo))).toBeCloseTo(cardBefore - 300 + 120, 2);
    expect((await reserve('ICBC')) - reserveBefore).toBe(18_000n);

    // More than the wallet holds: refused, nothing held, nothing sent.
    const tooMuch = platform.channels.withdraw(user.userId, { cardId, amount: '180.01', idempotencyKey: key() });
    await expect(tooMuch).rejects.toSatisfy((e) => isChannelError(e, 'balance_not_enough'));
    expect(await balance(world(), user.userId)).toBe(18_000n);
  });

  it('fails a withholding the bank declines and moves nothing', async () => {
    const { platform } = world();
    const user = await newUser(world());
    const cardId = await bindCard(world(), user.userId, zhang);
    // Above the card's own balance at the bank (100,000.00 at most; ICBC allows 50,000.00 a payment).
    const big = await platform.channels.topUpByCard(user.userId, { cardId, amount: '50000.00', idempotencyKey: key() });
    const second = await platform.channels.topUpByCard(user.userId, {
      cardId,
      amount: '50000.00',
      idempotencyKey: key(),
    });
    const third = await platform.channels.topUpByCard(user.userId, {
      cardId,
      amount: '50000.00',
      idempotencyKey: key(),
    });
    const statuses = [big, second, third].map((o) => o.status);
    expect(statuses).toContain('FAILED');
    const succeeded = [big, second, third].filter((o) => o.status === 'SUCCESS').length;
    expect(await balance(world(), user.userId)).toBe(BigInt(succeeded) * 5_000_000n);
  });
});
