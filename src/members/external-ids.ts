import { randomDigits } from '../core/external-ids.ts';

/**
 * External ids in Alipay's formats: random digits after a fixed prefix. They are unique by a
 * primary key; a collision (one in 10^12 for ids, 10^16 for codes) is retried by the caller.
 */
function digits(prefix: string, length: number): string {
  return prefix + randomDigits(length - prefix.length);
}

/** A user id (`buyer_id`, `seller_id`): 16 digits starting with 2088. */
export const newUserId = (): string => digits('2088', 16);

/** An app id: 16 digits starting with 2021. */
export const newAppId = (): string => digits('2021', 16);

/** A user's payment code, as shown at a till under the barcode: 18 digits starting with 28. */
export const newPaymentCodeText = (): string => digits('28', 18);

export const userIdPattern = /^2088\d{12}$/;
export const appIdPattern = /^2021\d{12}$/;
export const paymentCodePattern = /^28\d{16}$/;
