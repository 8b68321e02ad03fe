/**
 * The console's session (the operator's token from `POST /console/v1/sessions`) and its client
 * of `/console/v1`; the data hook the pages share; refusals in words.
 */
import { useSyncExternalStore } from 'react';
import { ApiClient, ApiError } from '../shared/api.ts';
import { type Loaded, useLoad } from '../shared/load.ts';
import { SessionStore } from '../shared/session.ts';
import type { Key, T } from './messages.ts';

export const sessions = new SessionStore('console');
export const api = new ApiClient('/console/v1', sessions);

export type Role = 'dispute_reviewer' | 'finance' | 'risk' | 'administrator';
export interface Me {
  operator_id: string;
  name: string;
  roles: Role[];
}

/** The session's token while logged in, else null; re-renders on login and logout. */
export function useSessionToken(): string | null {
  return useSyncExternalStore(sessions.subscribe, () => sessions.get()?.token ?? null);
}

/** Whether an operator of `roles` may use what `needed` allows (an administrator may use all). */
export function allows(roles: readonly Role[], needed: readonly Role[] | 'anyone'): boolean {
  return needed === 'anyone' || roles.includes('administrator') || needed.some((r) => roles.includes(r));
}

/** A refusal as the operator reads it: our words for the codes we know, the API's message otherwise. */
export function errorText(t: T, error: unknown): string {
  if (error instanceof ApiError) {
    const key = `error.${error.code}` as Key;
    const known = t(key);
    return known === key ? error.message : known;
  }
  return String(error);
}

export { type Loaded, useLoad };
