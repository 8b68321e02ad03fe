import { derivedId } from '../core/ids.ts';
import { ChannelAccountCode, ChannelTransferCode, cnyLedger } from '../core/ledger-codes.ts';
import { amountMax, assertLedgerResult, type Ledger } from '../ledger/index.ts';
import { ChannelError } from './errors.ts';
import type { ChannelParties } from './service.ts';

/** The demo reserve (code 22): one for the platform, created on first use. */
export const demoReserveAccountId = derivedId('channels.demo', 'reserve');

/** The transfer of one demo deposit: one per user and reference, so a repeat moves money once. */
export const demoDepositId = (userId: string, reference: string): bigint =>
  derivedId('channels.demo.deposit', `${userId}:${reference}`);

/**
 * Demo money (`paybao users create --balance`): it enters a wallet as bank money does, from a
 * reserve account into the wallet, so that the reserve report of a demo platform balances and
 * says covered. It comes from the demo reserve, not from a real bank's reserve: no bank holds
 * this money, and a bank's reserve must stay equal to what that bank's own books show for the
 * platform (the chaos test proves it). The reserve report lists the demo reserve apart
 * (`demoReserve`), so anyone reading it sees how much of the coverage is demo money.
 * No bank is called: a demo needs no simulator running.
 */
export class DemoDeposits {
  #reserve: Promise<void> | undefined;

  constructor(
    private readonly ledger: Ledger,
    private readonly parties: ChannelParties,
  ) {}

  /**
   * Moves `amountFen` from the demo reserve into the user's wallet (transfer code 303), once per
   * (user, reference): a repeat answers `exists` and moves nothing. Throws `amount_invalid`,
   * `user_not_found`, and `parameter_invalid` when the reference was used for another amount.
   */
  async deposit(userId: string, amountFen: bigint, reference: string): Promise<'ok' | 'exists'> {
    if (amountFen <= 0n || amountFen > amountMax) throw new ChannelError('amount_invalid', { param: 'amount' });
    const wallet = await this.parties.walletOf(userId);
    if (wallet === null) throw new ChannelError('user_not_found', { param: 'user_id' });
    await this.#ensureReserve();
    const [result] = await this.ledger.createTransfers([
      {
        id: demoDepositId(userId, reference),
        debitAccountId: demoReserveAccountId,
        creditAccountId: wallet,
        amount: amountFen,
        userData64: BigInt(userId),
        ledger: cnyLedger,
        code: ChannelTransferCode.demoDeposit,
      },
    ]);
    if (result === 'ok' || result === 'exists') return result;
    if (result?.startsWith('exists_with_different_'))
      throw new ChannelError('parameter_invalid', {
        param: 'reference',
        detail: `a demo deposit "${reference}" of another amount was made for this user`,
      });
    assertLedgerResult(result, `demo deposit for ${userId}`);
    return result;
  }

  #ensureReserve(): Promise<void> {
    this.#reserve ??= (async () => {
      const [result] = await this.ledger.createAccounts([
        { id: demoReserveAccountId, ledger: cnyLedger, code: ChannelAccountCode.demoReserve },
      ]);
      assertLedgerResult(result, 'demo reserve account');
    })().catch((error: unknown) => {
      this.#reserve = undefined;
      throw error;
    });
    return this.#reserve;
  }
}
