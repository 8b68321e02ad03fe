/**
 * How the server serves the apps built from web/: the wallet's page at `/app` and at every client
 * route under it (the app's router reads the path), never cached, under the apps' own policy —
 * scripts, styles and fetches from Paybao alone, no inline script, no frame; the hashed files at
 * `/assets/` cached for good; a checkout that was never built answers 503 with how to build.
 * And the budget: the JavaScript the wallet's first page loads is at most 250 KB gzipped (printed).
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { registerWebApps, webBuildDir } from '../../src/server/web-apps.ts';
import { freshPlatform } from '../support/engine.ts';

const built = existsSync(join(webBuildDir, 'app', 'index.html'));
const firstPageJsGzipBytesMax = 250 * 1024;

/** The scripts the wallet's page loads before it shows anything: its entry and the modules it preloads. */
function firstPageScripts(html: string): string[] {
  return [...html.matchAll(/<(?:script[^>]*src|link[^>]*rel="modulepreload"[^>]*href)="\/assets\/([^"]+\.js)"/g)].map(
    (m) => m[1] ?? '',
  );
}

describe('the apps built from web/', () => {
  let platform: Platform;
  let app: Awaited<ReturnType<typeof buildPlatformApp>>;

  beforeAll(async () => {
    if (!built) throw new Error('the web app is not built: run `npm run build` (npm install does it)');
    platform = await freshPlatform();
    app = await buildPlatformApp({ platform, publicUrl: () => 'http://127.0.0.1' });
  });

  afterAll(async () => {
    await app?.close();
    await platform?.close();
  });

  it('serves the wallet at /app and at its client routes, uncached, under the apps’ policy', async () => {
    for (const url of ['/app', '/app/', '/app/bills', '/app/trades/2026120722000000000001']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('<div id="root"></div>');
      const policy = String(res.headers['content-security-policy']);
      expect(policy).toContain("default-src 'none'");
      expect(policy).toContain("script-src 'self'");
      expect(policy).toContain("connect-src 'self'");
      expect(policy).toContain("style-src 'self'");
      expect(policy).toContain("frame-ancestors 'none'");
      expect(policy).not.toContain('unsafe-inline');
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
    // No inline script: every script of the page is a file of Paybao's own.
    const html = (await app.inject({ method: 'GET', url: '/app' })).body;
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
  });

  it('serves the portal and the console with a fresh style nonce per response, never stored', async () => {
    for (const url of ['/merchant', '/merchant/trades', '/console', '/console/disputes']) {
      const [first, second] = [await app.inject({ method: 'GET', url }), await app.inject({ method: 'GET', url })];
      expect(first.statusCode, url).toBe(200);
      expect(first.headers['cache-control']).toBe('no-store');
      const nonceOf = (res: typeof first) => {
        const nonce = /<meta name="paybao-style-nonce" content="([A-Za-z0-9+/=]+)">/.exec(res.body)?.[1];
        expect(nonce, url).toBeDefined();
        const policy = String(res.headers['content-security-policy']);
        expect(policy).toContain(`style-src 'self' 'nonce-${nonce}'`);
        expect(policy).toContain("script-src 'self'");
        expect(policy).not.toContain('unsafe-inline');
        return nonce;
      };
      expect(nonceOf(first)).not.toBe(nonceOf(second));
      expect(first.body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    }
  });

  it('serves the hashed files for good, and a missing one as 404', async () => {
    const html = (await app.inject({ method: 'GET', url: '/app' })).body;
    const [entry] = firstPageScripts(html);
    const res = await app.inject({ method: 'GET', url: `/assets/${entry}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await app.inject({ method: 'GET', url: '/assets/nothing-here.js' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/assets/../package.json' })).statusCode).toBe(404);
  });

  it('answers 503 with how to build when the build is missing', async () => {
    const bare = Fastify();
    await registerWebApps(bare, { security: {}, buildDir: `${mkdtempSync(join(tmpdir(), 'paybao-unbuilt-'))}/` });
    const res = await bare.inject({ method: 'GET', url: '/app/bills' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
    await bare.close();
  });

  it('keeps the wallet’s first page within 250 KB of gzipped JavaScript', () => {
    const html = readFileSync(join(webBuildDir, 'app', 'index.html'), 'utf8');
    const scripts = firstPageScripts(html);
    expect(scripts.length).toBeGreaterThan(0);
    const bytes = scripts.reduce(
      (total, name) => total + gzipSync(readFileSync(join(webBuildDir, 'assets', name)), { level: 9 }).length,
      0,
    );
    console.log(`wallet app: first page JavaScript ${(bytes / 1024).toFixed(1)} KB gzipped (${scripts.join(', ')})`);
    expect(bytes).toBeLessThanOrEqual(firstPageJsGzipBytesMax);
  });
});
