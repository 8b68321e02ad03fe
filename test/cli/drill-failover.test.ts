/**
 * `paybao drill failover`, one round: a local pg_auto_failover cluster (monitor, primary,
 * synchronous secondary), the server on its host list, payments and ledger transfers driven
 * through the primary's SIGKILL and the promotion; the drill checks the books on the new primary,
 * and here its answer is checked. It needs pg_auto_failover (`.ci/run` installs it) and runs in
 * the PostgreSQL pass only: its cluster is its own, so one run says all there is to say.
 */
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { failoverDrill } from '../../src/cli/drill/failover.ts';
import { engine } from '../support/engine.ts';

const hasAutoFailover = (() => {
  try {
    execFileSync('pg_autoctl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

it.skipIf(engine !== 'postgres' || !hasAutoFailover)(
  'kills the primary under load and loses no acknowledged payment or transfer',
  async () => {
    const lines: string[] = [];
    const result = await failoverDrill(
      { rounds: 1, clients: 4, buyers: 4, ledgerClients: 2, loadSeconds: 2, afterSeconds: 1, portBase: 55460 },
      (line) => lines.push(line),
    );
    const [round] = result.rounds;
    expect(round?.acknowledged).toBeGreaterThan(0);
    expect(round?.transfers_acknowledged).toBeGreaterThan(0);
    expect(round?.promoted).not.toBe(round?.killed);
    expect(round?.rto_s).toBeGreaterThan(0);
    expect(result, lines.join('\n')).toMatchObject({
      lost: 0,
      applied_twice: 0,
      moved_unpaid: 0,
      paid_unmoved: 0,
      wrong_answers: 0,
      transfers_lost: 0,
      transfers_applied_twice: 0,
      ledger_violations: 0,
      ok: true,
    });
  },
  300_000,
);
