import { OAuthError } from './errors.ts';

/**
 * Alipay's user authorisation scopes that Paybao grants: `auth_base` (who the user is: their
 * `user_id` and the app's `open_id` for them, asked silently) and `auth_user` (that, and what
 * `alipay.user.info.share` answers: the nickname) and `auth_zhima` (the credit score,
 * `zhima.credit.score.get`). Alipay has more (`auth_ecard` …) for products Paybao does not have;
 * they are refused by name.
 */
export const scopeNames = ['auth_base', 'auth_user', 'auth_zhima'] as const;

export type Scope = (typeof scopeNames)[number];

const isScope = (text: string): text is Scope => (scopeNames as readonly string[]).includes(text);

/** `auth_user,auth_base` → the scopes in their one stored order; throws `scope_invalid`. */
export function parseScopes(text: string | undefined): Scope[] {
  const parts = (text ?? '').split(',').map((part) => part.trim());
  const unknown = parts.find((part) => !isScope(part));
  if (unknown !== undefined) {
    throw new OAuthError('scope_invalid', {
      param: 'scope',
      detail: unknown ? `${unknown} is not offered` : undefined,
    });
  }
  return scopeNames.filter((name) => parts.includes(name));
}

/** The stored form of a set of scopes: `auth_base,auth_user`. */
export const scopeText = (scopes: readonly Scope[]): string =>
  scopeNames.filter((name) => scopes.includes(name)).join(',');

/** A stored set of scopes, read back. */
export const storedScopes = (text: string): Scope[] => parseScopes(text);

/** True when `granted` covers every scope of `asked`. */
export const covers = (granted: readonly Scope[], asked: readonly Scope[]): boolean =>
  asked.every((scope) => granted.includes(scope));
