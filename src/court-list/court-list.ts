import { createHash } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Clock } from '../core/clock.ts';
import { type Db, type Queryable, typed } from '../core/db/index.ts';
import { id, isUuid, uuidFromU128 } from '../core/ids.ts';
import { limits } from '../core/limits.ts';
import { isUnreadableText } from '../core/text.ts';
import { beijingTime, dateFromNs } from '../core/time.ts';
import { checkEntry, diffList, type EntryFields, type RawEntry } from './entry.ts';
import { CourtListError } from './errors.ts';
import { type RejectedLine, readListFile } from './import-file.ts';
import type { CourtListTables } from './tables.ts';

/** What the court list needs of the real-name verification (src/credit's `RealNames`, wired in the root). */
export interface CourtListIdentities {
  /** The keyed hash of a plain identity number, the one real-name verification keeps; null when invalid. */
  hashOf(idNumber: string): string | null;
  /** The identity hash of the user's verified real name; null when they verified none. */
  idHashOfUser(userId: string): Promise<string | null>;
}

/** `listed`: in force today; `expired`: past its expiry date; `removed`: taken off (kept, with why). */
export type EntryStatus = 'listed' | 'expired' | 'removed';

export interface EntryView extends EntryFields {
  entryId: string;
  source: 'import' | 'console';
  status: EntryStatus;
  createdAt: Date;
  createdBy: string;
  updatedAt: Date;
  removedAt: Date | null;
  removedReason: string | null;
  removedBy: string | null;
}

/** One change of an entry, as recorded. */
export interface ChangeView {
  action: 'added' | 'updated' | 'removed';
  at: Date;
  actor: string;
  reason: string | null;
  /** The fields before an update. */
  before: Record<string, unknown> | null;
}

/** What an import did, or would do (a dry run, a file with bad lines: nothing written). */
export interface ImportReport {
  fileName: string;
  fileSha256: string;
  identity: 'id_number' | 'id_hash';
  lines: number;
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
  /** Every bad line with its number and reason; when there is one, nothing is written. */
  rejected: RejectedLine[];
  /** Whether the changes were written (not a dry run, no bad line). */
  written: boolean;
  /** When a file with the same bytes was imported before (the last time), if ever. */
  importedBefore: Date | null;
}

export interface ImportOptions {
  fileName: string;
  /** Who imports, for the changes' records (`cli:<os user>`). */
  actor: string;
  /** Check and count, write nothing. */
  dryRun?: boolean | undefined;
  /** Progress: lines checked, then rows written. */
  onProgress?: ((phase: 'checking' | 'writing', done: number, total: number) => void) | undefined;
}

/** The risk engine's merchant category codes (src/risk/rules.ts `categoryPattern`). */
const categoryPattern = /^[A-Za-z0-9_-]{1,32}$/;

/** Any constant: the advisory lock that makes the list's writers (imports, operators) take turns. */
const writeLockKey = 7_212_450;

type EntryRow = Selectable<CourtListTables['court_list_entries']>;
type Tables = ReturnType<typeof typed<CourtListTables>>;

/**
 * The courts' list of dishonest debtors (失信被执行人, docs/court-list.md): entries by a person's
 * identity hash and a case number, imported as the court's whole list or added and removed one
 * by one by operators, never deleted. A user is listed while an entry for the identity of their
 * verified real name is in force; a user who verified no real name matches nothing. The payment
 * paths refuse a listed payer a merchant whose category is restricted (`restriction`, asked by
 * the risk engine); lending and credit-based freezes ask `isListed`.
 */
export class CourtList {
  #categories = new Set<string>();
  #categoriesLoadedAtMs = Number.NEGATIVE_INFINITY;
  #categoriesLoading: Promise<void> | undefined;
  /** Counts this process's category changes: a reading begun before one is not kept. */
  #categoryChanges = 0;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly identities: CourtListIdentities,
  ) {}

  // ---- Who is listed -------------------------------------------------------------------------

  /** The entries in force today for the user's verified identity (none without a verified real name). */
  async listing(userId: string): Promise<EntryView[]> {
    const hash = await this.identities.idHashOfUser(userId);
    if (hash === null) return [];
    const today = this.#today();
    const rows = await this.#tables()
      .selectFrom('court_list_entries')
      .selectAll()
      .where('id_sha256', '=', hash)
      .where('removed_at', 'is', null)
      .where('listing_date', '<=', today)
      .where('expiry_date', '>', today)
      .orderBy('listing_date')
      .orderBy('entry_id')
      .execute();
    return rows.map((r) => entryView(r, today));
  }

  /** Whether the user is on the court's list today (what lending and credit-based freezes ask). */
  async isListed(userId: string): Promise<boolean> {
    return (await this.listing(userId)).length > 0;
  }

  /**
   * Why the user may not pay a merchant of `category`, or null: the category is restricted and
   * the user is listed. The restricted categories are read from this process's copy (at most
   * `courtListSyncMs` old), so a payment to a merchant of another category reads no table.
   */
  async restriction(userId: string, category: string): Promise<string | null> {
    if (!(await this.#restricted()).has(category)) return null;
    const [entry] = await this.listing(userId);
    if (!entry) return null;
    return `the payer is on the courts' list of dishonest debtors (case ${entry.caseNumber}, ${entry.court}, until ${entry.expiryDate}); merchants of category ${category} are restricted`;
  }

  // ---- The restricted categories -------------------------------------------------------------

  /** The merchant categories a listed user may not pay, sorted. */
  async restrictedCategories(): Promise<string[]> {
    const rows = await this.#tables().selectFrom('court_list_restricted_categories').select('category').execute();
    return rows.map((r) => r.category).sort();
  }

  /** Replaces the restricted categories. Throws `categories_invalid`. */
  async setRestrictedCategories(categories: unknown, actor: string): Promise<string[]> {
    if (
      !Array.isArray(categories) ||
      categories.length > limits.courtListCategoriesMax ||
      !categories.every((c): c is string => typeof c === 'string' && categoryPattern.test(c))
    ) {
      throw new CourtListError('categories_invalid', {
        param: 'categories',
        detail: `categories must be a list of at most ${limits.courtListCategoriesMax} category codes of letters, digits, - and _`,
      });
    }
    const unique = [...new Set(categories)].sort();
    const at = this.#now();
    await this.#writing(async (t) => {
      await t.deleteFrom('court_list_restricted_categories').execute();
      if (unique.length > 0) {
        await t
          .insertInto('court_list_restricted_categories')
          .values(unique.map((category) => ({ category, set_at: at, set_by: actor })))
          .execute();
      }
    });
    this.#categoryChanges++;
    this.#categories = new Set(unique);
    this.#categoriesLoadedAtMs = performance.now();
    return unique;
  }

  async #restricted(): Promise<ReadonlySet<string>> {
    if (performance.now() - this.#categoriesLoadedAtMs > limits.courtListSyncMs) {
      this.#categoriesLoading ??= (async () => {
        try {
          const changes = this.#categoryChanges;
          const categories = await this.restrictedCategories();
          if (changes !== this.#categoryChanges) return;
          this.#categories = new Set(categories);
          this.#categoriesLoadedAtMs = performance.now();
        } finally {
          this.#categoriesLoading = undefined;
        }
      })();
      await this.#categoriesLoading;
    }
    return this.#categories;
  }

  // ---- Entries one by one (the console) ------------------------------------------------------

  /**
   * Adds one entry (an operator's, from a court's notice). The same person and case again with
   * the same details answers the entry (`created: false`); with other details throws
   * `entry_exists`. Throws `entry_invalid` naming the field at fault.
   */
  async add(input: RawEntry, actor: string): Promise<{ entry: EntryView; created: boolean }> {
    const today = this.#today();
    const checked = checkEntry(input, today, (n) => this.identities.hashOf(n));
    if ('reason' in checked)
      throw new CourtListError('entry_invalid', { param: checked.param, detail: checked.reason });
    return this.#writing(async (t, q) => {
      const existing = await t
        .selectFrom('court_list_entries')
        .selectAll()
        .where('id_sha256', '=', checked.idSha256)
        .where('case_number', '=', checked.caseNumber)
        .where('removed_at', 'is', null)
        .executeTakeFirst();
      if (existing) {
        const { updated } = diffList([fieldsOf(existing)], [checked]);
        if (updated.length > 0) throw new CourtListError('entry_exists', { param: 'case_number' });
        return { entry: entryView(existing, today), created: false };
      }
      const [entryId = ''] = await this.#insert(q, [checked], 'console', actor);
      const row = await t
        .selectFrom('court_list_entries')
        .selectAll()
        .where('entry_id', '=', entryId)
        .executeTakeFirstOrThrow();
      return { entry: entryView(row, today), created: true };
    });
  }

  /** Removes an entry (the debt met): kept, with when, why and by whom. Throws `entry_not_found`, `entry_removed`, `reason_invalid`. */
  async remove(entryId: string, reason: unknown, actor: string): Promise<EntryView> {
    const why = typeof reason === 'string' ? reason.normalize('NFC').trim() : '';
    if (why === '' || [...why].length > limits.courtListTextCharsMax || isUnreadableText(why)) {
      throw new CourtListError('reason_invalid', { param: 'reason' });
    }
    if (!isUuid(entryId)) throw new CourtListError('entry_not_found', { param: 'entry_id' });
    return this.#writing(async (t, q) => {
      const row = await t
        .selectFrom('court_list_entries')
        .selectAll()
        .where('entry_id', '=', entryId)
        .forUpdate()
        .executeTakeFirst();
      if (!row) throw new CourtListError('entry_not_found', { param: 'entry_id' });
      if (row.removed_at !== null) throw new CourtListError('entry_removed', { param: 'entry_id' });
      await this.#removeRows(q, [row.entry_id], why, actor);
      const removed = await t
        .selectFrom('court_list_entries')
        .selectAll()
        .where('entry_id', '=', entryId)
        .executeTakeFirstOrThrow();
      return entryView(removed, this.#today());
    });
  }

  /**
   * Entries, newest first: of one person (`q` a plain identity number or its hash), one case
   * number or name (`q` otherwise), and of one status, when asked.
   */
  async entries(
    options: { q?: string | undefined; status?: EntryStatus | undefined; limit?: number | undefined } = {},
  ) {
    const today = this.#today();
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? limits.courtListPageMax), 1), limits.courtListPageMax);
    let query = this.#tables()
      .selectFrom('court_list_entries')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('entry_id', 'desc')
      .limit(limit);
    const q = options.q?.trim();
    if (q) {
      const hash = this.identities.hashOf(q) ?? (/^[0-9a-fA-F]{64}$/.test(q) ? q.toLowerCase() : null);
      query =
        hash !== null
          ? query.where('id_sha256', '=', hash)
          : query.where((eb) => eb.or([eb('case_number', '=', q), eb('name', '=', q)]));
    }
    if (options.status === 'removed') query = query.where('removed_at', 'is not', null);
    if (options.status === 'expired') query = query.where('removed_at', 'is', null).where('expiry_date', '<=', today);
    if (options.status === 'listed') {
      query = query.where('removed_at', 'is', null).where('listing_date', '<=', today).where('expiry_date', '>', today);
    }
    return (await query.execute()).map((r) => entryView(r, today));
  }

  /** One entry with its changes, oldest first. Throws `entry_not_found`. */
  async entry(entryId: string): Promise<EntryView & { changes: ChangeView[] }> {
    if (!isUuid(entryId)) throw new CourtListError('entry_not_found', { param: 'entry_id' });
    const t = this.#tables();
    const row = await t.selectFrom('court_list_entries').selectAll().where('entry_id', '=', entryId).executeTakeFirst();
    if (!row) throw new CourtListError('entry_not_found', { param: 'entry_id' });
    const changes = await t
      .selectFrom('court_list_changes')
      .selectAll()
      .where('entry_id', '=', entryId)
      .orderBy('change_id')
      .execute();
    return {
      ...entryView(row, this.#today()),
      changes: changes.map((c) => ({
        action: c.action,
        at: c.at,
        actor: c.actor,
        reason: c.reason,
        before: (typeof c.before === 'string' ? JSON.parse(c.before) : c.before) as Record<string, unknown> | null,
      })),
    };
  }

  // ---- The court's whole list ----------------------------------------------------------------

  /**
   * Imports the court's whole current list (a CSV file's text, import-file.ts): lines whose
   * person and case are new are added, changed ones updated, entries the file lacks removed.
   * All or nothing: a file with any bad line writes nothing (its report names every bad line),
   * since an entry whose line was bad would otherwise be removed. The same file again changes
   * nothing. Throws `file_invalid` for a file that cannot be read at all.
   */
  async importList(text: string, options: ImportOptions): Promise<ImportReport> {
    const fileSha256 = createHash('sha256').update(text).digest('hex');
    const file = readListFile(
      text,
      this.#today(),
      (n) => this.identities.hashOf(n),
      (done, total) => options.onProgress?.('checking', done, total),
    );
    const last = await this.#tables()
      .selectFrom('court_list_imports')
      .select('at')
      .where('file_sha256', '=', fileSha256)
      .orderBy('at', 'desc')
      .executeTakeFirst();
    const write = !options.dryRun && file.rejected.length === 0;
    const base = {
      fileName: options.fileName,
      fileSha256,
      identity: file.identity,
      lines: file.lines,
      rejected: file.rejected,
      importedBefore: last?.at ?? null,
    };
    const apply = async (q: Queryable): Promise<ImportReport> => {
      const t = typed<CourtListTables>(q);
      const current = (
        await t
          .selectFrom('court_list_entries')
          .select(['entry_id', ...fieldColumns])
          .where('removed_at', 'is', null)
          .execute()
      ).map((r) => ({ ...fieldsOf(r), entryId: r.entry_id }));
      const diff = diffList(current, file.entries);
      const counts = {
        added: diff.added.length,
        updated: diff.updated.length,
        removed: diff.removed.length,
        unchanged: diff.unchanged,
      };
      const changed = counts.added + counts.updated + counts.removed > 0;
      if (!write || !changed) return { ...base, ...counts, written: write && changed };
      const reason = `not on the court's list imported from ${options.fileName} (sha256 ${fileSha256.slice(0, 16)})`;
      await this.#applyDiff(q, diff, reason, options);
      await t
        .insertInto('court_list_imports')
        .values({
          import_id: uuidFromU128(id()),
          file_sha256: fileSha256,
          file_name: options.fileName,
          at: this.#now(),
          actor: options.actor,
          lines: BigInt(file.lines),
          added: BigInt(counts.added),
          updated: BigInt(counts.updated),
          removed: BigInt(counts.removed),
          unchanged: BigInt(counts.unchanged),
        })
        .execute();
      return { ...base, ...counts, written: true };
    };
    return write ? this.#writing((_t, q) => apply(q)) : apply(this.db);
  }

  async #applyDiff(
    q: Queryable,
    diff: ReturnType<typeof diffList<EntryFields & { entryId: string }>>,
    removalReason: string,
    options: ImportOptions,
  ): Promise<void> {
    const total = diff.added.length + diff.updated.length + diff.removed.length;
    let done = 0;
    const progress = (n: number) => {
      done += n;
      options.onProgress?.('writing', done, total);
    };
    progress(0);
    for (const chunk of chunks(diff.added)) {
      await this.#insert(q, chunk, 'import', options.actor);
      progress(chunk.length);
    }
    for (const chunk of chunks(diff.updated)) {
      await this.#update(q, chunk, options.actor);
      progress(chunk.length);
    }
    for (const chunk of chunks(diff.removed)) {
      await this.#removeRows(
        q,
        chunk.map((c) => c.entryId),
        removalReason,
        options.actor,
      );
      progress(chunk.length);
    }
  }

  // ---- Writing -------------------------------------------------------------------------------

  /**
   * Inserts entries and their `added` changes, one statement each over arrays (an import writes
   * thousands at a time); answers the new entries' ids in order.
   */
  async #insert(q: Queryable, entries: readonly EntryFields[], source: 'import' | 'console', actor: string) {
    const at = this.#now();
    const ids = entries.map(() => uuidFromU128(id()));
    const column = (f: (e: EntryFields) => string) => entries.map(f);
    await q.query(
      `insert into court_list_entries (entry_id, id_sha256, case_number, name, court, listing_date, grounds,
                                       expiry_date, source, created_at, created_by, updated_at)
       select u.*, $9, $10, $11, $10
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
              as u(entry_id, id_sha256, case_number, name, court, listing_date, grounds, expiry_date)`,
      [
        ids,
        column((e) => e.idSha256),
        column((e) => e.caseNumber),
        column((e) => e.name),
        column((e) => e.court),
        column((e) => e.listingDate),
        column((e) => e.grounds),
        column((e) => e.expiryDate),
        source,
        at,
        actor,
      ],
    );
    await recordChanges(q, ids, 'added', { at, actor, reason: null });
    return ids;
  }

  async #update(
    q: Queryable,
    updates: readonly { current: EntryFields & { entryId: string }; fields: EntryFields }[],
    actor: string,
  ): Promise<void> {
    const at = this.#now();
    const column = (f: (u: (typeof updates)[number]) => string) => updates.map(f);
    await q.query(
      `update court_list_entries e
          set name = u.name, court = u.court, listing_date = u.listing_date, grounds = u.grounds,
              expiry_date = u.expiry_date, updated_at = $7
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
              as u(entry_id, name, court, listing_date, grounds, expiry_date)
        where e.entry_id = u.entry_id and e.removed_at is null`,
      [
        column((u) => u.current.entryId),
        column((u) => u.fields.name),
        column((u) => u.fields.court),
        column((u) => u.fields.listingDate),
        column((u) => u.fields.grounds),
        column((u) => u.fields.expiryDate),
        at,
      ],
    );
    const before = updates.map(({ current: c }) =>
      JSON.stringify({
        name: c.name,
        court: c.court,
        listing_date: c.listingDate,
        grounds: c.grounds,
        expiry_date: c.expiryDate,
      }),
    );
    await recordChanges(
      q,
      column((u) => u.current.entryId),
      'updated',
      { at, actor, reason: null, before },
    );
  }

  async #removeRows(q: Queryable, entryIds: readonly string[], reason: string, actor: string): Promise<void> {
    const at = this.#now();
    await q.query(
      `update court_list_entries set removed_at = $2, removed_reason = $3, removed_by = $4, updated_at = $2
        where entry_id = any($1::text[]) and removed_at is null`,
      [entryIds, at, reason, actor],
    );
    await recordChanges(q, entryIds, 'removed', { at, actor, reason });
  }

  /** A change to the list: one transaction, the list's writers taking turns (imports and operators alike). */
  #writing<T>(change: (t: Tables, q: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [writeLockKey]);
      return change(typed<CourtListTables>(tx), tx);
    });
  }

  #tables(): Tables {
    return typed<CourtListTables>(this.db);
  }

  #now(): Date {
    return dateFromNs(this.clock.nowNs());
  }

  /** Today in Beijing, YYYY-MM-DD: the day listings are in force or lapsed on. */
  #today(): string {
    return beijingTime(this.#now()).slice(0, 10);
  }
}

/** One change row per entry, one statement over arrays; `before`: each entry's fields before an update. */
async function recordChanges(
  q: Queryable,
  entryIds: readonly string[],
  action: ChangeView['action'],
  change: { at: Date; actor: string; reason: string | null; before?: readonly string[] },
): Promise<void> {
  await q.query(
    `insert into court_list_changes (entry_id, action, at, actor, reason, before)
     select u.entry_id, $2, $3, $4, $5, u.before::jsonb
       from unnest($1::text[], $6::text[]) as u(entry_id, before)`,
    [entryIds, action, change.at, change.actor, change.reason, change.before ?? entryIds.map(() => null)],
  );
}

function* chunks<T>(items: readonly T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += limits.courtListWriteRowsMax) {
    yield items.slice(i, i + limits.courtListWriteRowsMax);
  }
}

/** The columns of an entry's fields. */
const fieldColumns = [
  'id_sha256',
  'case_number',
  'name',
  'court',
  'listing_date',
  'grounds',
  'expiry_date',
] as const satisfies readonly (keyof EntryRow)[];

function fieldsOf(r: Pick<EntryRow, (typeof fieldColumns)[number]>): EntryFields {
  return {
    idSha256: r.id_sha256,
    caseNumber: r.case_number,
    name: r.name,
    court: r.court,
    listingDate: r.listing_date,
    grounds: r.grounds,
    expiryDate: r.expiry_date,
  };
}

function entryView(r: EntryRow, today: string): EntryView {
  const fields = fieldsOf(r);
  const removed = r.removed_at !== null;
  // A listing date is never after the day it was entered: an entry not removed is listed until its expiry.
  const status: EntryStatus = removed ? 'removed' : fields.expiryDate > today ? 'listed' : 'expired';
  return {
    ...fields,
    entryId: r.entry_id,
    source: r.source,
    status,
    createdAt: r.created_at,
    createdBy: r.created_by,
    updatedAt: r.updated_at,
    removedAt: r.removed_at,
    removedReason: r.removed_reason,
    removedBy: r.removed_by,
  };
}
