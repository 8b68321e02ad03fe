/**
 * The front end's one build (`npm install` runs it through bin/build.js): every entry point — the
 * wallet app today, the merchant portal and the console later — is an HTML page of its own, and
 * the code they share (react, the API client, the words) lands in shared, content-hashed chunks
 * under `dist/web/assets/`, which the server serves at `/assets/` with immutable caching. The
 * entries' HTML is served at `/app` (and `/merchant`, `/console` when they come): see
 * src/server/web-apps.ts.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  // No copying of a public folder: every file the pages load is imported, so it gets a hash.
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    // Each entry's modules are preloaded with <link rel="modulepreload"> tags, never an inline script.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      input: {
        app: here('app/index.html'),
        merchant: here('merchant/index.html'),
        console: here('console/index.html'),
      },
      // React Router marks its modules "use client" for server components, which a client bundle ignores.
      onLog(level, log, handler) {
        if (log.code === 'MODULE_LEVEL_DIRECTIVE') return;
        handler(level, log);
      },
    },
  },
});
