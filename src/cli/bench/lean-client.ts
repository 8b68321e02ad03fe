import type { KeyObject } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import {
  legacyResponseKey,
  legacySignContent,
  rsaSignAsync,
  rsaVerify,
  signLegacyRequest,
} from '../../gateway/index.ts';

export type Answer = Record<string, unknown> & { code?: string; trade_no?: string };

/**
 * What a merchant's SDK does for one legacy call, without the SDK's own overhead: sign the
 * parameters (RSA2, `signLegacyRequest`), POST the form on a kept-alive connection (raw HTTP/1.1
 * on a socket, as a load generator such as wrk does), parse the `<method>_response`, and check
 * the platform's signature on every `checkEvery`-th response. A request can be signed when it is
 * sent (`call`) or earlier (`prepare`, then `send`): signing ahead keeps the merchants' RSA work
 * out of the timed window, as if they ran on their own machines.
 */
export class LeanClient {
  readonly #url: URL;
  readonly #idle: Connection[] = [];
  readonly #all: Connection[] = [];
  #timestamp = '';
  #timestampAt = 0;
  #calls = 0;
  checked = 0;

  constructor(
    base: string,
    private readonly appId: string,
    private readonly privateKey: KeyObject,
    private readonly platformPublicKey: string,
    private readonly checkEvery = 50,
  ) {
    this.#url = new URL('/gateway.do', base);
  }

  /** The local time as `yyyy-MM-dd HH:mm:ss` (what `alipay-sdk` sends). */
  #now(): string {
    const now = Date.now();
    if (now - this.#timestampAt >= 1000) {
      const d = new Date(now - new Date().getTimezoneOffset() * 60_000);
      this.#timestamp = d.toISOString().slice(0, 19).replace('T', ' ');
      this.#timestampAt = now - (now % 1000);
    }
    return this.#timestamp;
  }

  /** One signed request, as the bytes that go on the wire. */
  prepare(method: string, bizContent: Record<string, string>): Prepared {
    return this.#wire(method, signLegacyRequest(this.#params(method, bizContent), this.privateKey));
  }

  /** `prepare` with the RSA work on libuv's thread pool, off the event loop it shares. */
  async prepareAsync(method: string, bizContent: Record<string, string>): Promise<Prepared> {
    const params = this.#params(method, bizContent);
    return this.#wire(method, { ...params, sign: await rsaSignAsync(legacySignContent(params), this.privateKey) });
  }

  #params(method: string, bizContent: Record<string, string>): Record<string, string> {
    return {
      app_id: this.appId,
      method,
      format: 'JSON',
      charset: 'utf-8',
      sign_type: 'RSA2',
      timestamp: this.#now(),
      version: '1.0',
      biz_content: JSON.stringify(bizContent),
    };
  }

  #wire(method: string, signed: Record<string, string>): Prepared {
    const form = Buffer.from(new URLSearchParams(signed).toString());
    const head =
      `POST ${this.#url.pathname} HTTP/1.1\r\nHost: ${this.#url.host}\r\n` +
      `Content-Type: application/x-www-form-urlencoded;charset=utf-8\r\nContent-Length: ${form.length}\r\n\r\n`;
    return { method, bytes: Buffer.concat([Buffer.from(head), form]) };
  }

  call(method: string, bizContent: Record<string, string>): Promise<Answer> {
    return this.send(this.prepare(method, bizContent));
  }

  async send(request: Prepared): Promise<Answer> {
    // A connection the server closed while it was idle is dropped, not written to.
    let connection = this.#idle.pop();
    while (connection?.closed) connection = this.#idle.pop();
    connection ??= await this.#connect();
    const body = await connection.exchange(request.bytes);
    this.#idle.push(connection);
    const key = legacyResponseKey(request.method);
    const parsed = JSON.parse(body) as Record<string, unknown>;
    const answer = parsed[key] as Answer | undefined;
    if (!answer) throw new Error(`no ${key} in ${body}`);
    if (++this.#calls % this.checkEvery === 0) {
      const start = body.indexOf(':') + 1;
      const end = body.lastIndexOf(',"sign":');
      if (!rsaVerify(body.slice(start, end), String(parsed.sign), this.platformPublicKey)) {
        throw new Error(`the response signature does not verify: ${body}`);
      }
      this.checked++;
    }
    return answer;
  }

  async #connect(): Promise<Connection> {
    const connection = await Connection.open(this.#url);
    this.#all.push(connection);
    return connection;
  }

  close(): void {
    for (const connection of this.#all) connection.close();
  }
}

export interface Prepared {
  method: string;
  bytes: Buffer;
}

/** One kept-alive HTTP/1.1 connection, one exchange at a time; answers need a Content-Length. */
class Connection {
  #buffer: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (body: string) => void; reject: (e: Error) => void } | undefined;
  /** The server closed it (an idle keep-alive connection past the server's timeout): never reused. */
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    });
    const fail = (error: Error) => {
      this.#waiting?.reject(error);
      this.#waiting = undefined;
    };
    socket.on('error', fail);
    socket.on('close', () => {
      this.closed = true;
      fail(new Error('the server closed the connection'));
    });
  }

  static open(url: URL): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => resolve(new Connection(socket)));
      socket.once('error', reject);
    });
  }

  exchange(request: Buffer): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error('the server closed the connection'));
        return;
      }
      this.#waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  #parse(): void {
    const headEnd = this.#buffer.indexOf('\r\n\r\n');
    if (headEnd < 0 || !this.#waiting) return;
    const head = this.#buffer.subarray(0, headEnd).toString('latin1');
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
    const waiting = this.#waiting;
    if (length === undefined) {
      this.#waiting = undefined;
      waiting.reject(new Error(`an answer without Content-Length: ${head}`));
      return;
    }
    const end = headEnd + 4 + Number(length);
    if (this.#buffer.length < end) return;
    const body = this.#buffer.subarray(headEnd + 4, end).toString('utf8');
    this.#buffer = this.#buffer.subarray(end);
    this.#waiting = undefined;
    if (!head.startsWith('HTTP/1.1 200')) waiting.reject(new Error(`${head.split('\r\n')[0]}: ${body}`));
    else waiting.resolve(body);
  }

  close(): void {
    this.socket.destroy();
  }
}
