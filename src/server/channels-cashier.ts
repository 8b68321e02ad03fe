/**
 * The cashier's bank-card way to pay (`/cashier/:tradeNo/card`), for a buyer whose balance is
 * short: log in with phone and password, pick a bound card, confirm with the SMS code Paybao
 * texts; the shortfall is withheld from the card (a quick-pay top-up, confirmed by the bank)
 * and the trade is then paid from the wallet as on the plain cashier. Nothing is paid unless
 * the bank confirmed the top-up; a retry (same trade, same shortfall) reuses the same channel
 * order, so the card is charged once.
 */
import type { FastifyInstance } from 'fastify';
import { type Channels, isChannelError } from '../channels/index.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import { isMembersError, type Members } from '../members/index.ts';
import { TradeError, type Trades, type TradeView } from '../trades/index.ts';
import { returnLocation } from './cashier.ts';
import { escapeHtml } from './html.ts';
import { acceptPageForms } from './page-forms.ts';

export interface CardCashierDeps {
  trades: Trades;
  members: Members;
  channels: Channels;
  signReturn(params: Record<string, string>): Record<string, string>;
}

function page(title: string, t: TradeView, inner: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Paybao</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:420px;margin:24px auto;padding:0 16px;color:#1f2329}
label{display:block;font-size:13px;color:#646a73;margin:14px 0 6px}input,select{width:100%;padding:12px;font-size:16px;box-sizing:border-box}
button{width:100%;margin-top:22px;padding:13px;border:0;border-radius:10px;background:#1677ff;color:#fff;font-size:17px}
.error{background:#fff1f0;color:#cf1322;border-radius:8px;padding:10px 12px;margin-top:16px}</style></head>
<body><h1>Pay by bank card</h1><p>${escapeHtml(t.subject)} · ¥<span class="amount">${escapeHtml(t.totalAmount)}</span>
· <span id="status">${escapeHtml(t.status)}</span></p>${inner}</body></html>`;
}

const alert = (error?: string) => (error ? `<div class="error" role="alert">${escapeHtml(error)}</div>` : '');

function loginForm(error?: string): string {
  return `<form method="post"><input type="hidden" name="step" value="login">
  <label for="phone">Phone</label><input id="phone" name="phone" inputmode="tel" required>
  <label for="password">Password</label><input id="password" name="password" type="password" required>
  ${alert(error)}<button type="submit">Next: choose a card</button></form>`;
}

function cardForm(
  t: TradeView,
  phone: string,
  cards: { cardId: string; bank: string; cardNo: string }[],
  error?: string,
): string {
  if (cards.length === 0) return `<p role="alert">You have no bound bank card. Bind one in the app first.</p>`;
  const options = cards
    .map((c) => `<option value="${escapeHtml(c.cardId)}">${escapeHtml(c.bank)} ${escapeHtml(c.cardNo)}</option>`)
    .join('');
  return `<form method="post"><input type="hidden" name="step" value="pay"><input type="hidden" name="phone" value="${escapeHtml(phone)}">
  <label for="card_id">Card</label><select id="card_id" name="card_id">${options}</select>
  <label for="sms_code">SMS code sent to your phone</label><input id="sms_code" name="sms_code" inputmode="numeric" required>
  ${alert(error)}<button type="submit">Pay ¥${escapeHtml(t.totalAmount)}</button></form>`;
}

type Body = { step?: string; phone?: string; password?: string; card_id?: string; sms_code?: string };

/** Mounts `/cashier/:tradeNo/card` (GET: the login form; POST: the login step, then the pay step). */
export async function registerCardCashier(app: FastifyInstance, deps: CardCashierDeps): Promise<void> {
  await app.register(async (scope) => {
    acceptPageForms(scope);
    scope.get<{ Params: { tradeNo: string } }>('/cashier/:tradeNo/card', async (request, reply) => {
      reply.type('text/html; charset=utf-8');
      const trade = await deps.trades.byTradeNo(request.params.tradeNo).catch(() => null);
      if (!trade) return reply.code(404).send('No such trade.');
      if (trade.status !== 'WAIT_BUYER_PAY')
        return page('Paid', trade, '<p>This trade is not waiting for payment.</p>');
      return page('Pay by card', trade, loginForm());
    });
    scope.post<{ Params: { tradeNo: string }; Body: Body }>('/cashier/:tradeNo/card', async (request, reply) => {
      reply.type('text/html; charset=utf-8');
      const trade = await deps.trades.byTradeNo(request.params.tradeNo).catch(() => null);
      if (!trade) return reply.code(404).send('No such trade.');
      if (trade.status !== 'WAIT_BUYER_PAY')
        return page('Paid', trade, '<p>This trade is not waiting for payment.</p>');
      const body = request.body ?? {};
      const phone = body.phone ?? '';
      try {
        if (body.step !== 'pay') {
          const user = await deps.members.loginWithPassword(phone, body.password ?? '');
          // A code sent moments ago is still good: the resend limit is no reason to stop.
          await deps.members.sendLoginCode(phone).catch((error: unknown) => {
            if (!isMembersError(error, 'sms_code_too_frequent')) throw error;
          });
          const cards = (await deps.channels.cards.list(user.userId)).filter((c) => c.status === 'ACTIVE');
          return page('Pay by card', trade, cardForm(trade, phone, cards));
        }
        const user = await deps.members.loginWithSmsCode(phone, body.sms_code ?? '');
        const paid = await payWithCard(deps, trade, user.userId, body.card_id ?? '');
        if (paid.returnUrl) return reply.redirect(returnLocation(paid, deps), 302);
        return page('Paid', paid, '<p id="done">Paid. You may close this page.</p>');
      } catch (error) {
        if (error instanceof TradeError || isMembersError(error) || isChannelError(error)) {
          const message = (error as Error).message;
          const form =
            body.step === 'pay' ? cardForm(trade, phone, await activeCards(deps, phone), message) : loginForm(message);
          return reply.code(400).send(page('Pay by card', trade, form));
        }
        throw error;
      }
    });
  });
}

/** The active cards of the member with this phone (none for an unknown phone). */
async function activeCards(deps: CardCashierDeps, phone: string) {
  const user = await deps.members.findUserByPhone(phone).catch(() => null);
  if (!user) return [];
  return (await deps.channels.cards.list(user.userId)).filter((c) => c.status === 'ACTIVE');
}

/** Tops the wallet up by the shortfall from the card (bank-confirmed), then pays the trade. */
async function payWithCard(
  deps: CardCashierDeps,
  trade: TradeView,
  userId: string,
  cardId: string,
): Promise<TradeView> {
  const total = parseAmount(trade.totalAmount) ?? 0n;
  const balance = await deps.members.walletBalance(userId);
  const shortfall = total - balance;
  if (shortfall > 0n) {
    const key = `cashier-${trade.tradeNo}-${shortfall}`;
    let order = await deps.channels.topUpByCard(userId, {
      cardId,
      amount: formatAmount(shortfall),
      idempotencyKey: key,
    });
    if (order.status !== 'SUCCESS' && order.status !== 'FAILED') order = await deps.channels.resolve(order.orderNo);
    if (order.status === 'FAILED')
      throw new TradeError('BUYER_BALANCE_NOT_ENOUGH', `the bank declined the card: ${order.failCode}`);
    if (order.status !== 'SUCCESS')
      throw new TradeError('SYSTEM_ERROR', 'the bank has not confirmed the card payment yet; try again shortly');
  }
  return deps.trades.pay(trade.appId, { tradeNo: trade.tradeNo }, userId);
}
