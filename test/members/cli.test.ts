/**
 * The members commands as a newcomer runs them: the real `paybao` binary on a fresh data
 * directory (or a fresh schema when DATABASE_URL is set). `users create`, `apps create` and
 * `merchants create-owner` print the JSON the issue promises, `users paycode` prints a payment code, a bad amount or key fails
 * with a message, and the books verify afterwards.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/core/db/index.ts';
import { databaseUrl, engine, freshSchema } from '../support/engine.ts';
import { processTestTimeoutMs } from '../support/timeouts.ts';

const bin = new URL('../../bin/paybao.js', import.meta.url).pathname;
const root = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'paybao-members-'));
const schema = freshSchema();
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PAYBAO_DATA_DIR: join(dir, 'data'),
  PAYBAO_DB_SCHEMA: schema ?? '',
  DATABASE_URL: databaseUrl ?? '',
};

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (databaseUrl && schema) {
    const db = await openDb({ databaseUrl });
    await db.exec(`drop schema if exists ${schema} cascade`);
    await db.close();
  }
});

const run = (...args: string[]) => promisify(execFile)(process.execPath, [bin, ...args], { cwd: root, env });

/** Runs a command that must fail; returns its stderr. */
async function fails(...args: string[]): Promise<string> {
  const error = await run(...args).then(
    () => undefined,
    (e: { stderr: string; code: number }) => e,
  );
  expect(error?.code).toBe(1);
  return error?.stderr ?? '';
}

// Each test spawns the binary several times: a busy machine may take minutes, which is no failure.
describe('paybao users and apps', { timeout: processTestTimeoutMs }, () => {
  it('create users and apps, print their JSON, and leave books that verify', async () => {
    const user = JSON.parse(
      (await run('users', 'create', '--phone', '13800138000', '--password', 'buyer pass', '--balance', '100.00'))
        .stdout,
    );
    expect(user).toEqual({ user_id: expect.stringMatching(/^2088\d{12}$/), logon_id: '138****8000' });
    expect(
      await fails('users', 'create', '--phone', '13800138001', '--password', 'buyer pass', '--balance', '1e3'),
    ).toMatch(/amount/);
    expect(await fails('users', 'create', '--phone', '13800138000', '--password', 'buyer pass')).toMatch(
      /already exists/,
    );

    const paycode = (await run('users', 'paycode', '--phone', '13800138000')).stdout.trim();
    expect(paycode).toMatch(/^28\d{16}$/);

    const keyFile = join(dir, 'merchant.pem');
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(keyFile, publicKey.export({ type: 'spki', format: 'pem' }));
    const app = JSON.parse(
      (
        await run(
          'apps',
          'create',
          '--name',
          'Demo shop',
          '--merchant-public-key-file',
          keyFile,
          '--notify-url',
          'http://127.0.0.1:9/notify',
        )
      ).stdout,
    );
    expect(app).toEqual({
      app_id: expect.stringMatching(/^2021\d{12}$/),
      seller_id: expect.stringMatching(/^2088\d{12}$/),
      alipay_public_key: expect.stringContaining('-----BEGIN PUBLIC KEY-----'),
    });
    const owner = JSON.parse(
      (
        await run(
          'merchants',
          'create-owner',
          '--merchant-id',
          app.seller_id,
          '--phone',
          '13900139000',
          '--password',
          'owner pass 1',
        )
      ).stdout,
    );
    expect(owner).toEqual({ staff_id: expect.any(String), merchant_id: app.seller_id, role: 'owner' });
    expect(
      await fails(
        'merchants',
        'create-owner',
        '--merchant-id',
        app.seller_id,
        '--phone',
        '13900139000',
        '--password',
        'owner pass 2',
      ),
    ).toMatch(/already/);
    expect(
      await fails(
        'merchants',
        'create-owner',
        '--merchant-id',
        user.user_id,
        '--phone',
        '13900139001',
        '--password',
        'owner pass 2',
      ),
    ).toMatch(/no such merchant/);
    writeFileSync(keyFile, 'garbage');
    expect(await fails('apps', 'create', '--name', 'Bad', '--merchant-public-key-file', keyFile)).toMatch(/public key/);

    expect((await run('sms', 'list')).stdout).toBe('');
    const verified = await run('ledger', 'verify');
    expect(JSON.parse(verified.stdout)).toEqual({ ok: true, engine, violations: [] });
  });

  it('lists the platform keys and rotates them; a new app gets the key in use', async () => {
    const list = async () =>
      (await run('keys', 'list')).stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    const before = await list();
    expect(before[0]).toMatchObject({
      status: 'active',
      retired_at: null,
      alipay_public_key: expect.stringContaining('-----BEGIN PUBLIC KEY-----'),
    });
    const rotated = await run('keys', 'rotate');
    expect(rotated.stderr).toMatch(/alipay_public_key/);
    const fresh = JSON.parse(rotated.stdout);
    expect(fresh).toMatchObject({ status: 'active' });
    expect(fresh.alipay_public_key).not.toBe(before[0].alipay_public_key);
    const after = await list();
    expect(after.map((k) => k.status)).toEqual(['active', ...before.map(() => 'retired')]);
    expect(after[0].alipay_public_key).toBe(fresh.alipay_public_key);
    expect(after[1]).toMatchObject({ alipay_public_key: before[0].alipay_public_key, retired_at: expect.any(String) });
    // A new app is given the key in use.
    const keyFile = join(dir, 'merchant-2.pem');
    writeFileSync(
      keyFile,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const app = JSON.parse(
      (await run('apps', 'create', '--name', 'Second shop', '--merchant-public-key-file', keyFile)).stdout,
    );
    expect(app.alipay_public_key).toBe(fresh.alipay_public_key);
    expect(await fails('keys', 'list', '--nope')).toMatch(/unknown option/);
  });
});
