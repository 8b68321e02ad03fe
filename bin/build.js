#!/usr/bin/env node
// Compiles src/ into dist/ once (`npm run build`, and `prepare` at every `npm install` / `npm ci`):
// JavaScript with the same layout, so that `import.meta.url`-relative paths (package.json,
// bin/paybao.js) resolve as they do from src, plus the .sql migrations the code reads. The stamp
// records when the build started; bin/paybao.js runs dist only while no file in src is newer.
// Then Vite builds the front end (web/) into dist/web, which the server serves (`/app`, `/assets/`).
// `--web` builds the front end alone (`npm run build:web`), leaving the server's build as it is.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');
const startedMs = Date.now();
const webOnly = process.argv.includes('--web');

if (!webOnly) {
  rmSync(dist, { recursive: true, force: true });
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  for (const file of readdirSync(src, { recursive: true })) {
    const name = String(file);
    if (name.endsWith('.sql')) cpSync(join(src, name), join(dist, name));
  }
  writeFileSync(join(dist, '.build-stamp'), `${startedMs}\n`);
}

const { build } = await import('vite');
await build({ configFile: join(root, 'web', 'vite.config.ts') });
