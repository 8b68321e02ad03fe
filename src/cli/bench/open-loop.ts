import { limits } from '../../core/limits.ts';
import { Connection, type Exchange } from './lean-client.ts';

/** One request of an open-loop run: its bytes, due `dueMs` after the run starts. */
export interface Shot {
  bytes: Buffer;
  dueMs: number;
}

/**
 * Why a request got no answer: `unsent`, no connection came free within `sendWaitMs` of its due
 * time (the generator gave up rather than queue without end); `timeout`, it was sent and not
 * answered within `answerWaitMs` (its connection is closed); `failed`, the connection broke.
 */
export type Miss = 'unsent' | 'timeout' | 'failed';

export interface OpenLoopHandlers<S extends Shot> {
  /** An answer, `latencyMs` after the request was due (not after it was sent). */
  answered(shot: S, exchange: Exchange, latencyMs: number): void;
  missed(shot: S, why: Miss, latencyMs: number, error?: unknown): void;
}

export interface OpenLoopOptions {
  url: string;
  /** Kept-alive connections at most; a request due when all are busy waits for one. */
  connectionsMax: number;
  sendWaitMs: number;
  answerWaitMs: number;
}

interface InFlight<S extends Shot> {
  shot: S;
  dueAt: number;
  sentAt: number;
}

/**
 * An open-loop load generator, as wrk2 or Gatling's constant arrival rate: requests are sent at
 * their due times whatever the server does, so that overload can be offered at all (closed-loop
 * clients slow down with the server they measure). Each request's latency runs from its due time,
 * so the time it waited for a free connection is charged to the server (no coordinated omission).
 * The connections are bounded and kept alive across runs; the requests arrive signed, so the
 * generator's own work per request is a socket write and reading the answer's length.
 */
export class OpenLoop {
  readonly #url: URL;
  readonly #options: OpenLoopOptions;
  readonly #idle: Connection[] = [];
  /** Connections open or opening. */
  #open = 0;

  constructor(options: OpenLoopOptions) {
    this.#url = new URL(options.url);
    this.#options = options;
  }

  /** Sends every shot at its due time (shots sorted by `dueMs`); resolves once each is answered or missed. */
  run<S extends Shot>(shots: readonly S[], handlers: OpenLoopHandlers<S>): Promise<void> {
    const { sendWaitMs, answerWaitMs, connectionsMax } = this.#options;
    const started = performance.now();
    const waiting: Array<{ shot: S; dueAt: number }> = [];
    let waitingHead = 0;
    let next = 0;
    const inFlight = new Map<Connection, InFlight<S>>();
    let lastOverdueCheck = started;

    return new Promise<void>((resolve) => {
      const send = (connection: Connection, shot: S, dueAt: number) => {
        const entry: InFlight<S> = { shot, dueAt, sentAt: performance.now() };
        inFlight.set(connection, entry);
        connection.exchange(shot.bytes).then(
          (exchange) => {
            if (inFlight.get(connection) !== entry) return;
            inFlight.delete(connection);
            handlers.answered(shot, exchange, performance.now() - dueAt);
            this.#release(connection);
            dispatch();
          },
          (error: unknown) => {
            if (inFlight.get(connection) !== entry) return;
            inFlight.delete(connection);
            this.#open--;
            handlers.missed(shot, 'failed', performance.now() - dueAt, error);
            dispatch();
          },
        );
      };
      const connectAndSend = (shot: S, dueAt: number) => {
        this.#open++;
        Connection.open(this.#url).then(
          (connection) => send(connection, shot, dueAt),
          (error: unknown) => {
            this.#open--;
            handlers.missed(shot, 'failed', performance.now() - dueAt, error);
          },
        );
      };
      const dispatch = () => {
        const now = performance.now();
        while (waitingHead < waiting.length) {
          const head = waiting[waitingHead] as { shot: S; dueAt: number };
          if (now - head.dueAt > sendWaitMs) {
            waitingHead++;
            handlers.missed(head.shot, 'unsent', now - head.dueAt);
            continue;
          }
          const connection = this.#takeIdle();
          if (connection) send(connection, head.shot, head.dueAt);
          else if (this.#open < connectionsMax) connectAndSend(head.shot, head.dueAt);
          else break;
          waitingHead++;
        }
        if (waitingHead > 1024 && waitingHead * 2 > waiting.length) {
          waiting.splice(0, waitingHead);
          waitingHead = 0;
        }
      };
      const expireOverdue = (now: number) => {
        for (const [connection, entry] of inFlight) {
          if (now - entry.sentAt <= answerWaitMs) continue;
          inFlight.delete(connection);
          connection.close();
          this.#open--;
          handlers.missed(entry.shot, 'timeout', now - entry.dueAt);
        }
      };
      const tick = () => {
        const now = performance.now();
        while (next < shots.length && started + (shots[next] as S).dueMs <= now) {
          const shot = shots[next++] as S;
          waiting.push({ shot, dueAt: started + shot.dueMs });
        }
        dispatch();
        if (now - lastOverdueCheck >= limits.openLoopOverdueCheckMs) {
          lastOverdueCheck = now;
          expireOverdue(now);
        }
        if (next === shots.length && waitingHead === waiting.length && inFlight.size === 0 && this.#settled()) {
          resolve();
          return;
        }
        setTimeout(tick, limits.openLoopTickMs);
      };
      tick();
    });
  }

  /** Connections still opening count as open; the run ends only once none is. */
  #settled(): boolean {
    return this.#open === this.#idle.length;
  }

  #takeIdle(): Connection | undefined {
    for (let connection = this.#idle.pop(); connection; connection = this.#idle.pop()) {
      if (!connection.closed) return connection;
      this.#open--;
    }
    return undefined;
  }

  #release(connection: Connection): void {
    if (connection.closed) this.#open--;
    else this.#idle.push(connection);
  }

  close(): void {
    for (const connection of this.#idle) connection.close();
    this.#idle.length = 0;
    this.#open = 0;
  }
}
