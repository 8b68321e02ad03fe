import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyLedger } from '../../ledger/index.ts';
import { openPlatform } from '../../platform.ts';
import { verifyPreauthBooks } from '../../preauth/index.ts';
import { dropSchema, quantile, readDurability, round1 } from './common.ts';
import { createPayers } from './escrow.ts';
import { inProcessServer } from './gateway.ts';
import { type Answer, LeanClient } from './lean-client.ts';

export interface PreauthBenchOptions {
  json: boolean;
  /** Freeze + settle pairs timed (and as many plain payments for the baseline). */
  pairs: number;
  /** Customers freezing, round robin. */
  buyers: number;
  /** Concurrent clients, one pair (or payment) in flight each. */
  clients: number;
  verify: boolean;
  databaseUrl?: string | undefined;
}

export interface PreauthBenchResult {
  engine: string;
  pairs: number;
  clients: number;
  /** `alipay.fund.auth.order.freeze` then `alipay.trade.pay` with `auth_no` (COMPLETE), per second. */
  pairs_per_s: number;
  pair_p50_ms: number;
  pair_p99_ms: number;
  /** The baseline in the same run: plain bar-code `alipay.trade.pay`, per second. */
  baseline_payments_per_s: number;
  baseline_p99_ms: number;
  /** Pairs per second over payments per second: a pair is two calls and two ledger chains. */
  ratio: number;
  violations: number;
  synchronous_commit: string;
  fsync: string;
}

/**
 * `paybao bench preauth`: a rental merchant's deposits through the real HTTP gateway, in this
 * process: each pair freezes a deposit by the customer's payment code and settles part of it
 * with `alipay.trade.pay` (`auth_no`, COMPLETE: the rest unfrozen), C clients with one pair in
 * flight each, signed as they are sent (RSA2, as the SDK does). Payment codes are made before the
 * timed run. In the same run, the baseline: the same clients paying plain bar-code trades.
 */
export async function benchPreauth(options: PreauthBenchOptions): Promise<PreauthBenchResult> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const schema = options.databaseUrl ? `bench_preauth_${Date.now()}` : undefined;
  const dataDir = options.databaseUrl ? undefined : mkdtempSync(join(tmpdir(), 'paybao-bench-preauth-'));
  const platform = await openPlatform({ databaseUrl: options.databaseUrl, databaseSchema: schema, dataDir });
  try {
    const durability = await readDurability(platform.db);
    log(`engine ${platform.db.engine}; synchronous_commit=${durability.synchronous_commit} fsync=${durability.fsync}`);
    const { appId, buyerIds, merchantKey } = await createPayers(platform, options.buyers);
    const server = await inProcessServer(platform);
    const platformKey = (await platform.members.platformKeys()).active.publicKeyPem;
    const client = new LeanClient(server.url, appId, merchantKey, platformKey);
    const run = Date.now().toString(36);
    const codesFor = async (n: number) =>
      platform.members.newPaymentCodes(Array.from({ length: n }, (_, i) => buyerIds[i % buyerIds.length] as string));
    try {
      const expectOk = (answer: Answer, what: string) => {
        if (answer.code !== '10000') throw new Error(`${what}: ${JSON.stringify(answer)}`);
        return answer;
      };
      log(`baseline: ${options.pairs} plain payments, ${options.clients} clients`);
      const payCodes = await codesFor(options.pairs);
      const baseline = await closedLoop(options.pairs, options.clients, async (i) => {
        expectOk(
          await client.call('alipay.trade.pay', {
            out_trade_no: `b-${run}-${i}`,
            scene: 'bar_code',
            auth_code: payCodes[i] as string,
            total_amount: '1.00',
            subject: 'baseline',
          }),
          'payment',
        );
      });
      log(`freeze + settle: ${options.pairs} pairs`);
      const freezeCodes = await codesFor(options.pairs);
      const pairs = await closedLoop(options.pairs, options.clients, async (i) => {
        const frozen = expectOk(
          await client.call('alipay.fund.auth.order.freeze', {
            out_order_no: `o-${run}-${i}`,
            out_request_no: `f-${run}-${i}`,
            order_title: 'deposit',
            amount: '99.00',
            auth_code: freezeCodes[i] as string,
            auth_code_type: 'bar_code',
          }),
          'freeze',
        );
        expectOk(
          await client.call('alipay.trade.pay', {
            out_trade_no: `p-${run}-${i}`,
            product_code: 'PREAUTH_PAY',
            auth_no: String(frozen.auth_no),
            auth_confirm_mode: 'COMPLETE',
            total_amount: '12.50',
            subject: 'rental',
          }),
          'settle',
        );
      });
      const violations = options.verify
        ? [...(await verifyLedger(platform.db)), ...(await verifyPreauthBooks(platform.db))]
        : [];
      for (const v of violations) log(`violation: ${v.kind} ${v.detail}`);
      return {
        engine: platform.db.engine,
        pairs: options.pairs,
        clients: options.clients,
        pairs_per_s: round1(pairs.perS),
        pair_p50_ms: round1(pairs.p50),
        pair_p99_ms: round1(pairs.p99),
        baseline_payments_per_s: round1(baseline.perS),
        baseline_p99_ms: round1(baseline.p99),
        ratio: Math.round((pairs.perS / baseline.perS) * 100) / 100,
        violations: violations.length,
        ...durability,
      };
    } finally {
      client.close();
      await server.close();
    }
  } finally {
    await platform.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (options.databaseUrl && schema) await dropSchema(options.databaseUrl, schema);
  }
}

/** `n` tasks over `clients` loops, one task in flight each: tasks per second and latencies. */
async function closedLoop(
  n: number,
  clients: number,
  task: (i: number) => Promise<void>,
): Promise<{ perS: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t0 = performance.now();
        await task(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perS: n / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}
