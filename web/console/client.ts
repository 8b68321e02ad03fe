/**
 * The console's session (the operator's token from `POST /console/v1/sessions`) and its client
 * of `/console/v1`; the data hook the pages share; refusals in words.
 */
import { type DependencyList, useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { ApiClient, ApiError } from '../shared/api.ts';
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

export interface Loaded<V> {
  data: V | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** Loads once per change of `deps` (and on `reload`); a newer load wins over an older one. */
export function useLoad<V>(load: () => Promise<V>, deps: DependencyList): Loaded<V> {
  const [state, setState] = useState<{ data: V | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [round, setRound] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller's deps decide when to load again.
  const run = useCallback(load, deps);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new round is a reload asked for.
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    run().then(
      (data) => current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => current && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      current = false;
    };
  }, [run, round]);
  return { ...state, reload: useCallback(() => setRound((r) => r + 1), []) };
}
