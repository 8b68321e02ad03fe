/**
 * Every process tells the bank the same address: `PAYBAO_PUBLIC_URL`, read from the environment by
 * whoever opens the platform and given to the channels at construction. A withdrawal the bank never
 * received (its request dropped on the way) is resent by `paybao reconcile` — a process of its
 * own, beside the server running on a port other than 8080 — and the bank is told to call back
 * the server's real address, where its callback is accepted; before, a process other than the
 * server said `http://127.0.0.1:8080` whatever the platform's address. On PGlite the server owns
 * the data directory and the CLI reaches it through the server's socket, as `paybao start` serves it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, noFaults, type RunningBankSim, startBankSim } from '../../src/banksim/index.ts';
import { defaultChannelBanks } from '../../src/channels/index.ts';
import { loadConfig, platformStorageOf } from '../../src/config.ts';
import { beijingTime } from '../../src/core/time.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { openPlatform, type Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { databaseUrl, freshSchema } from '../support/engine.ts';
import { freePort } from '../support/ports.ts';
import { key, li } from './support.ts';

const bin = new URL('../../bin/paybao.js', import.meta.url).pathname;
const root = new URL('../..', import.meta.url).pathname;
const schema = freshSchema();
const tmp = mkdtempSync(join(tmpdir(), 'paybao-public-url-'));

let sim: RunningBankSim;
let platform: Platform;
let app: FastifyInstance;
let port = 0;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  sim = await startBankSim({ port: 0, config: defaultConfig() });
  do port = await freePort();
  while (port === 8080);
  env = {
    ...process.env,
    DATABASE_URL: databaseUrl ?? '',
    PAYBAO_DB_SCHEMA: schema ?? '',
    PAYBAO_DATA_DIR: join(tmp, 'data'),
    PAYBAO_BANK_URL: sim.url,
    PAYBAO_PUBLIC_URL: `http://127.0.0.1:${port}`,
    PORT: String(port),
    HOST: '127.0.0.1',
  };
  expect(loadConfig(env).publicUrl).toBe(`http://127.0.0.1:${port}`);
  await startPlatformServer();
});

/** The server, configured as `paybao start` is: its public URL from the environment. */
async function startPlatformServer(): Promise<void> {
  const config = loadConfig(env);
  platform = await openPlatform({
    ...platformStorageOf(config),
    // As `paybao start`: the server owns a PGlite directory and serves it to the CLI.
    pgliteSharing: 'serve',
    channelBanks: defaultChannelBanks(sim.url).map((b) => ({ ...b, requestTimeoutMs: 800 })),
  });
  app = await buildPlatformApp({ platform, publicUrl: () => config.publicUrl ?? '' });
  await app.listen({ port, host: '127.0.0.1' });
}

afterAll(async () => {
  await sim?.close();
  await app?.close();
  if (platform) {
    expect(await verifyLedger(platform.db)).toEqual([]);
    if (schema) await platform.db.exec(`drop schema ${schema} cascade`);
    await platform.close();
  }
  rmSync(tmp, { recursive: true, force: true });
});

async function setFaults(faults: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${sim.url}/admin/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...noFaults, ...faults }),
  });
  expect(response.status).toBe(200);
}

/** `paybao reconcile`, its own process beside the running server (on PGlite, through its socket). */
async function reconcile(bank: string, date: string): Promise<void> {
  const out = join(tmp, `recon-${bank}-${date}.csv`);
  await promisify(execFile)(process.execPath, [bin, 'reconcile', '--bank', bank, '--date', date, '--out', out], {
    cwd: root,
    env,
    timeout: 120_000,
  }).catch((error: { code?: number; stderr?: string }) => {
    // Exit 1 means lines were queued for an operator: a finding, not a failure to run.
    if (error.code !== 1) throw error;
  });
}

describe('PAYBAO_PUBLIC_URL', () => {
  it("a resend by `paybao reconcile` tells the bank the server's address, and the bank's callback lands", async () => {
    const { userId } = await platform.members.createUser({
      phone: li.phone,
      password: 'password-1',
      openingBalance: 100_000n,
    });
    const pending = await platform.channels.cards.bind(userId, { bank: 'ICBC', ...li });
    const sms = (await (await fetch(`${sim.url}/admin/sms?phone=${li.phone}`)).json()) as {
      messages: { code: string }[];
    };
    await platform.channels.cards.confirm(userId, pending.cardId, sms.messages[0]?.code ?? '');

    // The request never reaches the bank: the order is UNKNOWN, and the bank has no such order.
    await setFaults({ timeoutMode: 'drop', timeoutBeforeRate: 1 });
    const order = await platform.channels.withdraw(userId, {
      cardId: pending.cardId,
      amount: '12.00',
      idempotencyKey: key('public-url'),
    });
    await setFaults({});
    expect(order.status).toBe('UNKNOWN');
    const [before] = await sim.db.query('select 1 from banksim_orders where order_no = $1', [order.orderNo]);
    expect(before).toBeUndefined();

    await reconcile('ICBC', beijingTime(new Date()).slice(0, 10));

    const [atBank] = await sim.db.query<{ notify_url: string | null }>(
      'select notify_url from banksim_orders where order_no = $1',
      [order.orderNo],
    );
    expect(atBank?.notify_url).toBe(`http://127.0.0.1:${port}/channels/callbacks/ICBC`);
    // The bank's callback reached the running server and was accepted there.
    const deadline = Date.now() + 30_000;
    let verdicts: string[] = [];
    while (Date.now() < deadline) {
      const rows = await platform.db.query<{ verdict: string }>(
        'select verdict from channel_callbacks where order_no = $1',
        [order.orderNo],
      );
      verdicts = rows.map((r) => r.verdict);
      if (verdicts.includes('accepted')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(verdicts).toContain('accepted');
    expect((await platform.channels.order(userId, order.orderNo)).status).toBe('SUCCESS');
  }, 180_000);

  it("defaults to the server's own address, http://HOST:PORT, and refuses a malformed one", () => {
    expect(loadConfig({ PORT: '9090', HOST: '10.0.0.5' }).publicUrl).toBe('http://10.0.0.5:9090');
    expect(loadConfig({}).publicUrl).toBe('http://127.0.0.1:8080');
    expect(loadConfig({ PORT: '9090', HOST: '0.0.0.0' }).publicUrl).toBe('http://127.0.0.1:9090');
    expect(loadConfig({ PAYBAO_PUBLIC_URL: 'https://pay.example.com/' }).publicUrl).toBe('https://pay.example.com');
    expect(loadConfig({ PORT: '0' }).publicUrl).toBeUndefined();
    expect(() => loadConfig({ PAYBAO_PUBLIC_URL: 'pay.example.com' })).toThrow(/PAYBAO_PUBLIC_URL/);
    expect(() => loadConfig({ PAYBAO_PUBLIC_URL: 'ftp://pay.example.com' })).toThrow(/PAYBAO_PUBLIC_URL/);
  });
});
