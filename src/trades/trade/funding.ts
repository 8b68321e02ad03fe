import type { CreateTransferResult, TransferInput } from '../../ledger/index.ts';

/** A payment's draw on a funding source: which buyer, from which of the source's products, how much. */
export interface FundingRequest {
  tradeNo: string;
  buyerId: string;
  buyerAccount: bigint;
  /** The source's own name of what pays (Yu'e Bao: the fund product's code). */
  source: string;
  fen: bigint;
}

/** A refund's part that goes back to the source that paid it (Yu'e Bao: as shares, at once). */
export interface FundingRefund {
  /** The refund's own key (trade number and out_request_no): the source's ids derive from it. */
  refundKey: string;
  /** The trade's ledger reference (`derivedId('trade', trade_no)`), on the source's legs too. */
  tradeRef: bigint;
  buyerId: string;
  /** The source's product that paid the trade. */
  source: string;
  /** Who gives the money back: the seller's wallet, or escrow. */
  payer: bigint;
  fen: bigint;
}

/**
 * Where a payment may draw money besides the buyer's balance: Yu'e Bao, wired by the platform
 * (src/platform.ts) to the fund, which trades never imports. The source's legs bring the money
 * into the buyer's wallet and stay linked, so that the trade's own transfer closes ONE chain:
 * the redemption and the payment happen both or neither.
 */
export interface FundingSource {
  /** What the buyer pays `fen` from now; throws the source's refusal when nothing covers it. */
  choose(buyerId: string, fen: bigint): Promise<string>;
  /** The linked legs of the draw (written down by the source as SUBMITTED); throws its refusal. */
  legs(request: FundingRequest): Promise<TransferInput[]>;
  /**
   * The chain's outcome, given the source's legs' results: the source records it, and answers
   * the refusal to throw when one of its own legs refused (null when they were taken, or only
   * failed with the trade's leg).
   */
  settled(request: FundingRequest, results: readonly CreateTransferResult[]): Promise<Error | null>;
  /**
   * The legs that return a refund's part to the source, unlinked: the trade links them with its
   * own refund transfer into ONE chain (both or neither). Submitted again, they answer `exists`.
   */
  refundLegs(refund: FundingRefund): Promise<TransferInput[]>;
  /** Whether an error is the source's refusal (shown to the buyer), not a failure. */
  isRefusal(error: unknown): boolean;
}
