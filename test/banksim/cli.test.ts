/**
 * `paybao bank-sim` as its own process: the real binary in a child process prints where it
 * listens, answers /health with its banks seeded and its books balanced, and exits 0 on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { processTestTimeoutMs } from '../support/timeouts.ts';

const bin = new URL('../../bin/paybao.js', import.meta.url).pathname;
const root = new URL('../..', import.meta.url).pathname;

describe('paybao bank-sim', { timeout: processTestTimeoutMs }, () => {
  it('runs as its own process and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, 'bank-sim', '--port', '0', '--memory', '--seed', '7'], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let output = '';
        // A hang guard, not a speed limit: a busy machine may take minutes.
        const timer = setTimeout(() => reject(new Error(`no URL:\n${output}`)), processTestTimeoutMs);
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /Bank simulator is running at (http:\/\/\S+)/.exec(output);
          if (match?.[1]) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
      });
      expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok' });
      const books = (await (await fetch(`${url}/admin/books`)).json()) as {
        banks: { bank: string }[];
        problems: string[];
      };
      expect(books.banks.map((b) => b.bank)).toEqual(['ABC', 'CMB', 'ICBC']);
      expect(books.problems).toEqual([]);
      expect(((await (await fetch(`${url}/admin/faults`)).json()) as { seed: number }).seed).toBe(7);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
