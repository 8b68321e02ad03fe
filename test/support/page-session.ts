/**
 * A browser's part in a page flow, for tests that post the pages' forms over HTTP without a
 * browser: it keeps the cookies the server sets, takes the CSRF token from the last form it was
 * shown, and posts from the page's own origin, as the page's form would.
 */
export class PageSession {
  readonly #cookies = new Map<string, string>();
  #token = '';

  /** Fetches a page (or any URL), keeping its cookies and its form's token. */
  async get(url: string | URL): Promise<Response> {
    const res = await fetch(url, { headers: this.#headers(), redirect: 'manual' });
    return this.#keep(res);
  }

  /** Posts a form with the token of the last page shown, from that page's origin. */
  async post(url: string | URL, form: Record<string, string>): Promise<Response> {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        ...this.#headers(),
        'content-type': 'application/x-www-form-urlencoded',
        origin: new URL(url).origin,
      },
      body: new URLSearchParams({ _csrf: this.#token, ...form }).toString(),
      redirect: 'manual',
    });
    return this.#keep(res);
  }

  #headers(): Record<string, string> {
    const cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    return cookie ? { cookie } : {};
  }

  /** Reads the answer's body once (kept in a clone for the caller) for its token. */
  async #keep(res: Response): Promise<Response> {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    const text = await res.clone().text();
    const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
    if (token) this.#token = token;
    return res;
  }
}
