#!/usr/bin/env node
// The `paybao` command. TypeScript runs as is through tsx: a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
