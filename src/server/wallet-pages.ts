/**
 * The wallet's withdrawal page (`/wallet/withdraw`), server-rendered like the cashier: the owner
 * logs in with phone and password (a native API session, `Wallet.login`, kept in an HttpOnly
 * cookie scoped to `/wallet`), sees the balance and the active bound cards, and withdraws an
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
import { isWalletError, type Wallet } from '../wallet/index.ts';
import { escapeHtml, page } from './html.ts';
import { acceptPageForms } from './page-forms.ts';

export interface WalletPagesDeps {
  members: Members;
  wallet: Wallet;
  channels: Channels;
}

const cookieName = 'paybao_wallet';
const path = '/wallet/withdraw';
/** How long to ask the bank about a payout that is not confirmed yet before showing it as it stands. */
const resolveWaitsMs = [200, 500, 1_000];

const walletPage = (title: string, body: string) => page('Paybao 钱包 · Wallet', title, body);

const alert = (error?: string) => (error ? `<div class="error" role="alert">${escapeHtml(error)}</div>` : '');

function loginForm(error?: string, phone = ''): string {
  return `<div class="card"><div class="muted">提现 · Withdraw to a bank card</div><h2>登录 · Log in</h2>
  <form method="post" action="${path}"><input type="hidden" name="step" value="login">
  <label for="phone">手机号 · Phone</label><input id="phone" name="phone" inputmode="tel" autocomplete="username" value="${escapeHtml(phone)}" required>
  <label for="password">密码 · Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
  ${alert(error)}<button type="submit">登录 · Log in</button></form></div>`;
}

const cardLabel = (c: Pick<CardView, 'bank' | 'cardNo'>) => `${c.bank} •••• ${c.cardNo.slice(-4)}`;

const logoutForm = `<form method="post" action="${path}"><input type="hidden" name="step" value="logout">
  <button class="link" type="submit" id="logout">退出 · Log out</button></form>`;

function balanceBlock(user: User, balance: bigint): string {
  return `<div class="muted">可提现余额 · Available balance</div>
  <div class="amount"><small>¥</small><span id="balance">${escapeHtml(formatAmount(balance))}</span></div>
  <div class="muted">${escapeHtml(user.phone.replace(/^(\d{3})\d{4}(\d{4})$/, '$1****$2'))}</div>`;
}

function withdrawForm(
  user: User,
  balance: bigint,
  cards: CardView[],
  input: { error?: string | undefined; amount?: string | undefined; cardId?: string | undefined } = {},
): string {
  if (cards.length === 0) {
    return `<div class="card">${balanceBlock(user, balance)}
    <div class="error" role="alert">没有已绑定的银行卡 · You have no bound bank card. Bind one in the app first.</div>
    <div class="foot"><span></span>${logoutForm}</div></div>`;
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
  <form method="post" action="${path}"><input type="hidden" name="step" value="withdraw">
  <input type="hidden" name="idempotency_key" value="${escapeHtml(key)}">
  <label for="card_id">到账银行卡 · To card</label><select id="card_id" name="card_id">${options}</select>
  <label for="amount">提现金额 (元) · Amount (yuan)</label>
  <input id="amount" name="amount" inputmode="decimal" placeholder="0.00" autocomplete="off" value="${escapeHtml(input.amount ?? '')}" required>
  ${alert(input.error)}<button type="submit">提现 · Withdraw</button></form>
  <div class="foot"><span class="muted">一般实时到账 · Usually arrives at once</span>${logoutForm}</div></div>`;
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
};

function resultCard(order: ChannelOrderView, cards: CardView[], balance: bigint): string {
  const text = statusText[order.status] ?? { icon: '?', title: order.status, note: '' };
  const card = cards.find((c) => c.cardId === order.cardId);
  const tone = order.status === 'SUCCESS' || order.status === 'FAILED' ? order.status : 'pending';
  return `<div class="card"><div class="result ${tone}"><div class="icon">${text.icon}</div>
  <h2 id="title">${escapeHtml(text.title)}</h2><div class="muted">${escapeHtml(text.note)}</div></div>
  <div class="amount" style="text-align:center"><small>¥</small>${escapeHtml(order.amount)}</div>
  <dl><dt>状态 · Status</dt><dd id="status">${escapeHtml(order.status)}</dd>
  ${order.failCode ? `<dt>原因 · Reason</dt><dd id="fail-code">${escapeHtml(order.failCode)}</dd>` : ''}
  <dt>银行卡 · Card</dt><dd>${escapeHtml(card ? cardLabel(card) : order.bank)}</dd>
  <dt>单号 · Order</dt><dd id="order-no">${escapeHtml(order.orderNo)}</dd>
  <dt>余额 · Balance</dt><dd>¥<span id="balance">${escapeHtml(formatAmount(balance))}</span></dd></dl>
  <div class="foot"><a id="again" href="${path}">再次提现 · Withdraw again</a>${logoutForm}</div></div>`;
}

/** Readable messages for the refusals a user can meet here; anything else keeps its own message. */
const channelMessages: Record<string, string> = {
  balance_not_enough: '余额不足 · The wallet balance is not enough for this amount.',
  amount_invalid: '金额无效 · Enter an amount in yuan above zero, with at most 2 decimals (e.g. 12.34).',
  card_not_found: '请选择银行卡 · Choose one of your bound cards.',
  card_not_active: '银行卡未激活 · This card is not bound yet: confirm it with the SMS code first.',
  idempotency_key_reused: '此表单已提交 · This form was already submitted with other details; try again.',
};

function sessionToken(request: FastifyRequest): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === cookieName) return decodeCookie(part.slice(at + 1).trim());
  }
  return undefined;
}

/** A cookie value that is not valid percent-encoded UTF-8 is no session, not a server error. */
function decodeCookie(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function setSession(reply: FastifyReply, token: string, maxAgeSeconds: number): void {
  reply.header(
    'set-cookie',
    `${cookieName}=${encodeURIComponent(token)}; Path=/wallet; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}`,
  );
}

type Body = {
  step?: string;
  phone?: string;
  password?: string;
  card_id?: string;
  amount?: string;
  idempotency_key?: string;
};

/** Mounts `/wallet/withdraw` (GET: login form or withdrawal form; POST: log in, withdraw, log out). */
export async function registerWalletPages(app: FastifyInstance, deps: WalletPagesDeps): Promise<void> {
  const { wallet, members, channels } = deps;

  /** The user behind the session cookie, or undefined (no cookie, expired or revoked session). */
  async function currentUser(request: FastifyRequest): Promise<User | undefined> {
    const token = sessionToken(request);
    if (!token) return undefined;
    try {
      return await wallet.authenticate(token);
    } catch (error) {
      if (isWalletError(error)) return undefined;
      throw error;
    }
  }

  const activeCards = async (userId: string) =>
    (await channels.cards.list(userId)).filter((c) => c.status === 'ACTIVE');

  async function formPage(user: User, input: Parameters<typeof withdrawForm>[3] = {}): Promise<string> {
    const [balance, cards] = await Promise.all([members.walletBalance(user.userId), activeCards(user.userId)]);
    return walletPage('Withdraw', withdrawForm(user, balance, cards, input));
  }

  await app.register(async (scope) => {
    acceptPageForms(scope);
    scope.get(path, async (request, reply) => {
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
      const user = await currentUser(request);
      if (!user) return walletPage('Log in', loginForm());
      return formPage(user);
    });

    scope.post<{ Body: Body }>(path, async (request, reply) => {
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
      const body = request.body ?? {};
      if (body.step === 'login') {
        const phone = body.phone ?? '';
        try {
          const session = await wallet.login({ phone, password: body.password ?? '' });
          setSession(reply, session.token, Math.floor(limits.sessionTtlMs / 1000));
          return reply.redirect(path, 303);
        } catch (error) {
          if (!isWalletError(error)) throw error;
          return reply
            .code(401)
            .send(walletPage('Log in', loginForm('手机号或密码错误 · Wrong phone or password.', phone)));
        }
      }
      if (body.step === 'logout') {
        const token = sessionToken(request);
        if (token) await wallet.logout(token);
        setSession(reply, '', 0);
        return reply.redirect(path, 303);
      }

      const user = await currentUser(request);
      if (!user) return reply.code(401).send(walletPage('Log in', loginForm('请先登录 · Please log in first.')));
      const amountText = (body.amount ?? '').trim();
      const cardId = body.card_id ?? '';
      const input = { amount: amountText, cardId };
      const fen = parseAmount(amountText);
      if (fen === undefined || fen <= 0n)
        return reply.code(400).send(await formPage(user, { ...input, error: channelMessages.amount_invalid }));
      if (!cardId)
        return reply.code(400).send(await formPage(user, { ...input, error: channelMessages.card_not_found }));
      try {
        let order = await channels.withdraw(user.userId, {
          cardId,
          amount: formatAmount(fen),
          idempotencyKey: body.idempotency_key ?? '',
        });
        if (order.status !== 'SUCCESS' && order.status !== 'FAILED')
          order = await channels.resolve(order.orderNo, { waits: resolveWaitsMs });
        const [balance, cards] = await Promise.all([
          members.walletBalance(user.userId),
          channels.cards.list(user.userId),
        ]);
        return walletPage('Withdrawal', resultCard(order, cards, balance));
      } catch (error) {
        if (!isChannelError(error)) throw error;
        const message = channelMessages[error.code] ?? error.message;
        return reply.code(400).send(await formPage(user, { ...input, error: message }));
      }
    });
  });
}
