import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import { beijingTime } from '../core/time.ts';
import { isMembersError, type Members } from '../members/index.ts';
import { TradeError, type Trades, type TradeView } from '../trades/index.ts';

/** What the cashier page needs. */
export interface CashierDeps {
  trades: Trades;
  members: Members;
  /** Signs the return_url parameters with the platform key, as Alipay signs them. */
  signReturn(params: Record<string, string>): Record<string, string>;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Paybao</title>
<style>
  :root { --blue: #1677ff; --ink: #1f2329; --muted: #646a73; --line: #e5e6eb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "PingFang SC", "Noto Sans CJK SC", sans-serif;
         color: var(--ink); background: linear-gradient(180deg, #eaf2ff 0, #f5f7fa 240px); min-height: 100vh; }
  header { padding: 20px 24px; font-weight: 700; font-size: 20px; color: var(--blue); letter-spacing: .5px; }
  main { max-width: 420px; margin: 24px auto; padding: 0 16px; }
  .card { background: #fff; border-radius: 14px; box-shadow: 0 6px 24px rgba(22,119,255,.08); padding: 28px; }
  .amount { font-size: 40px; font-weight: 700; margin: 4px 0 2px; }
  .amount small { font-size: 20px; margin-right: 4px; }
  .muted { color: var(--muted); font-size: 13px; }
  dl { display: grid; grid-template-columns: auto 1fr; gap: 6px 16px; margin: 20px 0; padding: 16px 0;
       border-top: 1px solid var(--line); border-bottom: 1px solid var(--line); font-size: 14px; }
  dt { color: var(--muted); } dd { margin: 0; text-align: right; word-break: break-all; }
  label { display: block; font-size: 13px; color: var(--muted); margin: 14px 0 6px; }
  input, button { font-family: inherit; }
  input { width: 100%; padding: 12px 14px; border: 1px solid var(--line); border-radius: 10px; font-size: 16px; }
  input:focus { outline: 2px solid rgba(22,119,255,.25); border-color: var(--blue); }
  button { width: 100%; margin-top: 22px; padding: 13px; border: 0; border-radius: 10px; background: var(--blue);
           color: #fff; font-size: 17px; font-weight: 600; cursor: pointer; }
  .error { background: #fff1f0; color: #cf1322; border-radius: 8px; padding: 10px 12px; margin-top: 16px; font-size: 14px; }
  .done { text-align: center; } .done .tick { font-size: 48px; color: #00b42a; }
</style></head>
<body><header>Paybao 收银台 · Cashier</header><main>${body}</main></body></html>`;
}

function tradeCard(t: TradeView, inner: string): string {
  return `<div class="card">
  <div class="muted">${escapeHtml(t.subject)}</div>
  <div class="amount"><small>¥</small>${escapeHtml(t.totalAmount)}</div>
  <dl><dt>Trade</dt><dd>${escapeHtml(t.tradeNo)}</dd><dt>Order</dt><dd>${escapeHtml(t.outTradeNo)}</dd>
  <dt>Status</dt><dd id="status">${escapeHtml(t.status)}</dd></dl>${inner}</div>`;
}

function payForm(t: TradeView, error?: string): string {
  return tradeCard(
    t,
    `<form method="post" action="/cashier/${encodeURIComponent(t.tradeNo)}">
    <label for="phone">Phone</label><input id="phone" name="phone" inputmode="tel" autocomplete="username" required>
    <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
    ${error ? `<div class="error" role="alert">${escapeHtml(error)}</div>` : ''}
    <button type="submit">Pay ¥${escapeHtml(t.totalAmount)} from balance</button></form>
    <p class="muted"><a id="pay-by-card" href="/cashier/${encodeURIComponent(t.tradeNo)}/card">Balance short? Pay with a bound bank card</a></p>`,
  );
}

/**
 * The cashier: where `alipay.trade.page.pay` and `.wap.pay` land the buyer. The buyer logs in
 * with phone and password and pays from the wallet; then the browser goes to the merchant's
 * return_url with Alipay's signed return parameters.
 */
export async function registerCashier(app: FastifyInstance, deps: CashierDeps): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(formbody);
    scope.get<{ Params: { tradeNo: string } }>('/cashier/:tradeNo', async (request, reply) => {
      reply.type('text/html; charset=utf-8');
      const trade = await deps.trades.byTradeNo(request.params.tradeNo).catch(() => null);
      if (!trade) return reply.code(404).send(page('Not found', '<div class="card">No such trade.</div>'));
      if (trade.status !== 'WAIT_BUYER_PAY') return page('Paid', done(trade));
      return page('Pay', payForm(trade));
    });
    scope.post<{ Params: { tradeNo: string }; Body: { phone?: string; password?: string } }>(
      '/cashier/:tradeNo',
      async (request, reply) => {
        reply.type('text/html; charset=utf-8');
        const trade = await deps.trades.byTradeNo(request.params.tradeNo).catch(() => null);
        if (!trade) return reply.code(404).send(page('Not found', '<div class="card">No such trade.</div>'));
        try {
          const user = await deps.members.loginWithPassword(request.body?.phone ?? '', request.body?.password ?? '');
          const paid = await deps.trades.pay(trade.appId, { tradeNo: trade.tradeNo }, user.userId);
          if (paid.returnUrl) return reply.redirect(returnLocation(paid, deps), 302);
          return page('Paid', done(paid));
        } catch (error) {
          if (error instanceof TradeError || isMembersError(error)) {
            return reply.code(400).send(page('Pay', payForm(trade, (error as Error).message)));
          }
          throw error;
        }
      },
    );
  });
}

function done(t: TradeView): string {
  return tradeCard(t, '<div class="done"><div class="tick">✓</div><div>Paid. You may close this page.</div></div>');
}

/** The merchant's return_url with Alipay's return parameters, signed by the platform. */
export function returnLocation(t: TradeView, deps: Pick<CashierDeps, 'signReturn'>): string {
  const params = deps.signReturn({
    charset: 'utf-8',
    out_trade_no: t.outTradeNo,
    method: 'alipay.trade.page.pay.return',
    total_amount: t.totalAmount,
    trade_no: t.tradeNo,
    auth_app_id: t.appId,
    version: '1.0',
    app_id: t.appId,
    seller_id: t.sellerId,
    timestamp: beijingTime(new Date()),
  });
  const url = new URL(t.returnUrl ?? '');
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}
