/**
 * Gateway payment over real HTTP: the platform creates an order, the customer pays on the bank's
 * HTML page with card number and password, the bank calls the platform back (signed, retried)
 * and sends the browser to the return URL with signed parameters; a query then says SUCCESS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCallback, verifyParams } from '../../src/banksim/index.ts';
import { balanceOf, call, callbackReceiver, icbcCard, merchant, orderNo, useBankSim, waitFor } from './support.ts';

const { url } = useBankSim();
let receiver: Awaited<ReturnType<typeof callbackReceiver>>;
beforeAll(async () => {
  receiver = await callbackReceiver();
});
afterAll(() => receiver.close());

async function createOrder(no: string, amount: string, extra: Record<string, string> = {}) {
  return call(url(), 'POST', '/banks/ICBC/gateway/orders', {
    order_no: no,
    amount,
    subject: 'Top-up',
    notify_url: receiver.url,
    return_url: 'https://paybao.example/return?from=bank',
    ...extra,
  });
}

function payOn(payUrl: string, cardNo: string, password: string) {
  return fetch(payUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ card_no: cardNo, password }).toString(),
    redirect: 'manual',
  });
}

describe('gateway payment', () => {
  it('pays on the bank page, calls back signed, redirects signed, and queries SUCCESS', async () => {
    const no = orderNo('G');
    const before = await balanceOf(url(), 'ICBC', icbcCard);
    const created = await createOrder(no, '88.80');
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ order_no: no, amount: '88.80', status: 'PROCESSING', kind: 'GATEWAY' });
    const payUrl = String(created.json.pay_url);
    expect(payUrl.startsWith(url())).toBe(true);

    const page = await fetch(payUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('name="card_no"');

    const paid = await payOn(payUrl, icbcCard, '123456');
    expect(paid.status).toBe(303);
    const back = new URL(String(paid.headers.get('location')));
    expect(back.origin + back.pathname).toBe('https://paybao.example/return');
    const params = Object.fromEntries(back.searchParams);
    expect(params).toMatchObject({ order_no: no, status: 'SUCCESS', amount: '88.80', from: 'bank' });
    const { from: _, ...signed } = params;
    expect(verifyParams(merchant.secret, signed)).toBe(true);
    expect(verifyParams('another-secret-entirely', signed)).toBe(false);

    const callback = await waitFor('the callback', () => receiver.received.find((r) => r.body.includes(no)));
    const headers = callback.headers as Record<string, string>;
    expect(verifyCallback(merchant.secret, headers, callback.body)).toBe(true);
    expect(verifyCallback(merchant.secret, headers, callback.body.replace('88.80', '88.81'))).toBe(false);
    expect(JSON.parse(callback.body)).toMatchObject({ order_no: no, status: 'SUCCESS', amount: '88.80' });

    const queried = await call(url(), 'GET', `/banks/ICBC/orders/${no}`);
    expect(queried.json).toMatchObject({ status: 'SUCCESS', bank_serial: created.json.bank_serial });
    expect(await balanceOf(url(), 'ICBC', icbcCard)).toBe((Number(before) - 88.8).toFixed(2));
  });

  it('keeps the order waiting after a wrong password, and shows the result page after payment', async () => {
    const no = orderNo('G');
    const created = await createOrder(no, '1.00', {});
    const payUrl = String(created.json.pay_url);
    const wrong = await payOn(payUrl, icbcCard, '000000');
    expect(wrong.status).toBe(200);
    expect(await wrong.text()).toContain('Wrong card number or password');
    expect((await call(url(), 'GET', `/banks/ICBC/orders/${no}`)).json.status).toBe('PROCESSING');
    expect((await payOn(payUrl, icbcCard, '123456')).status).toBe(303);
    const again = await fetch(payUrl);
    expect(await again.text()).toContain('Payment successful');
  });

  it('retries a callback the platform refused until it answers success', async () => {
    const flaky = await callbackReceiver(1);
    try {
      const no = orderNo('G');
      const created = await createOrder(no, '2.00', { notify_url: flaky.url });
      await payOn(String(created.json.pay_url), icbcCard, '123456');
      await waitFor('two deliveries', () => (flaky.received.length >= 2 ? true : undefined), 15_000);
      expect(flaky.received.map((r) => JSON.parse(r.body).order_no)).toEqual([no, no]);
    } finally {
      await flaky.close();
    }
  });

  it('fails a payment over the per-payment limit without moving money', async () => {
    const no = orderNo('G');
    const before = await balanceOf(url(), 'ICBC', icbcCard);
    const created = await createOrder(no, '50000.01');
    const paid = await payOn(String(created.json.pay_url), icbcCard, '123456');
    expect(Object.fromEntries(new URL(String(paid.headers.get('location'))).searchParams).status).toBe('FAILED');
    expect((await call(url(), 'GET', `/banks/ICBC/orders/${no}`)).json).toMatchObject({
      status: 'FAILED',
      fail_code: 'PAYMENT_LIMIT_EXCEEDED',
    });
    expect(await balanceOf(url(), 'ICBC', icbcCard)).toBe(before);
  });
});
