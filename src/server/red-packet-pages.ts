/**
 * The wallet's red packet page (`/wallet/red-packets`), server-rendered like the other wallet
 * pages and behind the same session cookie: send a packet to a group (lucky or equal shares) or
 * to a friend; open the packets waiting for you (the amount shows once grabbed); and for every
 * packet you sent or grabbed, who got how much and the luckiest. Every send form carries its
 * CSRF token and an idempotency key of its own, so a double submit sends one packet.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { formatAmount } from '../core/money.ts';
import type { User } from '../members/index.ts';
import { isRiskError } from '../risk/index.ts';
import { isSocialError, type PacketView, type Social } from '../social/index.ts';
import type { Wallet } from '../wallet/index.ts';
import { escapeHtml } from './html.ts';
import { paymentContext, refusedPaymentStatus } from './payment-context.ts';
import { alert, logoutForm, registerOwnerPage, walletPage } from './wallet-pages.ts';
import { csrfField, type WebSecurityOptions } from './web-security.ts';

export interface RedPacketPagesDeps {
  wallet: Wallet;
  social: Social;
  security: WebSecurityOptions;
}

const path = '/wallet/red-packets';
const place = '红包 · Red packets';

type Body = {
  step?: string;
  phone?: string;
  password?: string;
  /** `group:<id>` or `friend:<user id>`. */
  to?: string;
  kind?: string;
  amount?: string;
  shares?: string;
  greeting?: string;
  packet_id?: string;
  idempotency_key?: string;
  challenge_id?: string;
  challenge_code?: string;
};

type Flash = { error?: string | undefined; notice?: string | undefined };

const yuan = (fen: bigint) => `¥${formatAmount(fen)}`;

/** One packet: its greeting, who sent it, what is left, and every share with the luckiest marked. */
function packetCard(p: PacketView, me: string): string {
  const sender = p.sender.userId === me ? '你 · you' : (p.sender.maskedName ?? p.sender.logonId);
  const state =
    p.status === 'OPEN'
      ? `剩余 · left ${yuan(p.remainingFen)} / ${p.remainingShares}`
      : p.status === 'FINISHED'
        ? '已抢完 · all grabbed'
        : `已过期 · expired, ${yuan(p.refundedFen ?? 0n)} back to the sender`;
  const grabs = p.grabs
    .map(
      (g) =>
        `<li class="grab" data-user="${escapeHtml(g.userId)}"><span>${escapeHtml(g.maskedName ?? g.logonId)}${g.userId === p.luckiestUserId ? ' <strong class="luckiest">手气最佳 · luckiest</strong>' : ''}</span><span class="plus">${yuan(g.amountFen)}</span></li>`,
    )
    .join('');
  return `<div class="card packet" id="packet-${escapeHtml(p.packetId)}">
    <h2>红包 · ${escapeHtml(p.greeting || '恭喜发财，大吉大利')}</h2>
    <p class="muted">${escapeHtml(sender)} · ${yuan(p.amountFen)} · ${p.shares} ${p.kind === 'LUCKY' ? '拼手气 · lucky' : '普通 · equal'} · ${escapeHtml(state)}</p>
    <ul class="orders grabs">${grabs}</ul></div>`;
}

async function packetsPage(deps: RedPacketPagesDeps, reply: FastifyReply, user: User, flash: Flash = {}) {
  const { social } = deps;
  const [waiting, sent, received, groups, friends] = await Promise.all([
    social.redPackets.grabbable(user.userId),
    social.redPackets.sent(user.userId),
    social.redPackets.received(user.userId),
    social.groups.list(user.userId),
    social.friends.list(user.userId),
  ]);
  const csrf = csrfField(reply);
  const notice = flash.notice
    ? `<div class="notice card" role="status" id="notice">${escapeHtml(flash.notice)}</div>`
    : '';
  const targets = [
    ...groups.map(
      (g) => `<option value="group:${escapeHtml(g.groupId)}">群 · ${escapeHtml(g.name)} (${g.members})</option>`,
    ),
    ...friends.map(
      (f) => `<option value="friend:${escapeHtml(f.userId)}">好友 · ${escapeHtml(f.maskedName ?? f.logonId)}</option>`,
    ),
  ].join('');
  const sendForm = `<form method="post" action="${path}" class="card" id="send">
    <h2>发红包 · Send a red packet</h2>${alert(flash.error)}
    ${csrf}<input type="hidden" name="step" value="send"><input type="hidden" name="idempotency_key" value="${randomUUID()}">
    <label>发给 · To <select name="to" id="to">${targets}</select></label>
    <label>类型 · Kind <select name="kind" id="kind"><option value="LUCKY">拼手气 · lucky</option><option value="EQUAL">普通 · equal shares</option></select></label>
    <label>总金额 · Amount (yuan) <input name="amount" id="amount" inputmode="decimal" required></label>
    <label>个数 · Shares (a group) <input name="shares" id="shares" inputmode="numeric" value="1"></label>
    <label>祝福语 · Greeting <input name="greeting" id="greeting" placeholder="恭喜发财，大吉大利"></label>
    <button type="submit">塞钱进红包 · Send</button></form>`;
  const waitingCards = waiting
    .map(
      (p) => `<form method="post" action="${path}" class="card packet waiting" id="open-${escapeHtml(p.packetId)}">
      ${csrf}<input type="hidden" name="step" value="grab"><input type="hidden" name="packet_id" value="${escapeHtml(p.packetId)}">
      <h2>红包 · ${escapeHtml(p.greeting || '恭喜发财，大吉大利')}</h2>
      <p class="muted">${escapeHtml(p.sender.maskedName ?? p.sender.logonId)} · ${p.remainingShares} / ${p.shares} left</p>
      <button type="submit" class="grab-button">開 · Open</button></form>`,
    )
    .join('');
  const mine = [...sent, ...received.map((r) => r.packet).filter((p) => p.sender.userId !== user.userId)];
  return walletPage(
    place,
    notice +
      (waitingCards ? `<h2 class="section">等你来抢 · Waiting for you</h2>${waitingCards}` : '') +
      sendForm +
      (mine.length
        ? `<h2 class="section">我的红包 · Yours</h2>${mine.map((p) => packetCard(p, user.userId)).join('')}`
        : '') +
      logoutForm(csrf, path),
  );
}

/** Mounts `/wallet/red-packets` (GET: login form or the page; POST: log in, send, grab, log out). */
export async function registerRedPacketPages(app: FastifyInstance, deps: RedPacketPagesDeps): Promise<void> {
  await registerOwnerPage<Body>(app, deps, {
    path,
    place,
    show: (reply, user) => packetsPage(deps, reply, user),
    step: async (request, reply, user, body) => {
      try {
        if (body.step === 'grab') {
          const grab = await deps.social.redPackets.grab(user.userId, body.packet_id ?? '');
          return packetsPage(deps, reply, user, { notice: `抢到 · You got ${yuan(grab.amountFen)}!` });
        }
        const [kind, target] = (body.to ?? '').split(':');
        const single = kind === 'friend';
        const { packet } = await deps.social.redPackets.send(
          user.userId,
          body.idempotency_key ?? '',
          {
            kind: single ? 'SINGLE' : body.kind === 'EQUAL' ? 'EQUAL' : 'LUCKY',
            amount: (body.amount ?? '').trim(),
            shares: single ? undefined : Number(body.shares),
            greeting: body.greeting ?? '',
            ...(single ? { toUserId: target } : { groupId: target }),
          },
          paymentContext(request, body),
        );
        return packetsPage(deps, reply, user, {
          notice: `已发出 · Sent ${yuan(packet.amountFen)} in ${packet.shares}.`,
        });
      } catch (error) {
        if (!isSocialError(error) && !isRiskError(error, 'payment_denied')) throw error;
        return reply
          .code(refusedPaymentStatus(error))
          .send(await packetsPage(deps, reply, user, { error: error.message }));
      }
    },
  });
}
