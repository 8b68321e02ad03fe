/**
 * `paybao backup` and `paybao restore` (the real binary): a copy of the embedded database taken
 * through the server that owns it while the server runs, restored into a new directory beside it,
 * with the same books and nobody's lock; a restore never writes into a directory that holds
 * files. On PostgreSQL `paybao backup` refuses and names pg_basebackup.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { childServer, type Server } from '../../src/cli/bench/gateway.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { openPlatform } from '../../src/platform.ts';
import { databaseUrl, engine } from '../support/engine.ts';

const bin = new URL('../../bin/paybao.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'paybao-backup-'));
const run = promisify(execFile);
let server: Server | undefined;

afterAll(async () => {
  await server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const paybao = (args: string[], env: Record<string, string>) =>
  run(process.execPath, [bin, ...args], { env: { ...process.env, ...env } });

describe.skipIf(engine !== 'pglite')('on PGlite', () => {
  it('copies the database through the running server and restores it, books and all', async () => {
    const dataDir = join(dir, 'data');
    const platform = await openPlatform({ dataDir });
    const alice = await platform.members.createUser({
      phone: '13800000001',
      password: 'pw alice 1',
      openingBalance: 12_345n,
    });
    const bob = await platform.members.createUser({
      phone: '13800000002',
      password: 'pw bob 22',
      openingBalance: 500n,
    });
    await platform.close();

    server = await childServer({}, undefined, dataDir, () => {});
    const env = { PAYBAO_DATA_DIR: dataDir, DATABASE_URL: '' };
    const file = join(dir, 'paybao.tar.gz');
    const taken = JSON.parse((await paybao(['backup', '--out', file], env)).stdout) as { bytes: number };
    expect(taken.bytes).toBeGreaterThan(0);
    // The file is never overwritten.
    await expect(paybao(['backup', '--out', file], env)).rejects.toThrow(/never overwrites/);

    const restoredDir = join(dir, 'restored');
    const restored = JSON.parse((await paybao(['restore', file, '--data-dir', restoredDir], env)).stdout);
    expect(restored).toMatchObject({ ok: true, violations: [] });
    // The restored database knows the moment it holds; the original does not carry the file.
    expect(Date.parse(restored.taken_at)).toBeGreaterThan(Date.now() - 120_000);
    expect(JSON.parse(readFileSync(join(restoredDir, 'paybao-restored-from.json'), 'utf8'))).toEqual({
      taken_at: restored.taken_at,
    });
    expect(existsSync(join(dataDir, 'paybao-backup.json'))).toBe(false);
    // The copy's lock named the running server: a restored directory is nobody's.
    expect(existsSync(join(restoredDir, 'paybao.lock'))).toBe(false);

    // A directory that holds anything is refused, and left as it was.
    const full = join(dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.txt'), 'mine');
    await expect(paybao(['restore', file, '--data-dir', full], env)).rejects.toThrow(/not empty/);
    expect(existsSync(join(full, 'PG_VERSION'))).toBe(false);

    await server.close();
    // `ledger verify` says where the restored database came from.
    const verified = JSON.parse(
      (await paybao(['ledger', 'verify', '--json'], { ...env, PAYBAO_DATA_DIR: restoredDir })).stdout,
    );
    expect(verified).toMatchObject({ ok: true, restored_from: { source: file, violations: 0 } });
    expect(Date.parse(verified.restored_from.point_in_time)).toBe(Date.parse(restored.taken_at));

    const copy = await openPlatform({ dataDir: restoredDir });
    try {
      expect(await copy.members.walletBalance(alice.userId)).toBe(12_345n);
      expect(await copy.members.walletBalance(bob.userId)).toBe(500n);
      expect(await verifyLedger(copy.db)).toEqual([]);
    } finally {
      await copy.close();
    }
  }, 180_000);
});

describe.skipIf(engine !== 'postgres')('on PostgreSQL', () => {
  it('refuses and names the tools that copy a PostgreSQL server', async () => {
    await expect(
      paybao(['backup', '--out', join(dir, 'pg.tar.gz')], { DATABASE_URL: databaseUrl ?? '' }),
    ).rejects.toThrow(/pg_basebackup/);
  }, 60_000);
});
