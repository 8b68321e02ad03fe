/**
 * The cashier's bank-card way to pay (`/cashier/:tradeNo/card`), for a buyer whose balance is
 * short: log in with phone and password, pick a bound card, confirm with the SMS code Paybao
 * texts; the shortfall is withheld from the card (a quick-pay top-up, confirmed by the bank)
 * and the trade is then paid from the wallet as on the plain cashier. Nothing is paid unless
 * the bank confirmed the top-up; a retry (same trade, same shortfall) reuses the same channel
 * order, so the card is charged once.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Channels, isChannelError } from '../channels/index.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import { isMembersError, type Members } from '../members/index.ts';
import { challengeOnly, isRiskError, type Risk } from '../risk/index.ts';
import { TradeError, type Trades, type TradeView } from '../trades/index.ts';
import {
  allowReturn,
  type CashierTrade,
  cashierTrade,
  outcome,
  outcomeTitle,
  returnLocation,
  tradeCard,
} from './cashier.ts';
import { escapeHtml, page as shell } from './html.ts';
import { acceptPageForms } from './page-forms.ts';
import { cashierPayment, refusedPaymentStatus } from './payment-context.ts';
import { clientAddress, csrfField, loginRateLimit, type WebSecurityOptions } from './web-security.ts';

export interface CardCashierDeps {
  trades: Trades;
  members: Members;
  channels: Channels;
  signReturn(params: Record<string, string>): Record<string, string>;
  security: WebSecurityOptions;
  /** Asked before the card pays. */
  risk: Risk;
}

/** The card cashier's page: the shared shell, the trade's card (as the cashier shows it), and the step's form. */
function page(title: string, t: CashierTrade, inner: string): string {
  return shell('Paybao 收银台 · Cashier', title, tradeCard(t, `<h2>银行卡支付 · Pay by bank card</h2>${inner}`));
}

const alert = (error?: string) => (error ? `<div class="error" role="alert">${escapeHtml(error)}</div>` : '');

function loginForm(csrf: string, error?: string): string {
  return `<form method="post">${csrf}<input type="hidden" name="step" value="login">
  <label for="phone">手机号 · Phone</label><input id="phone" name="phone" inputmode="tel" required>
  <label for="password">登录密码 · Password</label><input id="password" name="password" type="password" required>
  ${alert(error)}<button type="submit">Next: choose a card</button></form>`;
}

function cardForm(
  csrf: string,
  t: TradeView,
  phone: string,
  cards: { cardId: string; bank: string; cardNo: string }[],
  error?: string,
): string {
  if (cards.length === 0)
    return `<p role="alert">您还没有绑定银行卡 · You have no bound bank card. <a id="bind-card" href="/app/cards/new">绑定银行卡 · Bind one in the wallet app</a>, then come back to this page.</p>`;
  const options = cards
    .map((c) => `<option value="${escapeHtml(c.cardId)}">${escapeHtml(c.bank)} ${escapeHtml(c.cardNo)}</option>`)
    .join('');
  return `<form method="post">${csrf}<input type="hidden" name="step" value="pay"><input type="hidden" name="phone" value="${escapeHtml(phone)}">
  <label for="card_id">Card</label><select id="card_id" name="card_id">${options}</select>
  <label for="sms_code">SMS code sent to your phone</label><input id="sms_code" name="sms_code" inputmode="numeric" required>
  ${alert(error)}<button type="submit">Pay ¥${escapeHtml(t.totalAmount)}</button></form>`;
}

const noSuchTrade = shell(
  'Paybao 收银台 · Cashier',
  'Not found',
  '<div class="card">没有这笔交易 · No such trade.</div>',
);

type Body = { step?: string; phone?: string; password?: string; card_id?: string; sms_code?: string };

/** Mounts `/cashier/:tradeNo/card` (GET: the login form; POST: the login step, then the pay step). */
export async function registerCardCashier(app: FastifyInstance, deps: CardCashierDeps): Promise<void> {
  await app.register(async (scope) => {
    acceptPageForms(scope);
    scope.get<{ Params: { tradeNo: string } }>('/cashier/:tradeNo/card', async (request, reply) => {
      reply.type('text/html; charset=utf-8');
      const trade = await cashierTrade(deps, request.params.tradeNo);
      if (!trade) return reply.code(404).send(noSuchTrade);
      if (trade.status !== 'WAIT_BUYER_PAY')
        return shell('Paybao 收银台 · Cashier', outcomeTitle(trade), outcome(trade));
      allowReturn(reply, trade, deps.security);
      return page('Pay by card', trade, loginForm(csrfField(reply)));
    });
    scope.post<{ Params: { tradeNo: string }; Body: Body }>(
      '/cashier/:tradeNo/card',
      { config: { rateLimit: loginRateLimit } },
      (request, reply) => step(deps, request, reply),
    );
  });
}

/** One POST of the card cashier: the login step (password, then an SMS code is sent) or the pay step. */
async function step(
  deps: CardCashierDeps,
  request: FastifyRequest<{ Params: { tradeNo: string }; Body: Body }>,
  reply: FastifyReply,
): Promise<FastifyReply | string> {
  reply.type('text/html; charset=utf-8');
  const trade = await cashierTrade(deps, request.params.tradeNo);
  if (!trade) return reply.code(404).send(noSuchTrade);
  if (trade.status !== 'WAIT_BUYER_PAY') return shell('Paybao 收银台 · Cashier', outcomeTitle(trade), outcome(trade));
  allowReturn(reply, trade, deps.security);
  const body = request.body ?? {};
  const phone = body.phone ?? '';
  try {
    if (body.step !== 'pay') {
      const user = await deps.members.loginWithPassword(phone, body.password ?? '', {
        clientAddress: clientAddress(request),
      });
      // A code sent moments ago is still good: the resend limit is no reason to stop.
      await deps.members.sendLoginCode(phone).catch((error: unknown) => {
        if (!isMembersError(error, 'sms_code_too_frequent')) throw error;
      });
      const cards = (await deps.channels.cards.list(user.userId)).filter((c) => c.status === 'ACTIVE');
      return page('Pay by card', trade, cardForm(csrfField(reply), trade, phone, cards));
    }
    const user = await deps.members.loginWithSmsCode(phone, body.sms_code ?? '');
    // The SMS code just given is the confirmation a challenge would ask for: it counts as one.
    await deps.risk.assess(cashierPayment('quick_pay', trade, user.userId, request, trade.tradeNo, body.card_id), {
      supports: challengeOnly,
      fingerprint: `${trade.tradeNo}/${body.card_id}`,
      steppedUp: true,
    });
    const paid = { ...(await payWithCard(deps, trade, user.userId, body.card_id ?? '')), payee: trade.payee };
    if (paid.returnUrl) return reply.redirect(returnLocation(paid, deps), 302);
    return shell('Paybao 收银台 · Cashier', outcomeTitle(paid), outcome(paid));
  } catch (error) {
    if (error instanceof TradeError || isMembersError(error) || isChannelError(error) || isRiskError(error)) {
      const message = (error as Error).message;
      const csrf = csrfField(reply);
      const form =
        body.step === 'pay'
          ? cardForm(csrf, trade, phone, await activeCards(deps, phone), message)
          : loginForm(csrf, message);
      const status = refusedPaymentStatus(error);
      return reply.code(status).send(page('Pay by card', trade, form));
    }
    throw error;
  }
}

/** The active cards of the member with this phone (none for an unknown phone). */
async function activeCards(deps: CardCashierDeps, phone: string) {
  const user = await deps.members.findUserByPhone(phone).catch((error: unknown) => {
    if (isMembersError(error, 'user_not_found')) return null;
    throw error;
  });
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
