import {
  CatalogError,
  type CatalogErrorOptions,
  catalog,
  idempotencyError,
  invalidRequest,
} from '../core/catalog-error.ts';

/**
 * The social module's catalog: friends, blocks, contact matching, groups. A refusal writes
 * nothing. A block is never named to the blocked: what they try is refused as `user_unavailable`.
 */
export const socialErrors = catalog({
  parameter_missing: invalidRequest(400, 'A required parameter is missing'),
  parameter_invalid: invalidRequest(400, 'A parameter is malformed'),
  user_not_found: invalidRequest(404, 'No user with this id or phone'),
  user_is_self: invalidRequest(400, 'That is you'),
  user_unavailable: invalidRequest(403, 'This user cannot be reached'),
  already_friends: invalidRequest(409, 'You are friends already'),
  request_not_found: invalidRequest(404, 'No such friend request for you'),
  request_not_pending: invalidRequest(409, 'The friend request was answered already'),
  not_friends: invalidRequest(404, 'This user is not your friend'),
  group_not_found: invalidRequest(404, 'No such group of yours'),
  not_group_owner: invalidRequest(403, "Only the group's owner may do this"),
  group_full: invalidRequest(409, 'A group has at most its limit of members'),
  owner_cannot_leave: invalidRequest(409, "A group's owner cannot leave it"),
  amount_invalid: invalidRequest(400, 'The amount must be a decimal of yuan with at most two places'),
  shares_invalid: invalidRequest(400, 'The number of shares is out of bounds for this kind of packet'),
  share_out_of_bounds: invalidRequest(400, 'Every share must carry from 0.01 to 200.00 yuan'),
  not_divisible: invalidRequest(400, 'A packet of equal shares must divide into shares of whole fen'),
  idempotency_key_invalid: invalidRequest(400, 'The idempotency key is missing or malformed'),
  idempotency_key_reused: idempotencyError('The idempotency key was used before for another packet'),
  balance_not_enough: invalidRequest(402, 'The wallet balance is not enough for this packet'),
  packet_not_found: invalidRequest(404, 'No such red packet for you'),
  packet_expired: invalidRequest(410, 'The red packet expired; what was left went back to its sender'),
  all_grabbed: invalidRequest(410, 'Every share of the red packet was grabbed'),
  collection_not_found: invalidRequest(404, 'No such collection request for you'),
  collection_closed: invalidRequest(410, 'The collection request is closed'),
});

export type SocialErrorCode = keyof typeof socialErrors;

/** An operating error of the social module: the request was refused and nothing was written. */
export class SocialError extends CatalogError<typeof socialErrors> {
  declare readonly code: SocialErrorCode;
  constructor(code: SocialErrorCode, options: CatalogErrorOptions = {}) {
    super(socialErrors, code, options);
  }
}

/** Whether `error` is the social module's refusal (of one of `codes`, when given). */
export function isSocialError(error: unknown, ...codes: SocialErrorCode[]): error is SocialError {
  return error instanceof SocialError && (codes.length === 0 || codes.includes(error.code));
}
