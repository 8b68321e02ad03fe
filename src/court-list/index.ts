/** The courts' list of dishonest debtors (失信被执行人) and what it restricts (docs/court-list.md). */
export {
  type ChangeView,
  CourtList,
  type CourtListIdentities,
  type EntryStatus,
  type EntryView,
  type ImportOptions,
  type ImportReport,
} from './court-list.ts';
export { diffList, type EntryFields, type ListDiff, type RawEntry, yearsAfter } from './entry.ts';
export { CourtListError, type CourtListErrorCode, courtListErrors, isCourtListError } from './errors.ts';
export { fileColumns, type RejectedLine } from './import-file.ts';
export { courtListMigrations } from './migrations.ts';
