import { createPublicKey, type KeyObject } from 'node:crypto';
import { limits } from '../core/limits.ts';
import { MembersError } from './errors.ts';

/**
 * Reads the RSA public key a merchant registers, and returns it with its SPKI PEM (the one form
 * stored). Takes SPKI PEM, PKCS#1 PEM (`BEGIN RSA PUBLIC KEY`), or the bare base64 body that
 * Alipay's console hands out and `alipay-sdk` accepts. A private key is refused rather than
 * quietly reduced to its public half: someone pasted a secret where it does not belong.
 */
export function parseMerchantPublicKey(input: string): { key: KeyObject; pem: string } {
  const text = input.trim();
  if (text.length === 0 || text.length > limits.merchantPublicKeyPemLengthMax) {
    throw new MembersError('merchant_public_key_invalid', 'empty or too long');
  }
  if (text.includes('PRIVATE KEY')) {
    throw new MembersError('merchant_public_key_invalid', 'this is a private key; register its public key');
  }
  const pem = text.includes('-----BEGIN')
    ? text
    : `-----BEGIN PUBLIC KEY-----\n${(text.replace(/\s+/g, '').match(/.{1,64}/g) ?? []).join('\n')}\n-----END PUBLIC KEY-----`;
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new MembersError('merchant_public_key_invalid', `not a public key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new MembersError('merchant_public_key_invalid', `an ${key.asymmetricKeyType} key is not RSA`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < limits.rsaKeyBitsMin) throw new MembersError('merchant_public_key_invalid', `only ${bits} bits`);
  return { key, pem: key.export({ type: 'spki', format: 'pem' }).toString() };
}
