/**
 * A PostgreSQL cluster of this machine's own for the failover drill (docs/drills.md):
 * pg_auto_failover's monitor, a primary and a secondary on loopback, each with its data directory
 * and port, each run by its `pg_autoctl run` keeper. The secondary is synchronous (pg_auto_failover
 * sets `synchronous_standby_names` to `ANY 1 (…)`): a commit is acknowledged once it is on both.
 * PostgreSQL refuses to run as root, so as root every `pg_autoctl` runs as the `postgres` user.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { limits } from '../../core/limits.ts';
import {
  asPostgresUser,
  giveToPostgres,
  killQuietly,
  portFree,
  postgresEnv,
  postmasterPid,
  runAsPostgres,
  withDescendants,
} from '../postgres-tools.ts';

/** One node as the monitor sees it (`pg_autoctl show state --json`). */
export interface NodeState {
  nodename: string;
  nodeport: number;
  current_group_state: string;
  assigned_group_state: string;
  health: number;
}

export interface LocalClusterOptions {
  /** The monitor's port; the nodes take the next two. */
  portBase: number;
  log: (line: string) => void;
}

/** A monitor and two nodes, each kept by its `pg_autoctl run`. */
export class LocalCluster {
  readonly #dir: string;
  readonly #options: LocalClusterOptions;
  readonly #env: NodeJS.ProcessEnv;
  readonly #keepers = new Map<string, ChildProcess>();

  private constructor(options: LocalClusterOptions) {
    this.#options = options;
    this.#dir = mkdtempSync(join(tmpdir(), 'paybao-drill-failover-'));
    this.#env = postgresEnv();
  }

  /** Creates the monitor and both nodes, starts their keepers, and waits for primary + secondary. */
  static async create(options: LocalClusterOptions): Promise<LocalCluster> {
    for (let port = options.portBase; port <= options.portBase + 2; port++) {
      if (!(await portFree(port)))
        throw new Error(`port ${port} is taken (a cluster left running?): stop it, or give another --port-base`);
    }
    const cluster = new LocalCluster(options);
    try {
      await giveToPostgres(cluster.#dir);
      const monitorPort = options.portBase;
      await cluster.#autoctl(['create', 'monitor', ...cluster.#nodeArgs('monitor', monitorPort)]);
      cluster.#keep('monitor');
      const monitorUrl = `postgres://autoctl_node@127.0.0.1:${monitorPort}/pg_auto_failover?sslmode=disable`;
      for (const [i, name] of ['node_1', 'node_2'].entries()) {
        await cluster.#autoctl([
          'create',
          'postgres',
          ...cluster.#nodeArgs(name, monitorPort + 1 + i),
          '--name',
          name,
          '--monitor',
          monitorUrl,
          '--dbname',
          'paybao',
        ]);
        cluster.#keep(name);
        // The first becomes primary before the second joins (it is copied from it).
        await cluster.waitFor(i === 0 ? ['single'] : ['primary', 'secondary'], limits.drillClusterReadyMs);
      }
      return cluster;
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
  }

  /** The libpq URL of the cluster: both nodes, a writable one wanted (what `pg_autoctl show uri` gives). */
  uri(): string {
    const { portBase } = this.#options;
    return `postgres://postgres@127.0.0.1:${portBase + 1},127.0.0.1:${portBase + 2}/paybao?target_session_attrs=read-write`;
  }

  async state(): Promise<NodeState[]> {
    const { stdout } = await this.#autoctl(['show', 'state', '--pgdata', this.#pgdata('monitor'), '--json']);
    return JSON.parse(stdout) as NodeState[];
  }

  /** The node the monitor has as primary now, or undefined. */
  async primary(): Promise<NodeState | undefined> {
    return (await this.state()).find(
      (n) => n.current_group_state === 'primary' && n.assigned_group_state === 'primary',
    );
  }

  /**
   * Waits until the nodes' reported and assigned states are `states` (in any order): `['single']`
   * for one node, `['primary', 'secondary']` for a pair in sync.
   */
  waitFor(states: readonly string[], timeoutMs: number): Promise<NodeState[]> {
    const want = [...states].sort().join(',');
    return this.waitUntil(
      want,
      (nodes) =>
        nodes.every((n) => n.current_group_state === n.assigned_group_state) &&
        nodes
          .map((n) => n.current_group_state)
          .sort()
          .join(',') === want,
      timeoutMs,
    );
  }

  /** Waits until a node other than `lost` is the writable one (`wait_primary` until a secondary is back). */
  promotedOver(lost: string, timeoutMs: number): Promise<NodeState[]> {
    const writable = ['primary', 'wait_primary'];
    return this.waitUntil(
      `a primary other than ${lost}`,
      (nodes) =>
        nodes.some(
          (n) =>
            n.nodename !== lost &&
            writable.includes(n.current_group_state) &&
            n.current_group_state === n.assigned_group_state,
        ),
      timeoutMs,
    );
  }

  async waitUntil(what: string, ok: (nodes: NodeState[]) => boolean, timeoutMs: number): Promise<NodeState[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nodes = await this.state().catch(() => []);
      if (nodes.length > 0 && ok(nodes)) return nodes;
      if (Date.now() > deadline) {
        const last = nodes.map((n) => `${n.nodename} ${n.current_group_state}→${n.assigned_group_state}`).join(', ');
        throw new Error(
          `the cluster did not reach ${what} within ${timeoutMs / 1000} s (last: ${last || 'no answer'})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, limits.drillClusterPollMs));
    }
  }

  /**
   * Makes the secondary synchronous (pg_auto_failover's `replication-quorum true`, its default) or
   * asynchronous (`false`), and waits until the primary's `synchronous_standby_names` says so.
   */
  async setSynchronous(on: boolean): Promise<void> {
    const nodes = await this.state();
    const secondary = nodes.find((n) => n.current_group_state === 'secondary');
    const primary = nodes.find((n) => n.current_group_state === 'primary');
    if (!secondary || !primary) throw new Error('the cluster has no primary and secondary in sync to set');
    await this.#autoctl([
      'set',
      'node',
      'replication-quorum',
      String(on),
      '--pgdata',
      this.#pgdata(secondary.nodename),
    ]);
    const db = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${primary.nodeport}/paybao` });
    await db.connect();
    try {
      const deadline = Date.now() + limits.drillClusterReadyMs;
      for (;;) {
        const { rows } = await db.query<{ names: string }>('select current_setting($1) as names', [
          'synchronous_standby_names',
        ]);
        if ((rows[0]?.names !== '') === on) return;
        if (Date.now() > deadline) throw new Error(`synchronous_standby_names stayed "${rows[0]?.names}"`);
        await new Promise((resolve) => setTimeout(resolve, limits.drillClusterPollMs));
      }
    } finally {
      await db.end();
    }
  }

  /** pg_auto_failover's timeouts as its monitor has them (`pgautofailover.*`), for the drill's report. */
  async failoverSettings(): Promise<Record<string, string>> {
    const db = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${this.#options.portBase}/pg_auto_failover`,
    });
    await db.connect();
    try {
      const { rows } = await db.query<{ name: string; setting: string }>(
        "select name, setting from pg_settings where name like 'pgautofailover.%' order by name",
      );
      return Object.fromEntries(rows.map((r) => [r.name.replace('pgautofailover.', ''), r.setting]));
    } finally {
      await db.end();
    }
  }

  /**
   * The loss of a database server: SIGKILL to the node's keeper, its postmaster and every process
   * the postmaster started (each backend runs in a session of its own), at once.
   */
  kill(name: string): void {
    const roots = [this.#keepers.get(name)?.pid, postmasterPid(this.#pgdata(name))].filter((p) => p !== undefined);
    // Every process at once, found before any dies (a killed parent's children move to init).
    for (const pid of withDescendants(roots)) killQuietly(pid);
    this.#keepers.delete(name);
  }

  /** Starts a killed node's keeper again: pg_auto_failover rewinds it and makes it the secondary. */
  rejoin(name: string): void {
    this.#keep(name);
  }

  /** Stops every keeper and removes the data directories. */
  async destroy(): Promise<void> {
    for (const name of ['node_1', 'node_2', 'monitor']) this.kill(name);
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #pgdata(name: string): string {
    return join(this.#dir, name);
  }

  #nodeArgs(name: string, port: number): string[] {
    return [
      '--pgdata',
      this.#pgdata(name),
      '--pgport',
      String(port),
      '--hostname',
      '127.0.0.1',
      '--listen',
      '127.0.0.1',
      '--auth',
      'trust',
      '--no-ssl',
    ];
  }

  #autoctl(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
    return runAsPostgres(this.#env, 'pg_autoctl', args, this.#dir);
  }

  /** Starts `pg_autoctl run` for a node in a process group of its own, its log in the drill's directory. */
  #keep(name: string): void {
    const [file, argv] = asPostgresUser(this.#env, 'pg_autoctl', ['run', '--pgdata', this.#pgdata(name)]);
    const log = openSync(join(this.#dir, `${name}.log`), 'a');
    const child = spawn(file, argv, { env: this.#env, cwd: this.#dir, detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    child.unref();
    child.on('exit', (code, signal) => {
      if (this.#keepers.get(name) === child) this.#options.log(`${name}'s keeper ended (${signal ?? code})`);
    });
    this.#keepers.set(name, child);
  }
}
