/**
 * `paybao start` as a newcomer runs it: the real binary in a child process, on a fresh data
 * directory (or a fresh schema when DATABASE_URL is set). It prints where it listens, answers
 * /health, and on SIGTERM drains and exits 0, leaving a migrated database whose books verify.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AlipaySdk } from 'alipay-sdk';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../src/core/db/index.ts';
import { openPlatform } from '../../src/platform.ts';
import { keyPair } from '../gateway/support.ts';
import { databaseUrl, engine, freshSchema } from '../support/engine.ts';
import { processTestTimeoutMs } from '../support/timeouts.ts';

const bin = new URL('../../bin/paybao.js', import.meta.url).pathname;
const root = new URL('../..', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'paybao-start-'));
const schema = freshSchema();
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PORT: '0',
  HOST: '127.0.0.1',
  PAYBAO_DATA_DIR: dataDir,
  PAYBAO_DB_SCHEMA: schema ?? '',
  DATABASE_URL: databaseUrl ?? '',
  // The demo of a fresh install has its own test (demo.test.ts).
  PAYBAO_DEMO: 'off',
};
const urlLine = /^Paybao is running at (http:\/\/\S+)$/m;
// A hang guard, not a speed limit: on a busy machine a fresh start (initdb, migrations) takes minutes.
const startTimeoutMs = processTestTimeoutMs;

let child: ChildProcess | undefined;

afterEach(() => {
  // A failed assertion must not leave a server running behind the test run.
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
});

afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  if (databaseUrl && schema) {
    const db = await openDb({ databaseUrl });
    await db.exec(`drop schema if exists ${schema} cascade`);
    await db.close();
  }
});

/** Resolves with the URL the server prints; rejects with its output if it exits first or is slow. */
function waitForUrl(proc: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`no URL after ${startTimeoutMs} ms:\n${output}`)), startTimeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = urlLine.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening:\n${output}`));
    });
  });
}

function exited(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (proc.exitCode !== null || proc.signalCode !== null) {
    return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  }
  return new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
}

const run = (...args: string[]) => promisify(execFile)(process.execPath, [bin, ...args], { cwd: root, env });

describe('paybao start', { timeout: processTestTimeoutMs }, () => {
  it('listens, answers /health, exits 0 on SIGTERM, and leaves a migrated database whose books verify', async () => {
    child = spawn(process.execPath, [bin, 'start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await waitForUrl(child);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', engine });

    child.kill('SIGTERM');
    expect(await exited(child)).toEqual({ code: 0, signal: null });

    // What it leaves behind: the migrations it applied at start, and books that balance.
    const migrated = await run('migrate');
    expect(migrated.stdout).toContain('database is up to date');
    const verified = await run('ledger', 'verify');
    expect(JSON.parse(verified.stdout)).toEqual({ ok: true, engine, violations: [] });
  });

  it('with --read-only serves the books to look at, refuses every write, and refuses a schema it does not match', async () => {
    // The database the first test left, with a merchant app and a user of its own.
    const keys = keyPair();
    const platform = await openPlatform({
      databaseUrl,
      databaseSchema: schema,
      dataDir: databaseUrl ? undefined : dataDir,
    });
    const app = await platform.members.createApp({ name: 'Read-only Shop', merchantPublicKeyPem: keys.publicKeyPem });
    await platform.members.createUser({ phone: '13800000051', password: 'pw read only 1', openingBalance: 500n });
    await platform.close();

    child = spawn(process.execPath, [bin, 'start', '--read-only'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await waitForUrl(child);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const sdk = new AlipaySdk({
      appId: app.appId,
      privateKey: keys.privateKeyPem,
      alipayPublicKey: app.alipayPublicKey,
      gateway: `${url}/gateway.do`,
    });
    // A read goes through to the books; a write is refused, and writes nothing.
    expect(await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: 'ro-1' } })).toMatchObject({
      code: '40004',
      subCode: 'ACQ.TRADE_NOT_EXIST',
    });
    expect(
      await sdk.exec('alipay.trade.create', {
        bizContent: { out_trade_no: 'ro-1', total_amount: '1.00', subject: 'x' },
      }),
    ).toMatchObject({ code: '20000' });
    const login = await fetch(`${url}/api/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone: '13800000051', password: 'pw read only 1' }),
    });
    expect(login.status).toBe(503);
    expect(await login.json()).toMatchObject({ code: 'read_only' });
    child.kill('SIGTERM');
    expect(await exited(child)).toEqual({ code: 0, signal: null });

    // A migration this code has and the database lacks: a read-only start cannot apply it.
    let db = await openDb({ databaseUrl, schema, dataDir });
    expect(await db.query('select 1 from trades where app_id = $1', [app.appId])).toEqual([]);
    const [last] = await db.query<{ id: string }>('select id from schema_migrations order by id desc limit 1');
    await db.query('delete from schema_migrations where id = $1', [last?.id]);
    // PGlite has one owner at a time: the server, then this test again.
    await db.close();
    await expect(run('start', '--read-only')).rejects.toThrow(/lacks 1 of this Paybao's migrations/);
    db = await openDb({ databaseUrl, schema, dataDir });
    await db.query('insert into schema_migrations (id) values ($1)', [last?.id]);
    await db.close();
  });
});
