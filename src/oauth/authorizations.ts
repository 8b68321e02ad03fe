import type { Clock } from '../core/clock.ts';
import { type Db, type Queryable, typed } from '../core/db/index.ts';
import { id, uuidFromU128 } from '../core/ids.ts';
import { limits } from '../core/limits.ts';
import { isUnreadableText } from '../core/text.ts';
import { dateFromNs } from '../core/time.ts';
import { OAuthError, type OAuthErrorCode } from './errors.ts';
import { covers, parseScopes, type Scope, scopeText, storedScopes } from './scopes.ts';
import { digest, newCode, newOpenId, newToken } from './secrets.ts';
import type { OAuthTables, TokenRow } from './tables.ts';

/** An app as user authorisation needs it. */
export interface OAuthApp {
  appId: string;
  name: string;
  /** The registered authorisation callback address; undefined: the app cannot ask users. */
  authRedirectUrl: string | undefined;
}

/** Where the module finds apps (members), wired in the root. */
export interface OAuthParties {
  /** The app, or null when there is none. */
  app(appId: string): Promise<OAuthApp | null>;
}

/** The authorise page's parameters, as they arrived (Alipay's `publicAppAuthorize.htm` query). */
export interface AuthorizeParams {
  appId?: string | undefined;
  scope?: string | undefined;
  redirectUri?: string | undefined;
  state?: string | undefined;
}

/** An authorisation request that passed every check: the page may ask the user about it. */
export interface AuthorizeRequest {
  app: OAuthApp;
  scopes: Scope[];
  redirectUri: string;
  state: string | undefined;
}

/** What `alipay.system.oauth.token` answers: a new token pair for the user behind a code or refresh token. */
export interface IssuedTokens {
  userId: string;
  openId: string;
  scopes: Scope[];
  accessToken: string;
  expiresInS: number;
  refreshToken: string;
  reExpiresInS: number;
  /** When the user authorised (a refresh keeps it). */
  authStart: Date;
}

/** Whom a live access token speaks for. */
export interface TokenOwner {
  userId: string;
  openId: string;
  scopes: Scope[];
}

/** An app a user has authorised, as the wallet lists it. */
export interface AuthorizationView {
  appId: string;
  appName: string;
  scopes: Scope[];
  /** The latest time the user allowed it. */
  authorizedAt: Date;
}

const msToNs = (ms: number): bigint => BigInt(ms) * 1_000_000n;
const codePattern = /^[0-9a-f]{32}$/;
const tokenPattern = /^auth(?:usr|bse)B[0-9a-f]{32}$/;

/**
 * User authorisation for merchants (Alipay's OAuth 2.0, docs/oauth.md): an app sends a user to
 * the authorise page; the user, logged in, allows it some scopes; the app gets a single-use,
 * short-lived code at its registered address and exchanges it for an access token (which speaks
 * for the user to that app only) and a refresh token (which, used once, issues the next pair).
 * The user sees the apps they authorised and revokes any, which kills its tokens at once.
 *
 * Every method checks all of its input before it writes; refusals are `OAuthError`s. Codes and
 * tokens are looked up by their SHA-256 and the app asking, so another app's secret is simply
 * unknown.
 */
export class Authorizations {
  readonly #db: Db;
  readonly #parties: OAuthParties;
  readonly #clock: Clock;

  constructor(db: Db, parties: OAuthParties, clock: Clock) {
    this.#db = db;
    this.#parties = parties;
    this.#clock = clock;
  }

  /**
   * The authorise page's parameters checked: the app exists and registered a callback address,
   * `redirect_uri` is on that address's origin, the scopes are offered, the state is short. Throws
   * `app_not_found`, `redirect_uri_not_registered`, `redirect_uri_invalid`,
   * `redirect_uri_mismatch`, `scope_invalid`, `state_invalid`.
   */
  async check(params: AuthorizeParams): Promise<AuthorizeRequest> {
    const app = params.appId ? await this.#parties.app(params.appId) : null;
    if (!app) throw new OAuthError('app_not_found', { param: 'app_id' });
    if (app.authRedirectUrl === undefined) throw new OAuthError('redirect_uri_not_registered', { param: 'app_id' });
    const redirectUri = checkRedirectUri(params.redirectUri ?? '', app.authRedirectUrl);
    const scopes = parseScopes(params.scope);
    const state = params.state || undefined;
    if (state !== undefined && ([...state].length > limits.oauthStateLengthMax || isUnreadableText(state))) {
      throw new OAuthError('state_invalid', { param: 'state' });
    }
    return { app, scopes, redirectUri, state };
  }

  /**
   * True when the user must be asked: the request wants more than `auth_base` (`auth_user`,
   * `auth_zhima`) and the user has not allowed it to this app yet. `auth_base` alone is silent, as
   * on Alipay: the user logged in on purpose.
   */
  async needsConsent(userId: string, request: AuthorizeRequest): Promise<boolean> {
    if (request.scopes.every((scope) => scope === 'auth_base')) return false;
    const grant = await this.#tables()
      .selectFrom('oauth_grants')
      .select('scopes')
      .where('app_id', '=', request.app.appId)
      .where('user_id', '=', userId)
      .where('status', '=', 'active')
      .executeTakeFirst();
    return !(grant && covers(storedScopes(grant.scopes), request.scopes));
  }

  /**
   * The user allows the request: the grant is made (or widened), a fresh code is issued, and the
   * address to send the user to is returned: `redirect_uri` with `auth_code`, `app_id`, `scope`
   * and `state`. Each call issues another code; each code works once.
   */
  async authorize(userId: string, request: AuthorizeRequest): Promise<string> {
    const code = newCode();
    const now = this.#clock.nowNs();
    const { appId } = request.app;
    await this.#db.transaction(async (tx) => {
      const t = typed<OAuthTables>(tx);
      await t
        .insertInto('oauth_open_ids')
        .values({ app_id: appId, user_id: userId, open_id: newOpenId(), created_at_ns: now })
        .onConflict((oc) => oc.columns(['app_id', 'user_id']).doNothing())
        .execute();
      const grantId = await this.#grant(tx, userId, request, now);
      await t
        .insertInto('oauth_codes')
        .values({
          code_sha256: digest(code),
          grant_id: grantId,
          app_id: appId,
          scopes: scopeText(request.scopes),
          created_at_ns: now,
          expires_at_ns: now + msToNs(limits.oauthAuthCodeTtlMs),
        })
        .execute();
    });
    return backTo(request, { auth_code: code, app_id: appId, scope: scopeText(request.scopes) });
  }

  /** The address a user who declined goes back to: `redirect_uri` with `error=access_denied` (RFC 6749). */
  denied(request: AuthorizeRequest): string {
    return backTo(request, { error: 'access_denied', app_id: request.app.appId });
  }

  /** Makes the pair's grant active with the requested scopes added; its id. */
  async #grant(tx: Queryable, userId: string, request: AuthorizeRequest, now: bigint): Promise<string> {
    const t = typed<OAuthTables>(tx);
    const fresh = uuidFromU128(id());
    const { appId } = request.app;
    await t
      .insertInto('oauth_grants')
      .values({
        grant_id: fresh,
        app_id: appId,
        user_id: userId,
        scopes: scopeText(request.scopes),
        status: 'active',
        authorized_at_ns: now,
        revoked_at_ns: null,
      })
      .onConflict((oc) => oc.columns(['app_id', 'user_id']).doNothing())
      .execute();
    const row = await t
      .selectFrom('oauth_grants')
      .selectAll()
      .where('app_id', '=', appId)
      .where('user_id', '=', userId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (row.grant_id === fresh) return fresh;
    // Allowed again: a live grant widens, a revoked one starts over with what is asked now.
    const kept = row.status === 'active' ? storedScopes(row.scopes) : [];
    await t
      .updateTable('oauth_grants')
      .set({
        scopes: scopeText([...kept, ...request.scopes]),
        status: 'active',
        authorized_at_ns: now,
        revoked_at_ns: null,
      })
      .where('grant_id', '=', row.grant_id)
      .execute();
    return row.grant_id;
  }

  /**
   * `grant_type=authorization_code`: spends the code (once, whatever the outcome, as on Alipay)
   * and issues a token pair. A code presented a second time revokes the tokens it issued (RFC
   * 6749 §4.1.2: someone else holds it). Throws `code_invalid`.
   */
  async exchangeCode(appId: string, code: string): Promise<IssuedTokens> {
    if (!codePattern.test(code)) throw new OAuthError('code_invalid', { param: 'code' });
    const hash = digest(code);
    const now = this.#clock.nowNs();
    const outcome = await this.#db.transaction(async (tx): Promise<IssuedTokens | OAuthErrorCode> => {
      const t = typed<OAuthTables>(tx);
      const spent = await t
        .updateTable('oauth_codes')
        .set({ used_at_ns: now })
        .where('code_sha256', '=', hash)
        .where('app_id', '=', appId)
        .where('used_at_ns', 'is', null)
        .returning(['grant_id', 'scopes', 'created_at_ns', 'expires_at_ns'])
        .executeTakeFirst();
      if (!spent) {
        await t
          .updateTable('oauth_tokens')
          .set({ revoked_at_ns: now, revoked_reason: 'code_replayed' })
          .where('code_sha256', '=', hash)
          .where('app_id', '=', appId)
          .where('revoked_at_ns', 'is', null)
          .execute();
        return 'code_invalid';
      }
      if (spent.expires_at_ns <= now) return 'code_invalid';
      const userId = await liveGrantUser(tx, spent.grant_id);
      if (userId === undefined) return 'code_invalid';
      const pair = {
        grantId: spent.grant_id,
        appId,
        codeHash: hash,
        scopes: spent.scopes,
        authStartNs: spent.created_at_ns,
      };
      return this.#issue(tx, userId, pair, now);
    });
    if (typeof outcome === 'string') throw new OAuthError(outcome, { param: 'code' });
    return outcome;
  }

  /**
   * `grant_type=refresh_token`: the refresh token is spent and a new pair issued, for the same
   * scopes and authorisation time. Throws `refresh_token_invalid`, `refresh_token_expired`.
   */
  async refresh(appId: string, refreshToken: string): Promise<IssuedTokens> {
    if (!tokenPattern.test(refreshToken)) throw new OAuthError('refresh_token_invalid', { param: 'refresh_token' });
    const now = this.#clock.nowNs();
    const outcome = await this.#db.transaction(async (tx): Promise<IssuedTokens | OAuthErrorCode> => {
      const t = typed<OAuthTables>(tx);
      const row = await t
        .selectFrom('oauth_tokens')
        .selectAll()
        .where('refresh_sha256', '=', digest(refreshToken))
        .where('app_id', '=', appId)
        .forUpdate()
        .executeTakeFirst();
      if (!row || row.revoked_at_ns !== null) return 'refresh_token_invalid';
      if (row.refresh_expires_at_ns <= now) return 'refresh_token_expired';
      const userId = await liveGrantUser(tx, row.grant_id);
      if (userId === undefined) return 'refresh_token_invalid';
      await t
        .updateTable('oauth_tokens')
        .set({ revoked_at_ns: now, revoked_reason: 'refreshed' })
        .where('token_id', '=', row.token_id)
        .execute();
      return this.#issue(tx, userId, pairOf(row), now);
    });
    if (typeof outcome === 'string') throw new OAuthError(outcome, { param: 'refresh_token' });
    return outcome;
  }

  /** Writes a new token pair of a live grant and answers it in the clear (the only time it is). */
  async #issue(tx: Queryable, userId: string, pair: Pair, now: bigint): Promise<IssuedTokens> {
    const scopes = storedScopes(pair.scopes);
    const accessToken = newToken(scopes);
    const refreshToken = newToken(scopes);
    await typed<OAuthTables>(tx)
      .insertInto('oauth_tokens')
      .values({
        token_id: uuidFromU128(id()),
        grant_id: pair.grantId,
        app_id: pair.appId,
        code_sha256: pair.codeHash,
        scopes: pair.scopes,
        access_sha256: digest(accessToken),
        refresh_sha256: digest(refreshToken),
        auth_start_ns: pair.authStartNs,
        created_at_ns: now,
        access_expires_at_ns: now + msToNs(limits.oauthAccessTokenTtlMs),
        refresh_expires_at_ns: now + msToNs(limits.oauthRefreshTokenTtlMs),
        revoked_at_ns: null,
        revoked_reason: null,
      })
      .execute();
    return {
      userId,
      openId: await openIdOf(tx, pair.appId, userId),
      scopes,
      accessToken,
      expiresInS: Math.floor(limits.oauthAccessTokenTtlMs / 1000),
      refreshToken,
      reExpiresInS: Math.floor(limits.oauthRefreshTokenTtlMs / 1000),
      authStart: dateFromNs(pair.authStartNs),
    };
  }

  /**
   * Whom `accessToken` speaks for, to `appId` only. Throws `access_token_invalid` (unknown,
   * another app's, refreshed, revoked) and `access_token_expired`.
   */
  async owner(appId: string, accessToken: string): Promise<TokenOwner> {
    if (!tokenPattern.test(accessToken)) throw new OAuthError('access_token_invalid', { param: 'auth_token' });
    const row = await this.#tables()
      .selectFrom('oauth_tokens as t')
      .innerJoin('oauth_grants as g', 'g.grant_id', 't.grant_id')
      .innerJoin('oauth_open_ids as o', (join) =>
        join.onRef('o.app_id', '=', 'g.app_id').onRef('o.user_id', '=', 'g.user_id'),
      )
      .select(['t.scopes', 't.revoked_at_ns', 't.access_expires_at_ns', 'g.status', 'g.user_id', 'o.open_id'])
      .where('t.access_sha256', '=', digest(accessToken))
      .where('t.app_id', '=', appId)
      .executeTakeFirst();
    if (!row || row.revoked_at_ns !== null || row.status !== 'active') {
      throw new OAuthError('access_token_invalid', { param: 'auth_token' });
    }
    if (row.access_expires_at_ns <= this.#clock.nowNs()) {
      throw new OAuthError('access_token_expired', { param: 'auth_token' });
    }
    return { userId: row.user_id, openId: row.open_id, scopes: storedScopes(row.scopes) };
  }

  /** The apps the user has authorised and not revoked, the latest first. */
  async list(userId: string): Promise<AuthorizationView[]> {
    const rows = await this.#tables()
      .selectFrom('oauth_grants')
      .select(['app_id', 'scopes', 'authorized_at_ns'])
      .where('user_id', '=', userId)
      .where('status', '=', 'active')
      .orderBy('authorized_at_ns', 'desc')
      .limit(limits.oauthAuthorizationsListMax)
      .execute();
    return Promise.all(
      rows.map(async (r) => ({
        appId: r.app_id,
        appName: (await this.#parties.app(r.app_id))?.name ?? r.app_id,
        scopes: storedScopes(r.scopes),
        authorizedAt: dateFromNs(r.authorized_at_ns),
      })),
    );
  }

  /**
   * The user withdraws the app's authorisation: every token of it stops working at once, in the
   * same transaction; codes not yet exchanged die with it. Revoking what is revoked already is
   * done (nothing changes). Throws `authorization_not_found` when the user never authorised the app.
   */
  async revoke(userId: string, appId: string): Promise<void> {
    const now = this.#clock.nowNs();
    const found = await this.#db.transaction(async (tx) => {
      const t = typed<OAuthTables>(tx);
      const grant = await t
        .updateTable('oauth_grants')
        .set({ status: 'revoked', revoked_at_ns: now })
        .where('app_id', '=', appId)
        .where('user_id', '=', userId)
        .where('status', '=', 'active')
        .returning('grant_id')
        .executeTakeFirst();
      if (!grant) {
        const known = await t
          .selectFrom('oauth_grants')
          .select('grant_id')
          .where('app_id', '=', appId)
          .where('user_id', '=', userId)
          .executeTakeFirst();
        return known !== undefined;
      }
      await t
        .updateTable('oauth_tokens')
        .set({ revoked_at_ns: now, revoked_reason: 'revoked' })
        .where('grant_id', '=', grant.grant_id)
        .where('revoked_at_ns', 'is', null)
        .execute();
      return true;
    });
    if (!found) throw new OAuthError('authorization_not_found', { param: 'app_id' });
  }

  /**
   * Deletes what can never be used again and is older than `oauthRetentionMs`: codes past their
   * expiry and token pairs past their refresh expiry or revoked, `oauthSweepBatchMax` of each.
   * Grants and open ids stay. Answers the rows deleted.
   */
  async sweep(): Promise<number> {
    const before = this.#clock.nowNs() - msToNs(limits.oauthRetentionMs);
    const t = this.#tables();
    const codes = await t
      .deleteFrom('oauth_codes')
      .where('code_sha256', 'in', (eb) =>
        eb
          .selectFrom('oauth_codes')
          .select('code_sha256')
          .where('expires_at_ns', '<', before)
          .limit(limits.oauthSweepBatchMax),
      )
      .returning('code_sha256')
      .execute();
    const tokens = await t
      .deleteFrom('oauth_tokens')
      .where('token_id', 'in', (eb) =>
        eb
          .selectFrom('oauth_tokens')
          .select('token_id')
          .where((w) => w.or([w('refresh_expires_at_ns', '<', before), w('revoked_at_ns', '<', before)]))
          .limit(limits.oauthSweepBatchMax),
      )
      .returning('token_id')
      .execute();
    return codes.length + tokens.length;
  }

  #tables() {
    return typed<OAuthTables>(this.#db);
  }
}

/** What a new token pair inherits: its grant, app, family (the code) and scopes. */
interface Pair {
  grantId: string;
  appId: string;
  codeHash: string;
  scopes: string;
  authStartNs: bigint;
}

const pairOf = (row: TokenRow): Pair => ({
  grantId: row.grant_id,
  appId: row.app_id,
  codeHash: row.code_sha256,
  scopes: row.scopes,
  authStartNs: row.auth_start_ns,
});

/**
 * The user of a grant that is still active, holding it (a revocation waits for this transaction,
 * then sees and revokes the pair it writes); undefined once revoked.
 */
async function liveGrantUser(tx: Queryable, grantId: string): Promise<string | undefined> {
  const grant = await typed<OAuthTables>(tx)
    .selectFrom('oauth_grants')
    .select('user_id')
    .where('grant_id', '=', grantId)
    .where('status', '=', 'active')
    .forShare()
    .executeTakeFirst();
  return grant?.user_id;
}

async function openIdOf(q: Queryable, appId: string, userId: string): Promise<string> {
  const row = await typed<OAuthTables>(q)
    .selectFrom('oauth_open_ids')
    .select('open_id')
    .where('app_id', '=', appId)
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return row.open_id;
}

/**
 * `redirect_uri` checked against the registered address: an http or https URL without a
 * fragment, on the registered origin (Alipay: the domain must match; Paybao also holds the
 * scheme and port, so that no code goes over plain http to an https app).
 */
function checkRedirectUri(text: string, registered: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OAuthError('redirect_uri_invalid', { param: 'redirect_uri' });
  }
  const httpish = url.protocol === 'http:' || url.protocol === 'https:';
  if (!httpish || url.hash !== '' || text.length > limits.oauthRedirectUriLengthMax) {
    throw new OAuthError('redirect_uri_invalid', { param: 'redirect_uri' });
  }
  if (url.origin !== new URL(registered).origin)
    throw new OAuthError('redirect_uri_mismatch', { param: 'redirect_uri' });
  return text;
}

/** `redirect_uri` with `fields` and the request's `state` in its query. */
function backTo(request: AuthorizeRequest, fields: Record<string, string>): string {
  const url = new URL(request.redirectUri);
  for (const [name, value] of Object.entries(fields)) url.searchParams.set(name, value);
  if (request.state !== undefined) url.searchParams.set('state', request.state);
  return url.toString();
}
