/**
 * Where the gateway remembers v3 nonces, so that a request captured on the wire cannot be sent
 * again. A nonce needs remembering only while its timestamp is inside the window: after that the
 * timestamp check refuses the replay by itself.
 */
import type { Db, Migration } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';

export type NonceClaim = 'fresh' | 'replayed' | 'full';

export interface NonceStore {
  /**
   * Records `key` until `expiresAtMs`. Answers `fresh` the first time, `replayed` while it is
   * remembered, and `full` when the store can take no more (the gateway then refuses the request:
   * it fails closed rather than forget).
   */
  claim(key: string, expiresAtMs: number, nowMs: number): Promise<NonceClaim>;
}

/**
 * One process's nonces, at most `max` of them. When full it drops the expired ones (at most once
 * per `sweepIntervalMs`, since a sweep walks every entry). It forgets on restart, and each process
 * has its own: servers use `DbNonceStore`.
 */
export class MemoryNonceStore implements NonceStore {
  readonly #expiries = new Map<string, number>();
  readonly #max: number;
  #lastSweepMs = Number.NEGATIVE_INFINITY;

  constructor(
    max: number = limits.gatewayNoncesMax,
    readonly sweepIntervalMs: number = limits.gatewayNonceSweepMemoryMs,
  ) {
    this.#max = max;
  }

  get size(): number {
    return this.#expiries.size;
  }

  async claim(key: string, expiresAtMs: number, nowMs: number): Promise<NonceClaim> {
    const known = this.#expiries.get(key);
    if (known !== undefined && known >= nowMs) return 'replayed';
    if (known === undefined && this.#expiries.size >= this.#max) {
      this.#sweep(nowMs);
      if (this.#expiries.size >= this.#max) return 'full';
    }
    this.#expiries.set(key, expiresAtMs);
    return 'fresh';
  }

  #sweep(nowMs: number): void {
    if (nowMs - this.#lastSweepMs < this.sweepIntervalMs) return;
    this.#lastSweepMs = nowMs;
    for (const [key, expiresAtMs] of this.#expiries) {
      if (expiresAtMs < nowMs) this.#expiries.delete(key);
    }
  }
}

/** The nonce table of `DbNonceStore`. */
export const gatewayMigrations: Migration[] = [
  {
    id: '20261129-60-gateway-nonces',
    sql: `
-- v3 nonces seen, each until its request's timestamp leaves the window: shared by every server
-- process and kept across restarts, so that a captured request cannot be sent again anywhere.
create table gateway_nonces (
  key text primary key,
  expires_at_ms bigint not null
);
create index gateway_nonces_expiry on gateway_nonces (expires_at_ms);
`,
  },
];

/**
 * Nonces in the database: every server process on it refuses the same replays, across restarts.
 * A claim is one statement (insert, or take over an entry whose time is over); expired entries
 * are deleted, `limits.gatewayNonceSweepMax` at a time, at most once per `sweepIntervalMs`.
 */
export class DbNonceStore implements NonceStore {
  #lastSweepMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly db: Db,
    readonly sweepIntervalMs: number = limits.gatewayNonceSweepDbMs,
  ) {}

  async claim(key: string, expiresAtMs: number, nowMs: number): Promise<NonceClaim> {
    const rows = await this.db.query(
      `insert into gateway_nonces (key, expires_at_ms) values ($1, $2)
       on conflict (key) do update set expires_at_ms = excluded.expires_at_ms
         where gateway_nonces.expires_at_ms < $3
       returning key`,
      [key, String(Math.ceil(expiresAtMs)), String(Math.floor(nowMs))],
    );
    if (nowMs - this.#lastSweepMs >= this.sweepIntervalMs) {
      this.#lastSweepMs = nowMs;
      await this.sweep(nowMs);
    }
    return rows.length === 1 ? 'fresh' : 'replayed';
  }

  /**
   * Deletes entries whose time is over (they refuse nothing: the timestamp check does). `skip
   * locked`: processes sweeping at once take disjoint rows instead of deadlocking on one set.
   */
  async sweep(nowMs: number): Promise<number> {
    const rows = await this.db.query(
      `delete from gateway_nonces where key in (
         select key from gateway_nonces where expires_at_ms < $1 limit $2 for update skip locked
       ) returning key`,
      [String(Math.floor(nowMs)), limits.gatewayNonceSweepMax],
    );
    return rows.length;
  }
}
