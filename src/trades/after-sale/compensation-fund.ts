import { assert } from '../../core/assert.ts';
import type { Db } from '../../core/db/index.ts';
import { derivedId, u128FromUuid } from '../../core/ids.ts';
import { cnyLedger, EscrowTransferCode } from '../../core/ledger-codes.ts';
import { limits } from '../../core/limits.ts';
import { assertLedgerResult, type Ledger, TransferFlags } from '../../ledger/index.ts';
import { TradeError } from '../errors.ts';
import { escrowAccounts } from '../escrow/escrow-books.ts';
import type { DisputeRow, TradeRow } from '../tables.ts';
import type { RecoveryClaims } from './recovery-claims.ts';
import { parseRefundAmount } from './views.ts';

/** What after-sale needs from outside the trades module. */
export interface AfterSaleParties {
  /** The platform funding account, which capitalises the compensation fund. */
  fundingAccountId(): Promise<bigint>;
}

/**
 * The compensation fund pays a buyer a ruling awarded after the money left escrow. It is
 * capitalised from platform funding (`limits.compensationFundCapitalFen` once, more through the
 * console); what it pays it takes back from the seller's wallet as far as the wallet holds, and
 * the rest becomes a recovery claim (`RecoveryClaims`). An empty fund refuses
 * (`COMPENSATION_FUND_NOT_ENOUGH`), and the ruling waits in RULING for the sweep.
 */
export class CompensationFund {
  #capital: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly parties: AfterSaleParties,
    private readonly claims: RecoveryClaims,
  ) {}

  /**
   * The fund pays the buyer; the seller's wallet gives back what it holds, up to the award (a
   * balancing transfer); the rest becomes a recovery claim. Ids derive from the dispute, so a
   * retry finds both transfers done and records the same claim.
   */
  async compensate(d: DisputeRow, award: bigint): Promise<void> {
    await this.#ensureCapital();
    const [trade] = await this.db.query<TradeRow>('select * from trades where trade_no = $1', [d.trade_no]);
    assert(trade?.buyer_account, 'a disputed trade has a buyer');
    const ref = derivedId('trade', d.trade_no);
    const [paid] = await this.ledger.createTransfers([
      {
        id: derivedId('escrow.compensation', d.dispute_no),
        debitAccountId: escrowAccounts.compensationFund,
        creditAccountId: u128FromUuid(trade.buyer_account),
        amount: award,
        userData128: ref,
        ledger: cnyLedger,
        code: EscrowTransferCode.compensation,
      },
    ]);
    if (paid === 'exceeds_credits') throw new TradeError('COMPENSATION_FUND_NOT_ENOUGH');
    assertLedgerResult(paid, 'compensation');
    const recoveryId = derivedId('escrow.recovery-at-ruling', d.dispute_no);
    const [taken] = await this.ledger.createTransfers([
      {
        id: recoveryId,
        debitAccountId: u128FromUuid(trade.seller_account),
        creditAccountId: escrowAccounts.compensationFund,
        amount: award,
        flags: TransferFlags.balancingDebit,
        userData128: ref,
        ledger: cnyLedger,
        code: EscrowTransferCode.recoveryAtRuling,
      },
    ]);
    assertLedgerResult(taken, 'recovery at ruling');
    const [transfer] = await this.ledger.lookupTransfers([recoveryId]);
    const owed = award - (transfer?.amount ?? 0n);
    if (owed > 0n) await this.claims.record(d, owed);
  }

  /** Adds capital to the compensation fund from platform funding; idempotent by `reference`. */
  async addCapital(amount: string, reference: string): Promise<void> {
    const fen = parseRefundAmount(amount);
    await this.#ensureCapital();
    const [r] = await this.ledger.createTransfers([
      {
        id: derivedId('escrow.fund-capital', reference),
        debitAccountId: await this.parties.fundingAccountId(),
        creditAccountId: escrowAccounts.compensationFund,
        amount: fen,
        ledger: cnyLedger,
        code: EscrowTransferCode.fundCapital,
      },
    ]);
    if (r !== 'ok' && r !== 'exists') throw new TradeError('CONTEXT_INCONSISTENT', `fund capital: ${r}`);
  }

  /** The fund's first capital, from platform funding, once (its id is fixed). */
  #ensureCapital(): Promise<void> {
    this.#capital ??= (async () => {
      const [r] = await this.ledger.createTransfers([
        {
          id: derivedId('escrow.fund-capital', 'initial'),
          debitAccountId: await this.parties.fundingAccountId(),
          creditAccountId: escrowAccounts.compensationFund,
          amount: BigInt(limits.compensationFundCapitalFen),
          ledger: cnyLedger,
          code: EscrowTransferCode.fundCapital,
        },
      ]);
      assertLedgerResult(r, 'fund capital');
    })().catch((error: unknown) => {
      this.#capital = undefined;
      throw error;
    });
    return this.#capital;
  }
}
