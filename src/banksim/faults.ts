import { createHash } from 'node:crypto';
import type { FaultConfig } from './config.ts';

/** What an injected fault does to one write. */
export type WriteFault = 'none' | 'error' | 'timeoutBefore' | 'timeoutAfter';

/**
 * A number in [0, 1) from the seed, the kind of decision and the thing it is about. Faults are
 * decided by hashing, not by drawing from one shared generator, so that concurrent requests in
 * any order meet the same faults: the same seed and the same requests give the same run.
 */
export function draw(seed: number, kind: string, key: string): number {
  const digest = createHash('sha256').update(`${seed}\u0000${kind}\u0000${key}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/**
 * The live fault setting and the decisions made from it. `key` names the request: the order (or
 * batch, or agreement request) number with the count of earlier requests for it, so a retry of
 * an order that timed out draws again instead of timing out forever.
 */
export class Faults {
  #config: FaultConfig;
  readonly #attempts = new Map<string, number>();

  constructor(config: FaultConfig) {
    this.#config = config;
  }

  get config(): FaultConfig {
    return this.#config;
  }

  set(config: FaultConfig): void {
    this.#config = config;
    this.#attempts.clear();
  }

  /** The fault for the next request about `subject` (e.g. `ICBC/paybao/withhold/W1`). */
  forWrite(subject: string): WriteFault {
    const n = this.#attempts.get(subject) ?? 0;
    // One counter per subject; the map is cleared with the setting, and a run has as many
    // subjects as orders, which the simulator's own tables hold anyway.
    this.#attempts.set(subject, n + 1);
    const c = this.#config;
    const x = draw(c.seed, 'write', `${subject}#${n}`);
    if (x < c.errorRate) return 'error';
    if (x < c.errorRate + c.timeoutBeforeRate) return 'timeoutBefore';
    if (x < c.errorRate + c.timeoutBeforeRate + c.timeoutAfterRate) return 'timeoutAfter';
    return 'none';
  }

  latencyMs(subject: string): number {
    const { latencyMinMs: min, latencyMaxMs: max, seed } = this.#config;
    if (max === 0) return 0;
    return min + Math.floor(draw(seed, 'latency', subject) * (max - min + 1));
  }

  duplicateCallback(orderKey: string): boolean {
    return draw(this.#config.seed, 'duplicate', orderKey) < this.#config.duplicateCallbackRate;
  }

  /** How a statement shows one order: as it is, dropped, with its amount off by a fen, or its status flipped. */
  statementLine(orderKey: string): 'asIs' | 'drop' | 'amount' | 'status' {
    const c = this.#config;
    const x = draw(c.seed, 'statement', orderKey);
    if (x < c.statementDropRate) return 'drop';
    if (x < c.statementDropRate + c.statementAmountRate) return 'amount';
    if (x < c.statementDropRate + c.statementAmountRate + c.statementStatusRate) return 'status';
    return 'asIs';
  }
}
