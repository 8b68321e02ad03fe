/**
 * The apps' one client of Paybao's own APIs (`/api/v1` today; the merchant and operator scopes
 * later): JSON in and out, the session's bearer token, an `Idempotency-Key` on every request that
 * moves money, and every refusal as an `ApiError` carrying the API's `{type, code, message, param}`.
 */
import type { SessionStore } from './session.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    /** `challenge_required`: the confirmation the texted code answers. */
    readonly challengeId: string | null = null,
  ) {
    super(message);
  }
}

/** A fresh key for one money-moving intent; the same key is sent again when that intent is retried. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

export interface RequestOptions {
  /** Required by the API on every money-moving POST: the same key and body never move money twice. */
  idempotencyKey?: string;
}

export class ApiClient {
  readonly #base: string;
  readonly #sessions: SessionStore;

  constructor(base: string, sessions: SessionStore) {
    this.#base = base;
    this.#sessions = sessions;
  }

  get<T>(path: string, query?: Record<string, string | undefined>): Promise<T> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(name, value);
    const search = params.size > 0 ? `?${params}` : '';
    return this.#send<T>('GET', `${path}${search}`);
  }

  post<T>(path: string, body: unknown = {}, options: RequestOptions = {}): Promise<T> {
    return this.#send<T>('POST', path, body, options);
  }

  put<T>(path: string, body: unknown = {}): Promise<T> {
    return this.#send<T>('PUT', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.#send<T>('DELETE', path);
  }

  async #send<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const session = this.#sessions.get();
    if (session) headers.authorization = `Bearer ${session.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'network_error', 'the network failed; nothing is known to have happened');
    }
    if (response.status === 204) return undefined as T;
    const json = (await response.json().catch(() => null)) as Record<string, unknown> | null;
    if (response.ok) return json as T;
    const text = (name: string) => (typeof json?.[name] === 'string' ? (json[name] as string) : null);
    const error = new ApiError(
      response.status,
      text('code') ?? 'http_error',
      text('message') ?? `HTTP ${response.status}`,
      text('param'),
      text('challenge_id'),
    );
    // A session the server no longer knows: log out here too, so the app shows its login.
    if (error.code === 'session_invalid') this.#sessions.set(null);
    throw error;
  }
}
