import { assert } from '../core/assert.ts';
import type { Clock } from '../core/clock.ts';
import { type Db, typed } from '../core/db/index.ts';
import { isIdempotencyKey, refuseReusedKey, requestFingerprint } from '../core/idempotency.ts';
import { derivedId, u128FromUuid, uuidFromU128 } from '../core/ids.ts';
import { cnyLedger, WalletTransferCode } from '../core/ledger-codes.ts';
import { limits } from '../core/limits.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import { beijingOffsetMs } from '../core/time.ts';
import { assertLedgerResult, chainCommitted, type Ledger, TransferFlags, type TransferInput } from '../ledger/index.ts';
import { isMembersError, type Members, normalizePhone, type User } from '../members/index.ts';
import { bothSupported, type PaymentContext, type Risk } from '../risk/index.ts';
import type { FundingSource } from '../trades/index.ts';
import { WalletError, type WalletErrorCode } from './errors.ts';
import type { TransferRow, WalletTables } from './tables.ts';

/** A transfer as the payer asks for it: to a user id or to a phone, never both. */
export interface TransferRequest {
  toUserId?: string | undefined;
  toPhone?: string | undefined;
  /** Yuan as a decimal string ("88.88"). */
  amount: string;
  memo?: string | undefined;
  /** Where the money comes from: the balance (the default), or Yu'e Bao (`fund`). */
  source?: 'balance' | 'fund' | undefined;
}

/**
 * What a transfer between two users must respect beyond money (the social module's rules, wired
 * in the root): the payee's block, and a per-day cap for a new friendship.
 */
export interface TransferPolicy {
  rule(payerId: string, payeeId: string): Promise<{ blocked: boolean; dailyLimitFen: bigint | null }>;
}

/** A transfer that moved money. */
export interface TransferView {
  /** The ledger transfer's id (a UUID). */
  id: string;
  fromUserId: string;
  toUserId: string;
  amount: string;
  memo: string;
  createdAtNs: bigint;
  /** `in_review`: the money is held until an operator decides (the risk engine's review). */
  status: 'succeeded' | 'in_review';
}

export interface TransferOutcome {
  transfer: TransferView;
  /** True when this answer is a stored one: the key had already moved the money. */
  replayed: boolean;
}

/** Control characters (PostgreSQL text refuses NUL) and lone surrogates have no place in a memo. */
const memoForbidden = /[\p{Cc}\p{Cs}]/u;

/**
 * User-to-user transfers, idempotent by (payer, Idempotency-Key). The key's row is claimed before
 * the ledger is asked, and the ledger transfer id is derived from payer and key: so a replay, a
 * concurrent duplicate, or a retry after a crash between the ledger and the row's outcome all
 * move the money at most once, and every one of them answers what the first one did.
 */
export class Transfers {
  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly members: Members,
    private readonly clock: Clock,
    private readonly policy: TransferPolicy | undefined = undefined,
    /** Yu'e Bao, for transfers paid from it (the trades' port, wired by the platform). */
    private readonly funding: FundingSource | undefined = undefined,
    /** The risk engine, asked before a new transfer is written; none in unit tests of the wallet alone. */
    private readonly risk: Risk | undefined = undefined,
  ) {}

  /**
   * Moves `amount` from the payer's wallet to another user's. Throws `amount_invalid`,
   * `parameter_invalid`, `parameter_missing`, `recipient_not_found`, `recipient_is_sender`,
   * `balance_not_enough` (stored: a replay answers it again), `idempotency_key_reused`,
   * `idempotency_request_in_progress`; the risk engine's `payment_denied` and `challenge_required`
   * (nothing written but its record; the same request sent again with the confirmation goes on).
   * A transfer the engine sends to review is held and answered `in_review`.
   */
  async transfer(
    payer: User,
    key: string,
    request: TransferRequest,
    context: PaymentContext = {},
  ): Promise<TransferOutcome> {
    const checked = checkRequest(key, request);
    const existing = await this.#row(payer.userId, key);
    if (existing) return this.#resume(existing, checked.hash);
    const payee = await this.#payee(request);
    if (payee.userId === payer.userId) throw new WalletError('recipient_is_sender');
    if ((await this.policy?.rule(payer.userId, payee.userId))?.blocked) throw new WalletError('recipient_unavailable');
    // From Yu'e Bao: the product that covers it now, or a refusal before anything is written.
    const fundSource = checked.fromFund ? await this.#fundSource(payer.userId, checked.fen) : null;
    const verdict = await this.risk?.assess(
      {
        path: 'transfer',
        userId: payer.userId,
        payeeId: payee.userId,
        amountFen: checked.fen,
        address: context.address,
        device: context.device,
        ref: `${payer.userId}/${key}`,
      },
      { supports: bothSupported, fingerprint: checked.hash, challenge: context.challenge },
    );
    const now = this.clock.nowNs();
    const claimed = await this.#tables()
      .insertInto('wallet_transfers')
      .values({
        user_id: payer.userId,
        idempotency_key: key,
        request_hash: checked.hash,
        transfer_id: uuidFromU128(transferId(payer.userId, key)),
        to_user_id: payee.userId,
        amount_fen: checked.fen,
        memo: checked.memo,
        status: 'processing',
        lease_until_ns: now + msToNs(limits.idempotencyLeaseMs),
        created_at_ns: now,
        fund_source: fundSource,
        review_id: verdict?.decision === 'review' ? verdict.reviewId : null,
      })
      .onConflict((oc) => oc.columns(['user_id', 'idempotency_key']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (claimed) return this.#run(claimed, false);
    // An identical request got there between our look and our insert.
    const raced = await this.#row(payer.userId, key);
    assert(raced, 'a conflicting idempotency row exists');
    return this.#resume(raced, checked.hash);
  }

  /** The memos of the given ledger transfers that are user-to-user transfers. */
  async memos(transferIds: readonly bigint[]): Promise<Map<bigint, string>> {
    if (transferIds.length === 0) return new Map();
    const rows = await this.#tables()
      .selectFrom('wallet_transfers')
      .select(['transfer_id', 'memo'])
      .where((eb) => eb('transfer_id', '=', eb.fn.any(eb.val(transferIds.map(uuidFromU128)))))
      .execute();
    return new Map(rows.map((r) => [u128FromUuid(r.transfer_id), r.memo]));
  }

  /** A key seen before: the stored outcome, or a wait for the request holding it, or its lease. */
  async #resume(first: TransferRow, hash: string): Promise<TransferOutcome> {
    refuseReusedKey(
      first.request_hash,
      hash,
      () => new WalletError('idempotency_key_reused', { param: 'Idempotency-Key' }),
    );
    const deadline = performance.now() + limits.idempotencyWaitMs;
    let row: TransferRow | undefined = first;
    for (;;) {
      assert(row, 'an idempotency row is never deleted');
      if (row.status !== 'processing') return answer(row, true);
      const taken = await this.#tables()
        .updateTable('wallet_transfers')
        .set({ lease_until_ns: this.#leaseEnd() })
        .where('user_id', '=', row.user_id)
        .where('idempotency_key', '=', row.idempotency_key)
        .where('status', '=', 'processing')
        .where('lease_until_ns', '<=', this.clock.nowNs())
        .returningAll()
        .executeTakeFirst();
      if (taken) return this.#run(taken, true);
      if (performance.now() >= deadline) {
        throw new WalletError('idempotency_request_in_progress', { param: 'Idempotency-Key' });
      }
      await new Promise((resolve) => setTimeout(resolve, limits.idempotencyPollMs));
      row = await this.#row(row.user_id, row.idempotency_key);
    }
  }

  /** Asks the ledger to move a claimed row's money, records the outcome, answers it. */
  async #run(row: TransferRow, replayed: boolean): Promise<TransferOutcome> {
    const held = row.review_id !== null;
    let status: 'held' | 'succeeded' | 'failed';
    let errorCode: WalletErrorCode | null = null;
    try {
      if (await this.#overDailyLimit(row)) {
        status = 'failed';
        errorCode = 'new_friend_limit_exceeded';
      } else {
        const [payer, payee] = await Promise.all([
          this.members.getMember(row.user_id),
          this.members.getMember(row.to_user_id),
        ]);
        const moved = await this.#move(row, payer.walletAccountId, payee.walletAccountId, held);
        status = moved !== 'ok' ? 'failed' : held ? 'held' : 'succeeded';
        if (moved !== 'ok') errorCode = moved;
      }
      if (held && status === 'failed') await this.risk?.dropReview(row.review_id ?? '', `not held: ${errorCode}`);
    } catch (error) {
      // Let the next retry run at once instead of waiting out the lease.
      await this.#tables()
        .updateTable('wallet_transfers')
        .set({ lease_until_ns: 0n })
        .where('user_id', '=', row.user_id)
        .where('idempotency_key', '=', row.idempotency_key)
        .where('status', '=', 'processing')
        .execute()
        .catch(() => {});
      throw error;
    }
    // The ledger is the truth: money that moved is recorded as moved whatever was written before.
    const recorded = await this.#tables()
      .updateTable('wallet_transfers')
      .set({
        status,
        error_code: errorCode,
        completed_at_ns: this.clock.nowNs(),
      })
      .where('user_id', '=', row.user_id)
      .where('idempotency_key', '=', row.idempotency_key)
      .where('status', status === 'succeeded' ? '<>' : '=', status === 'succeeded' ? 'succeeded' : 'processing')
      .returningAll()
      .executeTakeFirst();
    const final = recorded ?? (await this.#row(row.user_id, row.idempotency_key));
    assert(final, 'an idempotency row is never deleted');
    return answer(final, replayed);
  }

  /**
   * An operator's decision on a transfer held for review (the risk engine's handler): `approve`
   * posts the hold, `reject` voids it and the transfer fails with `risk_rejected`. A hold a crash
   * kept from being made is made first, so the decision always has money to act on; each step is
   * idempotent, and the ledger posts or voids a hold once.
   */
  async decideHeld(ref: string, verdict: 'approve' | 'reject'): Promise<void> {
    const slash = ref.indexOf('/');
    const row = await this.#row(ref.slice(0, slash), ref.slice(slash + 1));
    assert(row?.review_id, `a reviewed transfer ${ref} exists and is held for review`);
    if (row.status === 'succeeded' || row.status === 'failed') return;
    const [payer, payee] = await Promise.all([
      this.members.getMember(row.user_id),
      this.members.getMember(row.to_user_id),
    ]);
    const hold = await this.#move(row, payer.walletAccountId, payee.walletAccountId, true);
    let status: 'succeeded' | 'failed' = verdict === 'approve' ? 'succeeded' : 'failed';
    let errorCode: string | null = verdict === 'approve' ? null : 'risk_rejected';
    if (hold !== 'ok') {
      status = 'failed';
      errorCode = hold;
    } else {
      const pendingId = u128FromUuid(row.transfer_id);
      const [result] = await this.ledger.createTransfers([
        {
          id: derivedId(`wallet.transfer.${verdict}`, row.transfer_id),
          pendingId,
          debitAccountId: payer.walletAccountId,
          creditAccountId: payee.walletAccountId,
          amount: 0n,
          ledger: cnyLedger,
          code: WalletTransferCode.userToUser,
          flags: verdict === 'approve' ? TransferFlags.postPendingTransfer : TransferFlags.voidPendingTransfer,
        },
      ]);
      assertLedgerResult(result, `${verdict} of held transfer ${row.transfer_id}`, [
        verdict === 'approve' ? 'pending_transfer_already_posted' : 'pending_transfer_already_voided',
      ]);
    }
    await this.#tables()
      .updateTable('wallet_transfers')
      .set({ status, error_code: errorCode, completed_at_ns: this.clock.nowNs() })
      .where('user_id', '=', row.user_id)
      .where('idempotency_key', '=', row.idempotency_key)
      .where('status', 'in', ['processing', 'held'])
      .execute();
  }

  /**
   * Moves a claimed row's money: from the balance, one transfer; from Yu'e Bao, the fund's legs
   * (its shares redeemed into the payer's wallet) and the transfer as ONE linked chain, both or
   * neither. `held`: the transfer is pending (a hold for the risk engine's review). Answers
   * `ok` (also when it was made before), or the stored refusal.
   */
  async #move(
    row: TransferRow,
    from: bigint,
    to: bigint,
    held: boolean,
  ): Promise<'ok' | 'balance_not_enough' | 'fund_not_enough'> {
    const transfer = {
      id: u128FromUuid(row.transfer_id),
      debitAccountId: from,
      creditAccountId: to,
      amount: row.amount_fen,
      ledger: cnyLedger,
      code: WalletTransferCode.userToUser,
      userData64: BigInt(row.user_id),
      ...(held && { flags: TransferFlags.pending }),
    };
    if (row.fund_source === null) {
      const [result] = await this.ledger.createTransfers([transfer]);
      assertLedgerResult(result, `transfer ${row.transfer_id}`, ['exceeds_credits']);
      return result === 'exceeds_credits' ? 'balance_not_enough' : 'ok';
    }
    assert(this.funding, `transfer ${row.transfer_id} draws on a fund the platform did not wire`);
    const request = {
      tradeNo: `wallet-transfer-${row.transfer_id}`,
      buyerId: row.user_id,
      buyerAccount: from,
      source: row.fund_source,
      fen: row.amount_fen,
    };
    let legs: TransferInput[];
    try {
      legs = await this.funding.legs(request);
    } catch (error) {
      if (this.funding.isRefusal(error)) return 'fund_not_enough';
      throw error;
    }
    const results = await this.ledger.createTransfers([...legs, transfer]);
    const refusal = await this.funding.settled(request, results.slice(0, legs.length));
    if (chainCommitted(results)) return 'ok';
    if (refusal) return 'fund_not_enough';
    assertLedgerResult(results[legs.length], `transfer ${row.transfer_id}`, ['exceeds_credits', 'linked_event_failed']);
    return 'balance_not_enough';
  }

  /** The fund product that pays `fen` for the payer now; `fund_not_enough` when none does. */
  async #fundSource(payerId: string, fen: bigint): Promise<string> {
    if (!this.funding) throw new WalletError('fund_not_enough', { param: 'source' });
    try {
      return await this.funding.choose(payerId, fen);
    } catch (error) {
      if (this.funding.isRefusal(error)) throw new WalletError('fund_not_enough', { param: 'source' });
      throw error;
    }
  }

  /**
   * Whether this transfer would take what the payer sent the payee today (Beijing) past a new
   * friendship's cap. Counts every request of the pair today not failed, this one included: two
   * racing requests each see the other, so together they never pass the cap (at worst both are
   * refused).
   */
  async #overDailyLimit(row: TransferRow): Promise<boolean> {
    const rule = await this.policy?.rule(row.user_id, row.to_user_id);
    if (!rule || rule.dailyLimitFen === null) return false;
    // A request resumed after a crash may have moved its money already: the ledger is the truth,
    // and money that moved is recorded as moved, whatever the cap says now.
    const [moved] = await this.ledger.lookupTransfers([u128FromUuid(row.transfer_id)]);
    if (moved) return false;
    const dayStartNs = beijingDayStartNs(this.clock.nowNs());
    const [sum] = await this.db.query<{ fen: bigint }>(
      `select coalesce(sum(amount_fen), 0)::bigint fen from wallet_transfers
        where user_id = $1 and to_user_id = $2 and status <> 'failed' and created_at_ns >= $3`,
      [row.user_id, row.to_user_id, dayStartNs],
    );
    return (sum?.fen ?? 0n) > rule.dailyLimitFen;
  }

  async #payee(request: TransferRequest): Promise<User> {
    try {
      if (request.toUserId !== undefined) return await this.members.getUser(request.toUserId);
      return await this.members.findUserByPhone(request.toPhone ?? '');
    } catch (error) {
      if (isMembersError(error, 'user_not_found')) {
        throw new WalletError('recipient_not_found', {
          param: request.toUserId !== undefined ? 'to_user_id' : 'to_phone',
        });
      }
      throw error;
    }
  }

  #row(userId: string, key: string): Promise<TransferRow | undefined> {
    return this.#tables()
      .selectFrom('wallet_transfers')
      .selectAll()
      .where('user_id', '=', userId)
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
  }

  #tables() {
    return typed<WalletTables>(this.db);
  }

  #leaseEnd(): bigint {
    return this.clock.nowNs() + msToNs(limits.idempotencyLeaseMs);
  }
}

/** The start of the Beijing day of `ns`, in ns since the epoch. */
function beijingDayStartNs(ns: bigint): bigint {
  const dayNs = 86_400_000_000_000n;
  const offsetNs = BigInt(beijingOffsetMs) * 1_000_000n;
  return ((ns + offsetNs) / dayNs) * dayNs - offsetNs;
}

/** The ledger id of the transfer a (payer, key) pair stands for. */
export function transferId(userId: string, key: string): bigint {
  // The user id is 16 digits, so the separator cannot be forged by a key.
  return derivedId('wallet.transfer', `${userId}/${key}`);
}

/** Everything that can be judged without the database, and the request's fingerprint. */
function checkRequest(
  key: string,
  request: TransferRequest,
): { fen: bigint; memo: string; hash: string; fromFund: boolean } {
  if (!isIdempotencyKey(key)) throw new WalletError('parameter_invalid', { param: 'Idempotency-Key' });
  const fen = typeof request.amount === 'string' ? parseAmount(request.amount) : undefined;
  if (fen === undefined || fen < 1n || fen > BigInt(limits.walletTransferFenMax)) {
    throw new WalletError('amount_invalid', { param: 'amount' });
  }
  const memo = request.memo ?? '';
  if ([...memo].length > limits.transferMemoLengthMax || memoForbidden.test(memo)) {
    throw new WalletError('parameter_invalid', { param: 'memo' });
  }
  if (request.toUserId === undefined && request.toPhone === undefined) {
    throw new WalletError('parameter_missing', { param: 'to_user_id', detail: 'give to_user_id or to_phone' });
  }
  if (request.toUserId !== undefined && request.toPhone !== undefined) {
    throw new WalletError('parameter_invalid', { param: 'to_phone', detail: 'give to_user_id or to_phone, not both' });
  }
  const to =
    request.toUserId !== undefined
      ? { to_user_id: request.toUserId }
      : { to_phone: normalizePhone(request.toPhone ?? '') ?? request.toPhone };
  // The fingerprint is of the request's meaning: "1.5" and "1.50" are the same request.
  const source = request.source ?? 'balance';
  if (source !== 'balance' && source !== 'fund') throw new WalletError('parameter_invalid', { param: 'source' });
  // A transfer from the balance keeps the fingerprint it always had; one from the fund adds its source.
  const meaning = { ...to, amount_fen: fen.toString(), memo, ...(source === 'fund' && { source }) };
  return { fen, memo, hash: requestFingerprint(meaning), fromFund: source === 'fund' };
}

function answer(row: TransferRow, replayed: boolean): TransferOutcome {
  assert(row.status !== 'processing', 'only a finished request is answered');
  if (row.status === 'failed') throw new WalletError((row.error_code ?? 'internal_error') as WalletErrorCode);
  return {
    transfer: {
      status: row.status === 'held' ? 'in_review' : 'succeeded',
      id: row.transfer_id,
      fromUserId: row.user_id,
      toUserId: row.to_user_id,
      amount: formatAmount(row.amount_fen),
      memo: row.memo,
      createdAtNs: row.created_at_ns,
    },
    replayed,
  };
}

const msToNs = (ms: number): bigint => BigInt(ms) * 1_000_000n;
