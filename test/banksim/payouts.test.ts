/**
 * Payouts from the platform's settlement account to customer cards, single and in batches,
 * idempotent by order (and batch) number; and the daily statement, which lists every order.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { balanceOf, call, icbcCard, icbcCard2, orderNo, useBankSim } from './support.ts';

const clock = new ManualClock();
const { url } = useBankSim({ clock });
const payout = (no: string, amount: string, cardNo = icbcCard2, name = 'Li Si') =>
  call(url(), 'POST', '/banks/ICBC/payouts', { order_no: no, card_no: cardNo, name, amount });

describe('payouts', () => {
  it('pays a customer from the settlement account', async () => {
    const before = await balanceOf(url(), 'ICBC', icbcCard2);
    const settlement = await balanceOf(url(), 'ICBC', 'SETTLE-paybao');
    const no = orderNo('P');
    const paid = await payout(no, '1234.56');
    expect(paid.json).toMatchObject({ order_no: no, kind: 'PAYOUT', status: 'SUCCESS', amount: '1234.56' });
    expect(await balanceOf(url(), 'ICBC', icbcCard2)).toBe((Number(before) + 1234.56).toFixed(2));
    expect(await balanceOf(url(), 'ICBC', 'SETTLE-paybao')).toBe((Number(settlement) - 1234.56).toFixed(2));
  });

  it('fails a payout to an unknown card, to the wrong name and over the payout limit, moving nothing', async () => {
    const before = await balanceOf(url(), 'ICBC', icbcCard2);
    expect((await payout(orderNo('P'), '1.00', '6222029999999999')).json.fail_code).toBe('CARD_NOT_FOUND');
    expect((await payout(orderNo('P'), '1.00', icbcCard2, 'Zhang San')).json.fail_code).toBe('NAME_MISMATCH');
    expect((await payout(orderNo('P'), '500000.01')).json.fail_code).toBe('PAYOUT_LIMIT_EXCEEDED');
    expect(await balanceOf(url(), 'ICBC', icbcCard2)).toBe(before);
  });

  it('is idempotent by order number: the same request answers the same order, another is refused', async () => {
    const no = orderNo('P');
    const first = await payout(no, '10.00');
    const before = await balanceOf(url(), 'ICBC', icbcCard2);
    expect((await payout(no, '10.00')).json).toEqual(first.json);
    expect(await balanceOf(url(), 'ICBC', icbcCard2)).toBe(before);
    const other = await payout(no, '11.00');
    expect(other.status).toBe(409);
    expect(other.json.code).toBe('ORDER_PARAMS_CONFLICT');
  });

  it('pays a batch item by item, replays it, and answers it by batch number', async () => {
    const batchNo = orderNo('BATCH');
    const items = [
      { order_no: orderNo('BP'), card_no: icbcCard, name: 'Zhang San', amount: '1.00' },
      { order_no: orderNo('BP'), card_no: icbcCard2, name: 'Li Si', amount: '2.00' },
      { order_no: orderNo('BP'), card_no: icbcCard2, name: 'Nobody', amount: '3.00' },
    ];
    const batch = await call(url(), 'POST', '/banks/ICBC/payouts/batches', { batch_no: batchNo, items });
    expect(batch.status).toBe(200);
    expect((batch.json.items as { status: string }[]).map((i) => i.status)).toEqual(['SUCCESS', 'SUCCESS', 'FAILED']);
    const replay = await call(url(), 'POST', '/banks/ICBC/payouts/batches', { batch_no: batchNo, items });
    expect(replay.json).toEqual(batch.json);
    const changed = await call(url(), 'POST', '/banks/ICBC/payouts/batches', {
      batch_no: batchNo,
      items: [{ ...items[0], amount: '9.00' }],
    });
    expect(changed.status).toBe(409);
    expect((await call(url(), 'GET', `/banks/ICBC/payouts/batches/${batchNo}`)).json).toEqual(batch.json);
  });

  it('lists every order of the day in the statement, with serial, order number, amount, status and time', async () => {
    const gateway = await call(url(), 'POST', '/banks/ICBC/gateway/orders', {
      order_no: orderNo('G'),
      amount: '5.00',
      subject: 'x',
    });
    expect(gateway.status).toBe(200);
    const statement = await call(url(), 'GET', '/banks/ICBC/statements/2026-11-11');
    expect(statement.status).toBe(200);
    const [header, ...lines] = statement.text.trim().split('\n');
    expect(header).toBe('bank_serial,order_no,kind,amount,status,time');
    // Every order made in this file: 1 + 3 + 1 + 3 + 1 gateway; replays and conflicts add none.
    expect(lines).toHaveLength(9);
    const byOrder = new Map(lines.map((l) => [l.split(',')[1], l.split(',')]));
    expect(byOrder.get(String(gateway.json.order_no))).toEqual([
      gateway.json.bank_serial,
      gateway.json.order_no,
      'GATEWAY',
      '5.00',
      'PROCESSING',
      '2026-11-11 08:00:00',
    ]);
    expect((await call(url(), 'GET', '/banks/ICBC/statements/2026-11-12')).text.trim().split('\n')).toHaveLength(1);
    expect((await call(url(), 'GET', '/banks/ICBC/statements/2026-13-45')).status).toBe(400);
  });
});
