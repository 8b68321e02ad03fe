import { assert } from '../core/assert.ts';
import type { Queryable } from '../core/db/index.ts';
import { u128FromUuid, uuidFromU128, uuidHexFromU128 } from '../core/ids.ts';
import type { AccountState, BalanceRow, StateMachine } from './state-machine.ts';
import type { Account, AccountBalance, AccountFilter, PendingStatus, Transfer } from './types.ts';

/**
 * The ledger's SQL: loading what a batch touches and writing what it produced, set-based, one
 * statement each. Arrays travel as PostgreSQL array literals (one text parameter per column),
 * which both engines parse quickly and which keep the statement text constant.
 */

const statusCode: Record<PendingStatus, number> = { pending: 1, posted: 2, voided: 3, expired: 4 };
const statusName: PendingStatus[] = ['pending', 'pending', 'posted', 'voided', 'expired'];

const accountColumns = `id, ledger, code, flags, debits_pending, debits_posted, credits_pending, credits_posted,
  user_data_128, user_data_64, user_data_32, timestamp`;
const transferColumns = `id, debit_account_id, credit_account_id, amount, pending_id, user_data_128,
  user_data_64, user_data_32, timeout, ledger, code, flags, timestamp`;
const transferColumnsOfT = transferColumns
  .split(',')
  .map((c) => `t.${c.trim()}`)
  .join(', ');

interface AccountRow {
  id: string;
  ledger: number;
  code: number;
  flags: number;
  debits_pending: bigint;
  debits_posted: bigint;
  credits_pending: bigint;
  credits_posted: bigint;
  user_data_128: string;
  user_data_64: bigint;
  user_data_32: bigint;
  timestamp: bigint;
}

interface TransferRow {
  id: string;
  debit_account_id: string;
  credit_account_id: string;
  amount: bigint;
  pending_id: string;
  user_data_128: string;
  user_data_64: bigint;
  user_data_32: bigint;
  timeout: bigint;
  ledger: number;
  code: number;
  flags: number;
  timestamp: bigint;
}

export function accountFromRow(r: AccountRow): Account {
  return {
    id: u128FromUuid(r.id),
    debitsPending: r.debits_pending,
    debitsPosted: r.debits_posted,
    creditsPending: r.credits_pending,
    creditsPosted: r.credits_posted,
    userData128: u128FromUuid(r.user_data_128),
    userData64: r.user_data_64,
    userData32: Number(r.user_data_32),
    ledger: r.ledger,
    code: r.code,
    flags: r.flags,
    timestamp: r.timestamp,
  };
}

export function transferFromRow(r: TransferRow): Transfer {
  return {
    id: u128FromUuid(r.id),
    debitAccountId: u128FromUuid(r.debit_account_id),
    creditAccountId: u128FromUuid(r.credit_account_id),
    amount: r.amount,
    pendingId: u128FromUuid(r.pending_id),
    userData128: u128FromUuid(r.user_data_128),
    userData64: r.user_data_64,
    userData32: Number(r.user_data_32),
    timeout: Number(r.timeout),
    ledger: r.ledger,
    code: r.code,
    flags: r.flags,
    timestamp: r.timestamp,
  };
}

/** A PostgreSQL array literal of values that need no quoting (numbers, bigints, uuids). */
export function arrayLiteral(values: readonly (string | number | bigint)[]): string {
  return `{${values.join(',')}}`;
}
const uuids = (ids: Iterable<bigint>) => arrayLiteral(Array.from(ids, uuidHexFromU128));
/** Zero ids travel as NULL (4 bytes instead of 32) and the SQL turns them back into zero. */
const uuidOrNull = (n: bigint) => (n === 0n ? 'NULL' : uuidHexFromU128(n));

/** Takes the commit lock; returns the last timestamp issued and the version of the books. */
export async function lockLedger(tx: Queryable): Promise<{ lastTimestamp: bigint; version: bigint }> {
  const rows = await tx.query<{ last_timestamp: bigint; version: bigint }>(
    'select last_timestamp, version from ledger_state where id = 1 for update',
    [],
    // Prepared: one row by its key, the same plan at any size (the batch's write joins the
    // accounts to its input, so it is planned each time: see write-batches.ts in trades).
    { name: 'ledger_lock' },
  );
  const row = rows[0];
  assert(row, 'ledger_state has no row; migrations did not run');
  return { lastTimestamp: row.last_timestamp, version: row.version };
}

/** Pending transfers due to expire at `nowNs`, oldest first. */
export async function selectDuePending(tx: Queryable, nowNs: bigint, max: number): Promise<bigint[]> {
  const rows = await tx.query<{ id: string }>(
    `select id from ledger_pending where status = 1 and expires_at > 0 and expires_at <= $1
     order by expires_at limit $2`,
    [nowNs.toString(), max],
  );
  return rows.map((r) => u128FromUuid(r.id));
}

/** Loads transfers (with their pending state) into the state machine. */
export async function loadTransfers(tx: Queryable, sm: StateMachine, ids: ReadonlySet<bigint>): Promise<void> {
  if (ids.size === 0) return;
  const rows = await tx.query<TransferRow & { status: number | null; expires_at: bigint | null }>(
    `select ${transferColumnsOfT}, p.status, p.expires_at
     from ledger_transfers t left join ledger_pending p on p.id = t.id
     where t.id = any($1::uuid[])`,
    [uuids(ids)],
  );
  for (const r of rows) {
    const t = transferFromRow(r);
    sm.transfers.set(t.id, t);
    if (r.status !== null) {
      const status = statusName[r.status] ?? 'pending';
      sm.pending.set(t.id, { transfer: t, status, expiresAt: r.expires_at ?? 0n, loadedStatus: status });
    }
  }
}

/** Loads accounts into `into` (the engine's account cache). */
export async function loadAccounts(
  tx: Queryable,
  into: Map<bigint, AccountState>,
  ids: readonly bigint[],
): Promise<void> {
  if (ids.length === 0) return;
  const rows = await tx.query<AccountRow>(`select ${accountColumns} from ledger_accounts where id = any($1::uuid[])`, [
    uuids(ids),
  ]);
  for (const r of rows) {
    const account = accountFromRow(r);
    into.set(account.id, { account, loaded: null, uuid: r.id });
  }
}

const zeroUuidSql = `'${uuidFromU128(0n)}'::uuid`;
const writeSql = `
with
  new_accounts as (
    insert into ledger_accounts (id, ledger, code, flags, debits_pending, debits_posted, credits_pending,
      credits_posted, user_data_128, user_data_64, user_data_32, timestamp)
    select id, ledger, code, flags, dp, dpo, cp, cpo, coalesce(ud128, ${zeroUuidSql}), ud64, ud32, ts
    from unnest($1::uuid[], $2::int4[], $3::int4[], $4::int4[], $5::int8[], $6::int8[], $7::int8[],
      $8::int8[], $9::uuid[], $10::int8[], $11::int8[], $12::int8[])
      as r(id, ledger, code, flags, dp, dpo, cp, cpo, ud128, ud64, ud32, ts)
  ),
  new_transfers as (
    insert into ledger_transfers (${transferColumns})
    select id, dr, cr, amount, coalesce(pending_id, ${zeroUuidSql}), coalesce(ud128, ${zeroUuidSql}), ud64, ud32,
      timeout, ledger, code, flags, ts
    from unnest($13::uuid[], $14::uuid[], $15::uuid[], $16::int8[], $17::uuid[], $18::uuid[],
      $19::int8[], $20::int8[], $21::int8[], $22::int4[], $23::int4[], $24::int4[], $25::int8[])
      as r(id, dr, cr, amount, pending_id, ud128, ud64, ud32, timeout, ledger, code, flags, ts)
    on conflict (id) do nothing
    returning 1
  ),
  account_updates as (
    update ledger_accounts a set
      debits_pending = a.debits_pending + d.dp, debits_posted = a.debits_posted + d.dpo,
      credits_pending = a.credits_pending + d.cp, credits_posted = a.credits_posted + d.cpo, flags = d.flags
    from unnest($26::uuid[], $27::int8[], $28::int8[], $29::int8[], $30::int8[], $31::int4[])
      as d(id, dp, dpo, cp, cpo, flags)
    where a.id = d.id
    returning 1
  ),
  new_pending as (
    insert into ledger_pending (id, status, expires_at)
    select * from unnest($32::uuid[], $33::int2[], $34::int8[])
  ),
  pending_updates as (
    update ledger_pending p set status = u.status
    from unnest($35::uuid[], $36::int2[]) as u(id, status)
    where p.id = u.id
    returning 1
  ),
  balances as (
    insert into ledger_account_balances (account_id, timestamp, debits_pending, debits_posted, credits_pending,
      credits_posted)
    select * from unnest($37::uuid[], $38::int8[], $39::int8[], $40::int8[], $41::int8[], $42::int8[])
  ),
  state as (
    update ledger_state set last_timestamp = $43, version = $44 where id = 1
  )
select (select count(*) from ledger_transfers where id = any($45::uuid[])) as failed_ids_stored,
       (select count(*) from new_transfers) as transfers_inserted,
       (select count(*) from account_updates) as accounts_updated,
       (select count(*) from pending_updates) as pending_updated`;

/**
 * Thrown when a transfer the batch took for new was already stored (a replay that the batch did
 * not look up): either its insert was skipped, or it failed a check that its stored twin would
 * have answered with `exists`. The transaction rolls back and the batch runs again with every id
 * looked up.
 */
export class TransferIdConflict extends Error {
  constructor() {
    super('a transfer id of the batch was already stored');
  }
}

/** Column builder: one array per column, filled row by row. */
function columns(n: number): Array<Array<string | number | bigint>> {
  return Array.from({ length: n }, () => []);
}

/**
 * Writes everything one batch produced in one statement: new accounts (with their final
 * balances), new transfers, each touched account once as a net delta, pending states, history.
 */
/** A batch's writes, serialised and ready to send. */
export interface PreparedWrite {
  params: string[];
  /** Ids of transfers that failed although the batch did not look them up (see TransferIdConflict). */
  uncheckedFailedIds: number;
  transfers: number;
  accountDeltas: number;
  pendingUpdates: number;
}

/**
 * Serialises everything one batch produced: new accounts (with their final balances), new
 * transfers, each touched account once as a net delta, pending states, history rows, and the
 * ledger state (last timestamp, the batch's version token). Pure: no I/O, so it can run while
 * the previous batch is still being written.
 */
export function prepareWrite(
  sm: StateMachine,
  lastTimestamp: bigint,
  version: bigint,
  uncheckedFailedIds: readonly bigint[],
): PreparedWrite {
  const uuidOf = (id: bigint) => sm.accounts.get(id)?.uuid ?? uuidHexFromU128(id);
  const acc = columns(12);
  for (const { account: a } of sm.createdAccounts) {
    pushRow(acc, [
      uuidHexFromU128(a.id),
      a.ledger,
      a.code,
      a.flags,
      a.debitsPending,
      a.debitsPosted,
      a.creditsPending,
      a.creditsPosted,
      uuidOrNull(a.userData128),
      a.userData64,
      a.userData32,
      a.timestamp,
    ]);
  }
  const tr = columns(13);
  for (const t of sm.createdTransfers) {
    pushRow(tr, [
      uuidHexFromU128(t.id),
      uuidOf(t.debitAccountId),
      uuidOf(t.creditAccountId),
      t.amount,
      uuidOrNull(t.pendingId),
      uuidOrNull(t.userData128),
      t.userData64,
      t.userData32,
      t.timeout,
      t.ledger,
      t.code,
      t.flags,
      t.timestamp,
    ]);
  }
  // Updated in id order: the order in which PostgreSQL takes the row locks.
  const deltas: Array<Array<string | number | bigint>> = [];
  for (const s of sm.accounts.values()) {
    const delta = accountDelta(s);
    if (delta) deltas.push(delta);
  }
  deltas.sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1));
  const upd = columns(6);
  for (const d of deltas) pushRow(upd, d);
  const newPending = columns(3);
  const updPending = columns(2);
  for (const [pid, p] of sm.pending) {
    if (p.loadedStatus === null) pushRow(newPending, [uuidHexFromU128(pid), statusCode[p.status], p.expiresAt]);
    else if (p.status !== p.loadedStatus) pushRow(updPending, [uuidHexFromU128(pid), statusCode[p.status]]);
  }
  const hist = columns(6);
  for (const h of sm.history) pushRow(hist, historyRow(h));

  const params = [...acc, ...tr, ...upd, ...newPending, ...updPending, ...hist].map(arrayLiteral);
  params.push(lastTimestamp.toString(), version.toString(), uuids(uncheckedFailedIds));
  return {
    params,
    uncheckedFailedIds: uncheckedFailedIds.length,
    transfers: sm.createdTransfers.length,
    accountDeltas: deltas.length,
    pendingUpdates: updPending[0]?.length ?? 0,
  };
}

/** Writes a prepared batch in one statement, inside the batch's transaction. */
export async function writeBatch(tx: Queryable, w: PreparedWrite): Promise<void> {
  const rows = await tx.query<{
    failed_ids_stored: bigint;
    transfers_inserted: bigint;
    accounts_updated: bigint;
    pending_updated: bigint;
  }>(writeSql, w.params);
  const written = rows[0];
  if (Number(written?.transfers_inserted) !== w.transfers || Number(written?.failed_ids_stored) !== 0)
    throw new TransferIdConflict();
  // Pair assertion: every delta found its row, every status change its pending state.
  assert(
    Number(written?.accounts_updated) === w.accountDeltas && Number(written?.pending_updated) === w.pendingUpdates,
    'a batch wrote fewer account or pending rows than it changed',
  );
}

function pushRow(cols: Array<Array<string | number | bigint>>, row: ReadonlyArray<string | number | bigint>): void {
  for (let i = 0; i < row.length; i++) cols[i]?.push(row[i] as string | number | bigint);
}

function accountDelta(s: AccountState): Array<string | number | bigint> | undefined {
  const l = s.loaded;
  const a = s.account;
  if (!l) return undefined;
  const dp = a.debitsPending - l.dp;
  const dpo = a.debitsPosted - l.dpo;
  const cp = a.creditsPending - l.cp;
  const cpo = a.creditsPosted - l.cpo;
  if (dp === 0n && dpo === 0n && cp === 0n && cpo === 0n && a.flags === l.flags) return undefined;
  return [s.uuid ?? uuidHexFromU128(a.id), dp, dpo, cp, cpo, a.flags];
}

function historyRow(h: BalanceRow): Array<string | bigint> {
  return [uuidHexFromU128(h.accountId), h.timestamp, h.dp, h.dpo, h.cp, h.cpo];
}

/** Accounts by id, in the order asked; missing ones are left out. */
export async function selectAccounts(q: Queryable, ids: readonly bigint[]): Promise<Account[]> {
  if (ids.length === 0) return [];
  const rows = await q.query<AccountRow>(`select ${accountColumns} from ledger_accounts where id = any($1::uuid[])`, [
    uuids(ids),
  ]);
  return inOrder(ids, rows.map(accountFromRow));
}

/** Transfers by id, in the order asked; missing ones are left out. */
export async function selectTransfers(q: Queryable, ids: readonly bigint[]): Promise<Transfer[]> {
  if (ids.length === 0) return [];
  const rows = await q.query<TransferRow>(
    `select ${transferColumns} from ledger_transfers where id = any($1::uuid[])`,
    [uuids(ids)],
  );
  return inOrder(ids, rows.map(transferFromRow));
}

function inOrder<T extends { id: bigint }>(ids: readonly bigint[], found: T[]): T[] {
  const byId = new Map(found.map((x) => [x.id, x]));
  const out: T[] = [];
  for (const id of ids) {
    const x = byId.get(id);
    if (x) out.push(x);
  }
  return out;
}

/** The where clause and parameters shared by the account history queries. */
function filterClause(f: AccountFilter): { where: string; params: unknown[]; order: string } {
  const params: unknown[] = [uuidFromU128(f.accountId), (f.timestampMin ?? 0n).toString()];
  let where = 'timestamp >= $2';
  if (f.timestampMax && f.timestampMax > 0n) {
    params.push(f.timestampMax.toString());
    where += ` and timestamp <= $${params.length}`;
  }
  return { where, params, order: f.reversed ? 'desc' : 'asc' };
}

/** One page of an account's transfers, by timestamp. */
export async function selectAccountTransfers(q: Queryable, f: AccountFilter): Promise<Transfer[]> {
  const { where, params, order } = filterClause(f);
  const debits = f.debits ?? true;
  const credits = f.credits ?? true;
  if (!debits && !credits) return [];
  let codeClause = '';
  if (f.code) {
    params.push(f.code);
    codeClause = ` and code = $${params.length}`;
  }
  params.push(f.limit);
  const limit = `$${params.length}`;
  const side = (column: string) =>
    `(select ${transferColumns} from ledger_transfers where ${column} = $1 and ${where}${codeClause}
      order by timestamp ${order} limit ${limit})`;
  const parts = [debits ? side('debit_account_id') : '', credits ? side('credit_account_id') : ''].filter(Boolean);
  const rows = await q.query<TransferRow>(
    `select * from (${parts.join(' union all ')}) t order by timestamp ${order} limit ${limit}`,
    params,
  );
  return rows.map(transferFromRow);
}

/** One page of an account's balances after each of its transfers (accounts flagged `history`). */
export async function selectAccountBalances(q: Queryable, f: AccountFilter): Promise<AccountBalance[]> {
  const { where, params, order } = filterClause(f);
  params.push(f.limit);
  const rows = await q.query<{
    timestamp: bigint;
    debits_pending: bigint;
    debits_posted: bigint;
    credits_pending: bigint;
    credits_posted: bigint;
  }>(
    `select timestamp, debits_pending, debits_posted, credits_pending, credits_posted
     from ledger_account_balances where account_id = $1 and ${where}
     order by timestamp ${order} limit $${params.length}`,
    params,
  );
  return rows.map((r) => ({
    timestamp: r.timestamp,
    debitsPending: r.debits_pending,
    debitsPosted: r.debits_posted,
    creditsPending: r.credits_pending,
    creditsPosted: r.credits_posted,
  }));
}
