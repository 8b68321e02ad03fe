/**
 * `paybao bench double11`, small: a few one-second steps of the mix against the real server as a
 * child process, on the engine under test. What is checked is the drill's own bookkeeping — every
 * request offered is counted once, every acknowledged payment is paid in the trades and the
 * ledger, no shed payment left a trade, the books balance, the chart is written — never its
 * timing floors, which depend on the machine.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { benchDouble11 } from '../../src/cli/bench/double11.ts';
import { kinds } from '../../src/cli/bench/double11-mix.ts';

it('offers the mix at 1×, 2× and 3× the capacity found, counts every request once, and loses no payment', async () => {
  const out = join(tmpdir(), `double11-${process.pid}.html`);
  try {
    const result = await benchDouble11({
      json: true,
      stepSeconds: 1,
      phaseSeconds: 1,
      startRate: 40,
      searchSteps: 2,
      targetP99Ms: 10_000,
      buyers: 5,
      connections: 32,
      out,
      databaseUrl: process.env.DATABASE_URL,
    });
    expect(result.search).toHaveLength(2);
    expect(result.capacity_paid_per_s).toBeGreaterThan(0);
    expect(result.phases.map((p) => p.multiple)).toEqual([1, 2, 3]);
    for (const phase of result.phases) {
      expect(phase.pay_per_s_offered).toBe(Math.round(result.capacity_paid_per_s * phase.multiple));
      for (const kind of kinds) {
        const f = phase.kinds[kind];
        expect(f.offered).toBeGreaterThan(0);
        expect(f.admitted + f.shed + f.errors + f.timeouts + f.unsent).toBe(f.offered);
        expect(f.p99_ms).toBeGreaterThanOrEqual(f.p50_ms);
      }
    }
    expect(result.acknowledged_payments).toBeGreaterThan(0);
    expect(result).toMatchObject({ payments_lost: 0, shed_payments_written: 0, ledger_violations: 0 });
    expect(result.floors.payments_lost.holds).toBe(true);
    expect(result.floors.ledger.holds).toBe(true);
    expect(Object.keys(result.floors)).toEqual([
      'paid_at_3x_vs_capacity',
      'pay_p99_3x_vs_1x',
      'unexpected_5xx',
      'payments_lost',
      'ledger',
    ]);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  } finally {
    rmSync(out, { force: true });
  }
}, 180_000);
