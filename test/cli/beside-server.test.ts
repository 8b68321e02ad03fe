/**
 * Every command of the README run while `paybao start` (the real binary, with its bank
 * simulator) owns the data directory, as a newcomer does, some of them at once and beside logins
 * through the server's API. Proves what issue 11 found broken: afterwards every user logs in
 * through the server, no unique index holds two equal keys (checked from the heap with index
 * scans off, and on PGlite by amcheck's `bt_index_check` as well), `ledger verify` is clean, and
 * a second server on the same directory is refused with an error that names the owner. On
 * PostgreSQL the same commands run beside the server on one schema (there is no directory).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { amcheck } from '@electric-sql/pglite/contrib/amcheck';
import { afterAll, describe, expect, it } from 'vitest';
import { type Db, openDb } from '../../src/core/db/index.ts';
import { databaseUrl, engine, freshSchema } from '../support/engine.ts';
import { freePort } from '../support/ports.ts';
import { processTestTimeoutMs } from '../support/timeouts.ts';

const bin = new URL('../../bin/paybao.js', import.meta.url).pathname;
const root = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'paybao-beside-'));
const dataDir = join(dir, 'data');
const schema = freshSchema();
const urlLine = /^Paybao is running at (http:\/\/\S+)$/m;

let server: ChildProcess | undefined;

afterAll(async () => {
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  if (databaseUrl && schema) {
    const db = await openDb({ databaseUrl });
    await db.exec(`drop schema if exists ${schema} cascade`);
    await db.close();
  }
});

function start(env: NodeJS.ProcessEnv): { proc: ChildProcess; url: Promise<string>; output: () => string } {
  const proc = spawn(process.execPath, [bin, 'start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = urlLine.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
  // A server expected to be refused is awaited through `exited`, not through its URL.
  url.catch(() => {});
  return { proc, url, output: () => output };
}

function exited(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function login(url: string, phone: string, password: string): Promise<number> {
  const response = await fetch(`${url}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phone, password }),
  });
  return response.status;
}

/** Keys that two rows share in any unique index, read from the tables with index scans off. */
async function duplicateKeys(db: Db): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.exec(
      'set local enable_indexscan = off; set local enable_indexonlyscan = off; set local enable_bitmapscan = off',
    );
    const indexes = await tx.query<{ index: string; tbl: string; cols: string[] }>(
      `select i.indexrelid::regclass::text as index, i.indrelid::regclass::text as tbl,
              array_agg(quote_ident(a.attname) order by k.ord) as cols
         from pg_index i
         join pg_class c on c.oid = i.indrelid
         join lateral unnest(i.indkey) with ordinality as k(attnum, ord) on true
         join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
        where i.indisunique and c.relnamespace = current_schema()::regnamespace and i.indexprs is null
        group by i.indexrelid, i.indrelid`,
    );
    expect(indexes.length).toBeGreaterThan(10);
    const found: string[] = [];
    for (const { index, tbl, cols } of indexes) {
      const list = cols.join(', ');
      const notNull = cols.map((c) => `${c} is not null`).join(' and ');
      const rows = await tx.query(`select ${list} from ${tbl} where ${notNull} group by ${list} having count(*) > 1`);
      if (rows.length > 0)
        found.push(`${index}: ${JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? `${v}` : v))}`);
    }
    return found;
  });
}

/** amcheck over every B-tree index of the data directory, heap included (PGlite has the extension). */
async function amcheckAll(): Promise<number> {
  const pg = await PGlite.create({ dataDir, extensions: { amcheck } });
  try {
    await pg.exec('create extension if not exists amcheck');
    const indexes = await pg.query<{ oid: number }>(
      `select c.oid from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am am on am.oid = c.relam
        where am.amname = 'btree' and c.relnamespace = 'public'::regnamespace`,
    );
    // bt_index_check raises on the first corrupt page or a heap tuple missing from its index.
    for (const { oid } of indexes.rows) await pg.query('select bt_index_check($1::regclass, true)', [oid]);
    return indexes.rows.length;
  } finally {
    await pg.close();
  }
}

describe('the CLI beside a running server', { timeout: processTestTimeoutMs }, () => {
  it('runs every README command while the server owns the data; users log in, indexes hold, books verify', async () => {
    const bankPort = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      PAYBAO_DATA_DIR: dataDir,
      PAYBAO_DB_SCHEMA: schema ?? '',
      DATABASE_URL: databaseUrl ?? '',
      PAYBAO_BANK_SIM_PORT: String(bankPort),
      PAYBAO_DEMO: 'off',
    };
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, [bin, ...args], { cwd: root, env, maxBuffer: 16 * 1024 * 1024 });
    /** A command whose exit code reports a finding (reserves not covered, lines queued): 0 or 1. */
    const report = (...args: string[]) =>
      run(...args).catch((error: { code?: number; stdout?: string; stderr?: string }) => {
        if (error.code !== 1 || !error.stdout) throw error;
        return { stdout: error.stdout, stderr: error.stderr ?? '' };
      });

    const first = start(env);
    server = first.proc;
    const url = await first.url;

    const users = [
      { phone: '13800138000', password: 'buyer pass 0' },
      { phone: '13800138001', password: 'buyer pass 1' },
      { phone: '13800138002', password: 'buyer pass 2' },
    ];
    // Three creations at once, while the server answers logins that fail (no such user yet) and
    // writes their throttling state: the CLI's transactions and the server's share one engine.
    const created = await Promise.all([
      ...users.map((u) => run('users', 'create', '--phone', u.phone, '--password', u.password, '--balance', '100.00')),
      ...users.map((u) => login(url, u.phone, 'wrong password')),
    ]);
    for (const result of created.slice(0, 3)) {
      expect(JSON.parse((result as { stdout: string }).stdout)).toEqual({
        user_id: expect.stringMatching(/^2088\d{12}$/),
        logon_id: expect.stringMatching(/^138\*{4}800\d$/),
      });
    }
    expect((await run('users', 'paycode', '--phone', '13800138000')).stdout.trim()).toMatch(/^28\d{16}$/);

    const keyFile = join(dir, 'merchant.pem');
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(keyFile, publicKey.export({ type: 'spki', format: 'pem' }));
    const app = JSON.parse(
      (await run('apps', 'create', '--name', 'Demo shop', '--merchant-public-key-file', keyFile)).stdout,
    ) as { app_id: string };
    expect(app.app_id).toMatch(/^2021\d{12}$/);
    await run('apps', 'contract', '--app-id', app.app_id, '--escrow-default', '--fee-bps', '60');
    expect((await run('keys', 'list')).stdout).toContain('"status":"active"');
    expect(JSON.parse((await run('keys', 'rotate')).stdout)).toMatchObject({ status: 'active' });
    await run('sms', 'list');
    await run('settle');
    expect(JSON.parse((await run('operators', 'create', '--name', 'ops')).stdout)).toMatchObject({
      name: 'ops',
      roles: ['administrator'],
    });
    const desk = await run(
      'operators',
      'create',
      '--name',
      'desk',
      '--role',
      'risk',
      'finance',
      '--password',
      'pw-12345678',
    );
    expect(JSON.parse(desk.stdout)).toMatchObject({ name: 'desk', roles: ['finance', 'risk'] });
    // The court's list, imported through the server; the same file again changes nothing.
    const courtFile = join(dir, 'court.csv');
    writeFileSync(
      courtFile,
      'id_number,name,case_number,court,listing_date,grounds\n11010519491231002X,张三,(2026)京0105执1号,北京市朝阳区人民法院,2026-03-01,拒不履行\n',
    );
    expect(JSON.parse((await run('blacklist', 'import', courtFile, '--json')).stdout)).toMatchObject({
      added: 1,
      written: true,
    });
    expect(JSON.parse((await run('blacklist', 'import', courtFile, '--json')).stdout)).toMatchObject({
      unchanged: 1,
      written: false,
    });
    expect((await run('migrate')).stdout).toMatch(/up to date/);
    JSON.parse((await report('report', 'reserves')).stdout);
    await run('report', 'loss-rate');
    // The bank simulator is the server's child: reconcile once it answers.
    await until('the bank simulator', async () => (await fetch(`http://127.0.0.1:${bankPort}/health`)).ok);
    const recon = await report('reconcile', '--bank', 'ICBC', '--out', join(dir, 'recon.csv'));
    expect(JSON.parse(recon.stdout)).toMatchObject({ report: join(dir, 'recon.csv') });
    expect(JSON.parse((await run('ledger', 'verify')).stdout)).toEqual({ ok: true, engine, violations: [] });

    for (const u of users) expect(await login(url, u.phone, u.password)).toBe(201);

    if (engine === 'pglite') {
      const second = start({ ...env, PAYBAO_BANK_SIM: 'off' });
      expect(await exited(second.proc)).toBe(1);
      expect(second.output()).toMatch(
        new RegExp(`data directory ${dataDir} is in use by process ${server.pid} \\(paybao start.*a second server`),
      );
      expect(await login(url, users[0]?.phone ?? '', users[0]?.password ?? '')).toBe(201);
    }

    server.kill('SIGTERM');
    expect(await exited(server)).toBe(0);

    // The data as it is on disk once the server is gone, opened afresh.
    const db = await openDb({ databaseUrl, schema, dataDir: databaseUrl ? undefined : dataDir });
    try {
      expect(await duplicateKeys(db)).toEqual([]);
      const members = await db.query<{ phones: bigint }>('select count(distinct phone) as phones from members');
      expect(members[0]?.phones).toBe(3n);
    } finally {
      await db.close();
    }
    if (engine === 'pglite') expect(await amcheckAll()).toBeGreaterThan(10);
    const restarted = start({ ...env, PAYBAO_BANK_SIM: 'off' });
    server = restarted.proc;
    const again = await restarted.url;
    for (const u of users) expect(await login(again, u.phone, u.password)).toBe(201);
    expect(JSON.parse((await run('ledger', 'verify')).stdout)).toEqual({ ok: true, engine, violations: [] });
    server.kill('SIGTERM');
    expect(await exited(server)).toBe(0);
  });
});
