import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mutex, PGlite } from '@electric-sql/pglite';
import { limits } from '../limits.ts';

/**
 * The owner of a PGlite data directory serves it to other processes (the `paybao` CLI beside a
 * running server) over the PostgreSQL wire protocol on a Unix socket, so that they reach the one
 * process that has the files open instead of opening them a second time.
 *
 * PGlite has one backend, shared by the owner's own work and every client. Two rules keep them
 * apart:
 * - one `gate` (the mutex the owner's `Db` takes for each statement and transaction) is held by a
 *   client from its first message until PGlite answers ReadyForQuery with status idle, so a
 *   client's transaction — and its Parse/Bind/Execute up to Sync — never interleaves with the
 *   owner's, nor with another client's;
 * - a client that goes quiet in a transaction (`pgliteClientIdleInTransactionMs`) or disconnects
 *   is rolled back and the gate released, so a stuck CLI cannot stall the server for long.
 * Commits are synced to disk (`afterCommit`) before the client hears of them.
 */
export interface WireServer {
  /** The directory holding `.s.PGSQL.5432`, as node-postgres's `host` wants it. */
  readonly socketDir: string;
  close(): Promise<void>;
}

export interface WireOptions {
  pg: PGlite;
  gate: Mutex;
  /** Makes committed work durable (the WAL fdatasync); runs before a client is answered. */
  afterCommit: () => Promise<void>;
  dataDir: string;
  /** A consistent copy of the data directory (`backupQuery`), taken with the gate held. */
  dump: () => Promise<Uint8Array>;
}

/**
 * The one statement the bridge answers itself rather than PGlite: a copy of the whole data
 * directory (gzipped tar) in rows of base64 text, taken while no other statement runs. Outside a
 * transaction only (inside one, PGlite refuses it as an unknown function).
 */
export const backupQuery = 'select paybao_data_dir_backup()';
const backupQueryMessage = simpleQuery(backupQuery);

const socketName = '.s.PGSQL.5432';
const sslRequestMagic = 80877103;
const gssEncRequestMagic = 80877104;
const cancelRequestMagic = 80877102;
const terminate = 0x58; // 'X'
const readyForQuery = 0x5a; // 'Z'
const statusIdle = 0x49; // 'I'
const syncMessage = new Uint8Array([0x53, 0, 0, 0, 4]);

export async function serveWire(options: WireOptions): Promise<WireServer> {
  const socketDir = socketDirectory();
  const path = join(socketDir, socketName);
  const clients = new Set<WireClient>();
  const server = createServer((socket) => {
    const client = new WireClient(socket, options, () => clients.delete(client));
    clients.add(client);
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(path, () => done());
  });
  chmodSync(path, 0o600);
  return {
    socketDir,
    async close() {
      const closed = new Promise<void>((done) => server.close(() => done()));
      await Promise.all([...clients].map((c) => c.end()));
      await closed;
      rmSync(socketDir, { recursive: true, force: true });
    },
  };
}

/**
 * A private directory under the system's temp (mode 0700) for the socket, recorded in the lock:
 * never beside the data files, where it would end up in a copy of them (PGlite's `dumpDataDir`
 * cannot read a socket) and where a deep path would not fit a socket's name anyway.
 */
function socketDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'paybao-'));
}

/** One connection: its messages are run one at a time, in order, under the shared gate. */
class WireClient {
  #buffer = Buffer.alloc(0);
  #started = false;
  #release: (() => void) | undefined;
  #idle: NodeJS.Timeout | undefined;
  #work: Promise<void> = Promise.resolve();
  #ended = false;

  constructor(
    private readonly socket: Socket,
    private readonly options: WireOptions,
    private readonly onEnd: () => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data) => this.#then(() => this.#receive(data)));
    socket.on('error', () => void this.end());
    socket.on('close', () => void this.end());
  }

  /** Closes the connection; a transaction it left open is rolled back. */
  end(): Promise<void> {
    if (!this.#ended) {
      this.#ended = true;
      this.socket.destroy();
      this.#then(() => this.#cleanUp());
    }
    return this.#work;
  }

  #then(step: () => Promise<void>): void {
    this.#work = this.#work.then(step).catch(() => {
      // A broken exchange (PGlite failed, the socket died): the client's session ends here.
      this.#ended = true;
      this.socket.destroy();
      return this.#cleanUp();
    });
  }

  async #receive(data: Buffer): Promise<void> {
    if (this.#ended) return;
    this.#buffer = Buffer.concat([this.#buffer, data]);
    for (;;) {
      const message = this.#started ? this.#typedMessage() : this.#startupMessage();
      if (message === undefined) return;
      if (message === 'end') {
        // Not awaited: the clean-up queues behind this very step.
        void this.end();
        return;
      }
      await this.#run(message);
    }
  }

  /** The untyped messages before the session: SSL and GSS requests are declined, a cancel ignored. */
  #startupMessage(): Uint8Array | 'end' | undefined {
    if (this.#buffer.length < 8) return undefined;
    const length = this.#buffer.readInt32BE(0);
    const code = this.#buffer.readInt32BE(4);
    if (code === sslRequestMagic || code === gssEncRequestMagic) {
      this.#buffer = this.#buffer.subarray(8);
      this.socket.write('N');
      return this.#startupMessage();
    }
    // PGlite has no second backend to signal: a cancel request is answered by closing.
    if (code === cancelRequestMagic) return 'end';
    if (this.#buffer.length < length) return undefined;
    this.#started = true;
    return this.#take(length);
  }

  #typedMessage(): Uint8Array | 'end' | undefined {
    if (this.#buffer.length < 5) return undefined;
    if (this.#buffer[0] === terminate) return 'end';
    const length = 1 + this.#buffer.readInt32BE(1);
    if (this.#buffer.length < length) return undefined;
    return this.#take(length);
  }

  #take(length: number): Uint8Array {
    const message = new Uint8Array(this.#buffer.subarray(0, length));
    this.#buffer = this.#buffer.subarray(length);
    return message;
  }

  async #run(message: Uint8Array): Promise<void> {
    clearTimeout(this.#idle);
    if (this.#release === undefined && sameBytes(message, backupQueryMessage)) return this.#backup();
    this.#release ??= await this.options.gate.acquire();
    // A copy: PGlite may answer with a view of its receive buffer (it does for a startup packet),
    // which the next statement overwrites, and the write below happens after the gate is released.
    const response = new Uint8Array(await this.options.pg.execProtocolRaw(message));
    if (lastReadyStatus(response) === statusIdle) {
      this.#unlock();
      await this.options.afterCommit();
    } else {
      this.#idle = setTimeout(() => void this.end(), limits.pgliteClientIdleInTransactionMs);
    }
    if (!this.#ended) this.socket.write(response);
  }

  /** Answers `backupQuery`: the copy as rows of base64 text, every other statement held off meanwhile. */
  async #backup(): Promise<void> {
    const dump = await this.options.gate.runExclusive(() => this.options.dump());
    const rows: Buffer[] = [];
    for (let at = 0; at < dump.length; at += limits.pgliteBackupRowBytes) {
      rows.push(dataRow(Buffer.from(dump.subarray(at, at + limits.pgliteBackupRowBytes)).toString('base64')));
    }
    const done = Buffer.from(`SELECT ${rows.length}\0`);
    const complete = Buffer.alloc(5 + done.length);
    complete[0] = 0x43; // 'C'
    complete.writeInt32BE(4 + done.length, 1);
    done.copy(complete, 5);
    const ready = Buffer.from([readyForQuery, 0, 0, 0, 5, statusIdle]);
    if (!this.#ended) this.socket.write(Buffer.concat([textRowDescription('backup'), ...rows, complete, ready]));
  }

  async #cleanUp(): Promise<void> {
    clearTimeout(this.#idle);
    if (this.#release) {
      try {
        // Ends an unfinished extended-protocol exchange, then whatever transaction is open.
        const status = lastReadyStatus(await this.options.pg.execProtocolRaw(syncMessage));
        if (status !== statusIdle) await this.options.pg.execProtocolRaw(simpleQuery('ROLLBACK'));
      } finally {
        this.#unlock();
      }
    }
    this.onEnd();
  }

  #unlock(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }
}

/** The status byte of the last ReadyForQuery in a response; undefined when there is none. */
function lastReadyStatus(response: Uint8Array): number | undefined {
  const view = new DataView(response.buffer, response.byteOffset, response.byteLength);
  let status: number | undefined;
  for (let at = 0; at + 5 <= response.length; at += 1 + view.getInt32(at + 1)) {
    if (response[at] === readyForQuery) status = response[at + 5];
  }
  return status;
}

function simpleQuery(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`);
  const message = Buffer.alloc(5 + text.length);
  message[0] = 0x51; // 'Q'
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return new Uint8Array(message);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** A RowDescription of one text column. */
function textRowDescription(name: string): Buffer {
  const field = Buffer.from(`${name}\0`);
  const message = Buffer.alloc(1 + 4 + 2 + field.length + 18);
  let at = message.writeUInt8(0x54, 0); // 'T'
  at = message.writeInt32BE(message.length - 1, at);
  at = message.writeInt16BE(1, at);
  at += field.copy(message, at);
  at = message.writeInt32BE(0, at); // no table
  at = message.writeInt16BE(0, at); // no column
  at = message.writeInt32BE(25, at); // text
  at = message.writeInt16BE(-1, at); // variable length
  at = message.writeInt32BE(-1, at); // no modifier
  message.writeInt16BE(0, at); // text format
  return message;
}

/** A DataRow of one text value. */
function dataRow(text: string): Buffer {
  const value = Buffer.from(text);
  const message = Buffer.alloc(1 + 4 + 2 + 4 + value.length);
  message[0] = 0x44; // 'D'
  message.writeInt32BE(message.length - 1, 1);
  message.writeInt16BE(1, 5);
  message.writeInt32BE(value.length, 7);
  value.copy(message, 11);
  return message;
}
