/**
 * `paybao bench gateway`, small: both runs (signed ahead and live) against the real server as a
 * child process, with notifications, on the engine under test. The bench checks the books and
 * every notification itself; here its answer is checked for sense.
 */
import { expect, it } from 'vitest';
import { benchGateway } from '../../src/cli/bench/gateway.ts';

it('pays trades signed ahead and live, delivers every notification, and reports its figures', async () => {
  const result = await benchGateway({
    json: true,
    trades: 60,
    buyers: 5,
    clients: 4,
    inProcess: false,
    sign: 'both',
    notify: true,
    databaseUrl: process.env.DATABASE_URL,
    rsaSeconds: 0.05,
  });
  expect(result).toMatchObject({ paid_trades: 60, signed: 'ahead', notifications_received: 60 + 60 + 50 });
  expect(result.paid_tps).toBeGreaterThan(0);
  expect(result.live_paid_tps).toBeGreaterThan(0);
  expect(result.p99_ms).toBeGreaterThanOrEqual(result.p50_ms);
  expect(result.rsa_sign_per_s).toBeGreaterThan(0);
  expect(result.machine_cpu_s).toBeGreaterThan(0);
  expect(result.machine_cpu_ms_per_trade).toBeCloseTo((result.machine_cpu_s * 1000) / 60, -1);
  expect(result.rsa_cpu_ms_per_trade).toBeGreaterThan(0);
}, 120_000);
