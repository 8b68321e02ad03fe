/**
 * `paybao blacklist`, run while a server owns the data (on PGlite the CLI reaches the owner over
 * its socket, as every command does; opening the directory itself would be refused): `import`
 * makes the list the court's file and reports added, updated, removed and rejected lines; the
 * same file again changes nothing and says so; a file with a bad line or a malformed header
 * writes nothing and exits 1; `--dry-run` writes nothing; `show` and `check` read the list. An
 * import that changed the list is in the operators' audit log (`court_list.import`), one that
 * changed nothing is not.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blacklistCommand } from '../../src/cli/blacklist.ts';
import { cliOperator } from '../../src/cli/open-platform.ts';
import { loadConfig, platformStorageOf } from '../../src/config.ts';
import { idCheckCharacter } from '../../src/credit/index.ts';
import { openPlatform, type Platform } from '../../src/platform.ts';
import { useCliEnvironment } from '../support/cli-env.ts';
import { runCli } from './in-process.ts';

const dir = useCliEnvironment('paybao-cli-blacklist-');
/** The server: it owns the PGlite directory and serves it, as `paybao start` does. */
let server: Platform;

beforeAll(async () => {
  server = await openPlatform({ ...platformStorageOf(loadConfig()), pgliteSharing: 'serve' });
});

afterAll(async () => {
  await server.close();
});

const idNumber = (first17: string) => first17 + idCheckCharacter(first17);
const zhang = idNumber('11010519800101001');
const li = idNumber('31010419750615002');
const wang = idNumber('44030519900220003');
const header = 'id_number,name,case_number,court,listing_date,grounds,expiry_date';
const line = (id: string, name: string, caseNo: string, expiry = '') =>
  `${id},${name},${caseNo},北京市朝阳区人民法院,2026-03-01,有履行能力而拒不履行生效法律文书确定义务,${expiry}`;
let files = 0;
function file(text: string | Buffer): string {
  const path = join(dir, `court-${++files}.csv`);
  writeFileSync(path, text);
  return path;
}
const blacklist = (...args: string[]) => runCli(blacklistCommand(), args);
const entries = async () =>
  Number((await server.db.query<{ n: bigint }>('select count(*)::int8 n from court_list_entries'))[0]?.n);

describe('paybao blacklist import', () => {
  it('imports the court’s list through the server, and the same file again changes nothing', async () => {
    const { userId } = await server.members.createUser({ phone: '13900008888', password: 'pass word 1' });
    await server.credit.realNames.verify(userId, { name: '张三', idNumber: zhang });
    const first = file(
      `${header}\n${line(zhang, '张三', '(2026)京0105执1号')}\n${line(li, '李四', '(2026)京0105执2号')}\n`,
    );

    const imported = await blacklist('import', first);
    expect(imported.exitCode, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/2 lines, people by id_number/);
    expect(imported.stdout).toMatch(
      /added {6}2\n {2}updated {4}0\n {2}removed {4}0\n {2}unchanged {2}0\n {2}rejected {3}0\nwritten\./,
    );
    // The server sees the list at once: the verified user is listed.
    expect(await server.courtList.isListed(userId)).toBe(true);

    const again = await blacklist('import', first, '--json');
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ added: 0, updated: 0, removed: 0, unchanged: 2, written: false });
    expect(JSON.parse(again.stdout).imported_before).toEqual(expect.any(String));
    expect((await blacklist('import', first)).stdout).toMatch(
      /nothing changed: the list already is what this file says/,
    );

    const audit = await server.operators.audit({ action: 'court_list.import' });
    expect(audit).toEqual([expect.objectContaining({ operatorName: cliOperator().name, target: 'court-1.csv' })]);
    expect(JSON.parse(audit[0]?.detail ?? '{}')).toMatchObject({ added: 2, updated: 0, removed: 0 });

    const checked = await blacklist('check', userId);
    expect(JSON.parse(checked.stdout)).toMatchObject({ user_id: userId, listed: true });
  }, 120_000);

  it('updates and removes by a second file; show lists the removed entry with why', async () => {
    const second = file(
      `${header}\n${line(zhang, '张三', '(2026)京0105执1号', '2027-03-01')}\n${line(wang, '王五', '(2026)粤0305执9号')}\n`,
    );
    const dry = await blacklist('import', second, '--dry-run');
    expect(dry.stdout).toMatch(/added {6}1\n {2}updated {4}1\n {2}removed {4}1/);
    expect(dry.stdout).toMatch(/dry run: nothing was written/);
    const before = await entries();
    expect(await entries()).toBe(before);

    const imported = await blacklist('import', second);
    expect(imported.exitCode, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/added {6}1\n {2}updated {4}1\n {2}removed {4}1/);
    const removed = await blacklist('show', '--status', 'removed');
    const rows = removed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toEqual([
      expect.objectContaining({
        case_number: '(2026)京0105执2号',
        status: 'removed',
        removed_reason: expect.stringMatching(/not on the court's list imported from court-\d+\.csv/),
      }),
    ]);
  }, 120_000);

  it('writes nothing for a file with a bad line, a malformed header, or bytes that are not UTF-8', async () => {
    const before = await entries();
    const bad = await blacklist(
      'import',
      file(
        `${header}\n${line(wang, '王五', '(2026)粤0305执9号')}\n${line('110105198001010010', '赵六', '(2026)京0105执3号')}\n`,
      ),
    );
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toMatch(/rejected {3}1\n {2}line 3: id_number is not a valid 18-character identity number/);
    expect(bad.stdout).toMatch(/nothing was written/);
    expect(bad.stdout).not.toContain('110105198001010010');

    const header_ = await blacklist('import', file(`id_number,name,case_number\n${zhang},张三,(2026)京0105执1号\n`));
    expect(header_).toMatchObject({
      exitCode: 1,
      stderr: expect.stringMatching(/malformed.*lacks court, listing_date, grounds/),
    });
    const latin1 = await blacklist('import', file(Buffer.from([0x69, 0x64, 0xff, 0x0a])));
    expect(latin1).toMatchObject({
      exitCode: 1,
      stderr: expect.stringMatching(/not UTF-8 text; nothing was imported/),
    });
    expect(await entries()).toBe(before);
    // Only the two imports that changed the list are actions in the log.
    expect(await server.operators.audit({ action: 'court_list.import' })).toHaveLength(2);
  }, 120_000);
});
