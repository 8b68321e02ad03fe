/**
 * `alipay.data.dataservice.bill.downloadurl.query` over both protocols with the real alipay-sdk:
 * the link is fetched and its CSV checked (the app's trades of that Beijing day, and nothing
 * else); a forged, foreign or expired link is a 404; bad dates get Alipay's sub codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { limits } from '../../src/core/limits.ts';
import {
  expectFailure,
  newBuyer,
  ok,
  type PlatformGateway,
  protocols,
  startPlatformGateway,
  uniqueNo,
} from './platform-support.ts';

// 2026-11-11 10:00 Beijing time.
const clock = new ManualClock(Date.UTC(2026, 10, 11, 2));
let gw: PlatformGateway;
let buyer: Awaited<ReturnType<typeof newBuyer>>;
const tradesOfA: Array<{ tradeNo: string; outTradeNo: string }> = [];
let tradeOfB = '';

beforeAll(async () => {
  gw = await startPlatformGateway({ clock });
  buyer = await newBuyer(gw.platform, '13900139002', 1_000_000n);
  const pay = async (subject: string, amount: string) => {
    const no = uniqueNo('bill');
    const paid = ok(
      await gw.a.call('legacy', 'alipay.trade.pay', {
        out_trade_no: no,
        scene: 'bar_code',
        auth_code: await buyer.paycode(),
        total_amount: amount,
        subject,
      }),
    );
    tradesOfA.push({ tradeNo: paid.trade_no ?? '', outTradeNo: no });
    return no;
  };
  await pay('Tea, "Longjing" 龙井', '88.88');
  clock.advanceMs(60_000);
  const refunded = await pay('multi\nline', '10.00');
  ok(await gw.a.call('legacy', 'alipay.trade.refund', { out_trade_no: refunded, refund_amount: '4.00' }));
  clock.advanceMs(60_000);
  const waiting = ok(
    await gw.a.call('legacy', 'alipay.trade.create', {
      out_trade_no: uniqueNo('bill'),
      total_amount: '1.00',
      subject: 'w',
    }),
  );
  tradesOfA.push({ tradeNo: waiting.trade_no ?? '', outTradeNo: waiting.out_trade_no ?? '' });
  tradeOfB = ok(
    await gw.b.call('legacy', 'alipay.trade.create', {
      out_trade_no: uniqueNo('b'),
      total_amount: '2.00',
      subject: 'b',
    }),
  ).trade_no as string;
  // The next Beijing day starts at 16:00 UTC: a trade then is on the 12th's bill, not the 11th's.
  clock.advanceMs(14 * 3_600_000);
  ok(
    await gw.a.call('legacy', 'alipay.trade.create', {
      out_trade_no: uniqueNo('next'),
      total_amount: '3.00',
      subject: 'n',
    }),
  );
});

afterAll(async () => {
  await gw.close();
});

/** RFC 4180, enough for the test: quoted fields with doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  expect(field).toBe('');
  return rows;
}

describe.each(protocols)('trade bills over %s', (protocol) => {
  it("serves the app's trades of the Beijing day as CSV behind the link", async () => {
    const answer = ok(
      await gw.a.call(protocol, 'alipay.data.dataservice.bill.downloadurl.query', {
        bill_type: 'trade',
        bill_date: '2026-11-11',
      }),
    );
    expect(answer.bill_download_url).toMatch(new RegExp(`^${gw.base}/bills/[A-Za-z0-9_.-]+\\.csv$`));
    const response = await fetch(answer.bill_download_url ?? '');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${gw.a.appId}_2026-11-11.csv"`);
    const [header, ...rows] = parseCsv(await response.text());
    expect(header).toEqual([
      'trade_no',
      'out_trade_no',
      'subject',
      'total_amount',
      'status',
      'buyer_id',
      'gmt_create',
      'gmt_payment',
      'refunded_amount',
    ]);
    expect(rows.map((r) => r[0])).toEqual(tradesOfA.map((t) => t.tradeNo));
    expect(rows[0]).toEqual([
      tradesOfA[0]?.tradeNo,
      tradesOfA[0]?.outTradeNo,
      'Tea, "Longjing" 龙井',
      '88.88',
      'TRADE_SUCCESS',
      buyer.userId,
      '2026-11-11 10:00:00',
      '2026-11-11 10:00:00',
      '0.00',
    ]);
    expect(rows[1]?.slice(2)).toEqual([
      'multi\nline',
      '10.00',
      'TRADE_SUCCESS',
      buyer.userId,
      '2026-11-11 10:01:00',
      '2026-11-11 10:01:00',
      '4.00',
    ]);
    expect(rows[2]?.slice(3)).toEqual(['1.00', 'WAIT_BUYER_PAY', '', '2026-11-11 10:02:00', '', '0.00']);

    const next = ok(
      await gw.a.call(protocol, 'alipay.data.dataservice.bill.downloadurl.query', {
        bill_type: 'trade',
        bill_date: '2026-11-12',
      }),
    );
    const nextRows = parseCsv(await (await fetch(next.bill_download_url ?? '')).text());
    expect(nextRows).toHaveLength(2);
    const month = ok(
      await gw.a.call(protocol, 'alipay.data.dataservice.bill.downloadurl.query', {
        bill_type: 'trade',
        bill_date: '2026-11',
      }),
    );
    expect(parseCsv(await (await fetch(month.bill_download_url ?? '')).text())).toHaveLength(5);
  });

  it('gives app B its own bill only, and a link edited to name app A is a 404', async () => {
    const answer = ok(
      await gw.b.call(protocol, 'alipay.data.dataservice.bill.downloadurl.query', {
        bill_type: 'trade',
        bill_date: '2026-11-11',
      }),
    );
    const url = answer.bill_download_url ?? '';
    const rows = parseCsv(await (await fetch(url)).text());
    expect(rows.slice(1).map((r) => r[0])).toEqual([tradeOfB]);

    const token = /\/bills\/(.+)\.csv$/.exec(url)?.[1] ?? '';
    const [payload = '', signature = ''] = token.split('.');
    const text = Buffer.from(payload, 'base64url').toString();
    expect(text).toContain(gw.b.appId);
    const forged = Buffer.from(text.replace(gw.b.appId, gw.a.appId)).toString('base64url');
    expect((await fetch(`${gw.base}/bills/${forged}.${signature}.csv`)).status).toBe(404);
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BA' : 'AA'}`;
    expect((await fetch(`${gw.base}/bills/${payload}.${flipped}.csv`)).status).toBe(404);
    expect((await fetch(`${gw.base}/bills/${payload}.${signature}.txt`)).status).toBe(404);
    expect((await fetch(`${gw.base}/bills/nothing.csv`)).status).toBe(404);
  });

  it('expires the link after limits.billLinkTtlMs', async () => {
    const answer = ok(
      await gw.a.call(protocol, 'alipay.data.dataservice.bill.downloadurl.query', {
        bill_type: 'trade',
        bill_date: '2026-11-11',
      }),
    );
    const url = answer.bill_download_url ?? '';
    clock.advanceMs(limits.billLinkTtlMs - 1);
    expect((await fetch(url)).status).toBe(200);
    clock.advanceMs(1);
    expect((await fetch(url)).status).toBe(404);
  });

  it("answers Alipay's sub codes for bad types and dates", async () => {
    const query = (biz: Record<string, unknown>) =>
      gw.a.call(protocol, 'alipay.data.dataservice.bill.downloadurl.query', biz);
    for (const biz of [
      { bill_type: 'signcustomer', bill_date: '2026-11-11' },
      { bill_type: 'trade', bill_date: '2026-02-30' },
      { bill_type: 'trade', bill_date: '20261111' },
      { bill_type: 'trade', bill_date: '2026-13' },
      { bill_type: 'trade' },
    ]) {
      expectFailure(await query(biz), protocol, 'isv.invalid_arguments');
    }
    expectFailure(await query({ bill_type: 'trade', bill_date: '2026-11-30' }), protocol, 'isp.bill_not_exist');
  });
});
