/**
 * A fresh install shows itself (issue 17 §4): `paybao start` on the embedded engine and an empty
 * data directory creates the demo and prints where to look. The demo's merchant key pair works
 * with the real `alipay-sdk` (its trades answer trade.query in the states the demo left them),
 * the buyers log in to the wallet with the printed passwords and hold what their card top-ups
 * brought minus what they paid, the operator token opens the console's dispute queue, the
 * reserves cover the customers' money and the books verify. A second start on the same
 * directory makes no second demo; PAYBAO_DEMO=off and DATABASE_URL make none.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AlipaySdk } from 'alipay-sdk';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { demoWanted } from '../../src/cli/demo.ts';
import { loadConfig } from '../../src/config.ts';
import { engine } from '../support/engine.ts';
import { freePort } from '../support/ports.ts';
import { processTestTimeoutMs } from '../support/timeouts.ts';

const bin = new URL('../../bin/paybao.js', import.meta.url).pathname;
const root = new URL('../..', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'paybao-demo-'));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Starts `paybao start`; resolves once its output matches `until` (or rejects with the output). */
async function start(env: NodeJS.ProcessEnv, until: RegExp): Promise<{ child: ChildProcess; output: string }> {
  const child = spawn(process.execPath, [bin, 'start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${until} after ${processTestTimeoutMs} ms:\n${output}`)),
      processTestTimeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (until.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
  return { child, output };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await done;
}

const urlOf = (output: string) => /Paybao is running at (http:\/\/\S+)/.exec(output)?.[1] ?? '';

describe('the demo of a fresh install', { timeout: processTestTimeoutMs * 3 }, () => {
  it('is made only on the embedded engine, on an empty data directory, unless PAYBAO_DEMO=off', () => {
    const empty = mkdtempSync(join(tmpdir(), 'paybao-demo-empty-'));
    expect(demoWanted(loadConfig({ PAYBAO_DATA_DIR: empty }))).toBe(true);
    expect(demoWanted(loadConfig({ PAYBAO_DATA_DIR: join(empty, 'not-yet') }))).toBe(true);
    expect(demoWanted(loadConfig({ PAYBAO_DATA_DIR: empty, PAYBAO_DEMO: 'off' }))).toBe(false);
    expect(demoWanted(loadConfig({ PAYBAO_DATA_DIR: empty, DATABASE_URL: 'postgres://postgres@127.0.0.1/test' }))).toBe(
      false,
    );
    expect(demoWanted(loadConfig({ PAYBAO_DATA_DIR: root }))).toBe(false);
    rmSync(empty, { recursive: true });
  });

  it.skipIf(engine !== 'pglite')(
    'starts with a merchant, buyers and trades in each state, and says where to look',
    async () => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        PAYBAO_DATA_DIR: dataDir,
        PAYBAO_BANK_SIM_PORT: String(await freePort()),
        DATABASE_URL: '',
      };
      const first = await start(env, /merchant app +\d{16}: .*\n/);
      const url = urlOf(first.output);
      for (const path of ['/app', '/merchant', '/console']) expect(first.output).toContain(`${url}${path}`);
      expect(first.output).toMatch(/Zhang San: phone 13800000001, password (\S+) — ¥1144\.00, card ICBC \*\*\*\*0001/);

      // The merchant's alipay-sdk, configured from the files the demo wrote.
      const app = JSON.parse(readFileSync(join(dataDir, 'demo', 'app.json'), 'utf8')) as Record<string, string>;
      const sdk = new AlipaySdk({
        appId: app.app_id as string,
        privateKey: readFileSync(app.private_key_file as string, 'utf8'),
        alipayPublicKey: app.alipay_public_key as string,
        gateway: `${url}/gateway.do`,
        endpoint: url,
      });
      const states: Record<string, string> = {
        'demo-0001': 'WAIT_BUYER_PAY',
        'demo-0002': 'WAIT_SELLER_SEND_GOODS',
        'demo-0003': 'WAIT_BUYER_CONFIRM_GOODS',
        'demo-0005': 'TRADE_CLOSED',
      };
      for (const [outTradeNo, status] of Object.entries(states)) {
        const answer = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: outTradeNo } });
        expect(answer.tradeStatus, outTradeNo).toBe(status);
      }

      // A buyer logs in with the printed password; the console's queue holds the dispute.
      const password = /Li Si: phone 13800000002, password (\S+)/.exec(first.output)?.[1];
      const login = await fetch(`${url}/api/v1/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ phone: '13800000002', password }),
      });
      expect(login.status).toBe(201);
      const token = readFileSync(join(dataDir, 'demo', 'operator-token.txt'), 'utf8').trim();
      const disputes = (await (
        await fetch(`${url}/console/v1/disputes`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { data: unknown[] };
      expect(disputes.data).toHaveLength(1);

      // The card top-ups came through the bank: the reserves cover the customers; the books verify.
      const run = (...args: string[]) => promisify(execFile)(process.execPath, [bin, ...args], { cwd: root, env });
      const reserves = JSON.parse((await run('report', 'reserves', '--json')).stdout) as { covered: boolean };
      expect(reserves.covered).toBe(true);
      expect(JSON.parse((await run('ledger', 'verify')).stdout)).toMatchObject({ ok: true });
      await stop(first.child);

      // A second start: the directory is no longer empty, so no second demo.
      const second = await start(env, /Paybao is running at/);
      const health = await fetch(`${urlOf(second.output)}/health`);
      expect(health.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await stop(second.child);
      expect(second.output).not.toContain('A demo was created');
    },
  );
});
