import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { type Db, typed } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { dateFromNs } from '../core/time.ts';
import { MembersError } from './errors.ts';
import { LoginThrottle } from './login-throttle.ts';
import { decoyHash, hashPassword, verifyPassword } from './passwords.ts';
import type { MemberTables } from './tables.ts';

/**
 * What an operator may do (docs/console.md): a dispute reviewer rules disputes; finance works the
 * reconciliation queue, the reserves, the loss rate, the compensation fund, settlements and Yu'e
 * Bao's declarations; risk works the risk engine's rules, lists and reviews and freezes accounts;
 * an administrator may do everything, and alone manages operators and reads the audit log.
 */
export const operatorRoles = ['dispute_reviewer', 'finance', 'risk', 'administrator'] as const;
export type OperatorRole = (typeof operatorRoles)[number];

export interface Operator {
  operatorId: string;
  name: string;
  roles: OperatorRole[];
}

export interface OperatorView extends Operator {
  /** Whether the operator can log in from a browser (has a password). */
  canLogIn: boolean;
  createdAt: Date;
}

/** One operator action, as the audit log keeps it. */
export interface AuditEntry {
  id: string;
  operatorId: string;
  operatorName: string;
  action: string;
  target: string;
  reason: string | null;
  detail: string | null;
  at: Date;
}

export interface AuditInput {
  operator: { operatorId: string; name: string };
  action: string;
  target: string;
  reason?: string | null | undefined;
  detail?: string | null | undefined;
}

const tokenPrefix = 'pbo_';
const sessionPrefix = 'pbos_';
const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** True when `role` may do what `needed` roles allow: one of them, or administrator. */
export function roleAllows(roles: readonly OperatorRole[], needed: readonly OperatorRole[]): boolean {
  return roles.includes('administrator') || needed.some((r) => roles.includes(r));
}

function checkRoles(roles: readonly string[]): OperatorRole[] {
  if (!Array.isArray(roles) || roles.length === 0) throw new RangeError('roles: at least one');
  for (const r of roles) {
    if (!operatorRoles.includes(r as OperatorRole)) throw new RangeError(`roles: ${r} is not one of ${operatorRoles}`);
  }
  return [...new Set(roles as OperatorRole[])].sort();
}

function checkName(name: string): string {
  if (typeof name !== 'string' || !name.trim() || name.trim().length > limits.operatorNameLengthMax)
    throw new RangeError(`name: 1 to ${limits.operatorNameLengthMax} characters`);
  return name.trim();
}

function checkPassword(password: string | undefined): void {
  if (password === undefined) return;
  if (
    typeof password !== 'string' ||
    password.length < limits.passwordLengthMin ||
    password.length > limits.passwordLengthMax
  )
    throw new RangeError(`password: ${limits.passwordLengthMin} to ${limits.passwordLengthMax} characters`);
}

/**
 * The platform's operators, who work the console. A script authenticates with a bearer token
 * shown once at creation (`paybao operators create`); a person logs in from a browser with the
 * operator's name and password and gets a session token of a working day. Only SHA-256 digests
 * of tokens are kept. Every action an operator takes is written to the audit log (`record`).
 */
export class Operators {
  readonly #throttle: LoginThrottle;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.#throttle = new LoginThrottle(db, clock);
  }

  #tables() {
    return typed<MemberTables>(this.db);
  }

  /**
   * A new operator with `roles` (administrator when none is given, as every operator was before
   * roles) and, when `password` is given, a browser login. Throws RangeError on bad input, and
   * `operator_name_taken` when another operator logs in with this name.
   */
  async create(
    name: string,
    options: { roles?: readonly string[]; password?: string | undefined } = {},
  ): Promise<Operator & { token: string }> {
    const trimmed = checkName(name);
    const roles = checkRoles(options.roles ?? ['administrator']);
    checkPassword(options.password);
    const token = `${tokenPrefix}${randomBytes(32).toString('base64url')}`;
    const operatorId = randomUUID();
    const passwordHash = options.password === undefined ? null : await hashPassword(options.password);
    await this.db.transaction(async (tx) => {
      if (passwordHash !== null) {
        const taken = await typed<MemberTables>(tx)
          .selectFrom('operators')
          .select('operator_id')
          .where('name', '=', trimmed)
          .where('password_hash', 'is not', null)
          .executeTakeFirst();
        if (taken) throw new MembersError('operator_name_taken');
      }
      await typed<MemberTables>(tx)
        .insertInto('operators')
        .values({
          operator_id: operatorId,
          name: trimmed,
          token_sha256: tokenHash(token),
          created_at: dateFromNs(this.clock.nowNs()),
          password_hash: passwordHash,
        })
        .execute();
      await typed<MemberTables>(tx)
        .insertInto('operator_roles')
        .values(roles.map((role) => ({ operator_id: operatorId, role })))
        .execute();
    });
    return { operatorId, name: trimmed, roles, token };
  }

  /** Replaces an operator's roles. Throws `operator_not_found`, RangeError on bad roles. */
  async setRoles(operatorId: string, roles: readonly string[]): Promise<Operator> {
    const checked = checkRoles(roles);
    const found = await this.get(operatorId);
    await this.db.transaction(async (tx) => {
      await typed<MemberTables>(tx).deleteFrom('operator_roles').where('operator_id', '=', operatorId).execute();
      await typed<MemberTables>(tx)
        .insertInto('operator_roles')
        .values(checked.map((role) => ({ operator_id: operatorId, role })))
        .execute();
    });
    return { operatorId, name: found.name, roles: checked };
  }

  /** One operator. Throws `operator_not_found`. */
  async get(operatorId: string): Promise<OperatorView> {
    const [found] = await this.list(operatorId);
    if (!found) throw new MembersError('operator_not_found');
    return found;
  }

  /** Every operator (or the one of `operatorId`), by name. */
  async list(operatorId?: string): Promise<OperatorView[]> {
    let query = this.#tables()
      .selectFrom('operators')
      .select(['operator_id', 'name', 'created_at', 'password_hash'])
      .orderBy('name');
    if (operatorId !== undefined) query = query.where('operator_id', '=', operatorId);
    const rows = await query.execute();
    const roles = await this.#rolesOf(rows.map((r) => r.operator_id));
    return rows.map((r) => ({
      operatorId: r.operator_id,
      name: r.name,
      roles: roles.get(r.operator_id) ?? [],
      canLogIn: r.password_hash !== null,
      createdAt: r.created_at,
    }));
  }

  async #rolesOf(ids: readonly string[]): Promise<Map<string, OperatorRole[]>> {
    const out = new Map<string, OperatorRole[]>();
    if (ids.length === 0) return out;
    const rows = await this.#tables()
      .selectFrom('operator_roles')
      .select(['operator_id', 'role'])
      .where('operator_id', 'in', ids)
      .orderBy('role')
      .execute();
    for (const r of rows) out.set(r.operator_id, [...(out.get(r.operator_id) ?? []), r.role]);
    return out;
  }

  /**
   * A browser login: the operator's name and password give a session token that lives
   * `operatorSessionTtlMs`. Throws `login_failed` alike for an unknown name and a wrong password
   * (taking as long for both), and `login_throttled` once the name or the address has guessed
   * too often (the members' throttle, the name in the phone's place).
   */
  async logIn(
    name: string,
    password: string,
    options: { clientAddress?: string | undefined } = {},
  ): Promise<{ token: string; expiresAt: Date; operator: Operator }> {
    const verdict = await this.#throttle.begin({ phone: `operator:${name}`, clientAddress: options.clientAddress });
    if (!verdict.allowed) {
      const error = new MembersError('login_throttled', `try again in ${Math.ceil(verdict.retryAfterMs / 60_000)} min`);
      error.retryAfterMs = verdict.retryAfterMs;
      throw error;
    }
    const row = await this.#tables()
      .selectFrom('operators')
      .select(['operator_id', 'name', 'password_hash'])
      .where('name', '=', name)
      .where('password_hash', 'is not', null)
      .executeTakeFirst();
    const matches = await verifyPassword(password, row?.password_hash ?? (await decoyHash()));
    if (!row || !matches) {
      await this.#throttle.failed();
      throw new MembersError('login_failed');
    }
    await this.#throttle.succeeded(verdict.keys);
    const token = `${sessionPrefix}${randomBytes(32).toString('base64url')}`;
    const nowNs = this.clock.nowNs();
    const expiresAt = dateFromNs(nowNs + BigInt(limits.operatorSessionTtlMs) * 1_000_000n);
    await this.#tables()
      .insertInto('operator_sessions')
      .values({
        token_sha256: tokenHash(token),
        operator_id: row.operator_id,
        created_at: dateFromNs(nowNs),
        expires_at: expiresAt,
      })
      .execute();
    const roles = (await this.#rolesOf([row.operator_id])).get(row.operator_id) ?? [];
    return { token, expiresAt, operator: { operatorId: row.operator_id, name: row.name, roles } };
  }

  /** Ends a browser session (logging out); a script's token is not a session and stays. */
  async logOut(token: string): Promise<void> {
    await this.#tables().deleteFrom('operator_sessions').where('token_sha256', '=', tokenHash(token)).execute();
  }

  /** The operator behind a script's token or a live browser session, with its roles; null for anything else. */
  async authenticate(token: string | undefined): Promise<Operator | null> {
    if (typeof token !== 'string') return null;
    let operatorId: string | undefined;
    if (token.startsWith(sessionPrefix)) {
      const session = await this.#tables()
        .selectFrom('operator_sessions')
        .select(['operator_id', 'expires_at'])
        .where('token_sha256', '=', tokenHash(token))
        .executeTakeFirst();
      if (!session || session.expires_at.getTime() <= Number(this.clock.nowNs() / 1_000_000n)) return null;
      operatorId = session.operator_id;
    } else if (token.startsWith(tokenPrefix)) {
      const row = await this.#tables()
        .selectFrom('operators')
        .select('operator_id')
        .where('token_sha256', '=', tokenHash(token))
        .executeTakeFirst();
      operatorId = row?.operator_id;
    }
    if (operatorId === undefined) return null;
    const [found] = await this.list(operatorId);
    return found ? { operatorId: found.operatorId, name: found.name, roles: found.roles } : null;
  }

  /** Writes one operator action to the audit log. */
  async record(entry: AuditInput): Promise<void> {
    await this.#tables()
      .insertInto('operator_audit')
      .values({
        operator_id: entry.operator.operatorId,
        operator_name: entry.operator.name,
        action: entry.action,
        target: entry.target,
        reason: entry.reason ?? null,
        detail: entry.detail ?? null,
        at: dateFromNs(this.clock.nowNs()),
      })
      .execute();
  }

  /** The audit log, newest first: a page of at most `limit` entries before `before` (an entry's id). */
  async audit(
    filter: { operatorId?: string | undefined; action?: string | undefined; target?: string | undefined } = {},
    page: { limit?: number | undefined; before?: string | undefined } = {},
  ): Promise<AuditEntry[]> {
    let query = this.#tables()
      .selectFrom('operator_audit')
      .select(['id', 'operator_id', 'operator_name', 'action', 'target', 'reason', 'detail', 'at']);
    if (filter.operatorId !== undefined) query = query.where('operator_id', '=', filter.operatorId);
    if (filter.action !== undefined) query = query.where('action', '=', filter.action);
    if (filter.target !== undefined) query = query.where('target', '=', filter.target);
    if (page.before !== undefined) query = query.where('id', '<', BigInt(page.before));
    const rows = await query
      .orderBy('id', 'desc')
      .limit(Math.min(page.limit ?? limits.auditPageMax, limits.auditPageMax))
      .execute();
    return rows.map((r) => ({
      id: String(r.id),
      operatorId: r.operator_id,
      operatorName: r.operator_name,
      action: r.action,
      target: r.target,
      reason: r.reason,
      detail: r.detail,
      at: r.at,
    }));
  }
}
