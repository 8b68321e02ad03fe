/**
 * Every server process runs the background jobs (src/server/main.ts): the timeout sweep, the
 * escrow and after-sale sweeps, settlement and the notification outbox. Two platforms on one
 * PostgreSQL database stand for two processes (each with its own pool, ledger cache and batchers)
 * running every job at once, twice: each trade must move once, each refund and payout be paid
 * once, each notification be posted once, and the books balance. PostgreSQL only: a PGlite
 * database belongs to one process.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { NotificationDispatcher } from '../../src/notifications/index.ts';
import type { Platform } from '../../src/platform.ts';
import { engine, freshPlatform, freshSchema } from '../support/engine.ts';
import { advanceDays, marketplace } from './escrow-support.ts';

const UNPAID = 20;
const SHIPPED = 20;
const CASES = 8;

/** How many transitions of these trades (or cases) went to `to`, per subject. */
async function movesTo(
  p: Platform,
  table: 'trade_transitions' | 'after_sale_transitions',
  subjects: string[],
  to: string,
) {
  const column = table === 'trade_transitions' ? 'trade_no' : 'subject';
  const rows = await p.db.query<{ subject: string; n: bigint }>(
    `select ${column} as subject, count(*)::int8 as n from ${table}
     where ${column} = any($1::text[]) and to_status = $2 group by ${column}`,
    [subjects, to],
  );
  return new Map(rows.map((r) => [r.subject, Number(r.n)]));
}

describe.skipIf(engine !== 'postgres')('background jobs in two processes on one database', () => {
  it('sweeps, settlements and the outbox run in both at once: every trade moves once, money once', async () => {
    const clock = new ManualClock();
    const schema = freshSchema();
    const a = await freshPlatform({ clock, schema });
    const b = await freshPlatform({ clock, schema });
    try {
      const shop = await marketplace(a, { feeBps: 100, confirmDays: 10 });
      const buyer = await shop.buyer('10000.00');
      const unpaid: string[] = [];
      for (let i = 0; i < UNPAID; i++) {
        const t = await a.trades.create({
          appId: shop.appId,
          outTradeNo: `unpaid-${i}`,
          totalAmount: '1.00',
          subject: 'never paid',
          timeoutExpress: '30m',
        });
        unpaid.push(t.tradeNo);
      }
      const shipped: string[] = [];
      for (let i = 0; i < SHIPPED; i++) shipped.push(await shop.shippedTrade(buyer.userId, '10.00'));
      const cased: string[] = [];
      const cases: string[] = [];
      for (let i = 0; i < CASES; i++) {
        const tradeNo = await shop.shippedTrade(buyer.userId, '10.00');
        cased.push(tradeNo);
        const c = await a.afterSale.requestRefund(buyer.actor, { tradeNo }, { amount: '4.00', reason: 'late' });
        cases.push(c.caseNo);
      }
      const paidOut = await shop.balance(buyer.userId);

      // Past the timeouts, the auto-confirm (10 days) and the seller's 5 days to answer: every
      // job in both processes at once, twice; then past the grace the cased trades get.
      const jobs = (p: Platform) => [p.trades.sweep(), p.escrow.sweepAll(), p.afterSale.sweep(), p.settlements.run()];
      for (const days of [11, 4]) {
        advanceDays(clock, days);
        await Promise.all([...jobs(a), ...jobs(b), ...jobs(a), ...jobs(b)]);
        await Promise.all([a.settlements.run(), b.settlements.run()]);
      }

      expect([...(await movesTo(a, 'trade_transitions', unpaid, 'TRADE_CLOSED')).values()]).toEqual(
        Array(UNPAID).fill(1),
      );
      const finished = await movesTo(a, 'trade_transitions', [...shipped, ...cased], 'TRADE_FINISHED');
      expect(finished.size).toBe(SHIPPED + CASES);
      expect([...finished.values()].every((n) => n === 1)).toBe(true);
      const refunded = await movesTo(a, 'after_sale_transitions', cases, 'REFUND_SUCCESS');
      expect([...refunded.values()]).toEqual(Array(CASES).fill(1));
      expect(await shop.balance(buyer.userId)).toBe((Number(paidOut) + CASES * 4).toFixed(2));

      // Each released trade in exactly one settlement; the seller got each payout once.
      const items = await a.db.query<{ trade_no: string; n: bigint }>(
        'select trade_no, count(*)::int8 as n from settlement_items group by trade_no',
      );
      expect(items).toHaveLength(SHIPPED + CASES);
      expect(items.every((i) => i.n === 1n)).toBe(true);
      const [net] = await a.db.query<{ fen: bigint }>(
        `select coalesce(sum(payout_fen), 0)::int8 as fen from settlements`,
      );
      // 20 × 10.00 and 8 × 6.00, less 1% each.
      expect(net?.fen).toBe(20n * 990n + 8n * 594n);
      expect(await shop.balance(shop.sellerId)).toBe('245.52');
      expect(await shop.unsettled()).toBe('0.00');

      // The outbox: both processes dispatch at once; every notification is posted exactly once.
      const posted = new Map<string, number>();
      const channel = {
        notifyUrlOf: async () => 'http://merchant.invalid/notify',
        sign: (form: Record<string, string>) => ({ ...form, sign: 'x' }),
        post: async (_url: string, form: Record<string, string>) => {
          const key = JSON.stringify(form);
          posted.set(key, (posted.get(key) ?? 0) + 1);
          await new Promise((resolve) => setTimeout(resolve, 1));
          return 'success';
        },
      };
      const dispatchers = [a, b].map((p) => new NotificationDispatcher(p.db, clock, channel));
      const delivered = await Promise.all(dispatchers.flatMap((d) => [d.dispatchDue(), d.dispatchDue()]));
      const [outbox] = await a.db.query<{ n: bigint; undelivered: bigint }>(
        `select count(*)::int8 as n, count(*) filter (where delivered_at is null)::int8 as undelivered
         from trade_notifications`,
      );
      expect(outbox?.undelivered).toBe(0n);
      expect(delivered.reduce((x, y) => x + y, 0)).toBe(Number(outbox?.n));
      expect(posted.size).toBe(Number(outbox?.n));
      expect([...posted.values()].every((n) => n === 1)).toBe(true);

      expect(await verifyLedger(a.db)).toEqual([]);
    } finally {
      await b.close();
      await a.close();
    }
  }, 120_000);
});
