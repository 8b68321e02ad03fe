import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import {
  type BankSimConfig,
  defaultConfig,
  defaultMerchant,
  type RunningBankSim,
  signRequest,
  startBankSim,
  verifyBooks,
} from '../../src/banksim/index.ts';
import type { Clock } from '../../src/core/clock.ts';

export const merchant = { id: defaultMerchant.id, secret: defaultMerchant.secret };
/** The first default ICBC customer: Zhang San, 100,000.00 yuan, password 123456. */
export const icbcCard = '6222020000000001';
export const icbcCard2 = '6222020000000002';

export interface Answer {
  status: number;
  text: string;
  json: Record<string, unknown>;
}

/** A signed merchant request over real HTTP. `raw` sends exactly that body (for malformed JSON). */
export async function call(
  url: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  options: {
    raw?: string;
    as?: { id: string; secret: string };
    timeoutMs?: number;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const text = options.raw ?? (body === undefined ? '' : JSON.stringify(body));
  const headers: Record<string, string> = {
    ...signRequest(options.as ?? merchant, method, path, text),
    ...(text ? { 'content-type': 'application/json' } : {}),
    ...options.headers,
  };
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    body: text || undefined,
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const out = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(out) as Record<string, unknown>;
  } catch {}
  return { status: response.status, text: out, json };
}

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * The platform's side of callbacks: an HTTP server that records every POST and answers
 * `success`, or fails the first `failFirst` deliveries.
 */
export async function callbackReceiver(
  failFirst = 0,
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  let failures = failFirst;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      if (failures > 0) {
        failures--;
        res.writeHead(500).end('fail');
      } else {
        res.writeHead(200).end('success');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/notify`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * One simulator for a whole test file, in this process on port 0 with an in-memory database;
 * after every test its books must balance (`verifyBooks` finds no problem).
 */
export function useBankSim(options: { config?: BankSimConfig; clock?: Clock } = {}): {
  sim: () => RunningBankSim;
  url: () => string;
} {
  let sim: RunningBankSim | undefined;
  beforeAll(async () => {
    sim = await startBankSim({ port: 0, config: options.config ?? defaultConfig(), clock: options.clock });
  });
  afterEach(async () => {
    if (sim) expect((await verifyBooks(sim.db)).problems).toEqual([]);
  });
  afterAll(async () => {
    await sim?.close();
  });
  const get = () => {
    if (!sim) throw new Error('the simulator is not running');
    return sim;
  };
  return { sim: get, url: () => get().url };
}

/** A customer's balance (yuan string) from the admin API. */
export async function balanceOf(url: string, bank: string, accountNo: string): Promise<string | undefined> {
  const response = await fetch(`${url}/admin/banks`);
  const { banks } = (await response.json()) as {
    banks: { code: string; accounts: { account_no: string; balance: string }[] }[];
  };
  return banks.find((b) => b.code === bank)?.accounts.find((a) => a.account_no === accountNo)?.balance;
}

/** Every account's balance of every bank, to prove a refusal moved nothing. */
export async function allBalances(url: string): Promise<unknown> {
  return (await fetch(`${url}/admin/banks`)).json();
}

let counter = 0;
export const orderNo = (prefix = 'O') => `${prefix}${Date.now()}${++counter}`;
