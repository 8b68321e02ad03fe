/**
 * Card binding and withholding: an agreement is confirmed by the SMS code the bank sends to the
 * card's phone (read here from the simulator's outbox), then the platform withholds against it,
 * within the bank's per-payment and per-day limits.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { balanceOf, call, orderNo, useBankSim } from './support.ts';

const clock = new ManualClock();
const { url } = useBankSim({ clock });
/** CMB limits: 20,000.00 per payment, 50,000.00 per day; Li Si holds 100,000.00. */
const card = '6225880000000002';
const holder = { card_no: card, name: 'Li Si', phone: '13800000002' };

async function smsCode(agreementNo: string): Promise<string> {
  const { messages } = (await (await fetch(`${url()}/admin/sms?phone=${holder.phone}`)).json()) as {
    messages: { code: string; agreement_no: string; text: string }[];
  };
  const message = messages.find((m) => m.agreement_no === agreementNo);
  if (!message) throw new Error(`no SMS for ${agreementNo}`);
  expect(message.text).toContain(message.code);
  return message.code;
}

async function bind(): Promise<string> {
  const requestNo = orderNo('B');
  const bound = await call(url(), 'POST', '/banks/CMB/agreements', { request_no: requestNo, ...holder });
  expect(bound.status).toBe(200);
  expect(bound.json.status).toBe('PENDING');
  const agreementNo = String(bound.json.agreement_no);
  const confirmed = await call(url(), 'POST', `/banks/CMB/agreements/${agreementNo}/confirm`, {
    sms_code: await smsCode(agreementNo),
  });
  expect(confirmed.json).toEqual({ agreement_no: agreementNo, status: 'ACTIVE' });
  return agreementNo;
}

const withhold = (agreementNo: string, amount: string, no = orderNo('W')) =>
  call(url(), 'POST', '/banks/CMB/withholdings', { order_no: no, agreement_no: agreementNo, amount });

describe('card binding and withholding', () => {
  it('binds with the SMS code from the outbox, then withholds from the card', async () => {
    const agreementNo = await bind();
    const before = await balanceOf(url(), 'CMB', card);
    const no = orderNo('W');
    const taken = await withhold(agreementNo, '100.50', no);
    expect(taken.json).toMatchObject({ order_no: no, kind: 'WITHHOLD', status: 'SUCCESS', amount: '100.50' });
    expect(await balanceOf(url(), 'CMB', card)).toBe((Number(before) - 100.5).toFixed(2));
    expect((await call(url(), 'GET', `/banks/CMB/orders/${no}`)).json.status).toBe('SUCCESS');
  });

  it('refuses a wrong SMS code and a withholding on an unconfirmed agreement', async () => {
    const bound = await call(url(), 'POST', '/banks/CMB/agreements', { request_no: orderNo('B'), ...holder });
    const agreementNo = String(bound.json.agreement_no);
    const code = await smsCode(agreementNo);
    const wrong = code === '000000' ? '000001' : '000000';
    const refused = await call(url(), 'POST', `/banks/CMB/agreements/${agreementNo}/confirm`, { sms_code: wrong });
    expect(refused.status).toBe(400);
    expect(refused.json.code).toBe('SMS_CODE_INVALID');
    const early = await withhold(agreementNo, '1.00');
    expect(early.status).toBe(409);
    expect(early.json.code).toBe('AGREEMENT_NOT_ACTIVE');
  });

  it('refuses to bind a card whose holder details do not match', async () => {
    const bound = await call(url(), 'POST', '/banks/CMB/agreements', {
      request_no: orderNo('B'),
      ...holder,
      name: 'Someone Else',
    });
    expect(bound.status).toBe(400);
  });

  it('fails a withholding over the per-payment limit, and over the per-day limit until the next day', async () => {
    const agreementNo = await bind();
    const over = await withhold(agreementNo, '20000.01');
    expect(over.json).toMatchObject({ status: 'FAILED', fail_code: 'PAYMENT_LIMIT_EXCEEDED' });
    // 100.50 was taken today by the first test; two more of 20,000.00 leave 9,899.50 of the day's 50,000.00.
    expect((await withhold(agreementNo, '20000.00')).json.status).toBe('SUCCESS');
    expect((await withhold(agreementNo, '20000.00')).json.status).toBe('SUCCESS');
    const before = await balanceOf(url(), 'CMB', card);
    const capped = await withhold(agreementNo, '9899.51');
    expect(capped.json).toMatchObject({ status: 'FAILED', fail_code: 'DAILY_LIMIT_EXCEEDED' });
    expect(await balanceOf(url(), 'CMB', card)).toBe(before);
    expect((await withhold(agreementNo, '9899.50')).json.status).toBe('SUCCESS');
    clock.advanceMs(86_400_000);
    expect((await withhold(agreementNo, '20000.00')).json.status).toBe('SUCCESS');
  });

  it('answers a repeated withholding with the same order, and refuses the order number with another amount', async () => {
    const agreementNo = await bind();
    const no = orderNo('W');
    const first = await withhold(agreementNo, '3.00', no);
    const before = await balanceOf(url(), 'CMB', card);
    const again = await withhold(agreementNo, '3.00', no);
    expect(again.json).toEqual(first.json);
    expect(await balanceOf(url(), 'CMB', card)).toBe(before);
    const other = await withhold(agreementNo, '4.00', no);
    expect(other.status).toBe(409);
    expect(other.json.code).toBe('ORDER_PARAMS_CONFLICT');
  });
});
