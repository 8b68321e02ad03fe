/** The wallet app's session and its client of `/api/v1`. */
import { useSyncExternalStore } from 'react';
import { ApiClient } from '../shared/api.ts';
import { SessionStore } from '../shared/session.ts';

export const sessions = new SessionStore('app');
export const api = new ApiClient('/api/v1', sessions);

/** The session's token while logged in, else null; re-renders on login and logout. */
export function useSessionToken(): string | null {
  return useSyncExternalStore(sessions.subscribe, () => sessions.get()?.token ?? null);
}
