import { LocalCluster } from '../drill/cluster.ts';
import { benchGateway } from './gateway.ts';
import { benchLedger } from './ledger.ts';

export interface ReplicationBenchOptions {
  json: boolean;
  /** Paid trades per gateway run. */
  trades: number;
  /** Transfers per ledger workload. */
  transfers: number;
  accounts: number;
  portBase: number;
}

/** One configuration's figures. */
interface Run {
  standby: 'synchronous' | 'asynchronous';
  synchronous_commit: string;
  paid_tps: number;
  pay_p99_ms: number;
  ledger_uniform_tps: number;
  ledger_hot_tps: number;
  ledger_baseline_tps: number;
}

export interface ReplicationBenchResult {
  cluster: string;
  /** Synchronous, asynchronous, synchronous again: the repeat shows how much the machine drifted. */
  runs: Run[];
  /** Mean of the synchronous runs over the asynchronous one: what the second copy of each commit costs. */
  paid_tps_ratio: number;
  ledger_uniform_tps_ratio: number;
  ledger_baseline_tps_ratio: number;
}

/**
 * `paybao bench replication`: what synchronous replication costs. On a local pg_auto_failover
 * cluster (primary and secondary on this machine), the gateway's paid trades/s and the ledger's
 * transfers/s (and its one-transfer-per-transaction baseline) with the secondary synchronous, then
 * asynchronous (`replication-quorum false`: the commit waits for the primary's disk only), then
 * synchronous again, in one run.
 */
export async function benchReplication(options: ReplicationBenchOptions): Promise<ReplicationBenchResult> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log('setting up the cluster: monitor, primary, secondary (pg_auto_failover)');
  const cluster = await LocalCluster.create({ portBase: options.portBase, log });
  try {
    const databaseUrl = cluster.uri();
    const runs: Run[] = [];
    for (const synchronous of [true, false, true]) {
      await cluster.setSynchronous(synchronous);
      const standby = synchronous ? 'synchronous' : 'asynchronous';
      log(`the secondary is ${standby}: gateway, then ledger`);
      const gateway = await benchGateway({
        json: true,
        trades: options.trades,
        buyers: 200,
        clients: 32,
        inProcess: false,
        sign: 'ahead',
        databaseUrl,
      });
      const ledger = await benchLedger({
        json: true,
        accounts: options.accounts,
        transfers: options.transfers,
        baselineSeconds: 5,
        databaseUrl,
      });
      runs.push({
        standby,
        synchronous_commit: ledger.synchronous_commit,
        paid_tps: gateway.paid_tps,
        pay_p99_ms: gateway.p99_ms,
        ledger_uniform_tps: ledger.uniform_tps,
        ledger_hot_tps: ledger.hot_tps,
        ledger_baseline_tps: ledger.baseline_tps,
      });
      log(JSON.stringify(runs.at(-1)));
    }
    const ratio = (key: 'paid_tps' | 'ledger_uniform_tps' | 'ledger_baseline_tps') => {
      const sync = runs.filter((r) => r.standby === 'synchronous');
      const mean = sync.reduce((sum, r) => sum + r[key], 0) / sync.length;
      const async = runs.find((r) => r.standby === 'asynchronous')?.[key] ?? Number.NaN;
      return Math.round((mean / async) * 100) / 100;
    };
    return {
      cluster: databaseUrl,
      runs,
      paid_tps_ratio: ratio('paid_tps'),
      ledger_uniform_tps_ratio: ratio('ledger_uniform_tps'),
      ledger_baseline_tps_ratio: ratio('ledger_baseline_tps'),
    };
  } finally {
    await cluster.destroy();
  }
}
