/**
 * The wallet's friends page (`/wallet/friends`), server-rendered like the other wallet pages and
 * behind the same session cookie: requests to you (accept, decline), asking someone by phone, your
 * friends with a transfer form each, making a group, and collection requests (AA): asking a group
 * for a share each, paying what you owe, and who paid what you asked. Every money form carries its
 * CSRF token and an idempotency key of its own, so a double submit moves the money once.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { formatAmount } from '../core/money.ts';
import type { User } from '../members/index.ts';
import { isRiskError, type PaymentContext } from '../risk/index.ts';
import { type CollectionView, isSocialError, type Social } from '../social/index.ts';
import { isWalletError, type Wallet } from '../wallet/index.ts';
import { escapeHtml } from './html.ts';
import { paymentContext, refusedPaymentStatus } from './payment-context.ts';
import { alert, logoutForm, registerOwnerPage, walletPage } from './wallet-pages.ts';
import { csrfField, type WebSecurityOptions } from './web-security.ts';

export interface FriendPagesDeps {
  wallet: Wallet;
  social: Social;
  security: WebSecurityOptions;
}

const path = '/wallet/friends';
const place = '好友 · Friends';

type Body = Record<string, string | string[] | undefined>;
type Flash = { error?: string | undefined; notice?: string | undefined };

const yuan = (fen: bigint) => `¥${formatAmount(fen)}`;
const field = (body: Body, name: string) => {
  const v = body[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
};
const key = () => `<input type="hidden" name="idempotency_key" value="${randomUUID()}">`;

function collectionCard(c: CollectionView, me: string, csrf: string): string {
  const mine = c.shares.find((s) => s.userId === me);
  const rows = c.shares
    .map(
      (s) =>
        `<li class="share" data-user="${escapeHtml(s.userId)}"><span>${escapeHtml(s.maskedName ?? s.logonId)}</span><span class="${s.paidAt ? 'plus' : 'muted'}">${yuan(s.amountFen)} ${s.paidAt ? '已付 · paid' : '未付 · unpaid'}</span></li>`,
    )
    .join('');
  const pay =
    mine && !mine.paidAt && c.status === 'OPEN'
      ? `<form method="post" action="${path}">${csrf}<input type="hidden" name="step" value="pay"><input type="hidden" name="collection_id" value="${escapeHtml(c.collectionId)}"><button type="submit" class="pay-share">付款 · Pay ${yuan(mine.amountFen)}</button></form>`
      : '';
  return `<div class="card collection" id="collection-${escapeHtml(c.collectionId)}">
    <h2>${escapeHtml(c.title)}</h2><p class="muted">${escapeHtml(c.requester.maskedName ?? c.requester.logonId)} · ${yuan(c.paidFen)} / ${yuan(c.totalFen)} · ${c.status === 'OPEN' ? '收款中 · open' : '已结束 · closed'}</p>
    <ul class="orders">${rows}</ul>${pay}</div>`;
}

async function friendsPage(deps: FriendPagesDeps, reply: FastifyReply, user: User, flash: Flash = {}) {
  const { social } = deps;
  const [incoming, friends, groups, owed, requested] = await Promise.all([
    social.friends.requests(user.userId, 'incoming'),
    social.friends.list(user.userId),
    social.groups.list(user.userId),
    social.collections.list(user.userId, 'owed'),
    social.collections.list(user.userId, 'requested'),
  ]);
  const csrf = csrfField(reply);
  const notice = flash.notice
    ? `<div class="notice card" role="status" id="notice">${escapeHtml(flash.notice)}</div>`
    : '';
  const requests = incoming
    .map(
      (r) => `<div class="card request" id="request-${escapeHtml(r.requestId)}">
      <p><strong>${escapeHtml(r.from.maskedName ?? r.from.logonId)}</strong> ${escapeHtml(r.message)}</p>
      <form method="post" action="${path}">${csrf}<input type="hidden" name="request_id" value="${escapeHtml(r.requestId)}">
      <button type="submit" name="step" value="accept" class="accept">接受 · Accept</button>
      <button type="submit" name="step" value="decline" class="link">拒绝 · Decline</button></form></div>`,
    )
    .join('');
  const ask = `<form method="post" action="${path}" class="card" id="ask">
    <h2>添加好友 · Add a friend</h2>${csrf}<input type="hidden" name="step" value="ask">
    <label>手机号 · Phone <input name="phone" id="ask-phone" inputmode="tel" required></label>
    <label>附言 · Message <input name="message" id="ask-message"></label>
    <button type="submit">发送请求 · Send the request</button></form>`;
  const friendList = friends
    .map(
      (f) => `<form method="post" action="${path}" class="card friend" id="friend-${escapeHtml(f.userId)}">
      ${csrf}<input type="hidden" name="step" value="transfer"><input type="hidden" name="to_user_id" value="${escapeHtml(f.userId)}">${key()}
      <h2>${escapeHtml(f.maskedName ?? f.logonId)}</h2>
      <label>转账 · Send (yuan) <input name="amount" class="transfer-amount" inputmode="decimal" required></label>
      <label>留言 · Memo <input name="memo" class="transfer-memo"></label>
      <label>付款方式 · Pay with <select name="source" class="transfer-source"><option value="balance">余额 · Balance</option><option value="fund">余额宝 · Yu'e Bao</option></select></label>
      <button type="submit">转账 · Transfer</button></form>`,
    )
    .join('');
  const checkboxes = friends
    .map(
      (f) =>
        `<label class="choice"><input type="checkbox" name="member_ids" value="${escapeHtml(f.userId)}"> ${escapeHtml(f.maskedName ?? f.logonId)}</label>`,
    )
    .join('');
  const groupForm = friends.length
    ? `<form method="post" action="${path}" class="card" id="new-group"><h2>建群 · New group</h2>${csrf}
       <input type="hidden" name="step" value="group"><label>群名 · Name <input name="name" id="group-name" required></label>
       ${checkboxes}<button type="submit">建群 · Create</button></form>`
    : '';
  const aaForm = groups.length
    ? `<form method="post" action="${path}" class="card" id="new-collection"><h2>群收款 · Ask a group (AA)</h2>${csrf}
       <input type="hidden" name="step" value="collect">${key()}
       <label>群 · Group <select name="group_id" id="collect-group">${groups.map((g) => `<option value="${escapeHtml(g.groupId)}">${escapeHtml(g.name)} (${g.members})</option>`).join('')}</select></label>
       <label>事由 · What for <input name="title" id="collect-title" required></label>
       <label>每人 · Each (yuan) <input name="amount_per_person" id="collect-amount" inputmode="decimal" required></label>
       <button type="submit">发起收款 · Ask</button></form>`
    : '';
  const collections = [...owed, ...requested.filter((c) => !owed.some((o) => o.collectionId === c.collectionId))];
  return walletPage(
    place,
    notice +
      alert(flash.error) +
      (requests ? `<h2 class="section">好友请求 · Requests</h2>${requests}` : '') +
      ask +
      (friendList ? `<h2 class="section">好友 · Friends</h2>${friendList}` : '') +
      groupForm +
      aaForm +
      (collections.length
        ? `<h2 class="section">收款 · Collections</h2>${collections.map((c) => collectionCard(c, user.userId, csrf)).join('')}`
        : '') +
      logoutForm(csrf, path),
  );
}

/** One step of the page: its notice, or a refusal (which writes nothing). */
async function act(deps: FriendPagesDeps, user: User, body: Body, context: PaymentContext): Promise<string> {
  const { social, wallet } = deps;
  switch (field(body, 'step')) {
    case 'ask':
      await social.friends.request(user.userId, { toPhone: field(body, 'phone'), message: field(body, 'message') });
      return '请求已发送 · Request sent.';
    case 'accept':
      await social.friends.accept(user.userId, field(body, 'request_id'));
      return '已成为好友 · You are friends now.';
    case 'decline':
      await social.friends.decline(user.userId, field(body, 'request_id'));
      return '已拒绝 · Declined.';
    case 'transfer': {
      const done = await wallet.transfer(
        user,
        field(body, 'idempotency_key'),
        {
          toUserId: field(body, 'to_user_id'),
          amount: field(body, 'amount').trim(),
          memo: field(body, 'memo'),
          source: field(body, 'source') === 'fund' ? 'fund' : 'balance',
        },
        context,
      );
      if (done.transfer.status === 'in_review')
        return `审核中 · ¥${done.transfer.amount} is held until a reviewer decides.`;
      return `转账成功 · Sent ¥${done.transfer.amount}.`;
    }
    case 'group': {
      const raw = body.member_ids;
      const memberIds = Array.isArray(raw) ? raw : raw ? [raw] : [];
      const group = await social.groups.create(user.userId, { name: field(body, 'name'), memberIds });
      return `已建群 · Group ${group.name} (${group.members}).`;
    }
    case 'collect': {
      const c = await social.collections.request(user.userId, field(body, 'idempotency_key'), {
        groupId: field(body, 'group_id'),
        title: field(body, 'title'),
        amountPerPerson: field(body, 'amount_per_person').trim(),
      });
      return `已发起 · Asked ${yuan(c.totalFen)} in all.`;
    }
    case 'pay': {
      await social.collections.pay(user.userId, field(body, 'collection_id'), context);
      return '已付款 · Paid.';
    }
    default:
      return '';
  }
}

/** Mounts `/wallet/friends` (GET: login form or the page; POST: log in, a step, log out). */
export async function registerFriendPages(app: FastifyInstance, deps: FriendPagesDeps): Promise<void> {
  await registerOwnerPage<Body>(app, deps, {
    path,
    place,
    show: (reply, user) => friendsPage(deps, reply, user),
    step: async (request, reply, user, body) => {
      try {
        const context = paymentContext(request, {
          challenge_id: field(body, 'challenge_id') || undefined,
          challenge_code: field(body, 'challenge_code'),
        });
        return await friendsPage(deps, reply, user, { notice: await act(deps, user, body, context) });
      } catch (error) {
        if (!isSocialError(error) && !isWalletError(error) && !isRiskError(error, 'payment_denied')) throw error;
        return reply
          .code(refusedPaymentStatus(error))
          .send(await friendsPage(deps, reply, user, { error: error.message }));
      }
    },
  });
}
