/**
 * Every open method's `biz_content` meets its schema (src/server/biz-schemas.ts) before the
 * method runs: Alipay's published field limits, checked in one place. Through the real alipay-sdk
 * on both protocols, an over-long out_trade_no, an amount with three places, 0.00, an amount above
 * 100000000, an amount sent as a JSON number, an over-long subject or refund_reason, a malformed
 * timeout_express are each refused with the method's Alipay code (`ACQ.INVALID_PARAMETER`;
 * `ACQ.REASON_TRADE_REFUND_FEE_ERR` for a refund amount, `INVALID_PARAMETER` for a transfer),
 * naming the field, and write nothing: no trade, refund, payout or ledger row, and a payment code
 * sent with a bad trade.pay is not spent. The bounds themselves are accepted, and an optional
 * field sent empty is taken as absent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBizContent } from '../../src/gateway/index.ts';
import { tradeMethods } from '../../src/server/alipay-methods.ts';
import { bizSchemas } from '../../src/server/biz-schemas.ts';
import { creditMethods } from '../../src/server/credit-methods.ts';
import { escrowMethods } from '../../src/server/escrow-methods.ts';
import { preauthMethods } from '../../src/server/preauth-methods.ts';
import { redPacketMethods } from '../../src/server/red-packet-methods.ts';
import { expectFailure, newBuyer, ok, protocols, startPlatformGateway, uniqueNo } from './platform-support.ts';

let gw: Awaited<ReturnType<typeof startPlatformGateway>>;
let buyer: Awaited<ReturnType<typeof newBuyer>>;
let paidNo: string;

const tables = ['trades', 'trade_refunds', 'payouts', 'ledger_transfers', 'trade_transitions'];

async function counts(): Promise<Record<string, number>> {
  const entries = await Promise.all(
    tables.map(async (table) => {
      const [row] = await gw.platform.db.query<{ n: string }>(`select count(*)::text as n from ${table}`);
      return [table, Number(row?.n)] as const;
    }),
  );
  return Object.fromEntries(entries);
}

beforeAll(async () => {
  gw = await startPlatformGateway();
  buyer = await newBuyer(gw.platform, '13600136000', 100_000n);
  paidNo = uniqueNo('paid');
  ok(
    await gw.a.call('legacy', 'alipay.trade.pay', {
      out_trade_no: paidNo,
      scene: 'bar_code',
      auth_code: await buyer.paycode(),
      total_amount: '10.00',
      subject: 's',
    }),
  );
});

afterAll(() => gw.close());

const trade = (fields: Record<string, unknown>) => ({
  out_trade_no: uniqueNo('lim'),
  total_amount: '1.00',
  subject: 's',
  ...fields,
});

describe.each(protocols)('biz_content limits over %s', (protocol) => {
  it.each([
    ['an out_trade_no of 65 characters', { out_trade_no: 'x'.repeat(65) }, 'out_trade_no'],
    ['an out_trade_no with a space', { out_trade_no: 'a b' }, 'out_trade_no'],
    ['an amount with three places', { total_amount: '1.001' }, 'total_amount'],
    ['an amount of 0.00', { total_amount: '0.00' }, 'total_amount'],
    ['an amount above 100000000', { total_amount: '100000000.01' }, 'total_amount'],
    ['an amount as a JSON number with three places', { total_amount: 88.888 }, 'total_amount'],
    ['an amount as a JSON number in exponent form', { total_amount: 1e-7 }, 'total_amount'],
    ['an amount in exponent form', { total_amount: '1e3' }, 'total_amount'],
    ['no subject', { subject: undefined }, 'subject'],
    ['a subject of 257 characters', { subject: '字'.repeat(257) }, 'subject'],
    ['a subject as a fractional number', { subject: 7.5 }, 'subject'],
    ['an out_trade_no as a number past 2^53', { out_trade_no: 2 ** 53 + 2 }, 'out_trade_no'],
    ['a timeout_express with a fraction', { timeout_express: '1.5h' }, 'timeout_express'],
    ['an escrow_trade other than Y or N', { escrow_trade: 'maybe' }, 'escrow_trade'],
  ])('refuses a trade with %s, creating nothing', async (_what, fields, field) => {
    const before = await counts();
    const answer = await gw.a.call(protocol, 'alipay.trade.create', trade(fields));
    expectFailure(answer, protocol, 'ACQ.INVALID_PARAMETER');
    if (protocol === 'legacy') expect(String((answer as { sub_msg?: string }).sub_msg)).toContain(field);
    expect(await counts()).toEqual(before);
  });

  it('takes the bounds: 0.01 and 100000000, a 64-character out_trade_no, a 256-character subject', async () => {
    for (const total_amount of ['0.01', '100000000', '100000000.00']) {
      ok(await gw.a.call(protocol, 'alipay.trade.create', trade({ total_amount })));
    }
    const outTradeNo = `${protocol}-${Date.now()}`.padEnd(64, '0');
    const created = ok(
      await gw.a.call(protocol, 'alipay.trade.create', trade({ out_trade_no: outTradeNo, subject: '字'.repeat(256) })),
    );
    expect(created.out_trade_no).toBe(outTradeNo);
  });

  it('takes amounts and merchant numbers sent as JSON numbers, as Alipay does, to the fen', async () => {
    const outTradeNo = Number(`${Date.now()}${protocol === 'legacy' ? 1 : 2}`);
    const created = ok(
      await gw.a.call(protocol, 'alipay.trade.create', trade({ out_trade_no: outTradeNo, total_amount: 88.88 })),
    );
    expect(created.out_trade_no).toBe(String(outTradeNo));
    const query = ok(await gw.a.call(protocol, 'alipay.trade.query', { out_trade_no: outTradeNo }));
    expect(query.total_amount).toBe('88.88');
    const refund = { out_trade_no: paidNo, refund_amount: 0.1, out_request_no: uniqueNo('n') };
    expect(ok(await gw.a.call(protocol, 'alipay.trade.refund', refund)).refund_fee).toBeDefined();
  });

  it('takes an optional field sent empty as absent, as Alipay does', async () => {
    ok(await gw.a.call(protocol, 'alipay.trade.create', trade({ product_code: '', timeout_express: '' })));
    const refund = { out_trade_no: paidNo, refund_amount: '0.01', out_request_no: uniqueNo('e'), refund_reason: '' };
    ok(await gw.a.call(protocol, 'alipay.trade.refund', refund));
  });

  it('refuses a bad trade.pay before the payment code is spent', async () => {
    const code = await buyer.paycode();
    const before = await counts();
    const bad = { ...trade({ out_trade_no: 'y'.repeat(65) }), scene: 'bar_code', auth_code: code };
    expectFailure(await gw.a.call(protocol, 'alipay.trade.pay', bad), protocol, 'ACQ.INVALID_PARAMETER');
    expectFailure(
      await gw.a.call(protocol, 'alipay.trade.pay', { ...bad, out_trade_no: uniqueNo('p'), scene: 'wave_code' }),
      protocol,
      'ACQ.INVALID_PARAMETER',
    );
    expectFailure(
      await gw.a.call(protocol, 'alipay.trade.pay', { ...trade({}), scene: 'bar_code', auth_code: 1234 }),
      protocol,
      'ACQ.PAYMENT_AUTH_CODE_INVALID',
    );
    expect(await counts()).toEqual(before);
    // The same code still pays.
    ok(await gw.a.call(protocol, 'alipay.trade.pay', { ...bad, out_trade_no: uniqueNo('p') }));
  });

  it.each([
    ['an amount with three places', { refund_amount: '0.001' }, 'ACQ.REASON_TRADE_REFUND_FEE_ERR'],
    ['an amount of 0.00', { refund_amount: '0.00' }, 'ACQ.REASON_TRADE_REFUND_FEE_ERR'],
    ['an amount as a JSON number with three places', { refund_amount: 0.001 }, 'ACQ.REASON_TRADE_REFUND_FEE_ERR'],
    ['no amount', { refund_amount: undefined }, 'ACQ.REASON_TRADE_REFUND_FEE_ERR'],
    ['a refund_reason of 257 characters', { refund_reason: 'r'.repeat(257) }, 'ACQ.INVALID_PARAMETER'],
    ['an out_request_no of 65 characters', { out_request_no: 'r'.repeat(65) }, 'ACQ.INVALID_PARAMETER'],
    ['a trade_no as a fractional number', { out_trade_no: undefined, trade_no: 20.26 }, 'ACQ.INVALID_PARAMETER'],
  ])('refuses a refund with %s, moving nothing', async (_what, fields, subCode) => {
    const before = await counts();
    const refund = { out_trade_no: paidNo, refund_amount: '1.00', out_request_no: uniqueNo('r'), ...fields };
    expectFailure(await gw.a.call(protocol, 'alipay.trade.refund', refund), protocol, subCode);
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['an amount below 0.10', { trans_amount: '0.09' }],
    ['an amount with three places', { trans_amount: '1.001' }],
    ['an amount as a JSON number with three places', { trans_amount: 5.001 }],
    ['an out_biz_no of 65 characters', { out_biz_no: 'b'.repeat(65) }],
    ['no payee_info', { payee_info: undefined }],
    ['a payee_info that is a string', { payee_info: 'someone' }],
  ])('refuses a transfer with %s, moving nothing', async (_what, fields) => {
    const before = await counts();
    const transfer = {
      out_biz_no: uniqueNo('t'),
      trans_amount: '1.00',
      product_code: 'TRANS_ACCOUNT_NO_PWD',
      payee_info: { identity: buyer.userId, identity_type: 'ALIPAY_USER_ID' },
      ...fields,
    };
    expectFailure(await gw.a.call(protocol, 'alipay.fund.trans.uni.transfer', transfer), protocol, 'INVALID_PARAMETER');
    expect(await counts()).toEqual(before);
  });
});

describe('the schemas', () => {
  it('hand the method amounts in fen, leave the request as it came, and name a nested field', () => {
    const biz = {
      trade_no: '1',
      out_request_no: 's-1',
      royalty_parameters: [{ trans_in: '2088000000000001', amount: '1.5' }, { trans_in: '2088000000000002' }],
    };
    const checked = checkBizContent(bizSchemas['alipay.trade.order.settle'], biz);
    expect(checked).toEqual({
      value: {
        ...biz,
        royalty_parameters: [{ ...biz.royalty_parameters[0], amount: 150n }, biz.royalty_parameters[1]],
      },
    });
    expect(biz.royalty_parameters[0]?.amount).toBe('1.5');
    const nested = checkBizContent(bizSchemas['alipay.trade.order.settle'], { ...biz, royalty_parameters: [{}] });
    expect(nested).toMatchObject({
      failure: {
        subCode: 'ACQ.INVALID_PARAMETER',
        subMsg: expect.stringContaining('royalty_parameters.0.trans_in is required'),
      },
    });
  });

  it('cover every gateway method, and nothing else', () => {
    const methods = {
      ...tradeMethods({ ...gw.platform, publicUrl: () => '' }),
      ...escrowMethods(gw.platform),
      ...redPacketMethods(gw.platform),
      ...creditMethods(gw.platform),
      ...preauthMethods(gw.platform),
    };
    expect(Object.keys(bizSchemas).sort()).toEqual(Object.keys(methods).sort());
  });
});
