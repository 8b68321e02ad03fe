import { assert } from '../core/assert.ts';
import { type Db, typed } from '../core/db/index.ts';
import { id, u128FromUuid, uuidFromU128 } from '../core/ids.ts';
import { AccountCode, cnyLedger, TransferCode } from '../core/ledger-codes.ts';
import { type Account, AccountFlags, assertLedgerResult, type Ledger } from '../ledger/index.ts';
import type { MemberTables } from './tables.ts';

/** Names of the platform's own accounts in `platform_accounts`. */
export const PlatformAccount = {
  funding: 'funding',
} as const;

/** What the ledger needs to know of a member to hold its wallet. */
export interface WalletOwner {
  userId: string;
  kind: 'user' | 'merchant';
  walletAccountId: bigint;
  openingBalance: bigint;
  /** Set exactly when `openingBalance` is above zero. */
  openingTransferId: bigint | undefined;
}

/**
 * The members' side of the ledger: wallets, the platform funding account, opening balances.
 * Every write here is idempotent (the ids are chosen once and stored), so any step can be run
 * again after a crash and the ledger answers `exists` instead of moving money twice.
 */
export class Wallets {
  readonly #db: Db;
  readonly #ledger: Ledger;
  #funding: Promise<bigint> | undefined;
  constructor(db: Db, ledger: Ledger) {
    this.#db = db;
    this.#ledger = ledger;
  }

  /** Creates the owner's wallet if it is missing, then its opening transfer if it has one. */
  async ensure(owner: WalletOwner): Promise<void> {
    const [created] = await this.#ledger.createAccounts([
      {
        id: owner.walletAccountId,
        ledger: cnyLedger,
        code: owner.kind === 'user' ? AccountCode.userWallet : AccountCode.merchantWallet,
        flags: AccountFlags.debitsMustNotExceedCredits,
        userData64: BigInt(owner.userId),
      },
    ]);
    assertOkOrExists(created, `wallet of ${owner.userId}`);
    if (owner.openingBalance === 0n) return;
    assert(owner.openingTransferId !== undefined, 'an opening balance has a transfer id');
    const [funded] = await this.#ledger.createTransfers([
      {
        id: owner.openingTransferId,
        debitAccountId: await this.fundingAccountId(),
        creditAccountId: owner.walletAccountId,
        amount: owner.openingBalance,
        ledger: cnyLedger,
        code: TransferCode.openingBalance,
        userData64: BigInt(owner.userId),
      },
    ]);
    assertOkOrExists(funded, `opening balance of ${owner.userId}`);
  }

  /**
   * The platform funding account, created once. Racing processes each propose an id; the first
   * row in `platform_accounts` wins and everyone creates that one account (`ok` or `exists`).
   */
  fundingAccountId(): Promise<bigint> {
    this.#funding ??= this.#createFunding().catch((error: unknown) => {
      this.#funding = undefined;
      throw error;
    });
    return this.#funding;
  }

  /** The wallet's account, or undefined if it has not been created yet. */
  async account(walletAccountId: bigint): Promise<Account | undefined> {
    const [account] = await this.#ledger.lookupAccounts([walletAccountId]);
    return account;
  }

  async #createFunding(): Promise<bigint> {
    const accounts = typed<MemberTables>(this.#db);
    await accounts
      .insertInto('platform_accounts')
      .values({
        name: PlatformAccount.funding,
        account_id: uuidFromU128(id()),
        ledger: cnyLedger,
        code: AccountCode.platformFunding,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await accounts
      .selectFrom('platform_accounts')
      .select('account_id')
      .where('name', '=', PlatformAccount.funding)
      .executeTakeFirst();
    assert(row, 'the funding account row exists after inserting it');
    const accountId = u128FromUuid(row.account_id);
    const [result] = await this.#ledger.createAccounts([
      { id: accountId, ledger: cnyLedger, code: AccountCode.platformFunding },
    ]);
    assertOkOrExists(result, 'platform funding account');
    return accountId;
  }
}

/** Anything but `ok` or `exists` here is a bug: the ids and fields come from our own rows. */
function assertOkOrExists(result: string | undefined, what: string): void {
  assertLedgerResult(result, what);
}
