/**
 * Where the gateway remembers v3 nonces, so that a request captured on the wire cannot be sent
 * again. A nonce needs remembering only while its timestamp is inside the window: after that the
 * timestamp check refuses the replay by itself.
 */
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
 * per `sweepIntervalMs`, since a sweep walks every entry). Behind a load balancer, use a store that
 * every process shares.
 */
export class MemoryNonceStore implements NonceStore {
  readonly #expiries = new Map<string, number>();
  readonly #max: number;
  #lastSweepMs = Number.NEGATIVE_INFINITY;

  constructor(
    max: number = limits.gatewayNoncesMax,
    readonly sweepIntervalMs = 1000,
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
