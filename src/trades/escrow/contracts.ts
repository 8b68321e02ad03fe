import type { Queryable } from '../../core/db/index.ts';
import { limits } from '../../core/limits.ts';

/** An app's escrow terms, agreed with the platform. */
export interface EscrowContract {
  /** Whether the app's trades are escrow trades unless a trade says otherwise. */
  escrowDefault: boolean;
  /** The platform fee on what is released to the seller, in basis points. */
  feeBps: number;
  /** How long after shipment an unconfirmed trade confirms itself. */
  confirmPeriodMs: number;
}

/** The terms of an app without a contract. */
export const defaultContract: EscrowContract = {
  escrowDefault: false,
  feeBps: limits.escrowFeeBpsDefault,
  confirmPeriodMs: limits.escrowConfirmPeriodDefaultMs,
};

export async function contractOf(q: Queryable, appId: string): Promise<EscrowContract | undefined> {
  const [row] = await q.query<{ escrow_default: boolean; fee_bps: number; confirm_period_ms: bigint }>(
    'select escrow_default, fee_bps, confirm_period_ms from escrow_contracts where app_id = $1',
    [appId],
  );
  if (!row) return undefined;
  return { escrowDefault: row.escrow_default, feeBps: row.fee_bps, confirmPeriodMs: Number(row.confirm_period_ms) };
}

/** Writes an app's contract (the console's and the CLI's); trades created after it use it. */
export async function saveContract(q: Queryable, appId: string, contract: EscrowContract, now: Date): Promise<void> {
  if (!Number.isInteger(contract.feeBps) || contract.feeBps < 0 || contract.feeBps > 10_000)
    throw new RangeError('fee_bps must be an integer from 0 to 10000');
  if (
    !Number.isInteger(contract.confirmPeriodMs) ||
    contract.confirmPeriodMs <= 0 ||
    contract.confirmPeriodMs > limits.escrowConfirmPeriodMaxMs
  )
    throw new RangeError('confirm period out of range');
  await q.query(
    `insert into escrow_contracts (app_id, escrow_default, fee_bps, confirm_period_ms, updated_at)
     values ($1, $2, $3, $4, $5)
     on conflict (app_id) do update set escrow_default = $2, fee_bps = $3, confirm_period_ms = $4, updated_at = $5`,
    [appId, contract.escrowDefault, contract.feeBps, contract.confirmPeriodMs, now],
  );
}
