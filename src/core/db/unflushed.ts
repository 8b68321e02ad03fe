/**
 * A statement whose own transaction commits without waiting for its WAL to reach the disk.
 *
 * Put `unflushedCommit` in a WHERE clause of a statement that runs alone (autocommit, never
 * inside `Db.transaction`): it sets `synchronous_commit = off` for that statement's transaction
 * only (`set_config(…, true)`, read by PostgreSQL at the commit), in the same round trip. The
 * commit is visible at once but is on disk only when the WAL is next flushed: by the WAL writer
 * within `wal_writer_delay`, or by any later synchronous commit, which flushes the WAL up to its
 * own commit record and so every record written before it, whichever session wrote it.
 *
 * Only for a step of a flow that tells nobody it happened before a later, synchronous commit of
 * the same flow: a payment's claim and its payment code's spending are followed by the ledger's
 * transaction (synchronous) before any payment is answered. A crash of the database server before
 * that commit loses the step as if it had not run, and nobody was answered; after it, the step is
 * on disk with it. Other readers may see the step before it is on disk (another payer of the same
 * trade is told a payment is in flight): that is an answer about something in progress, never an
 * acknowledgement. PGlite: the same SQL; its commits are made durable by Paybao's WAL sync
 * after each statement (pglite.ts), which then covers such a commit at the next synchronous one.
 */
export const unflushedCommit = `(select set_config('synchronous_commit', 'off', true)) = 'off'`;
