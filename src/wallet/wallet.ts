import type { Clock } from '../core/clock.ts';
import type { Db } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import type { Ledger } from '../ledger/index.ts';
import { isMembersError, type Members, type User } from '../members/index.ts';
import type { PaymentContext, Risk } from '../risk/index.ts';
import { type FundingSource, TradeError, type Trades, type TradeView } from '../trades/index.ts';
import { type BillEntry, type BillPage, type BillQuery, billEntry, billPage, type TradeRefs } from './bills.ts';
import { WalletError } from './errors.ts';
import { type NewSession, Sessions } from './sessions.ts';
import { type TransferOutcome, type TransferPolicy, type TransferRequest, Transfers } from './transfers.ts';

export interface WalletDeps {
  db: Db;
  ledger: Ledger;
  members: Members;
  trades: Trades;
  /** Trade numbers behind the ledger's `user_data_128`, for bill entries; wired by the platform. */
  tradeRefs: TradeRefs;
  clock: Clock;
  /** The payee's block and a new friendship's daily cap (the social module's rules); none when absent. */
  transferPolicy?: TransferPolicy | undefined;
  /** Yu'e Bao, for transfers paid from it (the trades' `FundingSource`, wired by the platform). */
  funding?: FundingSource | undefined;
  /** The risk engine, asked before every transfer moves money. */
  risk?: Risk | undefined;
}

/** How a user proves who they are: a password, or an SMS code sent by `sendLoginCode`. */
export interface LoginInput {
  phone: string;
  password?: string | undefined;
  smsCode?: string | undefined;
  /** Where the request came from, as the HTTP edge groups addresses: password logins are throttled by it too. */
  clientAddress?: string | undefined;
}

/**
 * The wallet as its owner sees it: the application service behind the native API. Every method
 * takes the user an authenticated session resolved to; operating errors are `WalletError`s from
 * the one catalog in errors.ts (members' errors are translated here).
 */
export class Wallet {
  readonly #deps: WalletDeps;
  readonly #sessions: Sessions;
  readonly #transfers: Transfers;

  constructor(deps: WalletDeps) {
    this.#deps = deps;
    this.#sessions = new Sessions(deps.db, deps.clock);
    this.#transfers = new Transfers(
      deps.db,
      deps.ledger,
      deps.members,
      deps.clock,
      deps.transferPolicy,
      deps.funding,
      deps.risk,
    );
    // An operator's decision on a transfer held for review reaches it here.
    deps.risk?.onReviewed('transfer', {
      approve: (ref) => this.#transfers.decideHeld(ref, 'approve'),
      reject: (ref) => this.#transfers.decideHeld(ref, 'reject'),
    });
  }

  /**
   * Logs in and opens a session. Throws `parameter_missing`, `parameter_invalid`, `login_failed`,
   * `login_throttled` (with `retryAfterMs`).
   */
  async login(input: LoginInput): Promise<NewSession> {
    const { members } = this.#deps;
    if ((input.password === undefined) === (input.smsCode === undefined)) {
      throw new WalletError(input.password === undefined ? 'parameter_missing' : 'parameter_invalid', {
        param: 'password',
        detail: 'give password or sms_code, not both',
      });
    }
    let user: User;
    try {
      if (input.password !== undefined) {
        if ([...input.password].length > limits.passwordLengthMax) throw new WalletError('login_failed');
        user = await members.loginWithPassword(input.phone, input.password, { clientAddress: input.clientAddress });
      } else {
        user = await members.loginWithSmsCode(input.phone, input.smsCode ?? '');
      }
    } catch (error) {
      if (isMembersError(error, 'login_throttled')) {
        const minutes = Math.max(1, Math.ceil((error.retryAfterMs ?? 0) / 60_000));
        const throttled = new WalletError('login_throttled', { detail: `try again in ${minutes} min` });
        throttled.retryAfterMs = error.retryAfterMs;
        throw throttled;
      }
      if (isMembersError(error, 'login_failed') || isMembersError(error, 'sms_code_invalid')) {
        throw new WalletError('login_failed');
      }
      if (isMembersError(error) && error.code.startsWith('sms_code_')) {
        throw new WalletError('login_failed', { detail: error.message });
      }
      throw error;
    }
    return this.#sessions.open(user.userId);
  }

  /**
   * Sends a login code to a registered phone; an unregistered one gets nothing and the caller is
   * not told. Throws `parameter_invalid`, `sms_code_too_frequent`.
   */
  async sendLoginCode(phone: string): Promise<void> {
    try {
      await this.#deps.members.sendLoginCode(phone);
    } catch (error) {
      if (isMembersError(error, 'phone_invalid')) throw new WalletError('parameter_invalid', { param: 'phone' });
      if (isMembersError(error, 'sms_code_too_frequent')) throw new WalletError('sms_code_too_frequent');
      throw error;
    }
  }

  /** The user of a live session token; throws `session_invalid`. */
  async authenticate(token: string): Promise<User> {
    const userId = await this.#sessions.userOf(token);
    if (userId === undefined) throw new WalletError('session_invalid');
    try {
      return await this.#deps.members.getUser(userId);
    } catch (error) {
      if (isMembersError(error, 'user_not_found')) throw new WalletError('session_invalid');
      throw error;
    }
  }

  /** Ends the session of `token`. */
  logout(token: string): Promise<void> {
    return this.#sessions.revoke(token);
  }

  /** What the wallet can spend now, in fen. */
  balance(user: User): Promise<bigint> {
    return this.#deps.members.walletBalance(user.userId);
  }

  /** One page of the user's bill, newest first. Throws `parameter_invalid` (limit, cursor). */
  bills(user: User, options: BillQuery): Promise<BillPage> {
    return billPage(this.#billSources(), user, options);
  }

  /** One entry of the user's bill by its id. Throws `bill_not_found`. */
  bill(user: User, id: string): Promise<BillEntry> {
    return billEntry(this.#billSources(), user, id);
  }

  #billSources() {
    const { ledger, tradeRefs } = this.#deps;
    return { ledger, tradeRefs, memos: (ids: readonly bigint[]) => this.#transfers.memos(ids) };
  }

  /** See `Transfers.transfer`: idempotent by (user, key). */
  transfer(
    user: User,
    idempotencyKey: string,
    request: TransferRequest,
    context: PaymentContext = {},
  ): Promise<TransferOutcome> {
    return this.#transfers.transfer(user, idempotencyKey, request, context);
  }

  /** A fresh single-use payment code for a till, and how long it lives. */
  async newPaymentCode(user: User): Promise<{ code: string; expiresInS: number }> {
    const code = await this.#deps.members.newPaymentCode(user.userId);
    return { code, expiresInS: Math.floor(limits.paymentCodeTtlMs / 1000) };
  }

  /** A trade the user paid (is the buyer of); anyone else's is `trade_not_found`, like a missing one. */
  /**
   * The trades the user paid, newest first, a page at a time; `nextAfter` (the page's last
   * trade_no, or null on the last page) is the next page's `after`.
   */
  async trades(
    user: User,
    page: { limit?: number | undefined; after?: string | undefined },
  ): Promise<{ trades: TradeView[]; nextAfter: string | null }> {
    const limit = page.limit ?? limits.billsPageDefault;
    if (!Number.isInteger(limit) || limit < 1 || limit > limits.billsPageMax)
      throw new WalletError('parameter_invalid', { param: 'limit', detail: `from 1 to ${limits.billsPageMax}` });
    // One more than asked: whether another page follows.
    const found = await this.#deps.trades.ofBuyer(user.userId, { limit: limit + 1, after: page.after });
    const trades = found.slice(0, limit);
    return { trades, nextAfter: found.length > limit ? (trades.at(-1)?.tradeNo ?? null) : null };
  }

  async trade(user: User, tradeNo: string): Promise<TradeView> {
    const trade = await this.#deps.trades.byTradeNo(tradeNo).catch((error: unknown) => {
      if (error instanceof TradeError && error.code === 'TRADE_NOT_EXIST') return null;
      throw error;
    });
    if (trade?.buyerId !== user.userId) throw new WalletError('trade_not_found', { param: 'trade_no' });
    return trade;
  }
}
