/**
 * The user authorisation page, at Alipay's path and with its parameters, so that a merchant
 * swaps only the host: `/oauth2/publicAppAuthorize.htm?app_id=…&scope=auth_user,auth_base&
 * redirect_uri=…&state=…`. The request is checked first (`Authorizations.check`): a bad one gets
 * a page saying why, and the browser is never sent to an address the app did not register. Then
 * the wallet login (a native API session in its own cookie, `paybao_authorize`: HttpOnly,
 * SameSite=Lax, path `/oauth2`), then "allow <app> to <scopes>" with Allow and Cancel. Allow
 * sends the browser back with `auth_code`, `app_id`, `scope` and `state`; Cancel with
 * `error=access_denied`. `auth_base` alone, or scopes the user allowed this app before, go back
 * at once after login, as on Alipay. Every form carries its CSRF token; the page's policy lets
 * its forms lead to the app's registered origin, and nowhere else.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { maskPhone, type User } from '../members/index.ts';
import {
  type Authorizations,
  type AuthorizeRequest,
  isOAuthError,
  type OAuthError,
  type Scope,
} from '../oauth/index.ts';
import type { Wallet } from '../wallet/index.ts';
import { escapeHtml, page } from './html.ts';
import { acceptPageForms, parseForm } from './page-forms.ts';
import { currentUser, logIn, loginForm, logOut, logoutForm, type SessionCookie } from './wallet-pages.ts';
import { csrfField, loginRateLimit, pagePolicy, type WebSecurityOptions } from './web-security.ts';

export interface AuthorizePageDeps {
  oauth: Authorizations;
  wallet: Wallet;
  security: WebSecurityOptions;
}

/** Alipay's path (openauth.alipay.com/oauth2/publicAppAuthorize.htm). */
export const authorizePath = '/oauth2/publicAppAuthorize.htm';
/**
 * The authorise page's own session. Lax, unlike the wallet's: a user arrives here by a link from
 * the app's site, and a logged-in user should not log in again each time. What another site can
 * do with it is a GET, which at most sends the user back, with a code, to an address the app
 * registered; allowing anything new takes a POST with the page's CSRF token, which Lax never
 * sends from another site, from a page no other site may frame.
 */
const cookie: SessionCookie = { name: 'paybao_authorize', path: '/oauth2', sameSite: 'lax' };

/** What each scope lets the app do, in the user's words. */
export const scopeWords: Record<Scope, string> = {
  auth_base: '识别你的身份 · Know who you are (your Paybao user id)',
  auth_user: '获取你的公开信息（昵称）· Read your public profile (nickname)',
  auth_zhima: '获取你的信用分 · Read your credit score',
};

const authorizePage = (title: string, body: string) => page('Paybao 授权 · Authorise', title, body);

/** The query's fields; a field sent twice is refused by `parseForm`, as the pages refuse it. */
function paramsOf(request: FastifyRequest) {
  const at = request.url.indexOf('?');
  const query = parseForm(at === -1 ? '' : request.url.slice(at + 1));
  return { appId: query.app_id, scope: query.scope, redirectUri: query.redirect_uri, state: query.state };
}

/** The refusal of a request that failed its checks: a page saying why, going nowhere. */
function refusalPage(reply: FastifyReply, error: OAuthError): FastifyReply {
  const card = `<div class="card"><div class="result FAILED"><div class="icon">✕</div>
  <h2 id="title">无法授权 · This authorisation cannot go on</h2></div>
  <div class="error" role="alert" id="reason">${escapeHtml(error.message)}</div>
  <p class="muted">请返回应用重试，或联系应用的客服 · Go back to the app and try again, or tell its support.
  ${error.param ? `(<code>${escapeHtml(error.param)}</code>)` : ''}</p></div>`;
  return reply.code(error.status).send(authorizePage('Cannot authorise', card));
}

function consentCard(reply: FastifyReply, request: AuthorizeRequest, user: User, self: string): string {
  const csrf = csrfField(reply);
  const scopes = request.scopes.map((s) => `<li data-scope="${s}">${escapeHtml(scopeWords[s])}</li>`).join('');
  const host = new URL(request.redirectUri).host;
  return `<div class="card"><div class="muted">Paybao 账户授权 · Authorise with Paybao</div>
  <h2 id="app-name">${escapeHtml(request.app.name)}</h2>
  <p class="muted">申请以下权限 · would like to:</p><ul class="orders" id="scopes">${scopes}</ul>
  <dl><dt>账户 · Account</dt><dd id="account">${escapeHtml(maskPhone(user.phone))}</dd>
  <dt>返回 · Returns to</dt><dd id="return-host">${escapeHtml(host)}</dd></dl>
  <form method="post" action="${escapeHtml(self)}">${csrf}
  <button type="submit" name="step" value="allow" id="allow">同意授权 · Allow</button>
  <button type="submit" name="step" value="deny" id="deny" class="secondary">取消 · Cancel</button></form>
  <div class="foot"><span class="muted">可随时在钱包中取消 · Revoke it in your wallet at any time</span>${logoutForm(csrf, self)}</div></div>`;
}

/** The request checked, with the page's policy letting its forms lead to the app's origin; or the refusal. */
async function checked(
  deps: AuthorizePageDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<AuthorizeRequest | FastifyReply> {
  reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
  try {
    const authorize = await deps.oauth.check(paramsOf(request));
    // Chrome holds a form's redirects to the policy of the page that held the form.
    reply.header('content-security-policy', pagePolicy(deps.security, [new URL(authorize.redirectUri).origin]));
    return authorize;
  } catch (error) {
    if (isOAuthError(error)) return refusalPage(reply, error);
    throw error;
  }
}

type LoginRequest = Parameters<typeof logIn>[1];

const isRequest = (value: AuthorizeRequest | FastifyReply): value is AuthorizeRequest => 'scopes' in value;

/** The login form, or the way on for a user already logged in: back to the app, or the consent card. */
async function show(
  deps: AuthorizePageDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  authorize: AuthorizeRequest,
) {
  const place = `授权给 ${authorize.app.name} · Authorise ${authorize.app.name}`;
  const user = await currentUser(deps, request, cookie);
  if (!user) return authorizePage('Log in', loginForm(csrfField(reply), undefined, '', request.url, place));
  if (!(await deps.oauth.needsConsent(user.userId, authorize))) {
    return reply.redirect(await deps.oauth.authorize(user.userId, authorize), 303);
  }
  return authorizePage('Authorise', consentCard(reply, authorize, user, request.url));
}

/** Mounts the authorise page (GET: login or consent; POST: log in, log out, allow, cancel). */
export async function registerAuthorizePage(app: FastifyInstance, deps: AuthorizePageDeps): Promise<void> {
  await app.register(async (scope) => {
    acceptPageForms(scope);
    scope.get(authorizePath, async (request, reply) => {
      const authorize = await checked(deps, request, reply);
      return isRequest(authorize) ? show(deps, request, reply, authorize) : authorize;
    });
    scope.post<{ Body: { step?: string } }>(
      authorizePath,
      { config: { rateLimit: loginRateLimit } },
      async (request, reply) => {
        const authorize = await checked(deps, request, reply);
        if (!isRequest(authorize)) return authorize;
        const step = request.body?.step;
        const place = `授权给 ${authorize.app.name} · Authorise ${authorize.app.name}`;
        if (step === 'login') return logIn(deps, request as LoginRequest, reply, request.url, place, cookie);
        if (step === 'logout') return logOut(deps, request, reply, request.url, cookie);
        const user = await currentUser(deps, request, cookie);
        if (!user) {
          const form = loginForm(csrfField(reply), '请先登录 · Please log in first.', '', request.url, place);
          return reply.code(401).send(authorizePage('Log in', form));
        }
        if (step === 'allow') return reply.redirect(await deps.oauth.authorize(user.userId, authorize), 303);
        if (step === 'deny') return reply.redirect(deps.oauth.denied(authorize), 303);
        return show(deps, request, reply, authorize);
      },
    );
  });
}
