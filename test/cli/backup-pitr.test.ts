/**
 * PostgreSQL base backups and point-in-time restore (the real binary): a source cluster of the
 * test's own archiving its WAL, the platform on it (in a schema, as PAYBAO_DB_SCHEMA puts it),
 * payments before a base backup, after it, and after a noted moment T. `paybao backup verify
 * --target-time T` restores to T: the payments before T are there, those after are not, the
 * books and the trades against the ledger verify, and the restored database says which moment it
 * holds. Bad input is refused in words before anything is written. PostgreSQL pass only: its
 * cluster is its own.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, giveToPostgres, postgresEnv, runAsPostgres } from '../../src/cli/postgres-tools.ts';
import { openPlatform, type Platform } from '../../src/platform.ts';
import { keyPair } from '../gateway/support.ts';
import { engine } from '../support/engine.ts';

const bin = new URL('../../bin/paybao.js', import.meta.url).pathname;
const run = promisify(execFile);
const schema = 'pitr';

describe.skipIf(engine !== 'postgres')('PostgreSQL base backup and point-in-time restore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paybao-pitr-'));
  const source = join(dir, 'source');
  const archive = join(dir, 'archive');
  const env = postgresEnv();
  let url = '';
  let platform: Platform | undefined;

  const paybao = (args: string[]) =>
    run(process.execPath, [bin, ...args], {
      env: { ...process.env, DATABASE_URL: url, PAYBAO_DB_SCHEMA: schema, LOG_LEVEL: 'warn' },
    });

  beforeAll(async () => {
    mkdirSync(archive);
    await giveToPostgres(dir, { recursive: true });
    await runAsPostgres(env, 'initdb', ['-D', source, '-A', 'trust', '-U', 'postgres', '--no-sync'], dir);
    const port = await freePort();
    appendFileSync(
      join(source, 'postgresql.conf'),
      [
        `port = ${port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        'archive_mode = on',
        `archive_command = 'test ! -f ${archive}/%f && cp %p ${archive}/%f'`,
        // A test's cluster: speed over durability.
        'fsync = off',
        '',
      ].join('\n'),
    );
    await runAsPostgres(env, 'pg_ctl', ['-D', source, '-l', join(dir, 'source.log'), '-w', 'start'], dir);
    url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    platform = await openPlatform({ databaseUrl: url, databaseSchema: schema });
  }, 120_000);

  afterAll(async () => {
    await platform?.close();
    if (existsSync(join(source, 'postmaster.pid')))
      await runAsPostgres(env, 'pg_ctl', ['-D', source, '-m', 'immediate', 'stop'], dir);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('restores to a moment between payments, with the books sound and the moment known', async () => {
    const p = platform as Platform;
    const app = await p.members.createApp({ name: 'pitr shop', merchantPublicKeyPem: keyPair().publicKeyPem });
    const buyer = await p.members.createUser({
      phone: '13800000031',
      password: 'pw buyer 1',
      openingBalance: 100_000n,
    });
    let n = 0;
    const pay = async (count: number) => {
      const paid: string[] = [];
      for (let i = 0; i < count; i++) {
        const t = await p.trades.create({
          appId: app.appId,
          outTradeNo: `pitr-${++n}`,
          totalAmount: '1.00',
          subject: 'x',
        });
        await p.trades.pay(app.appId, { tradeNo: t.tradeNo }, buyer.userId);
        paid.push(t.tradeNo);
      }
      return paid;
    };
    await pay(3);
    const backup = join(dir, 'backup');
    const taken = JSON.parse((await paybao(['backup', 'base', '--out', backup])).stdout);
    expect(taken).toMatchObject({ schema, archive_mode: 'on', timeline: 1, database: 'postgres' });
    await pay(2);
    // T, on the server's clock, strictly between the last payment before and the first after.
    await new Promise((r) => setTimeout(r, 200));
    const [{ t }] = (await p.db.query<{ t: string }>("select to_json(now()) #>> '{}' t")) as [{ t: string }];
    await new Promise((r) => setTimeout(r, 200));
    const after = await pay(4);
    // The segment holding the last payments goes to the archive now, not when it fills.
    await p.db.query('select pg_switch_wal()');
    await waitForArchive(p);

    const result = JSON.parse(
      (await paybao(['backup', 'verify', backup, '--wal-archive', archive, '--target-time', t])).stdout,
    );
    expect(result).toMatchObject({
      ok: true,
      violations: [],
      target_time: t.replace('T', ' '),
      timeline: 2,
      data_dir: null,
      trades: { trades: 5, paid: 5, paying_moved: 0 },
    });
    expect(Date.parse(result.point_in_time)).toBeLessThanOrEqual(Date.parse(t));
    expect(Date.parse(result.point_in_time)).toBeGreaterThan(Date.parse(taken.taken_at));

    // Restored and kept: the database says where it came from; the last payments are not in it.
    const kept = join(dir, 'restored');
    const restored = JSON.parse(
      (await paybao(['backup', 'restore', backup, '--wal-archive', archive, '--target-time', t, '--data-dir', kept]))
        .stdout,
    );
    expect(restored).toMatchObject({ ok: true, point_in_time: result.point_in_time, data_dir: kept });
    expect(existsSync(join(kept, 'PG_VERSION'))).toBe(true);
    expect(after).toHaveLength(4);
  }, 120_000);

  it('refuses what is not a base backup, a moment before the backup, another archive; writes nothing', async () => {
    const backup = join(dir, 'backup');
    await expect(paybao(['backup', 'verify', dir])).rejects.toThrow(/is not a base backup/);
    await expect(
      paybao(['backup', 'verify', backup, '--wal-archive', archive, '--target-time', '2020-01-01T00:00:00Z']),
    ).rejects.toThrow(/before the backup was taken/);
    await expect(
      paybao(['backup', 'verify', backup, '--wal-archive', archive, '--target-time', '2026-12-07 14:00']),
    ).rejects.toThrow(/not an ISO 8601 time with its zone/);
    const empty = join(dir, 'empty-archive');
    mkdirSync(empty);
    await expect(paybao(['backup', 'verify', backup, '--wal-archive', empty])).rejects.toThrow(/has no .*\.backup/);
    await expect(paybao(['backup', 'base', '--out', backup])).rejects.toThrow(/not an empty directory/);
    const into = join(dir, 'not-restored');
    await expect(
      paybao(['backup', 'restore', backup, '--data-dir', into, '--target-time', '2020-01-01T00:00:00Z']),
    ).rejects.toThrow(/before the backup/);
    expect(existsSync(into)).toBe(false);
    expect(readdirSync(empty)).toEqual([]);
  }, 60_000);
});

/** Waits until the server has archived every segment it finished. */
async function waitForArchive(p: Platform): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const [row] = await p.db.query<{ done: boolean }>(
      `select last_archived_wal >= pg_walfile_name(pg_current_wal_lsn() - 1) done from pg_stat_archiver`,
    );
    if (row?.done) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the source did not archive its WAL within 10 s');
}
