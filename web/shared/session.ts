/**
 * The logged-in session of an app: the bearer token `POST /api/v1/sessions` answered, kept in the
 * browser's localStorage under the app's own key so that a reload or a new tab stays logged in
 * until the server's session ends. The token is safe there only because the apps' policy runs no
 * script but Paybao's own (src/server/web-apps.ts): no inline script, nothing from elsewhere.
 */
export interface Session {
  token: string;
  userId: string;
  expiresAt: string;
}

export class SessionStore {
  readonly #key: string;
  #listeners = new Set<() => void>();

  constructor(app: string) {
    this.#key = `paybao.${app}.session`;
  }

  get(): Session | null {
    try {
      const saved = JSON.parse(localStorage.getItem(this.#key) ?? 'null') as Session | null;
      if (!saved || typeof saved.token !== 'string') return null;
      if (Date.parse(saved.expiresAt) <= Date.now()) return null;
      return saved;
    } catch {
      // A value another version of the app wrote: treated as no session, and replaced at login.
      return null;
    }
  }

  set(session: Session | null): void {
    if (session) localStorage.setItem(this.#key, JSON.stringify(session));
    else localStorage.removeItem(this.#key);
    for (const listener of this.#listeners) listener();
  }

  /** For React's useSyncExternalStore: called whenever the session changes. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };
}
