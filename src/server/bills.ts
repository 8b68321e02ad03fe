import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { TradeBills } from '../trades/index.ts';

/**
 * `GET /bills/<token>.csv`: the trade bill a `alipay.data.dataservice.bill.downloadurl.query`
 * link points to, streamed as CSV. A malformed, forged or expired token is a plain 404, which
 * tells nobody whether the bill exists.
 */
export async function registerBills(app: FastifyInstance, deps: { bills: TradeBills }): Promise<void> {
  // A wildcard, not `:file`: a token is longer than Fastify's 100-character parameter limit.
  app.get<{ Params: { '*': string } }>('/bills/*', async (request, reply) => {
    const file = request.params['*'];
    const bill = file.endsWith('.csv') ? await deps.bills.open(file.slice(0, -'.csv'.length)) : null;
    if (!bill) return reply.code(404).type('text/plain; charset=utf-8').send('Not found\n');
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${bill.filename}"`)
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .send(Readable.from(bill.lines()));
  });
}
