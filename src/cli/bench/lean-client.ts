import type { KeyObject } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { limits } from '../../core/limits.ts';
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
  /** Requests sent again after the platform's busy answer. */
  busyRetries = 0;

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

  /**
   * `prepare` with the RSA work on libuv's thread pool, off the event loop it shares. With
   * `publicInQuery`, every parameter but `biz_content` goes in the query string, where the SDKs
   * put them (so the server classes the request before it reads the body).
   */
  async prepareAsync(
    method: string,
    bizContent: Record<string, string>,
    options: { publicInQuery?: boolean } = {},
  ): Promise<Prepared> {
    const params = this.#params(method, bizContent);
    const signed = { ...params, sign: await rsaSignAsync(legacySignContent(params), this.privateKey) };
    return this.#wire(method, signed, options.publicInQuery === true);
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

  #wire(method: string, signed: Record<string, string>, publicInQuery = false): Prepared {
    const { biz_content, ...common } = signed;
    const inForm = publicInQuery ? { biz_content: biz_content ?? '' } : signed;
    const form = Buffer.from(new URLSearchParams(inForm).toString());
    const target = publicInQuery ? `${this.#url.pathname}?${new URLSearchParams(common)}` : this.#url.pathname;
    const head =
      `POST ${target} HTTP/1.1\r\nHost: ${this.#url.host}\r\n` +
      `Content-Type: application/x-www-form-urlencoded;charset=utf-8\r\nContent-Length: ${form.length}\r\n\r\n`;
    return { method, bytes: Buffer.concat([Buffer.from(head), form]) };
  }

  call(method: string, bizContent: Record<string, string>): Promise<Answer> {
    return this.send(this.prepare(method, bizContent));
  }

  async send(request: Prepared, busyRetries = 0): Promise<Answer> {
    // A connection the server closed while it was idle is dropped, not written to.
    let connection = this.#idle.pop();
    while (connection?.closed) connection = this.#idle.pop();
    connection ??= await this.#connect();
    const exchange = await connection.exchange(request.bytes);
    this.#idle.push(connection);
    if (exchange.status !== 200) throw new Error(`${exchange.head.split('\r\n')[0]}: ${exchange.body}`);
    const answer = this.answerOf(request.method, exchange.body);
    // The platform's busy answer (Retry-After: nothing was read or written): sent again, as the
    // SDKs' users do, up to a bound.
    if (
      answer.code === '20000' &&
      /\r\nretry-after:/i.test(exchange.head) &&
      busyRetries < limits.leanClientBusyRetriesMax
    ) {
      this.busyRetries++;
      await new Promise((resolve) => setTimeout(resolve, limits.leanClientBusyRetryMs));
      return this.send(request, busyRetries + 1);
    }
    return answer;
  }

  /** The `<method>_response` of a gateway answer; every `checkEvery`-th answer's signature is checked. */
  answerOf(method: string, body: string): Answer {
    const key = legacyResponseKey(method);
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

/** An HTTP answer as a connection reads it. */
export interface Exchange {
  status: number;
  /** The status line and the headers, as sent. */
  head: string;
  body: string;
}

/**
 * One kept-alive HTTP/1.1 connection, one exchange at a time; answers carry a Content-Length or
 * come chunked.
 */
export class Connection {
  #buffer: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (exchange: Exchange) => void; reject: (e: Error) => void } | undefined;
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

  exchange(request: Buffer): Promise<Exchange> {
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
    const chunked = /\r\ntransfer-encoding: *chunked/i.test(head);
    const waiting = this.#waiting;
    if (length === undefined && !chunked) {
      this.#waiting = undefined;
      waiting.reject(new Error(`an answer without Content-Length: ${head}`));
      return;
    }
    const read = chunked
      ? dechunk(this.#buffer, headEnd + 4)
      : { body: this.#buffer.subarray(headEnd + 4, headEnd + 4 + Number(length)), end: headEnd + 4 + Number(length) };
    if (!read || this.#buffer.length < read.end) return;
    this.#buffer = this.#buffer.subarray(read.end);
    this.#waiting = undefined;
    waiting.resolve({ status: Number(head.slice(9, 12)), head, body: read.body.toString('utf8') });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A chunked body from `from` on, and where it ends; undefined until all of it has arrived. */
function dechunk(buffer: Buffer, from: number): { body: Buffer; end: number } | undefined {
  const chunks: Buffer[] = [];
  let at = from;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(buffer.subarray(at, lineEnd).toString('latin1'), 16);
    const dataEnd = lineEnd + 2 + size;
    if (buffer.length < dataEnd + 2) return undefined;
    if (size === 0) return { body: Buffer.concat(chunks), end: dataEnd + 2 };
    chunks.push(buffer.subarray(lineEnd + 2, dataEnd));
    at = dataEnd + 2;
  }
}
