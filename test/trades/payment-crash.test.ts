/**
 * A payment interrupted by SIGKILL after its money moved answers TRADE_SUCCESS as soon as the
 * platform is back. A child process pays trades with many payments in flight (as
 * `alipay.trade.pay` does) and is killed mid-load, again until at least one trade was caught
 * between the ledger's transfer and the trade's record (PAYING, money moved). Then `paybao start`
 * runs on the same database, and from the moment it answers, every such trade must answer
 * `alipay.trade.query` (the real alipay-sdk, over HTTP) with TRADE_SUCCESS within 5 s — before,
 * it answered WAIT_BUYER_PAY for a minute, until the sweep's stale limit. Every other trade whose
 * money moved was already TRADE_SUCCESS; afterwards no trade with money moved is left unpaid, no
 * trade whose money did not move is paid, and the books balance.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AlipaySdk } from 'alipay-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { derivedId } from '../../src/core/ids.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { openPlatform } from '../../src/platform.ts';
import { keyPair } from '../gateway/support.ts';
import { databaseUrl, engine, freshSchema } from '../support/engine.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const loader = fileURLToPath(new URL('../support/payment-crash-loader.ts', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/paybao.js', import.meta.url));
/** The acceptance bound, from the moment the restarted server answers. */
const answerWithinMs = 5_000;
const roundsMax = 8;

const dataDir = engine === 'pglite' ? mkdtempSync(join(tmpdir(), 'paybao-paycrash-')) : undefined;
const schema = freshSchema();
const open = () => openPlatform({ databaseUrl, databaseSchema: schema, dataDir });
const storageEnv: Record<string, string> = dataDir
  ? { PAYBAO_CRASH_DATA_DIR: dataDir, PAYBAO_DATA_DIR: dataDir, DATABASE_URL: '' }
  : { DATABASE_URL: databaseUrl ?? '', PAYBAO_CRASH_SCHEMA: schema ?? '', PAYBAO_DB_SCHEMA: schema ?? '' };

let server: ChildProcess | undefined;

afterAll(async () => {
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (schema) {
    const p = await open();
    await p.db.exec(`drop schema ${schema} cascade`);
    await p.close();
  }
});

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Runs the loader from trade `first` and SIGKILLs it, at a random moment, once `killAfter` are paid. */
async function loadAndKill(env: Record<string, string>, first: number, killAfter: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', loader], {
    cwd: root,
    env: { ...process.env, ...env, PAYBAO_PAYMENT_LOADER: '1', PAYBAO_CRASH_FIRST: String(first) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = { paid: 0, bad: [] as string[], stderr: '' };
  const watchdog = setTimeout(() => child.kill('SIGKILL'), 120_000);
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    run.stderr += chunk;
  });
  let killing = false;
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('bad ')) run.bad.push(line);
    if (line.startsWith('paid ') && ++run.paid >= killAfter && !killing) {
      killing = true;
      setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 100));
    }
  });
  const end = await exited(child);
  clearTimeout(watchdog);
  return { ...run, ...end };
}

/** Every trade of the app, and which of them the ledger has paid (the transfer exists). */
async function tradesAndMoney(appId: string) {
  const platform = await open();
  try {
    const rows = await platform.db.query<{ trade_no: string; out_trade_no: string; status: string }>(
      'select trade_no, out_trade_no, status from trades where app_id = $1',
      [appId],
    );
    const paid = new Set<bigint>();
    for (let i = 0; i < rows.length; i += 5_000) {
      const ids = rows.slice(i, i + 5_000).map((r) => derivedId('trade.pay', r.trade_no));
      for (const t of await platform.ledger.lookupTransfers(ids)) paid.add(t.id);
    }
    const moved = rows.filter((r) => paid.has(derivedId('trade.pay', r.trade_no)));
    return { rows, moved, books: await verifyLedger(platform.db) };
  } finally {
    await platform.close();
  }
}

/** Starts `paybao start` on the test's database; resolves with its URL once it answers. */
function startServer(): Promise<string> {
  const child = spawn(process.execPath, [bin, 'start'], {
    cwd: root,
    env: {
      ...process.env,
      ...storageEnv,
      PORT: '0',
      HOST: '127.0.0.1',
      PAYBAO_BANK_SIM: 'off',
      PAYBAO_DEMO: 'off',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`no URL after 120 s:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^Paybao is running at (http:\/\/\S+)$/m.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening:\n${output}`));
    });
  });
}

describe(`payments interrupted by SIGKILL (${engine})`, () => {
  it('answer TRADE_SUCCESS within 5 s of the restart for every trade whose money moved', async () => {
    const merchantKeys = keyPair();
    const setup = await open();
    const app = await setup.members.createApp({ name: 'Crash Shop', merchantPublicKeyPem: merchantKeys.publicKeyPem });
    const buyers: string[] = [];
    for (let i = 0; i < 8; i++) {
      const user = await setup.members.createUser({
        phone: `1390000${String(i).padStart(4, '0')}`,
        password: 'correct horse 1',
        openingBalance: 10_000_000n,
      });
      buyers.push(user.userId);
    }
    await setup.close();
    const loaderEnv = {
      ...storageEnv,
      PAYBAO_CRASH_APP_ID: app.appId,
      PAYBAO_CRASH_BUYERS: buyers.join(','),
      PAYBAO_CRASH_INFLIGHT: '32',
    };

    // Kill the payer mid-load until a kill lands between a transfer and its record.
    let interrupted: Array<{ trade_no: string; out_trade_no: string }> = [];
    for (let round = 0; round < roundsMax && interrupted.length === 0; round++) {
      const run = await loadAndKill(loaderEnv, round * 1_000_000, 300 + Math.floor(Math.random() * 300));
      expect(run.bad, run.stderr).toEqual([]);
      expect(run.signal, `the loader exited by itself (code ${run.code}): ${run.stderr}`).toBe('SIGKILL');
      const { moved, books } = await tradesAndMoney(app.appId);
      expect(books).toEqual([]);
      interrupted = moved.filter((t) => t.status === 'PAYING');
      // Whatever the kill did not catch in flight was recorded with its money.
      expect(moved.every((t) => t.status === 'TRADE_SUCCESS' || t.status === 'PAYING')).toBe(true);
    }
    expect(interrupted.length, `no kill in ${roundsMax} rounds caught a payment in flight`).toBeGreaterThan(0);

    const url = await startServer();
    const answeringAt = performance.now();
    const sdk = new AlipaySdk({
      appId: app.appId,
      privateKey: merchantKeys.privateKeyPem,
      alipayPublicKey: app.alipayPublicKey,
      gateway: `${url}/gateway.do`,
      endpoint: url,
    });
    const statusOf = async (outTradeNo: string) => {
      const answer = await sdk.exec(
        'alipay.trade.query',
        { bizContent: { out_trade_no: outTradeNo } },
        { validateSign: true },
      );
      return String(answer.tradeStatus);
    };
    let waiting = interrupted.map((t) => t.out_trade_no);
    const statuses = new Map<string, string>();
    while (waiting.length > 0 && performance.now() - answeringAt < answerWithinMs) {
      const still: string[] = [];
      for (let i = 0; i < waiting.length; i += 8) {
        const chunk = waiting.slice(i, i + 8);
        const answers = await Promise.all(chunk.map(statusOf));
        chunk.forEach((no, k) => {
          statuses.set(no, answers[k] as string);
          if (answers[k] !== 'TRADE_SUCCESS') still.push(no);
        });
      }
      waiting = still;
      if (waiting.length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(
      waiting.map((no) => `${no}: ${statuses.get(no)}`),
      `still not TRADE_SUCCESS ${answerWithinMs} ms after the restart`,
    ).toEqual([]);

    server?.kill('SIGTERM');
    expect(await exited(server as ChildProcess)).toMatchObject({ code: 0 });
    const after = await tradesAndMoney(app.appId);
    expect(after.books).toEqual([]);
    expect(after.moved.filter((t) => t.status !== 'TRADE_SUCCESS')).toEqual([]);
    const movedNos = new Set(after.moved.map((t) => t.trade_no));
    expect(after.rows.filter((t) => t.status === 'TRADE_SUCCESS' && !movedNos.has(t.trade_no))).toEqual([]);
  }, 600_000);
});
