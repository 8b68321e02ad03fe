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
  /**
   * Events one batch of the ledger's bulk lane carries (background jobs: the fund's distribution).
   * A payment arriving while a bulk batch is written waits for it, then rides in front of the
   * next: smaller batches shorten that wait and cost the job holders/s (BENCHMARKS.md, bench
   * fund: 512 against 256).
   */
  bulkBatchEventsMax: 512,
  /** Trade writes (inserts, claims, payments recorded) one grouped statement carries. */
  tradeWriteBatchMax: 1000,
  /** Trade writes of one kind queued behind the statement in flight before callers are refused. */
  tradeWriteQueueMax: 100_000,
  /** Payment codes one grouped redemption statement spends. */
  paymentCodeBatchMax: 1000,
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
  /** An unpaid trade closes after this long unless it says otherwise (Alipay: 15 days). */
  tradeTimeoutDefaultMs: 15 * 86_400_000,
  /**
   * A payment still in flight after this long was left by a crash; the sweep finishes it, money
   * or not (a payment whose transfer failed goes back to WAIT_BUYER_PAY). Long, because undoing a
   * claim that is merely slow would race its own payer.
   */
  tradePayingStaleMs: 60_000,
  /**
   * A payment in flight this long whose money the ledger has already moved was interrupted (its
   * process died between the transfer and the record): the sweep records it as paid. Seconds, not
   * a minute, since the buyer has paid; safe at any age, since it only finishes what the ledger did.
   */
  tradePaymentMovedAfterMs: 2_000,
  /** How often the trade sweep closes timed-out trades and finishes interrupted payments. */
  tradeSweepIntervalMs: 5_000,
  /** Trades one sweep closes or finishes, of each kind. */
  tradeSweepBatchMax: 1000,
  /** Trades one page of the trade-versus-ledger check reads, their payment transfers looked up at once. */
  tradeVerifyPageMax: 5000,
  /** How long after payment a trade can be refunded; then the sweep moves it to TRADE_FINISHED. */
  tradeRefundPeriodMs: 90 * 86_400_000,
  /** An escrow trade confirms itself this long after shipment unless the trade says otherwise. */
  escrowConfirmPeriodDefaultMs: 10 * 86_400_000,
  /** The longest confirm period a trade may ask for. */
  escrowConfirmPeriodMaxMs: 90 * 86_400_000,
  /** How long before the auto-confirm the buyer's reminder notification goes out. */
  escrowReminderBeforeMs: 3 * 86_400_000,
  /** After a refund case or dispute ends in the seller's favour, the buyer has at least this long. */
  escrowResumeGraceMs: 3 * 86_400_000,
  /** How long after release a buyer may still open a dispute. */
  escrowDisputeWindowMs: 15 * 86_400_000,
  /** A refund case left unanswered this long moves as the silent party's answer would let it:
   * the seller's answer to a request (then the refund is agreed), the buyer's return of the goods
   * (then the request is closed), the seller's receipt of them (then the refund is paid). */
  refundCaseSellerAnswerMs: 5 * 86_400_000,
  refundCaseBuyerReturnMs: 7 * 86_400_000,
  refundCaseSellerReceiveMs: 10 * 86_400_000,
  /** The platform fee of escrow trades without a contract, in basis points (0.6%). */
  escrowFeeBpsDefault: 60,
  /** The auto-confirm sweep rests this many times as long as each round took, leaving the machine to payments. */
  escrowSweepPauseRatio: 1,
  /** Trades one release round claims and releases in one ledger submission (two transfers each). */
  escrowReleaseBatchMax: 1000,
  /** How long one process trusts its copy of an app's escrow contract (another may change it). */
  escrowContractCacheMs: 5_000,
  /** Apps whose escrow contract one process remembers. */
  escrowContractCacheMax: 10_000,
  /** The compensation fund's first capital, moved from platform funding when it is created (fen). */
  compensationFundCapitalFen: 100_000_000,
  /** How often the settlement job merges each seller's released money into one payout. */
  settlementIntervalMs: 86_400_000,
  /** Trades one settlement may list; a seller with more gets the rest in the next one. */
  settlementTradesMax: 100_000,
  /** Sellers one settlement round settles. */
  settlementSellersMax: 1_000,
  /** Receivers one royalty split may name. */
  royaltyReceiversMax: 50,
  /** How long a bill download link works after it is issued (Alipay: 30 seconds). */
  billLinkTtlMs: 30_000,
  /** Trades one page of a bill reads from the database while the CSV streams out. */
  billPageRowsMax: 5_000,
  /** A payout still in flight after this long was left by a crash; the sweep finishes it. */
  payoutProcessingStaleMs: 60_000,
  /** Payouts one sweep finishes. */
  payoutSweepBatchMax: 1000,
  /** Delays between notification attempts until the merchant answers `success` (Alipay's schedule). */
  notifyRetryDelaysMs: [4, 10, 10, 60, 120, 360, 900].map((minutes) => minutes * 60_000),
  /** How long one notification POST may take. */
  notifyTimeoutMs: 5_000,
  /** Notifications one dispatch round claims. */
  notifyBatchMax: 500,
  /** The most of a merchant's answer to a notification that is read (it should say `success`). */
  notifyAnswerBytesMax: 1024,
  /** What of a merchant's answer (or of the error) the log of notification attempts keeps. */
  notifyAttemptDetailCharsMax: 200,
  /** Times a notification is sent again at once when a kept-alive connection turns out closed
   * by the merchant's server before any answer (each time on another connection, if the pool has
   * more stale ones). */
  notifyStaleConnectionRetriesMax: 3,
  /** Notification POSTs one dispatcher has in flight at once. */
  notifyConcurrencyMax: 32,
  /** How often the dispatcher looks for due notifications. */
  notifyPollIntervalMs: 1_000,
  /** Sellers and buyers (app → seller wallet, member → wallet) one process remembers. */
  partyCacheMax: 100_000,
  /** How long a remembered seller or buyer is trusted. */
  partyCacheMs: 60_000,
  /** How often a server on PGlite checkpoints (PostgreSQL's own `checkpoint_timeout`). */
  pgliteCheckpointIntervalMs: 5 * 60_000,
  /** Connections in the PostgreSQL pool of one process. */
  pgPoolConnectionsMax: 8,
  /** How long opening a connection to a PostgreSQL server may take before that server counts as down. */
  pgConnectTimeoutMs: 3_000,
  /** How often a process that lost its primary asks the cluster's hosts again (src/core/db/primary.ts). */
  pgPrimarySearchIntervalMs: 250,
  /** How long a starting process waits for a cluster to have a writable server before it gives up. */
  pgPrimaryFirstSearchMs: 60_000,
  /**
   * How long a process reaching a PGlite owner over its socket may hold a transaction open
   * without sending anything; the owner's own work waits meanwhile, so past it the client's
   * transaction is rolled back and its connection closed.
   */
  pgliteClientIdleInTransactionMs: 30_000,
  /** How long a command waits for a server that owns its PGlite data directory to start serving it. */
  dataDirOwnerWaitMs: 30_000,
  /** How often it looks again meanwhile. */
  dataDirOwnerPollMs: 200,
  /** Age after which a data directory's takeover guard is a dead process's leftover. */
  dataDirTakeoverGuardStaleMs: 10_000,
  /** Entries of a query's `query_options` (the extra answers a merchant asks for). */
  gatewayQueryOptionsMax: 16,
  /** How far a gateway request's timestamp may be from the platform's clock, either way. */
  gatewayTimestampSkewMs: 15 * 60_000,
  /** Apps whose verification key one process keeps for the gateway (oldest leave first). */
  gatewayAppCacheMax: 10_000,
  /** How long the gateway trusts its copy of an app's key (another process may change it). */
  gatewayAppCacheMs: 5_000,
  /** Bytes of one gateway request body (form or JSON); larger requests get a clean error. */
  gatewayBodyBytesMax: 1_048_576,
  /** Expired v3 nonces one sweep of the shared nonce table deletes. */
  gatewayNonceSweepMax: 10_000,
  /** v3 nonces one process remembers to refuse replays (each kept for two skew windows at most). */
  gatewayNoncesMax: 1_000_000,
  /** How often the in-memory nonce store drops expired nonces (a scan of a map). */
  gatewayNonceSweepMemoryMs: 1000,
  /** How often the database nonce store deletes expired nonces (a statement, so rarer). */
  gatewayNonceSweepDbMs: 60_000,
  /** How long an SMS login code stays valid after it is sent. */
  smsCodeTtlMs: 5 * 60_000,
  /** Wrong guesses one SMS code takes before it is dead (a 6-digit code, so 5 in a million). */
  smsCodeAttemptsMax: 5,
  /** How soon the same phone may ask for another SMS code. */
  smsCodeResendIntervalMs: 60_000,
  /**
   * Wrong passwords one phone takes in a window; from the next attempt on, its password logins
   * are refused (without checking the password) until the window ends. Counted in the database,
   * so every process on it refuses alike.
   */
  loginFailuresPerPhoneMax: 5,
  /** Wrong passwords one client address (an IPv6 /64) sends in a window, over all phones: higher
   * than a phone's, as an office or a carrier's NAT puts many people behind one address. */
  loginFailuresPerAddressMax: 20,
  /** The window of both counts, from the first wrong password in it. */
  loginFailureWindowMs: 15 * 60_000,
  /**
   * Password logins and SMS-code requests one client address may make to one process in a window,
   * right or wrong, before any password is checked: bounds the scrypt work and the text messages
   * one address can cause (per process, as the CPU it protects is).
   */
  loginRequestsPerAddressMax: 60,
  loginRequestWindowMs: 60_000,
  /** How long a browser keeps to https once told (HSTS, sent only under an https public URL). */
  hstsMaxAgeS: 365 * 86_400,
  /** Messages `paybao sms list` prints at most. */
  smsListMax: 1000,
  /** How long a payment code shown at a till stays valid (Alipay refreshes its codes every minute). */
  paymentCodeTtlMs: 120_000,
  /** Shortest and longest password; the longest bounds the work scrypt does per login. */
  passwordLengthMin: 8,
  passwordLengthMax: 128,
  /** Draws of a random external id (user id, app id, payment code) before giving up on collisions. */
  externalIdAttemptsMax: 8,
  /** The longest app name, notify URL and merchant public key PEM an app may have. */
  appNameLengthMax: 128,
  notifyUrlLengthMax: 1024,
  merchantPublicKeyPemLengthMax: 16_384,
  /** The smallest RSA key a merchant may register (Alipay's RSA2 uses 2048 bits). */
  rsaKeyBitsMin: 2048,
  /** How long a process trusts its copy of the platform key pair (another may rotate it). */
  platformKeysCacheMs: 5_000,
  /** The shortest `PAYBAO_KEY_PASSPHRASE` accepted. */
  keyPassphraseMin: 16,
  /**
   * User authorisation for merchants (Alipay's OAuth, src/oauth): an `auth_code` lives this long
   * unused (Alipay: never less than 3 minutes); an `access_token` and a `refresh_token` this long
   * after they are issued (`expires_in`, `re_expires_in`). A refresh issues both anew.
   */
  oauthAuthCodeTtlMs: 3 * 60_000,
  oauthAccessTokenTtlMs: 86_400_000,
  oauthRefreshTokenTtlMs: 30 * 86_400_000,
  /** The longest `state` the authorise page passes back (Alipay's published length), and `redirect_uri`. */
  oauthStateLengthMax: 100,
  oauthRedirectUriLengthMax: 1024,
  /** Apps one user's list of authorisations shows at most (the wallet page, `GET /api/v1/authorizations`). */
  oauthAuthorizationsListMax: 200,
  /** How long spent or expired codes and dead tokens are kept before the sweep deletes them, and rows per sweep. */
  oauthRetentionMs: 7 * 86_400_000,
  oauthSweepBatchMax: 1000,
  oauthSweepIntervalMs: 3_600_000,
  /** Rows one page of the merchant portal's trades or notifications holds at most. */
  merchantPageRowsMax: 100,
  /** The most of a portal action's request kept in the merchant's activity log, in characters. */
  staffActivityDetailLengthMax: 500,
  /** The largest test payment the merchant portal makes against a merchant's own app (fen). */
  merchantTestPaymentFenMax: 10_000,
  /** Rows such a page holds when the request names no size. */
  merchantPageRowsDefault: 20,
  /** A merchant staff member's name, at most (characters). */
  staffNameLengthMax: 64,
  /** Staff one listing of a merchant's staff shows at most. */
  staffPerMerchantMax: 200,
  /**
   * The credit score (src/credit, docs/credit.md), a scorecard in the Sesame tradition: clamped to
   * [creditScoreMin, creditScoreMax]; a score equal to creditBaseScore means odds of good to bad of
   * creditBaseOdds to 1, and every creditPointsToDoubleOdds points more doubles the odds. All
   * dimensions neutral (no data) is the base score.
   */
  creditScoreMin: 350,
  creditScoreMax: 950,
  creditBaseScore: 650,
  creditBaseOdds: 30,
  creditPointsToDoubleOdds: 50,
  /**
   * Each dimension's share of the range (max − min), in percent, the defaults of
   * `PAYBAO_CREDIT_WEIGHTS`: credit history, behaviour, ability to pay, identity, relationships.
   */
  creditWeightPercents: { history: 35, behaviour: 25, ability: 20, identity: 15, relationships: 5 },
  /** The window a score looks back over (payments, escrow trades, lost disputes). */
  creditHistoryDays: 365,
  /** Days of daily balance snapshots the average balance spans (today's balance is the last). */
  creditBalanceDays: 90,
  /** No score ("N/A", as Alipay answers) with fewer payments in the window, or a younger account. */
  creditPaymentsMin: 3,
  creditAccountAgeDaysMin: 30,
  /**
   * Where each feature's strength saturates (reaches its full points): it grows with the
   * logarithm of the count up to there. Balances in fen.
   */
  creditEscrowTradesFull: 20,
  creditActiveMonthsFull: 12,
  creditCategoriesFull: 8,
  creditPaymentsFull: 100,
  creditAverageBalanceFenFull: 50_000_00,
  creditAccountAgeDaysFull: 3 * 365,
  /** Each dispute lost takes this share of the credit history dimension's strength, at most creditDisputesLostMax of them. */
  creditDisputeLostPercent: 25,
  creditDisputesLostMax: 4,
  /**
   * An open debt to the platform (a deposit-free freeze's settlement the user's wallet could not
   * cover) takes this share of the credit history dimension's strength: 100, its whole range, so
   * that the dimension is at its floor while any debt is open.
   */
  creditOpenDebtPercent: 100,
  /**
   * And while it is open the score is at most this (the top of the POOR band, 较差): the override
   * of the scorecard tradition for an account in arrears, so that no record, however good, keeps
   * a debtor at a merchant's credit threshold.
   */
  creditOpenDebtScoreMax: 549,
  /** Band thresholds, the lowest score of each band above "poor" (Sesame's 较差 中等 良好 优秀 极好). */
  creditBandFairMin: 550,
  creditBandGoodMin: 600,
  creditBandVeryGoodMin: 650,
  creditBandExcellentMin: 700,
  /** Reason codes every score carries at most (the largest gains first). */
  creditReasonsMax: 4,
  /** Users one chunk of the nightly batch scores with one set of statements. */
  creditBatchUsersMax: 2000,
  /**
   * Chunks of the nightly batch scored at once on PostgreSQL, each in its own transaction on its
   * own pooled connection (so at most this many of `pgPoolConnectionsMax`); they commit in user
   * id order. PGlite has one connection: one chunk at a time.
   */
  creditBatchChunksInFlight: 3,
  /** The nightly batch runs once a Beijing day, from this hour; the job looks this often whether it is due. */
  creditNightlyBeijingHour: 2,
  creditJobIntervalMs: 10 * 60_000,
  /** Score history points a user's read returns (the wallet's chart), the latest last. */
  creditHistoryPointsMax: 180,
  /** `zhima.credit.score.get`: a `transaction_id` answers the same result this long. */
  creditTransactionTtlMs: 86_400_000,
  /** Real-name verification: the longest name accepted, in characters. */
  creditRealNameCharsMax: 40,
  /**
   * The court's list of dishonest debtors (src/court-list, docs/court-list.md): a listing whose
   * line names no expiry lapses this many years after its listing date (the courts' usual term);
   * an import file is at most so many bytes and lines; a name, a court or a case number at most
   * so many characters, grounds and a removal's reason at most so many; entries the console shows
   * at once; restricted categories at most; how old each process's copy of the restricted merchant categories may be when a
   * payment reads it; the rows one statement of an import writes.
   */
  courtListExpiryYearsDefault: 2,
  courtListFileBytesMax: 128 * 1024 * 1024,
  courtListFileLinesMax: 1_000_000,
  courtListFieldCharsMax: 100,
  courtListTextCharsMax: 500,
  courtListPageMax: 200,
  courtListCategoriesMax: 64,
  courtListSyncMs: 1000,
  courtListWriteRowsMax: 1000,
  /**
   * Pre-authorisation (src/preauth): an app freeze waits this long for the user's confirmation
   * by default (`pay_timeout`), at least and at most these; a freeze's term (after which the
   * hold expires and unfreezes itself) by default and at most; how often an operation that finds
   * another in flight on its order finishes that one and tries again before giving up; the
   * sweep's rows per kind and its interval; the score a merchant's credit-based freeze asks by
   * default (Sesame's deposit-free line).
   */
  /** The largest freeze, in fen (Alipay's ceiling for a fund authorisation: 100,000,000.00 yuan). */
  preauthAmountFenMax: 100_000_000_00n,
  preauthPayTimeoutDefaultMs: 15 * 60_000,
  preauthPayTimeoutMinMs: 60_000,
  preauthPayTimeoutMaxMs: 15 * 86_400_000,
  preauthTermDefaultMs: 30 * 86_400_000,
  preauthTermMaxMs: 365 * 86_400_000,
  preauthClaimAttemptsMax: 16,
  preauthSweepBatchMax: 500,
  preauthSweepIntervalMs: 10_000,
  preauthCreditScoreThresholdDefault: 650,
  /** The most of one freeze a credit score may waive (credit-guaranteed rather than held), in fen. */
  preauthCreditWaiverFenMax: 10_000_00n,
  /** How long a native API session token (`POST /api/v1/sessions`) lives after login. */
  sessionTtlMs: 24 * 3_600_000,
  /** Live sessions one user may hold; logging in again retires the oldest beyond this. */
  sessionsPerUserMax: 20,
  /** How long an operator's console session (`POST /console/v1/sessions`) lives after login: a working day. */
  operatorSessionTtlMs: 10 * 3_600_000,
  /** Rows one page of the operators' audit log, and of a user or merchant search, may hold. */
  auditPageMax: 200,
  memberSearchMax: 50,
  /** Characters of an operator's reason (a freeze, an action's note); of an operator's name. */
  operatorReasonLengthMax: 500,
  operatorNameLengthMax: 64,
  /**
   * How old a process's copy of the frozen accounts may be before a payment reads it again: a
   * freeze holds at once in the process that made it, within this in every other.
   */
  freezeSyncMs: 1000,
  /** Frozen accounts one process keeps in memory (a freeze beyond it is still read from the table). */
  frozenAccountsCacheMax: 100_000,
  /** Daily reserve reports one history answers. */
  reserveHistoryDaysMax: 366,
  /** Samples of the live figures kept per process, and the window they are computed over. */
  liveSamplesMax: 120,
  liveWindowMs: 10_000,
  /** Undelivered notifications the console counts (a larger backlog reads as this many). */
  notificationBacklogCountMax: 1_000_000,
  /** Bytes of one native API request body. */
  apiBodyBytesMax: 16_384,
  /** Bill entries one `GET /api/v1/bills` page may hold, and how many it holds by default. */
  billsPageMax: 100,
  billsPageDefault: 20,
  /** The largest wallet-to-wallet transfer, in fen (100,000,000.00 yuan, Alipay's ceiling). */
  walletTransferFenMax: 100_000_000_00,
  /** The longest transfer memo, in characters. */
  transferMemoLengthMax: 256,
  /** The shortest and longest `Idempotency-Key` of the native API, in characters (`core/idempotency.ts`). */
  idempotencyKeyLengthMin: 1,
  idempotencyKeyLengthMax: 255,
  /**
   * How long a transfer request holds its `Idempotency-Key` while it runs. A request left holding
   * it by a crash is run again by the next retry after this (the ledger id makes that safe).
   */
  idempotencyLeaseMs: 30_000,
  /** How long a request waits for an identical one in flight before answering "in progress". */
  idempotencyWaitMs: 5_000,
  /** How often a waiting request looks again. */
  idempotencyPollMs: 10,
  /** Bank simulator (`paybao bank-sim`): bytes of one request body. */
  bankSimBodyBytesMax: 1_048_576,
  /** The largest amount the simulator accepts in any request, in fen (banks' own limits are lower). */
  bankSimAmountFenMax: 1_000_000_000_00,
  /** Items one batch payout may carry. */
  bankSimBatchItemsMax: 1000,
  /** Payouts one batch request of the platform carries (the simulator takes up to 1,000). */
  channelBatchItemsMax: 500,
  /** The longest order, batch and request number, in characters. */
  bankSimOrderNoLengthMax: 64,
  /** How far a signed request's timestamp may be from the simulator's clock, either way. */
  bankSimTimestampSkewMs: 5 * 60_000,
  /** How long a gateway order waits on its payment page before it fails as expired. */
  bankSimGatewayOrderTtlMs: 30 * 60_000,
  /** Wrong card passwords one gateway order takes before it fails. */
  bankSimPasswordAttemptsMax: 5,
  /** How long a card-binding SMS code stays valid, and how many wrong guesses it takes. */
  bankSimSmsCodeTtlMs: 5 * 60_000,
  bankSimSmsAttemptsMax: 5,
  /** Delays between callback attempts until the platform answers `success`; then the callback is abandoned. */
  bankSimCallbackRetryDelaysMs: [1_000, 2_000, 5_000, 15_000, 60_000, 300_000],
  /** How long one callback POST may take. */
  bankSimCallbackTimeoutMs: 5_000,
  /** How often the callback dispatcher looks for due callbacks, and how many it sends per round. */
  bankSimCallbackPollMs: 100,
  bankSimCallbackBatchMax: 100,
  /** How long an injected "hang" holds a request before dropping its connection. */
  bankSimHangMsDefault: 30_000,
  /** Messages `GET /admin/sms` returns at most. */
  bankSimSmsListMax: 1000,
  /** Channels: how long one request to a bank may take before its outcome counts as unknown. */
  channelRequestTimeoutMs: 10_000,
  /** Delays between queries of an order whose outcome is unknown (then the sweep keeps trying). */
  channelQueryBackoffMs: [200, 500, 1_000, 2_000, 5_000],
  /** The longest wait between two sweeps' queries of one open order. */
  channelQueryDelayMaxMs: 300_000,
  /** How long a gateway top-up waits for the customer before the sweep first asks the bank. */
  channelGatewayQueryDelayMs: 60_000,
  /** How often the server's channel sweep runs, and how many open orders one sweep queries. */
  channelSweepIntervalMs: 5_000,
  channelSweepBatchMax: 200,
  /** How far a bank callback's timestamp may be from the platform's clock, either way. */
  channelCallbackSkewMs: 5 * 60_000,
  /** The longest card number and name a channel request may carry. */
  channelCardNoLengthMax: 32,
  channelNameLengthMax: 64,
  /** The largest channel amount the platform accepts before any bank limit, in fen. */
  channelAmountFenMax: 100_000_000_00,
  /** Statement lines one reconciliation reads (a bank's day for one merchant account). */
  reconLinesMax: 1_000_000,
  /** Orders one reconciliation settles at once while it walks the statement. */
  reconConcurrencyMax: 8,
  /** A process that claimed a day's channel work and has not finished it this long is taken to be
   * gone: another process takes the work over. */
  dailyWorkStaleMs: 3_600_000,
  /** When the server's daily reconciliation runs: minutes after Beijing midnight, for the day before. */
  reconDailyAtMinute: 90,
  /** How often the server checks whether the daily reconciliation and reserve report are due. */
  channelDailyTickMs: 60_000,
  /** Characters of a refund reason, a refusal reason or a logistics company name. */
  afterSaleTextCharsMax: 512,
  /** Characters of the evidence a party gives in a dispute. */
  afterSaleEvidenceCharsMax: 4096,
  /** Fund: the smallest purchase, in fen (Yu'e Bao's 1.00 yuan; funds used to ask for 100). */
  fundPurchaseFenMin: 100,
  /** Fund: the largest single purchase or redemption, in fen. */
  fundOrderFenMax: 100_000_000_00,
  /** Fund: the trading day's cut-off, minutes after Beijing midnight (15:00). */
  fundCutoffBeijingMinute: 15 * 60,
  /** Fund: fast redemptions one user may take per Beijing natural day, across products, in fen. */
  fundFastRedemptionDailyFenMax: 10_000_00,
  /** Fund: how far ahead the trading calendar looks for the next trading day. */
  fundCalendarLookaheadDays: 60,
  /** Fund: orders one confirmation round confirms (each a linked chain of two or three). */
  fundConfirmBatchMax: 1000,
  /** Fund: holders' income transfers per ledger submission of a distribution (a page). Measured
   * with payments running (BENCHMARKS.md, bench fund): pages of 8,190 five at once pay holders no
   * faster on two cores and hold payments up for seconds; 2,048 two at once keep them moving. */
  fundDistributionBatchMax: 2048,
  /** Fund: pages of a distribution in flight at once: one in the ledger while the next is read. */
  fundDistributionPagesInFlightMax: 2,
  /** Fund: an order still SUBMITTED this long was left by a crash; the fund job submits it again. */
  fundOrderSubmittedStaleMs: 60_000,
  /**
   * Fund: a payment from the fund whose chain the ledger never took, left SUBMITTED this long, is
   * taken back (the trade's sweep re-settles a stale payment long before: `tradePayingStaleMs`).
   */
  fundPaymentAbandonedMs: 86_400_000,
  /** Fund: how many days of the 7-day yield the wallet's chart and the native API show. */
  fundYieldHistoryDays: 30,
  /** Fund: how often the server's fund job confirms due orders and distributes declared income. */
  fundJobIntervalMs: 60_000,
  /** Fund: the largest income per 10,000 shares a fund company may declare, in 0.0001 yuan (100.0000). */
  fundPer10kScaledMax: 100_0000,
  /** Fund: the days of the annualised yield (the 7-day yield). */
  fundYieldDays: 7,
  /** Fund: the pool must cover at least this share (percent) of one day's fast-redemption demand. */
  fundPoolCoveragePercentMin: 100,
  /** Fund: a fund company's refill rate of its liquidity pool until it sets its own, fen per hour (1,000,000.00 yuan). */
  fundPoolRefillFenPerHourDefault: 1_000_000_00,
  /** Fund: from this Beijing minute of the day on, the fund job makes the users' evening auto-transfers (21:00). */
  fundAutoTransferBeijingMinute: 21 * 60,
  /** Fund: the largest holders `paybao report fund` lists. */
  fundReportHoldersMax: 10,
  /** Social: characters of a friend request's message. */
  socialRequestMessageLengthMax: 64,
  /** Social: characters of the nickname a user shows to friends. */
  socialNicknameLengthMax: 20,
  /** Social: characters of a group's name. */
  socialGroupNameLengthMax: 30,
  /** Social: members of a group of friends, its owner included (group red packets and bills). */
  socialGroupMembersMax: 500,
  /** Social: phone hashes one contact-matching request may carry. */
  socialContactHashesMax: 1_000,
  /** Social: friends and requests one page lists. */
  socialListMax: 500,
  /** Social: a friendship is new (transfers to the friend limited per day) for this many days. */
  socialNewFriendshipDays: 3,
  /** Social: what one user may send a new friend per Beijing day, in fen (a first guard against scams). */
  socialNewFriendDailyFenMax: 100_000,
  /** Red packets: the least one share carries, in fen (0.01 yuan). */
  redPacketShareFenMin: 1,
  /** Red packets: the most one share carries, in fen (200.00 yuan). */
  redPacketShareFenMax: 20_000,
  /** Red packets: shares of one packet to a group. */
  redPacketSharesMax: 100,
  /** Red packets: shares of one campaign packet (a merchant's red packet rain, anyone may grab). */
  redPacketCampaignSharesMax: 1_000_000,
  /** Red packets: packets whose fixed facts (sender, kind, target, account) one process keeps in memory. */
  redPacketFactsCacheMax: 10_000,
  /** Red packets: characters of the greeting. */
  redPacketGreetingLengthMax: 40,
  /** Red packets: unclaimed money goes back to the sender this long after sending (24 hours). */
  redPacketTtlMs: 24 * 3_600_000,
  /** Red packets: how often the server looks for expired packets and unpaid grabs. */
  redPacketSweepIntervalMs: 60_000,
  /** Red packets: packets refunded per sweep round (the rest wait for the next). */
  redPacketSweepBatchMax: 500,
  /** Red packets: grabs of one packet gathered into one batch (one row lock, one ledger submission). */
  redPacketGrabBatchMax: 2_000,
  /** Red packets: a recorded grab not yet paid after this long is paid by the sweep (a crash cut it short). */
  redPacketUnpaidGraceMs: 30_000,
  /** Collections (AA): a request closes this long after it is made (7 days). */
  collectionOpenMs: 7 * 24 * 3_600_000,
  /** Collections (AA): the unpaid are reminded once, this long after the request (1 day). */
  collectionRemindAfterMs: 24 * 3_600_000,
  /** Collections (AA): characters of a request's title. */
  collectionTitleLengthMax: 40,
  /** Collections (AA): the most one member may be asked for, in fen (the largest wallet transfer's bound). */
  collectionShareFenMax: 5_000_000,
  /**
   * Overload protection (src/server/overload.ts, docs/overload.md). Requests in flight in one
   * process, at most, over every class: the ceiling the adaptive limit never passes. Each class
   * may fill only its share of the limit (`overloadSharesPercent`), so what a lower class cannot
   * take stays free for the classes above it.
   */
  overloadConcurrencyMax: 2_048,
  /** The least the adaptive concurrency limit falls to, however slow or scarce the recent answers. */
  overloadConcurrencyMin: 32,
  /**
   * The share of the concurrency limit (and of the queueing bound) each class may fill, in
   * percent, from the top class down: payments, refunds and payouts, queries, bills and
   * back-office pages, notifications and sweeps. Below the top class, at most 80%: a fifth of
   * the capacity is always the payments' (Stripe's reserve for critical traffic).
   */
  overloadSharesPercent: [100, 80, 60, 40, 20],
  /**
   * The sliding window over which the adaptive limit measures the most requests answered per
   * second and the least response time (Sentinel's BBR check: admit while in flight < max QPS x
   * min RT), in buckets of `overloadBucketMs`.
   */
  overloadWindowMs: 5_000,
  overloadBucketMs: 100,
  /**
   * The buckets the server reads the max QPS over: a second, as Sentinel's metrics do, since group
   * commit answers a batch at once and a 100 ms bucket catches the burst, not the rate.
   */
  overloadRateBucketMs: 1_000,
  /** How long the server remembers its max QPS: after a lull, the limit starts from the rate shown. */
  overloadRateWindowMs: 10_000,
  /**
   * The event loop's mean delay over a sample beyond which the process counts as under pressure:
   * the adaptive limit then replaces the ceiling (as Sentinel's system rule checks BBR only above
   * its load threshold). High enough that a busy loop is not pressure, only a lagging one: group
   * commit turns concurrency into throughput, which BBR's product underestimates.
   */
  overloadEventLoopDelayMs: 100,
  /**
   * The server's response-time bound: its adaptive limit is always in force, at the requests it
   * answers within this long at its best rate shown (max QPS × max(min RT, this)). The Double-11
   * drill found why (BENCHMARKS.md): offered 3× its capacity, the server read no loop delay (the
   * queue was in the database and the CPU it shares), admitted all it was sent and answered in
   * 1.7 s; with the limit only under pressure, a surge waited a second at the ceiling before it.
   * 200 ms, the drill's target p99: at 100 ms a bench of 64 closed-loop clients was refused on a
   * loaded machine, and a limit at the rate's own RT leaves it no room to grow.
   */
  overloadResponseTimeMs: 200,
  /** After a request was shed, the adaptive limit stays in force this long (no flapping at the edge). */
  overloadCooldownMs: 1_000,
  /**
   * The longest a request of the top class may expect to wait for the event loop before it is
   * refused rather than queued; each lower class waits at most its share of it.
   */
  overloadQueueWaitMs: 500,
  /**
   * How often the event loop's delay and the heap are sampled (@fastify/under-pressure): the mean
   * over a second, so that one long task (a key generated, a big statement on PGlite) does not
   * read as a queue while a loop that lags throughout does.
   */
  overloadSampleIntervalMs: 1_000,
  /** Heap in use past which the process is under pressure (as a slow event loop is). */
  overloadHeapUsedBytesMax: 1_536 * 1_048_576,
  /** What a refused client is told to wait before it retries (`Retry-After`), in seconds. */
  overloadRetryAfterS: 1,
  /**
   * Hot-parameter limits (Sentinel's per-value flow rule): requests one gateway app may send per
   * second, with the burst it may send at once; the same for one user of the native API. One
   * merchant's storm spends its own tokens, not the others'.
   */
  appRequestsPerSecondMax: 5_000,
  appRequestsBurstMax: 10_000,
  userRequestsPerSecondMax: 50,
  userRequestsBurstMax: 200,
  /** Apps and users whose token buckets one process keeps (the longest idle leave first). */
  rateBucketsMax: 100_000,
  /** Sessions whose user one process remembers, so that all of a user's sessions share one bucket. */
  sessionUsersCacheMax: 100_000,
  /** How long a legacy gateway busy answer (signed once per method and sign type) is kept. */
  gatewayBusyAnswerCacheMs: 60_000,
  /**
   * Circuit breakers around each bank (src/channels/breaker.ts): over a sliding window of
   * `bankBreakerWindowMs` (buckets of `bankBreakerBucketMs`) with at least `bankBreakerCallsMin`
   * calls, the breaker opens when this share of calls failed without an answer (timeouts, 5xx)
   * or took longer than `bankBreakerSlowCallMs`.
   */
  bankBreakerWindowMs: 10_000,
  bankBreakerBucketMs: 1_000,
  bankBreakerCallsMin: 10,
  bankBreakerErrorPercentMax: 50,
  bankBreakerSlowPercentMax: 50,
  bankBreakerSlowCallMs: 2_000,
  /** How long an open breaker refuses every call before it lets probes through (half-open). */
  bankBreakerOpenMs: 5_000,
  /** Probe calls a half-open breaker lets through; all must succeed for it to close. */
  bankBreakerProbesMax: 3,
  /** Notices: the newest a user's list shows. */
  noticesListMax: 100,
  /** Risk: the width of one velocity bucket; a window counts whole buckets, the oldest too. */
  riskBucketMs: 10_000,
  /** Risk: the longest velocity window a rule may name (one day). */
  riskWindowMaxMs: 24 * 3_600_000,
  /** Risk: how often each process flushes its counters, reads back the recent ones and reloads changed rules. */
  riskSyncMs: 1_000,
  /** Risk: keys used within this long are read back from the store on every sync (the hot ones). */
  riskRefreshMs: 60_000,
  /** Risk: keys read back from the store by one statement. */
  riskRefreshKeysMax: 5_000,
  /** Risk: counter rows a process mirrors; past it, keys are read from the store on first use. */
  riskMirrorRowsMax: 2_000_000,
  /**
   * Risk: how far before its last read each sync reads back again (a flush committing meanwhile:
   * one statement, milliseconds). Every row in it is read again, so it is kept short.
   */
  riskMirrorLagMs: 1_000,
  /** Risk: payer–payee pairs a process keeps in its Bloom filter; past it, unknown pairs are looked up. */
  riskPayeeFilterMax: 20_000_000,
  /** Risk: the filter is sized for twice the pairs it starts with, at least this many. */
  riskPayeeFilterCapacityMin: 1_000_000,
  /** Risk: the share of new pairs the filter takes for known (each then looked up once). */
  riskPayeeFilterFalsePositiveRate: 0.01,
  /**
   * Risk: how far before its last read each sync reads the pairs learned again: a pair is marked
   * with its payment's time and written up to a sync later.
   */
  riskPayeeLagMs: 10_000,
  /** Risk: pairs read per statement while the filter is built. */
  riskPayeePageMax: 50_000,
  /** Risk: velocity keys held in memory per process before the least recently used are dropped. */
  riskCounterKeysMax: 500_000,
  /** Risk: the share of `riskCounterKeysMax` kept when the oldest are dropped. */
  riskCounterKeysKeptRatio: 0.8,
  /** Risk: how often counters older than the longest window are deleted from the store. */
  riskPruneEveryMs: 10 * 60_000,
  /** Risk: members and usual regions remembered per process, and for how long. */
  riskFactCacheMax: 200_000,
  riskFactCacheMs: 60_000,
  /** Risk: a payment confirmation code lives this long. */
  riskChallengeTtlMs: 5 * 60_000,
  /** Risk: wrong codes before a confirmation dies. */
  riskChallengeAttemptsMax: 5,
  /** Risk: the youngest-account rule may name at most this many days. */
  riskNewAccountDaysMax: 365,
  /** Risk: characters of a rule's name, a list value, an operator's note. */
  riskRuleNameMax: 80,
  riskListValueMax: 200,
  riskNoteMax: 500,
  /** Risk: rows one page of decisions, reviews or list entries shows. */
  riskListPageMax: 500,
  /** A PGlite backup taken through its owner comes in rows of this many bytes (as base64 text: a third more). */
  pgliteBackupRowBytes: 6 * 1024 * 1024,
  /** How long the HTTP server keeps an idle kept-alive connection open (Fastify's own default). */
  httpKeepAliveTimeoutMs: 72_000,
  /**
   * `paybao backup verify` and `restore` on PostgreSQL: how long recovery (the base backup's WAL
   * and the archive's, up to the target) may take before the scratch server is given up; how often
   * it is asked whether recovery has ended; how long it may take to stop; the scratch server's
   * shared buffers (a production server's may not fit the machine that verifies).
   */
  baseBackupRecoveryWaitMs: 3_600_000,
  baseBackupRecoveryPollMs: 200,
  baseBackupStopWaitMs: 60_000,
  baseBackupSharedBuffersBytes: 128 * 1024 * 1024,
  /** `paybao drill crash`: how long a round waits for its first payment before it kills the server anyway. */
  drillFirstPaymentWaitMs: 60_000,
  /** `paybao drill failover`: how long the local cluster may take to settle (created, or a node rejoined). */
  drillClusterReadyMs: 180_000,
  /** How often the failover drill asks the monitor for the nodes' states. */
  drillClusterPollMs: 500,
  /** The most a `pg_autoctl` command may print (its create commands log their every step). */
  drillCommandOutputBytesMax: 16 * 1024 * 1024,
  /** How long the failover drill waits after the kill for a payment to succeed again before it gives up. */
  drillFailoverRecoveryMs: 120_000,
  /** A merchant's pause before it retries a payment answered with the system-busy code. */
  drillRetryPauseMs: 200,
  /** The server's log lines a drill shows (a failover's refusals would drown its own). */
  drillServerLogLinesMax: 20,
  /**
   * The Double-11 drill (`paybao bench double11`) and its open-loop generator: the rest between
   * steps (one step's queue and the limit's cool-down must not colour the next); how long a
   * request due waits for a free connection before the generator gives it up (`unsent`), and for
   * its answer (`timeout`, the connection closed); how often the sender looks for requests due,
   * and for answers overdue.
   */
  drillRestMs: 1_000,
  /** The benches' lean client: how long it waits before sending a request the platform was too busy for, and how often. */
  leanClientBusyRetryMs: 50,
  leanClientBusyRetriesMax: 100,
  drillSendWaitMs: 1_000,
  drillAnswerWaitMs: 10_000,
  openLoopTickMs: 1,
  openLoopOverdueCheckMs: 100,
  /**
   * The demo a fresh install creates (src/cli/demo.ts): its merchant's RSA key size, the escrow
   * contract's fee and confirm period, and how long it waits for the simulated bank to start.
   */
  demoRsaBits: 2048,
  demoEscrowFeeBps: 60,
  demoConfirmPeriodMs: 10 * 86_400_000,
  demoBankWaitMs: 30_000,
  demoBankPollMs: 200,
  /** The random bytes of the nonce that admits a desk app's run-time style elements, drawn per response. */
  styleNonceBytes: 16,
} as const;
