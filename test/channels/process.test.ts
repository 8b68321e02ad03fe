/**
 * End to end with the bank as a separate process: `paybao bank-sim` (the real binary) in a child
 * process, the platform in this one, talking only over HTTP. A card is bound with the bank's SMS
 * code, a quick-pay top-up, a withdrawal and a gateway top-up paid on the bank's page all land
 * once, and both sides' books balance.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultChannelBanks } from '../../src/channels/index.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { openPlatform, type Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { databaseUrl, freshSchema } from '../support/engine.ts';
import { li, payOnPage, waitFor } from './support.ts';

const bin = new URL('../../bin/paybao.js', import.meta.url).pathname;
const root = new URL('../..', import.meta.url).pathname;
let child: ChildProcess;
let bankUrl = '';
let platform: Platform;
let app: FastifyInstance;

function startSim(): Promise<string> {
  child = spawn(process.execPath, [bin, 'bank-sim', '--port', '0', '--memory'], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`no URL:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Bank simulator is running at (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
}

beforeAll(async () => {
  bankUrl = await startSim();
  let base = '';
  platform = await openPlatform({
    databaseUrl,
    databaseSchema: freshSchema(),
    channelBanks: defaultChannelBanks(bankUrl),
    publicUrl: () => base,
  });
  app = await buildPlatformApp({ platform, publicUrl: () => base });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app?.close();
  await platform?.close();
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
});

describe('the bank as its own process', () => {
  it('binds, tops up, withdraws and pays on the page over HTTP; both sides balance', async () => {
    const { userId } = await platform.members.createUser({ phone: '13500000001', password: 'password-1' });
    const pending = await platform.channels.cards.bind(userId, { bank: 'ICBC', ...li });
    const { messages } = (await (await fetch(`${bankUrl}/admin/sms?phone=${li.phone}`)).json()) as {
      messages: { code: string }[];
    };
    await platform.channels.cards.confirm(userId, pending.cardId, messages[0]?.code ?? '');
    const topUp = await platform.channels.topUpByCard(userId, {
      cardId: pending.cardId,
      amount: '500.00',
      idempotencyKey: 'p1',
    });
    expect(topUp.status).toBe('SUCCESS');
    const out = await platform.channels.withdraw(userId, {
      cardId: pending.cardId,
      amount: '125.00',
      idempotencyKey: 'p2',
    });
    expect(out.status).toBe('SUCCESS');
    const gateway = await platform.channels.topUpByGateway(userId, {
      bank: 'CMB',
      amount: '10.00',
      idempotencyKey: 'p3',
    });
    await payOnPage(gateway.payUrl ?? '', '6225880000000001');
    await waitFor('the callback', async () =>
      (await platform.channels.order(userId, gateway.orderNo)).status === 'SUCCESS' ? true : undefined,
    );
    expect(await platform.members.walletBalance(userId)).toBe(38_500n);
    expect(await verifyLedger(platform.db)).toEqual([]);
    const books = (await (await fetch(`${bankUrl}/admin/books`)).json()) as { problems: string[] };
    expect(books.problems).toEqual([]);
  });
});
