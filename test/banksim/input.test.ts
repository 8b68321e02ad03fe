/**
 * Bad input gets a clean 4xx with a code from the catalog, and nothing moves: no balance
 * changes and no order is recorded.
 */
import { describe, expect, it } from 'vitest';
import { signRequest } from '../../src/banksim/index.ts';
import { allBalances, call, icbcCard2, merchant, orderNo, useBankSim } from './support.ts';

const { url } = useBankSim();
const payoutBody = (amount: unknown, no = orderNo('X')) => ({
  order_no: no,
  card_no: icbcCard2,
  name: 'Li Si',
  amount,
});

async function refused(
  answer: Promise<{ status: number; json: Record<string, unknown> }>,
  status: number,
  code: string,
) {
  const a = await answer;
  expect({ status: a.status, code: a.json.code }).toEqual({ status, code });
}

describe('bad input', () => {
  it('refuses bad signatures, unknown merchants, stale timestamps and unknown banks', async () => {
    const before = await allBalances(url());
    const body = payoutBody('1.00');
    await refused(
      call(url(), 'POST', '/banks/ICBC/payouts', body, { as: { id: merchant.id, secret: 'not-the-secret-at-all' } }),
      401,
      'INVALID_SIGNATURE',
    );
    await refused(
      call(url(), 'POST', '/banks/ICBC/payouts', body, { as: { id: 'intruder', secret: merchant.secret } }),
      401,
      'INVALID_SIGNATURE',
    );
    const stale = signRequest(merchant, 'POST', '/banks/ICBC/payouts', JSON.stringify(body), Date.now() - 3_600_000);
    await refused(call(url(), 'POST', '/banks/ICBC/payouts', body, { headers: stale }), 401, 'INVALID_SIGNATURE');
    // A signature of another body does not carry over.
    const other = signRequest(merchant, 'POST', '/banks/ICBC/payouts', JSON.stringify(payoutBody('999.00')));
    await refused(call(url(), 'POST', '/banks/ICBC/payouts', body, { headers: other }), 401, 'INVALID_SIGNATURE');
    await refused(call(url(), 'POST', '/banks/NOPE/payouts', body), 404, 'BANK_NOT_FOUND');
    const unsigned = await fetch(`${url()}/banks/ICBC/orders/X1`);
    expect(unsigned.status).toBe(401);
    expect(await allBalances(url())).toEqual(before);
    expect((await call(url(), 'GET', `/banks/ICBC/orders/${body.order_no}`)).status).toBe(404);
  });

  it('refuses negative, zero, huge, fractional-fen and non-string amounts', async () => {
    const before = await allBalances(url());
    for (const amount of [
      '-1.00',
      '0',
      '0.00',
      '99999999999999999.00',
      '1000000000.01',
      '1.001',
      '1e3',
      ' 1.00',
      1,
      null,
    ]) {
      await refused(call(url(), 'POST', '/banks/ICBC/payouts', payoutBody(amount)), 400, 'INVALID_AMOUNT');
    }
    await refused(
      call(url(), 'POST', '/banks/ICBC/gateway/orders', { order_no: orderNo('G'), amount: '-5.00', subject: 'x' }),
      400,
      'INVALID_AMOUNT',
    );
    expect(await allBalances(url())).toEqual(before);
  });

  it('refuses malformed JSON, missing or malformed fields, and bad content types', async () => {
    const before = await allBalances(url());
    await refused(
      call(url(), 'POST', '/banks/ICBC/payouts', undefined, { raw: '{"order_no": ' }),
      400,
      'INVALID_REQUEST',
    );
    await refused(call(url(), 'POST', '/banks/ICBC/payouts', undefined, { raw: '[1,2]' }), 400, 'INVALID_REQUEST');
    await refused(call(url(), 'POST', '/banks/ICBC/payouts', { amount: '1.00' }), 400, 'INVALID_REQUEST');
    await refused(
      call(url(), 'POST', '/banks/ICBC/payouts', { ...payoutBody('1.00'), card_no: 'abc' }),
      400,
      'INVALID_REQUEST',
    );
    await refused(
      call(url(), 'POST', '/banks/ICBC/payouts', { ...payoutBody('1.00'), order_no: 'a b' }),
      400,
      'INVALID_REQUEST',
    );
    await refused(
      call(url(), 'POST', '/banks/ICBC/payouts', { ...payoutBody('1.00'), notify_url: 'javascript:alert(1)' }),
      400,
      'INVALID_REQUEST',
    );
    await refused(
      call(url(), 'POST', '/banks/ICBC/payouts', undefined, {
        raw: 'order_no=1',
        headers: { 'content-type': 'text/plain' },
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    await refused(
      call(url(), 'POST', '/banks/ICBC/payouts/batches', { batch_no: 'B1', items: [] }),
      400,
      'INVALID_REQUEST',
    );
    const many = Array.from({ length: 1001 }, (_, i) => payoutBody('1.00', `MANY${i}`));
    await refused(
      call(url(), 'POST', '/banks/ICBC/payouts/batches', { batch_no: 'B2', items: many }),
      400,
      'BATCH_TOO_LARGE',
    );
    await refused(call(url(), 'GET', '/banks/ICBC/orders/NO_SUCH_ORDER'), 404, 'ORDER_NOT_FOUND');
    await refused(
      call(url(), 'POST', '/banks/ICBC/withholdings', { order_no: 'W1', agreement_no: 'NOPE', amount: '1.00' }),
      404,
      'AGREEMENT_NOT_FOUND',
    );
    expect(await allBalances(url())).toEqual(before);
    const statement = await call(
      url(),
      'GET',
      `/banks/ICBC/statements/${new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10)}`,
    );
    expect(statement.text.trim().split('\n')).toHaveLength(1);
  });

  it('answers an unknown payment page with 404', async () => {
    expect((await fetch(`${url()}/banks/ICBC/gateway/pay/0000`)).status).toBe(404);
  });
});
