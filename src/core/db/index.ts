export type { Migration } from './migrate.ts';
export { migrate, pendingMigrations } from './migrate.ts';
export type { DbConfig } from './open.ts';
export { openDb } from './open.ts';
export type { Owner } from './owner-lock.ts';
export { DataDirOwnedError, liveOwner } from './owner-lock.ts';
export { restorePglite } from './pglite.ts';
export type { PrimaryState } from './primary.ts';
export {
  DatabaseUnavailableError,
  failureLogLevel,
  isConnectionLost,
  isReadOnlyRefusal,
  splitHosts,
} from './primary.ts';
export { type RestorePoint, recordRestore, recordRestoreVerified, restoredFrom } from './restore-point.ts';
export { typed } from './typed.ts';
export type { Db, Engine, Queryable, QueryOptions } from './types.ts';
