#!/usr/bin/env node
// The `paybao` command. It runs the JavaScript that `npm install` compiled into dist/ (bin/build.js)
// while that build is newer than every file in src/; after an edit to src (or without a build) it
// runs the TypeScript itself through tsx, slower to start but never stale, and says so once.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** When the build in dist/ started, or undefined without one. */
function buildStartedMs() {
  try {
    return Number(readFileSync(join(root, 'dist', '.build-stamp'), 'utf8'));
  } catch {
    return undefined;
  }
}

function newestSourceMs() {
  const src = join(root, 'src');
  let newest = 0;
  for (const file of readdirSync(src, { recursive: true })) {
    newest = Math.max(newest, statSync(join(src, String(file))).mtimeMs);
  }
  return newest;
}

const built = buildStartedMs();
if (built !== undefined && newestSourceMs() <= built) {
  process.setSourceMapsEnabled(true);
  await import('../dist/cli/main.js');
} else {
  console.error(
    built === undefined
      ? 'paybao: no build in dist/; running the TypeScript through tsx (`npm run build` makes commands start faster)'
      : 'paybao: src/ changed since the build; running the TypeScript through tsx (`npm run build` makes commands start faster)',
  );
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
