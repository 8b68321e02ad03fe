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
  /** Whether an error is the source's refusal (shown to the buyer), not a failure. */
  isRefusal(error: unknown): boolean;
}
