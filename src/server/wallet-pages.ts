/**
 * The wallet's withdrawal page (`/wallet/withdraw`), server-rendered like the cashier: the owner
 * logs in with phone and password (a native API session, `Wallet.login`, kept in an HttpOnly,
 * SameSite=Strict cookie scoped to `/wallet`, Secure under an https public URL), sees the balance and the active bound cards, and withdraws an
 * amount to a card. Every rendered form carries its own idempotency key (a hidden field), so a
 * double submit or a reload of the result moves the money once: the second request replays the
 * same channel order. Refusals render a message on the form, never a 500.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type CardView, type ChannelOrderView, type Channels, isChannelError } from '../channels/index.ts';
import { limits } from '../core/limits.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import type { Members, User } from '../members/index.ts';
import { isRiskError } from '../risk/index.ts';
import { isWalletError, type Wallet } from '../wallet/index.ts';
import { escapeHtml, page } from './html.ts';
import { acceptPageForms } from './page-forms.ts';
import { orderStatusWords } from './page-words.ts';
import { clientAddress, cookieFlags, csrfField, loginRateLimit, type WebSecurityOptions } from './web-security.ts';

export interface WalletPagesDeps {
  members: Members;
  wallet: Wallet;
  channels: Channels;
  security: WebSecurityOptions;
}

/** A session cookie of the pages: its name, the path it is sent to, and to which requests from other sites. */
export interface SessionCookie {
  name: string;
  path: string;
  sameSite: 'strict' | 'lax';
}

/** The wallet pages' session. Strict: no page of another site, not even a link, arrives here logged in. */
export const walletCookie: SessionCookie = { name: 'paybao_wallet', path: '/wallet', sameSite: 'strict' };
const path = '/wallet/withdraw';
/** How long to ask the bank about a payout that is not confirmed yet before showing it as it stands. */
const resolveWaitsMs = [200, 500, 1_000];

export const walletPage = (title: string, body: string) => page('Paybao 钱包 · Wallet', title, body);

export const alert = (error?: string) => (error ? `<div class="error" role="alert">${escapeHtml(error)}</div>` : '');

/** The wallet's login form; `action` is the page it logs in to (the withdrawal page by default). */
export function loginForm(
  csrf: string,
  error?: string,
  phone = '',
  action = path,
  place = '提现 · Withdraw to a bank card',
): string {
  return `<div class="card"><div class="muted">${escapeHtml(place)}</div><h2>登录 · Log in</h2>
  <form method="post" action="${escapeHtml(action)}">${csrf}<input type="hidden" name="step" value="login">
  <label for="phone">手机号 · Phone</label><input id="phone" name="phone" inputmode="tel" autocomplete="username" value="${escapeHtml(phone)}" required>
  <label for="password">密码 · Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
  ${alert(error)}<button type="submit">登录 · Log in</button></form></div>`;
}

const cardLabel = (c: Pick<CardView, 'bank' | 'cardNo'>) => `${c.bank} •••• ${c.cardNo.slice(-4)}`;

export const logoutForm = (
  csrf: string,
  action = path,
) => `<form method="post" action="${escapeHtml(action)}">${csrf}<input type="hidden" name="step" value="logout">
  <button class="link" type="submit" id="logout">退出 · Log out</button></form>`;

function balanceBlock(user: User, balance: bigint): string {
  return `<div class="muted">可提现余额 · Available balance</div>
  <div class="amount"><small>¥</small><span id="balance">${escapeHtml(formatAmount(balance))}</span></div>
  <div class="muted">${escapeHtml(user.phone.replace(/^(\d{3})\d{4}(\d{4})$/, '$1****$2'))}</div>`;
}

function withdrawForm(
  csrf: string,
  user: User,
  balance: bigint,
  cards: CardView[],
  input: {
    error?: string | undefined;
    amount?: string | undefined;
    cardId?: string | undefined;
  } = {},
): string {
  if (cards.length === 0) {
    return `<div class="card">${balanceBlock(user, balance)}
    <div class="error" role="alert">没有已绑定的银行卡 · You have no bound bank card. Bind one in the app first.</div>
    <div class="foot"><span></span>${logoutForm(csrf)}</div></div>`;
  }
  const options = cards
    .map(
      (c) =>
        `<option value="${escapeHtml(c.cardId)}"${c.cardId === input.cardId ? ' selected' : ''}>${escapeHtml(cardLabel(c))}</option>`,
    )
    .join('');
  // A fresh key per rendered form: submitting this form twice moves the money once.
  const key = `wallet-withdraw-${randomUUID()}`;
  return `<div class="card">${balanceBlock(user, balance)}
  <form method="post" action="${path}">${csrf}<input type="hidden" name="step" value="withdraw">
  <input type="hidden" name="idempotency_key" value="${escapeHtml(key)}">
  <label for="card_id">到账银行卡 · To card</label><select id="card_id" name="card_id">${options}</select>
  <label for="amount">提现金额 (元) · Amount (yuan)</label>
  <input id="amount" name="amount" inputmode="decimal" placeholder="0.00" autocomplete="off" value="${escapeHtml(input.amount ?? '')}" required>
  ${alert(input.error)}<button type="submit">提现 · Withdraw</button></form>
  <div class="foot"><span class="muted">一般实时到账 · Usually arrives at once</span>${logoutForm(csrf)}</div></div>`;
}

const statusText: Record<string, { icon: string; title: string; note: string }> = {
  SUCCESS: { icon: '✓', title: '提现成功 · Withdrawal successful', note: 'The bank has paid the money to your card.' },
  FAILED: {
    icon: '✕',
    title: '提现失败 · Withdrawal failed',
    note: 'The bank did not pay; the amount is back in your wallet.',
  },
  IN_FLIGHT: {
    icon: '…',
    title: '处理中 · Being processed',
    note: 'The bank has the request; the amount is held until it confirms.',
  },
  UNKNOWN: {
    icon: '?',
    title: '等待银行确认 · Waiting for the bank',
    note: 'We are asking the bank for the outcome; the amount is held until then.',
  },
  CREATED: { icon: '…', title: '已受理 · Accepted', note: 'The request will be sent to the bank shortly.' },
  REVIEW: {
    icon: '…',
    title: '审核中 · Under review',
    note: 'For your security a reviewer looks at this withdrawal first; the amount is held until then.',
  },
};

function resultCard(csrf: string, order: ChannelOrderView, cards: CardView[], balance: bigint): string {
  const text = statusText[order.status] ?? { icon: '?', title: order.status, note: '' };
  const card = cards.find((c) => c.cardId === order.cardId);
  const tone = order.status === 'SUCCESS' || order.status === 'FAILED' ? order.status : 'pending';
  return `<div class="card"><div class="result ${tone}"><div class="icon">${text.icon}</div>
  <h2 id="title">${escapeHtml(text.title)}</h2><div class="muted">${escapeHtml(text.note)}</div></div>
  <div class="amount center"><small>¥</small>${escapeHtml(order.amount)}</div>
  <dl><dt>状态 · Status</dt><dd id="status" data-status="${escapeHtml(order.status)}">${escapeHtml(orderStatusWords(order.status))}</dd>
  ${order.failCode ? `<dt>原因 · Reason</dt><dd id="fail-code">${escapeHtml(order.failCode)}</dd>` : ''}
  <dt>银行卡 · Card</dt><dd>${escapeHtml(card ? cardLabel(card) : order.bank)}</dd>
  <dt>单号 · Order</dt><dd id="order-no">${escapeHtml(order.orderNo)}</dd>
  <dt>余额 · Balance</dt><dd>¥<span id="balance">${escapeHtml(formatAmount(balance))}</span></dd></dl>
  <div class="foot"><a id="again" href="${path}">再次提现 · Withdraw again</a>${logoutForm(csrf)}</div></div>`;
}

/** Readable messages for the refusals a user can meet here; anything else keeps its own message. */
const channelMessages: Record<string, string> = {
  balance_not_enough: '余额不足 · The wallet balance is not enough for this amount.',
  amount_invalid: '金额无效 · Enter an amount in yuan above zero, with at most 2 decimals (e.g. 12.34).',
  card_not_found: '请选择银行卡 · Choose one of your bound cards.',
  card_not_active: '银行卡未激活 · This card is not bound yet: confirm it with the SMS code first.',
  idempotency_key_reused: '此表单已提交 · This form was already submitted with other details; try again.',
};

const sessionToken = (request: FastifyRequest, cookie: SessionCookie): string | undefined =>
  request.cookies[cookie.name] || undefined;

function setSession(
  reply: FastifyReply,
  token: string,
  maxAgeSeconds: number,
  security: WebSecurityOptions,
  cookie: SessionCookie,
): void {
  reply.setCookie(cookie.name, token, {
    path: cookie.path,
    sameSite: cookie.sameSite,
    maxAge: maxAgeSeconds,
    ...cookieFlags(security),
  });
}

type Body = {
  step?: string;
  phone?: string;
  password?: string;
  card_id?: string;
  amount?: string;
  idempotency_key?: string;
  challenge_id?: string;
  challenge_code?: string;
};

/** Mounts `/wallet/withdraw` (GET: login form or withdrawal form; POST: log in, withdraw, log out). */
export async function registerWalletPages(app: FastifyInstance, deps: WalletPagesDeps): Promise<void> {
  await app.register(async (scope) => {
    acceptPageForms(scope);
    scope.get(path, async (request, reply) => {
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
      const user = await currentUser(deps, request);
      if (!user) return walletPage('Log in', loginForm(csrfField(reply)));
      return formPage(deps, reply, user);
    });

    scope.post<{ Body: Body }>(path, { config: { rateLimit: loginRateLimit } }, async (request, reply) => {
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
      const body = request.body ?? {};
      if (body.step === 'login') return logIn(deps, request, reply);
      if (body.step === 'logout') return logOut(deps, request, reply);
      const user = await currentUser(deps, request);
      if (!user) {
        return reply
          .code(401)
          .send(walletPage('Log in', loginForm(csrfField(reply), '请先登录 · Please log in first.')));
      }
      return withdraw(deps, reply, user, body, request.ip);
    });
  });
}

/** The logout step: the session ended, its cookie cleared, back to the page `back`. */
export async function logOut(
  deps: Pick<WalletPagesDeps, 'wallet' | 'security'>,
  request: FastifyRequest,
  reply: FastifyReply,
  back = path,
  cookie = walletCookie,
) {
  const token = sessionToken(request, cookie);
  if (token) await deps.wallet.logout(token);
  setSession(reply, '', 0, deps.security, cookie);
  return reply.redirect(back, 303);
}

/** The user behind the session cookie, or undefined (no cookie, expired or revoked session). */
export async function currentUser(
  deps: Pick<WalletPagesDeps, 'wallet'>,
  request: FastifyRequest,
  cookie = walletCookie,
): Promise<User | undefined> {
  const token = sessionToken(request, cookie);
  if (!token) return undefined;
  try {
    return await deps.wallet.authenticate(token);
  } catch (error) {
    if (isWalletError(error)) return undefined;
    throw error;
  }
}

async function activeCards(deps: WalletPagesDeps, userId: string): Promise<CardView[]> {
  return (await deps.channels.cards.list(userId)).filter((c) => c.status === 'ACTIVE');
}

async function formPage(
  deps: WalletPagesDeps,
  reply: FastifyReply,
  user: User,
  input: Parameters<typeof withdrawForm>[4] = {},
): Promise<string> {
  const [balance, cards] = await Promise.all([deps.members.walletBalance(user.userId), activeCards(deps, user.userId)]);
  return walletPage('Withdraw', withdrawForm(csrfField(reply), user, balance, cards, input));
}

/**
 * The risk engine asked the payer to confirm a page's payment (or the code given was wrong): a
 * card that posts the same request again — every field the page sent, the same idempotency key —
 * with the confirmation and the code texted to them. Undefined for any other error.
 */
export function confirmAgain(reply: FastifyReply, at: string, body: object, error: unknown): FastifyReply | undefined {
  if (!isRiskError(error, 'challenge_required', 'challenge_code_invalid')) return undefined;
  const sent = body as Record<string, unknown>;
  const challengeId = error.challengeId ?? String(sent.challenge_id ?? '');
  const skip = new Set(['_csrf', 'challenge_id', 'challenge_code']);
  const hidden = Object.entries(sent)
    .filter(([name]) => !skip.has(name))
    .flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => [name, String(v)] as const))
    .map(([name, v]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(v)}">`)
    .join('');
  const card = `<div class="card"><h2 id="title">确认付款 · Confirm this payment</h2>
  <p id="confirm-note" class="muted">为了您的资金安全，请输入短信验证码 · For your security, enter the code we texted to your phone.</p>
  <form method="post" action="${escapeHtml(at)}">${csrfField(reply)}${hidden}
  <input type="hidden" name="challenge_id" value="${escapeHtml(challengeId)}">
  <label for="challenge_code">验证码 · Code</label>
  <input id="challenge_code" name="challenge_code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required>
  ${error.code === 'challenge_code_invalid' ? alert(error.message) : ''}<button type="submit" id="confirm">确认 · Confirm</button></form></div>`;
  return reply.code(error.status).send(walletPage('Confirm', card));
}

/** A wallet page behind the session cookie: what it shows its owner, and its own POST steps. */
export interface OwnerPage<B> {
  path: string;
  /** Where the login form says the user is going. */
  place: string;
  /** The page for a logged-in owner. */
  show(reply: FastifyReply, user: User): Promise<string>;
  /** A POST of the page's own (not login or logout) by its logged-in owner. */
  step(request: FastifyRequest<{ Body: B }>, reply: FastifyReply, user: User, body: B): Promise<unknown>;
}

/**
 * Mounts a wallet page: GET shows the login form, or the page to its logged-in owner; POST logs
 * in, logs out, or runs the page's own step for its owner (401 with the login form for nobody).
 */
export async function registerOwnerPage<B extends { step?: unknown }>(
  app: FastifyInstance,
  deps: Pick<WalletPagesDeps, 'wallet' | 'security'>,
  page: OwnerPage<B>,
): Promise<void> {
  const { path: at, place } = page;
  await app.register(async (scope) => {
    acceptPageForms(scope);
    scope.get(at, async (request, reply) => {
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
      const user = await currentUser(deps, request);
      if (!user) return walletPage('Log in', loginForm(csrfField(reply), undefined, '', at, place));
      return page.show(reply, user);
    });
    scope.post<{ Body: B }>(at, { config: { rateLimit: loginRateLimit } }, async (request, reply) => {
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
      const body = (request.body ?? {}) as B;
      if (body.step === 'login') return logIn(deps, request as FastifyRequest<{ Body: LoginBody }>, reply, at, place);
      if (body.step === 'logout') return logOut(deps, request, reply, at);
      const user = await currentUser(deps, request);
      if (!user)
        return reply
          .code(401)
          .send(walletPage('Log in', loginForm(csrfField(reply), '请先登录 · Please log in first.', '', at, place)));
      try {
        return await page.step(request, reply, user, body);
      } catch (error) {
        const confirm = confirmAgain(reply, at, body, error);
        if (confirm) return confirm;
        throw error;
      }
    });
  });
}

type LoginBody = { phone?: string; password?: string };

/**
 * The login step: a session cookie and a redirect to the page `back` (the withdrawal form by
 * default), or the login form with the reason.
 */
export async function logIn(
  deps: Pick<WalletPagesDeps, 'wallet' | 'security'>,
  request: FastifyRequest<{ Body: LoginBody }>,
  reply: FastifyReply,
  back = path,
  place?: string,
  cookie = walletCookie,
) {
  const phone = request.body?.phone ?? '';
  try {
    const session = await deps.wallet.login({
      phone,
      password: request.body?.password ?? '',
      clientAddress: clientAddress(request),
    });
    setSession(reply, session.token, Math.floor(limits.sessionTtlMs / 1000), deps.security, cookie);
    return reply.redirect(back, 303);
  } catch (error) {
    if (!isWalletError(error)) throw error;
    const throttled = isWalletError(error, 'login_throttled');
    const message = throttled ? `密码错误次数过多 · ${error.message}.` : '手机号或密码错误 · Wrong phone or password.';
    return reply
      .code(throttled ? 429 : 401)
      .send(walletPage('Log in', loginForm(csrfField(reply), message, phone, back, place)));
  }
}

/** The withdrawal step: the order, asked about briefly when the bank has not answered yet. */
async function withdraw(deps: WalletPagesDeps, reply: FastifyReply, user: User, body: Body, address: string) {
  const { channels, members } = deps;
  const amountText = (body.amount ?? '').trim();
  const cardId = body.card_id ?? '';
  const input = { amount: amountText, cardId };
  const fen = parseAmount(amountText);
  if (fen === undefined || fen <= 0n)
    return reply.code(400).send(await formPage(deps, reply, user, { ...input, error: channelMessages.amount_invalid }));
  if (!cardId)
    return reply.code(400).send(await formPage(deps, reply, user, { ...input, error: channelMessages.card_not_found }));
  try {
    const challenge = body.challenge_id ? { id: body.challenge_id, code: body.challenge_code ?? '' } : undefined;
    let order = await channels.withdraw(
      user.userId,
      { cardId, amount: formatAmount(fen), idempotencyKey: body.idempotency_key ?? '' },
      { address, challenge },
    );
    if (order.status !== 'SUCCESS' && order.status !== 'FAILED')
      order = await channels.resolve(order.orderNo, { waits: resolveWaitsMs });
    const [balance, cards] = await Promise.all([members.walletBalance(user.userId), channels.cards.list(user.userId)]);
    return walletPage('Withdrawal', resultCard(csrfField(reply), order, cards, balance));
  } catch (error) {
    const confirm = confirmAgain(reply, path, body, error);
    if (confirm) return confirm;
    if (isRiskError(error)) {
      return reply.code(error.status).send(await formPage(deps, reply, user, { ...input, error: error.message }));
    }
    if (!isChannelError(error)) throw error;
    const message = channelMessages[error.code] ?? error.message;
    return reply.code(400).send(await formPage(deps, reply, user, { ...input, error: message }));
  }
}
