/**
 * The web security of the server-rendered pages (cashier, card cashier, wallet), from the Fastify
 * ecosystem's plugins rather than hand code:
 *
 * - helmet's headers on every response (`securityHeaders`): a Content-Security-Policy that allows only the pages' own
 *   stylesheet and no script at all, `frame-ancestors 'none'` and `X-Frame-Options: DENY` (no page
 *   renders inside another site's frame), `nosniff`, `Referrer-Policy: same-origin` (no trade
 *   number leaks to a merchant or bank in a Referer, while same-origin form posts still carry
 *   their Origin, which `no-referrer` would blank to `null`), HSTS when the public URL is https.
 * - `@fastify/cookie` parses and sets cookies: HttpOnly, SameSite, and Secure when the public URL
 *   is https.
 * - `@fastify/csrf-protection`: every page form carries a token bound to a secret in an HttpOnly
 *   cookie; a state-changing request without a valid one is refused.
 * - An Origin check before that: a state-changing request whose `Origin` (or, without one, whose
 *   `Referer`) is not the platform's own is refused before its body is read.
 * - `@fastify/rate-limit`: password logins and SMS codes per client address and process (the
 *   wrong-password throttle itself is the members module's, in the database).
 *
 * The platform's own origin is the public URL's (`PAYBAO_PUBLIC_URL`) when one is configured;
 * without one it is whatever `Host` the request came to, since the server cannot know a name it
 * was not told (a browser cannot forge the Host of its own request, so a foreign page still fails
 * the check).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import { limits } from '../core/limits.ts';
import { escapeHtml } from './html.ts';
import { PageRefusal } from './refusals.ts';

/** What the pages need to know about where the platform is reached. */
export interface WebSecurityOptions {
  /**
   * The platform's public base URL (`PAYBAO_PUBLIC_URL`) when one is configured: then only its
   * origin is the platform's own, and cookies are Secure when it is https. Absent: the request's
   * `Host` is the platform's own, and cookies are not Secure (plain http in development).
   */
  publicUrl?: string | undefined;
}

const isHttps = (security: WebSecurityOptions) => security.publicUrl?.startsWith('https://') === true;

/** The pages' policy: their own stylesheet, no script, no frame, forms only to `formTargets`. */
export function pageDirectives(
  security: WebSecurityOptions,
  formTargets: readonly string[] = [],
): Record<string, string[]> {
  const directives: Record<string, string[]> = {
    'default-src': ["'none'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:'],
    'base-uri': ["'none'"],
    // Chrome applies form-action to the redirect a form post answers: the cashier's redirect to
    // the merchant's return_url must be allowed by the page that holds the form.
    'form-action': ["'self'", ...formTargets],
    'frame-ancestors': ["'none'"],
  };
  if (isHttps(security)) directives['upgrade-insecure-requests'] = [];
  return directives;
}

/** The same policy as a header value, for a page that allows a form target of its own. */
export function pagePolicy(security: WebSecurityOptions, formTargets: readonly string[]): string {
  return Object.entries(pageDirectives(security, formTargets))
    .map(([name, values]) => [name, ...values].join(' '))
    .join('; ');
}

/** Swagger UI (`/docs`) runs its own scripts and sets inline styles: its own, looser policy. */
export function docsPolicy(): Record<string, string> {
  return {
    'default-src': "'self'",
    'script-src': "'self'",
    'style-src': "'self' 'unsafe-inline'",
    'img-src': "'self' data:",
    'connect-src': "'self'",
    'object-src': "'none'",
    'base-uri': "'self'",
    'form-action': "'self'",
    'frame-ancestors': "'none'",
  };
}

/**
 * The security headers every response carries: helmet's middleware, built once. (`@fastify/helmet`
 * builds helmet's whole middleware again on every request, CSP parsing included, and runs two hooks
 * to do it; on the gateway that was a measurable part of a paid trade.) `hook` goes on the root,
 * so that every route, the framework's own answers included, carries them; `fixed` are the same
 * headers as values, for a raw response answered before Fastify (an early refusal, app.ts).
 */
export function securityHeaders(security: WebSecurityOptions): {
  hook: onRequestHookHandler;
  fixed: OutgoingHttpHeaders;
} {
  const setHeaders = helmet(helmetOptions(security));
  // What helmet sets on every response, captured once (its headers depend on the options alone).
  const fixed: OutgoingHttpHeaders = {};
  const capture = { setHeader: (name: string, value: string) => (fixed[name] = value), removeHeader: () => {} };
  setHeaders({} as IncomingMessage, capture as unknown as ServerResponse, () => {});
  return {
    hook: (request, reply, done) => setHeaders(request.raw, reply.raw, (error) => done(error as Error | undefined)),
    fixed,
  };
}

function helmetOptions(security: WebSecurityOptions): HelmetOptions {
  return {
    contentSecurityPolicy: { useDefaults: false, directives: pageDirectives(security) },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'same-origin' },
    hsts: isHttps(security) ? { maxAge: limits.hstsMaxAgeS, includeSubDomains: false } : false,
  };
}

/** The cookie attributes every page cookie has; `Secure` when the public URL is https. */
export function cookieFlags(security: WebSecurityOptions): { httpOnly: true; secure: boolean } {
  return { httpOnly: true, secure: isHttps(security) };
}

/** The client's address as the throttles count it: IPv4 as is, IPv6 by its /64. */
export function clientAddress(request: FastifyRequest): string {
  return normalizeIP(request.ip, 64);
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origin of a header value, or null when it is not a URL (an opaque `Origin: null`). */
function originOf(text: string): string | null {
  try {
    const origin = new URL(text).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

/** True when the request's Origin (or Referer) is the platform's own, or when it names none. */
export function sameOrigin(request: FastifyRequest, security: WebSecurityOptions): boolean {
  const header = request.headers.origin ?? request.headers.referer;
  // Browsers send Origin with every form post; a request with neither header is no browser's
  // cross-site request, and it still needs the CSRF token.
  if (header === undefined) return true;
  const origin = originOf(header);
  if (origin === null) return false;
  if (security.publicUrl !== undefined) return origin === new URL(security.publicUrl).origin;
  return new URL(origin).host === request.host;
}

/**
 * Guards the pages registered inside `scope` (call it first in the scope): cookies, the Origin
 * check and the CSRF token on every state-changing request, and the login rate limit for routes
 * that ask for it with `config: { rateLimit: loginRateLimit }`. Its refusals (`PageRefusal`, and
 * the CSRF plugin's) are answered as HTML pages by `refusals.ts`, like every other error.
 */
export async function registerPageGuard(scope: FastifyInstance, security: WebSecurityOptions): Promise<void> {
  await scope.register(cookie);
  await scope.register(csrf, {
    cookieKey: 'paybao_csrf',
    // Lax, not Strict: the cashier is reached by a redirect from the merchant's site, and a
    // secret the browser withheld there would be replaced, voiding the form of another tab.
    cookieOpts: { path: '/', sameSite: 'lax', ...cookieFlags(security) },
    getToken: (request) => {
      const token = (request.body as { _csrf?: unknown } | undefined)?._csrf;
      return typeof token === 'string' ? token : undefined;
    },
  });
  await scope.register(rateLimit, {
    global: false,
    keyGenerator: clientAddress,
    errorResponseBuilder: (_request, context) =>
      new PageRefusal('too_many_attempts', {
        message: `操作太频繁 · Too many attempts from your network. Wait ${context.after} and try again.`,
      }),
  });
  scope.addHook('onRequest', async (request) => {
    if (safeMethods.has(request.method)) return;
    if (!sameOrigin(request, security)) {
      throw new PageRefusal('form_from_other_site');
    }
  });
  scope.addHook('preHandler', (request, reply, done) => {
    if (safeMethods.has(request.method)) return done();
    scope.csrfProtection(request, reply, done);
  });
}

/** The route option of a page that takes a password or sends an SMS code. */
export const loginRateLimit = { max: limits.loginRequestsPerAddressMax, timeWindow: limits.loginRequestWindowMs };

/** The hidden form field that carries the CSRF token (a fresh one per rendered form). */
export function csrfField(reply: FastifyReply): string {
  return `<input type="hidden" name="_csrf" value="${escapeHtml(reply.generateCsrf())}">`;
}
