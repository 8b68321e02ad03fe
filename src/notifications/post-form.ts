import type { Socket } from 'node:net';
import { Agent, buildConnector, type Dispatcher, request } from 'undici';
import { limits } from '../core/limits.ts';

/** Errors of a connection that had carried an earlier exchange: the stale-connection race. */
const reusedConnectionErrors = new WeakSet<Error>();

/**
 * Opens connections as undici does by default, and marks each error a connection meets once it
 * has read an earlier answer. undici does not say whether a request went out on a reused
 * connection (node:http's `reusedSocket`); the socket's own count of bytes read does. The mark is
 * set by the first 'error' listener, before undici's own, so it is in place when the request fails.
 */
function markingConnector(): buildConnector.connector {
  const connect = buildConnector({});
  return (options, callback) =>
    connect(options, (...args) => {
      const socket: Socket | null = args[1];
      socket?.on('error', (error: Error) => {
        if (socket.bytesRead > 0) reusedConnectionErrors.add(error);
      });
      callback(...args);
    });
}

/**
 * Kept-alive connections to the merchants' notify URLs, shared by every round, as many per
 * merchant as the dispatcher has posts in flight.
 */
const agent = new Agent({ connections: limits.notifyConcurrencyMax, connect: markingConnector() });

/**
 * POSTs a form and resolves with the response body (any status); rejects on a bad URL, a network
 * error, or when the whole exchange outlasts `notifyTimeoutMs` (the claim on the row lasts twice
 * that, so no other round posts it meanwhile).
 *
 * A kept-alive connection the merchant's server closed as idle just as the form went out fails
 * before any answer (a reset or a close on a reused connection, the race every keep-alive client
 * meets): the form is sent again at once, on another connection, instead of waiting 4 minutes
 * for the retry. undici sends a POST only once itself, as it is not idempotent; merchants take a
 * notification twice anyway (Alipay's rule), and here it never arrived.
 */
export function postForm(url: string, form: Record<string, string>): Promise<string> {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    return Promise.reject(new Error(`not an http(s) URL: ${url}`));
  const body = new URLSearchParams(form).toString();
  const signal = AbortSignal.timeout(limits.notifyTimeoutMs);
  const attempt = async (tries: number): Promise<string> => {
    const answer = await request(target, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
      body,
      signal,
    }).catch((error: unknown) => {
      if (!diedOnReusedConnection(error) || tries >= limits.notifyStaleConnectionRetriesMax) throw error;
      return undefined;
    });
    return answer ? readAnswer(answer.body) : attempt(tries + 1);
  };
  return attempt(0);
}

/** Whether a request failed before any answer on a connection that had served an earlier one. */
function diedOnReusedConnection(error: unknown): boolean {
  if (!(error instanceof Error) || !reusedConnectionErrors.has(error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  // UND_ERR_SOCKET is undici's "other side closed": the merchant's FIN rather than a reset.
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET';
}

/**
 * The merchant's answer, read up to `notifyAnswerBytesMax`. A longer one (a page of HTML, or a
 * body that never ends) is no `success`: reading stops there, the connection is closed, and the
 * attempt fails at once rather than at the deadline.
 */
async function readAnswer(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limits.notifyAnswerBytesMax) throw new Error('the answer is longer than notifyAnswerBytesMax');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
