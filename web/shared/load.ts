/**
 * Loading data from the API in a component, shared by the apps (each draws its own loading state).
 * A failed reload keeps the data loaded before it beside the error: the console shows both, the
 * wallet and the portal show the error.
 */
import { type DependencyList, useCallback, useEffect, useState } from 'react';

export interface Loaded<V> {
  data: V | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** Loads once per change of `deps` (and on `reload`); a newer load wins over an older one still under way. */
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
