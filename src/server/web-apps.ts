/**
 * The single-page apps built from `web/` (React + Vite, `bin/build.js`): each entry's HTML at its
 * own path — the wallet at `/app`, the merchant portal at `/merchant`, the console at `/console` — with every client route under it answered by the same page
 * (the app's router reads the path), and their hashed scripts and stylesheets at `/assets/` from
 * `dist/web/assets`, cached for good (a changed file gets a new name).
 *
 * The apps run under a Content-Security-Policy of their own, as strict as the pages': scripts,
 * styles, fonts and fetches from Paybao alone, no inline script or style element, images from
 * Paybao or `data:` (the payment code's QR and bar code are drawn into data URLs), no frame. The
 * one exception is Ant Design's run-time styles in the portal and the console: a `<style>` element
 * carrying the nonce drawn for that one response (`styleNonceMeta`), never a script.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { limits } from '../core/limits.ts';
import { pageDirectives, type WebSecurityOptions } from './web-security.ts';

/** Where `vite build` puts the apps: the same place from src/server and from dist/server. */
export const webBuildDir = fileURLToPath(new URL('../../dist/web/', import.meta.url));

/** The entry points built from `web/`: the path each is served at, and its folder in the build. */
export const webApps = [
  { path: '/app', folder: 'app', styleNonce: false },
  { path: '/merchant', folder: 'merchant', styleNonce: true },
  { path: '/console', folder: 'console', styleNonce: true },
] as const;

/**
 * The `<meta>` that hands a desk app the nonce its style elements carry: Ant Design (the portal's
 * and the console's) writes its styles into `<style>` elements at run time, which the policy admits
 * only with the nonce of this response; web/shared/antd.tsx reads it.
 */
export const styleNonceMeta = 'paybao-style-nonce';

/** The apps' policy: the pages' own (web-security.ts), plus scripts, fetches and fonts from Paybao. */
export function appPolicy(security: WebSecurityOptions, styleNonce?: string): string {
  const directives = pageDirectives(security);
  if (styleNonce !== undefined) directives['style-src'] = ["'self'", `'nonce-${styleNonce}'`];
  directives['script-src'] = ["'self'"];
  directives['connect-src'] = ["'self'"];
  directives['font-src'] = ["'self'"];
  directives['manifest-src'] = ["'self'"];
  return Object.entries(directives)
    .map(([name, values]) => [name, ...values].join(' '))
    .join('; ');
}

const notBuilt = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Paybao</title></head>
<body><h1>The web app is not built</h1><p>Run <code>npm run build</code> (npm install does it), then reload.</p></body></html>`;

/**
 * Serves the built apps (see the file comment). A checkout that was never built still starts:
 * its app paths answer 503 with a page that says how to build them.
 */
export async function registerWebApps(
  app: FastifyInstance,
  options: { security: WebSecurityOptions; buildDir?: string },
): Promise<void> {
  const buildDir = options.buildDir ?? webBuildDir;

  const assets = `${buildDir}assets`;
  if (existsSync(assets)) {
    await app.register(fastifyStatic, {
      root: assets,
      prefix: '/assets/',
      decorateReply: false,
      index: false,
      // Every file's name carries its content's hash: a browser never needs to ask again.
      immutable: true,
      maxAge: '365d',
    });
  }
  for (const entry of webApps) {
    const file = `${buildDir}${entry.folder}/index.html`;
    const html = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    const serve = async (_request: unknown, reply: FastifyReply) => {
      const nonce = entry.styleNonce ? randomBytes(limits.styleNonceBytes).toString('base64') : undefined;
      reply.type('text/html; charset=utf-8').header('content-security-policy', appPolicy(options.security, nonce));
      if (html === undefined) return reply.code(503).send(notBuilt);
      const page =
        nonce === undefined ? html : html.replace('<head>', `<head><meta name="${styleNonceMeta}" content="${nonce}">`);
      // The page names the current hashed files: asked for again each time; a desk app's page
      // carries this response's nonce, so it is never stored.
      return reply.header('cache-control', nonce === undefined ? 'no-cache' : 'no-store').send(page);
    };
    app.get(entry.path, serve);
    app.get(`${entry.path}/*`, serve);
  }
}
