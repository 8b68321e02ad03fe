import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseAmount } from '../core/money.ts';
import { beijingTime } from '../core/time.ts';
import { isFundError } from '../fund/index.ts';
import { isMembersError, type Members } from '../members/index.ts';
import { isPreauthError, type OrderView, type Preauths } from '../preauth/index.ts';
import { challengeOnly, isRiskError, type Risk } from '../risk/index.ts';
import { TradeError, type Trades, type TradeView } from '../trades/index.ts';
import { escapeHtml, page } from './html.ts';
import { acceptPageForms } from './page-forms.ts';
import { tradeStatusWords } from './page-words.ts';
import { cashierPayment, refusedPaymentStatus } from './payment-context.ts';
import { clientAddress, csrfField, loginRateLimit, pagePolicy, type WebSecurityOptions } from './web-security.ts';

/** What the cashier page needs. */
export interface CashierDeps {
  trades: Trades;
  members: Members;
  /** Signs the return_url parameters with the platform key, as Alipay signs them. */
  signReturn(params: Record<string, string>): Record<string, string>;
  /** Where the platform is reached (the pages' policy and cookies follow it). */
  security: WebSecurityOptions;
  /** Whether the buyer's Yu'e Bao (holdings and pool) covers `fen` now. */
  fundCovers(userId: string, fen: bigint): Promise<boolean>;
  /** Asked before the buyer's payment moves money. */
  risk: Risk;
  /** App freezes the payer confirms here (`alipay.fund.auth.order.app.freeze`). */
  preauth: Preauths;
}

const cashierPage = (title: string, body: string) => page('Paybao 收银台 · Cashier', title, body);

/** A trade as the cashier shows it: with the name of the merchant the buyer pays. */
export type CashierTrade = TradeView & { payee: string };

/** The trade in a card: whom the buyer pays, what for, how much, its numbers and its status in words. */
export function tradeCard(t: CashierTrade, inner: string): string {
  return `<div class="card">
  <div class="payee">付款给 · Pay to <strong id="payee">${escapeHtml(t.payee)}</strong></div>
  <div class="muted">${escapeHtml(t.subject)}</div>
  <div class="amount"><small>¥</small>${escapeHtml(t.totalAmount)}</div>
  <dl><dt>交易号<span class="en">Trade</span></dt><dd class="num">${escapeHtml(t.tradeNo)}</dd>
  <dt>订单号<span class="en">Order</span></dt><dd class="num">${escapeHtml(t.outTradeNo)}</dd>
  <dt>状态<span class="en">Status</span></dt><dd id="status" data-status="${escapeHtml(t.status)}">${escapeHtml(tradeStatusWords(t.status))}</dd></dl>${inner}</div>`;
}

/**
 * The pay form: the buyer logs in and chooses how to pay, the balance or Yu'e Bao (the whole
 * amount, its shares redeemed in the payment's own chain). The cashier does not know the buyer
 * before the login, so both are offered; after a short balance that the buyer's Yu'e Bao covers,
 * the fund comes first.
 */
function payForm(t: CashierTrade, csrf: string, error?: string, fundFirst = false): string {
  const amount = escapeHtml(t.totalAmount);
  const balanceButton = `<button type="submit" id="pay-balance" name="method" value="balance"${fundFirst ? ' class="secondary"' : ''}>余额支付 · Balance ¥${amount}</button>`;
  const fundButton = `<button type="submit" id="pay-fund" name="method" value="fund"${fundFirst ? '' : ' class="secondary"'}>余额宝支付 · Yu'e Bao ¥${amount}</button>`;
  return tradeCard(
    t,
    `<form method="post" action="/cashier/${encodeURIComponent(t.tradeNo)}">${csrf}
    <label for="phone">手机号 · Phone</label><input id="phone" name="phone" inputmode="tel" autocomplete="username" required>
    <label for="password">登录密码 · Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
    ${error ? `<div class="error" role="alert">${escapeHtml(error)}</div>` : ''}
    ${fundFirst ? fundButton + balanceButton : balanceButton + fundButton}
    <p class="muted">余额宝付款不占快速转出额度 · Paying from Yu'e Bao redeems the shares at once and does not count against the fast-redemption limit.</p></form>
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
    acceptPageForms(scope);
    scope.get<{ Params: { tradeNo: string } }>('/cashier/:tradeNo', async (request, reply) => {
      reply.type('text/html; charset=utf-8');
      const trade = await cashierTrade(deps, request.params.tradeNo);
      if (!trade) return reply.code(404).send(cashierPage('Not found', notFound));
      if (trade.status !== 'WAIT_BUYER_PAY') return cashierPage(outcomeTitle(trade), outcome(trade));
      allowReturn(reply, trade, deps.security);
      return cashierPage('Pay', payForm(trade, csrfField(reply)));
    });
    scope.post<{ Params: { tradeNo: string }; Body: PayBody }>(
      '/cashier/:tradeNo',
      { config: { rateLimit: loginRateLimit } },
      (request, reply) => pay(deps, request, reply),
    );
    scope.get<{ Params: { authNo: string } }>('/cashier/freeze/:authNo', async (request, reply) => {
      reply.type('text/html; charset=utf-8');
      const order = await freezeOrNull(deps.preauth, request.params.authNo);
      if (!order) return reply.code(404).send(cashierPage('Not found', '<div class="card">No such freeze.</div>'));
      if (order.status !== 'INIT') return cashierPage('Freeze', freezeDone(order));
      return cashierPage('Freeze', freezeForm(order, csrfField(reply)));
    });
    scope.post<{ Params: { authNo: string }; Body: PayBody }>(
      '/cashier/freeze/:authNo',
      { config: { rateLimit: loginRateLimit } },
      (request, reply) => confirmFreeze(deps, request, reply),
    );
    scope.post<{ Params: { tradeNo: string }; Body: ConfirmBody }>(
      '/cashier/:tradeNo/confirm',
      { config: { rateLimit: loginRateLimit } },
      (request, reply) => confirm(deps, request, reply),
    );
  });
  // A payment the buyer confirmed with the texted code: paid as they chose (`<trade>/<method>`).
  deps.risk.onConfirmed('cashier_pay', async (ref, buyerId) => {
    const [tradeNo = '', method] = ref.split('/');
    const trade = await deps.trades.byTradeNo(tradeNo);
    return deps.trades.pay(trade.appId, { tradeNo }, buyerId, undefined, { fromFund: method === 'fund' });
  });
}

type ConfirmBody = { challenge_id?: string; code?: string };

/** The form for the code texted to the buyer when the risk engine asks them to confirm. */
function confirmForm(t: CashierTrade, csrf: string, challengeId: string, error?: string): string {
  return tradeCard(
    t,
    `<form method="post" action="/cashier/${encodeURIComponent(t.tradeNo)}/confirm">${csrf}
    <p id="confirm-note">为了您的资金安全，请输入短信验证码 · For your security, enter the code we texted to your phone.</p>
    <input type="hidden" name="challenge_id" value="${escapeHtml(challengeId)}">
    <label for="code">验证码 · Code</label><input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required>
    ${error ? `<div class="error" role="alert">${escapeHtml(error)}</div>` : ''}
    <button type="submit" id="confirm">确认付款 · Confirm ¥${escapeHtml(t.totalAmount)}</button></form>`,
  );
}

/** The buyer's code: the payment goes on; a wrong code asks again, a dead confirmation starts over. */
async function confirm(
  deps: CashierDeps,
  request: FastifyRequest<{ Params: { tradeNo: string }; Body: ConfirmBody }>,
  reply: FastifyReply,
): Promise<FastifyReply | string> {
  const trade = await postedTrade(deps, request.params.tradeNo, reply);
  if (!trade) return reply;
  const challengeId = request.body?.challenge_id ?? '';
  try {
    const { result } = await deps.risk.confirm(challengeId, request.body?.code ?? '');
    const paid = { ...(result as TradeView), payee: trade.payee };
    if (paid.returnUrl) return reply.redirect(returnLocation(paid, deps), 302);
    return cashierPage(outcomeTitle(paid), outcome(paid));
  } catch (error) {
    if (isRiskError(error, 'challenge_code_invalid')) {
      return reply
        .code(400)
        .send(cashierPage('Confirm', confirmForm(trade, csrfField(reply), challengeId, error.message)));
    }
    if (isRiskError(error) || error instanceof TradeError || isFundError(error)) {
      return reply.code(400).send(cashierPage('Pay', payForm(trade, csrfField(reply), (error as Error).message)));
    }
    throw error;
  }
}

type PayBody = { phone?: string; password?: string; method?: string };

/** The trade a cashier form was posted for (its return_url allowed), or null with a 404 page sent. */
async function postedTrade(deps: CashierDeps, tradeNo: string, reply: FastifyReply): Promise<CashierTrade | null> {
  reply.type('text/html; charset=utf-8');
  const trade = await cashierTrade(deps, tradeNo);
  if (!trade) {
    reply.code(404).send(cashierPage('Not found', notFound));
    return null;
  }
  allowReturn(reply, trade, deps.security);
  return trade;
}

/**
 * The buyer's login and payment from the wallet or the fund; a refusal renders the form again
 * with its reason (a short balance puts the fund first).
 */
async function pay(
  deps: CashierDeps,
  request: FastifyRequest<{ Params: { tradeNo: string }; Body: PayBody }>,
  reply: FastifyReply,
): Promise<FastifyReply | string> {
  const trade = await postedTrade(deps, request.params.tradeNo, reply);
  if (!trade) return reply;
  let userId: string | undefined;
  try {
    const user = await deps.members.loginWithPassword(request.body?.phone ?? '', request.body?.password ?? '', {
      clientAddress: clientAddress(request),
    });
    userId = user.userId;
    const fromFund = request.body?.method === 'fund';
    const method = fromFund ? 'fund' : 'balance';
    try {
      // The buyer is here: a review is asked as a confirmation by code.
      await deps.risk.assess(cashierPayment('cashier_pay', trade, user.userId, request, `${trade.tradeNo}/${method}`), {
        supports: challengeOnly,
        fingerprint: `${trade.tradeNo}/${method}`,
      });
    } catch (error) {
      if (!isRiskError(error, 'challenge_required') || error.challengeId === undefined) throw error;
      return cashierPage('Confirm', confirmForm(trade, csrfField(reply), error.challengeId));
    }
    const paid = {
      ...(await deps.trades.pay(trade.appId, { tradeNo: trade.tradeNo }, user.userId, undefined, { fromFund })),
      payee: trade.payee,
    };
    if (paid.returnUrl) return reply.redirect(returnLocation(paid, deps), 302);
    return cashierPage(outcomeTitle(paid), outcome(paid));
  } catch (error) {
    if (error instanceof TradeError || isMembersError(error) || isFundError(error) || isRiskError(error)) {
      const status = refusedPaymentStatus(error);
      // A short balance whose Yu'e Bao covers the trade: the fund is offered first.
      const offerFund =
        error instanceof TradeError &&
        error.code === 'BUYER_BALANCE_NOT_ENOUGH' &&
        userId !== undefined &&
        (await deps.fundCovers(userId, parseAmount(trade.totalAmount) ?? 0n));
      const message = offerFund
        ? "余额不足，余额宝可付 · The balance is short; your Yu'e Bao covers it: pay from Yu'e Bao."
        : (error as Error).message;
      return reply.code(status).send(cashierPage('Pay', payForm(trade, csrfField(reply), message, offerFund)));
    }
    throw error;
  }
}

/**
 * The page that holds the pay form may send the browser on to the trade's return_url: the
 * policy's form-action names its origin, or Chrome would block the redirect after the post.
 */
export function allowReturn(reply: FastifyReply, trade: TradeView, security: WebSecurityOptions): void {
  if (!trade.returnUrl) return;
  let origin: string;
  try {
    origin = new URL(trade.returnUrl).origin;
  } catch {
    return;
  }
  if (origin !== 'null') reply.header('content-security-policy', pagePolicy(security, [origin]));
}

/** What is being frozen: the merchant's title, the amount, until when the payer may confirm. */
function freezeCard(o: OrderView, inner: string): string {
  const status = {
    INIT: '待确认 · Waiting for you',
    AUTHORIZED: '已冻结 · Frozen',
    FINISH: '已完结 · Finished',
    CLOSED: '已关闭 · Closed',
  }[o.status];
  return `<div class="card">
  <div class="muted">${escapeHtml(o.orderTitle)}</div>
  <div class="amount"><small>¥</small>${escapeHtml(o.totalFreezeAmount)}</div>
  <div class="muted">预授权冻结 · A pre-authorisation: this amount is frozen in your balance, not paid. The merchant
  settles what you owe from it and unfreezes the rest.</div>
  ${
    o.creditAsked && o.status === 'INIT'
      ? `<div class="muted" id="credit-note">信用免押 · Deposit-free by credit: if your credit score meets the merchant's
  line, part or all of it is not held; what the merchant settles from that part is then collected from your balance.</div>`
      : ''
  }
  <dl><dt>Freeze</dt><dd>${escapeHtml(o.authNo)}</dd><dt>Order</dt><dd>${escapeHtml(o.outOrderNo)}</dd>
  ${o.payExpiresAt && o.status === 'INIT' ? `<dt>Confirm by</dt><dd>${escapeHtml(beijingTime(o.payExpiresAt))}</dd>` : ''}
  ${o.expiresAt && o.status === 'AUTHORIZED' ? `<dt>Unfreezes by</dt><dd>${escapeHtml(beijingTime(o.expiresAt))}</dd>` : ''}
  <dt>Status</dt><dd id="status">${escapeHtml(status)}</dd></dl>${inner}</div>`;
}

/** The confirm form: the payer logs in and agrees to the freeze. */
function freezeForm(o: OrderView, csrf: string, error?: string): string {
  return freezeCard(
    o,
    `<form method="post" action="/cashier/freeze/${encodeURIComponent(o.authNo)}">${csrf}
    <label for="phone">Phone</label><input id="phone" name="phone" inputmode="tel" autocomplete="username" required>
    <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
    ${error ? `<div class="error" role="alert">${escapeHtml(error)}</div>` : ''}
    <button type="submit" id="confirm-freeze">确认冻结 · Freeze ¥${escapeHtml(o.totalFreezeAmount)}</button></form>`,
  );
}

function freezeDone(o: OrderView): string {
  const frozen = o.status === 'AUTHORIZED';
  return freezeCard(
    o,
    frozen
      ? `<div class="done"><div class="tick">✓</div><div>Frozen: ¥${escapeHtml(o.restFundAmount)} held${
          o.restCreditAmount !== '0.00' ? `, ¥${escapeHtml(o.restCreditAmount)} waived by your credit` : ''
        }. You may close this page.</div></div>`
      : '<div class="center muted">Nothing to confirm here any more.</div>',
  );
}

/** The payer's login and confirmation; a refusal renders the form again with its reason. */
async function confirmFreeze(
  deps: CashierDeps,
  request: FastifyRequest<{ Params: { authNo: string }; Body: PayBody }>,
  reply: FastifyReply,
): Promise<FastifyReply | string> {
  reply.type('text/html; charset=utf-8');
  const order = await freezeOrNull(deps.preauth, request.params.authNo);
  if (!order) return reply.code(404).send(cashierPage('Not found', '<div class="card">No such freeze.</div>'));
  try {
    const user = await deps.members.loginWithPassword(request.body?.phone ?? '', request.body?.password ?? '', {
      clientAddress: clientAddress(request),
    });
    await deps.preauth.confirmAppFreeze(order.authNo, user.userId);
    return cashierPage('Frozen', freezeDone(await deps.preauth.orderByAuthNo(order.authNo)));
  } catch (error) {
    if (isPreauthError(error) || isMembersError(error)) {
      const status = isPreauthError(error) ? error.status : refusedPaymentStatus(error);
      return reply
        .code(status)
        .send(cashierPage('Freeze', freezeForm(order, csrfField(reply), (error as Error).message)));
    }
    throw error;
  }
}

/** The freeze a confirm page is for; null when there is none. */
async function freezeOrNull(preauth: Preauths, authNo: string): Promise<OrderView | null> {
  try {
    return await preauth.orderByAuthNo(authNo);
  } catch (error) {
    if (isPreauthError(error, 'auth_order_not_exist')) return null;
    throw error;
  }
}

const notFound = '<div class="card">没有这笔交易 · No such trade.</div>';

/** The title of a trade that no longer waits for payment: paid, or closed unpaid. */
export function outcomeTitle(t: TradeView): string {
  return t.status === 'TRADE_CLOSED' ? 'Closed' : 'Paid';
}

/** A trade that no longer waits for payment, and what that means for the buyer. */
export function outcome(t: CashierTrade): string {
  if (t.status === 'TRADE_CLOSED')
    return tradeCard(
      t,
      '<div class="result FAILED"><div class="icon">✕</div><div id="done">交易已关闭，未付款 · This trade is closed; nothing was paid.</div></div>',
    );
  return tradeCard(
    t,
    '<div class="done"><div class="tick">✓</div><div id="done">支付成功，可以关闭本页 · Paid. You may close this page.</div></div>',
  );
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

/**
 * The trade a cashier page is for, with its merchant's name; null when there is no such trade
 * (any other error propagates).
 */
export async function cashierTrade(
  deps: { trades: Trades; members: Members },
  tradeNo: string,
): Promise<CashierTrade | null> {
  let trade: TradeView;
  try {
    trade = await deps.trades.byTradeNo(tradeNo);
  } catch (error) {
    if (error instanceof TradeError && error.code === 'TRADE_NOT_EXIST') return null;
    throw error;
  }
  return { ...trade, payee: (await deps.members.getApp(trade.appId)).name };
}
