/**
 * The wallet's authorised apps (`/wallet/authorizations`), behind the wallet's session like its
 * other pages: each app the user allowed to know them (user authorisation, src/oauth), what it
 * may read and since when, and a button that revokes it. Revoking stops the app's tokens at once;
 * the app must ask the user again.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { beijingTime } from '../core/time.ts';
import type { User } from '../members/index.ts';
import { type Authorizations, isOAuthError } from '../oauth/index.ts';
import type { Wallet } from '../wallet/index.ts';
import { scopeWords } from './authorize-page.ts';
import { escapeHtml } from './html.ts';
import { alert, logoutForm, registerOwnerPage, walletPage } from './wallet-pages.ts';
import { csrfField, type WebSecurityOptions } from './web-security.ts';

export interface WalletAuthorizationsDeps {
  oauth: Authorizations;
  wallet: Wallet;
  security: WebSecurityOptions;
}

const path = '/wallet/authorizations';
type Body = { step?: string; app_id?: string };
type Flash = { error?: string | undefined; notice?: string | undefined };

async function listPage(deps: WalletAuthorizationsDeps, reply: FastifyReply, user: User, flash: Flash = {}) {
  const apps = await deps.oauth.list(user.userId);
  const csrf = csrfField(reply);
  const notice = flash.notice
    ? `<div class="notice card" role="status" id="notice">${escapeHtml(flash.notice)}</div>`
    : '';
  const rows = apps
    .map(
      (a) => `<div class="card app" id="app-${escapeHtml(a.appId)}"><h2>${escapeHtml(a.appName)}</h2>
      <div class="muted">${escapeHtml(a.appId)} · 授权于 · since ${escapeHtml(beijingTime(a.authorizedAt))}</div>
      <ul class="orders">${a.scopes.map((s) => `<li>${escapeHtml(scopeWords[s])}</li>`).join('')}</ul>
      <form method="post" action="${path}">${csrf}<input type="hidden" name="step" value="revoke">
      <input type="hidden" name="app_id" value="${escapeHtml(a.appId)}">
      <button type="submit" class="secondary revoke">取消授权 · Revoke</button></form></div>`,
    )
    .join('');
  const empty = `<div class="card"><p class="muted" id="none">你没有授权任何应用 · You have not authorised any app.</p></div>`;
  const head = `<div class="card"><h2>已授权的应用 · Apps you authorised</h2>
    <p class="muted">它们能识别你的身份，部分能读取你的昵称 · They know who you are; some read your nickname.</p>
    ${alert(flash.error)}<div class="foot"><span></span>${logoutForm(csrf, path)}</div></div>`;
  return walletPage('Authorised apps', `${notice}${head}${apps.length > 0 ? rows : empty}`);
}

/** Mounts `/wallet/authorizations` (GET: the list; POST: revoke one). */
export async function registerWalletAuthorizations(app: FastifyInstance, deps: WalletAuthorizationsDeps) {
  await registerOwnerPage<Body>(app, deps, {
    path,
    place: '授权管理 · Authorised apps',
    show: (reply, user) => listPage(deps, reply, user),
    async step(_request, reply, user, body) {
      if (body.step !== 'revoke') return listPage(deps, reply, user);
      const appId = body.app_id ?? '';
      try {
        await deps.oauth.revoke(user.userId, appId);
      } catch (error) {
        if (!isOAuthError(error)) throw error;
        return reply.code(error.status).send(await listPage(deps, reply, user, { error: error.message }));
      }
      return listPage(deps, reply, user, { notice: `已取消授权 · ${appId} can no longer act for you.` });
    },
  });
}
