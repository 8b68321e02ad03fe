/**
 * Every limit of the platform, in one place (TigerBeetle style: the unit and the qualifier come
 * last in each name). A limit that is not here does not exist.
 */
export const limits = {
  /** Events (accounts or transfers) one submission may carry; a chain never spans two. */
  submissionEventsMax: 8190,
  /** Events applied in one database transaction. */
  batchEventsMax: 16380,
  /** How long the batcher waits for more events when the engine is idle. */
  batchWaitMs: 1,
  /** Batches executing at once in one process: one being written while the next is applied. */
  batchesInFlightMax: 2,
  /** Submissions queued behind the batch in flight before callers are refused. */
  queueEventsMax: 1_000_000,
  /** Pending transfers voided by one expiry sweep batch. */
  expiryBatchMax: 4096,
  /** How often the background sweep looks for expired pending transfers. */
  expirySweepIntervalMs: 1000,
  /** Rows one page of `getAccountTransfers` / `getAccountBalances` may return. */
  queryPageMax: 8190,
  /** Ids one lookup call may carry. */
  lookupIdsMax: 8190,
  /** How long SIGTERM waits for in-flight batches before giving up. */
  shutdownDrainMs: 30_000,
  /** Accounts one process keeps in memory between batches (least recently loaded leave first). */
  accountCacheMax: 250_000,
  /** Connections in the PostgreSQL pool of one process. */
  pgPoolConnectionsMax: 8,
} as const;
