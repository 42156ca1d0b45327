import { useCallback, useEffect, useRef, useState } from 'react';
import { isAbort } from '../api/http.js';

/**
 * A value loaded from the server. `data` stays set while a reload is in flight (so a refresh does
 * not flash a spinner); `error` is the last failure (cleared by a success); `loading` is true
 * until the first answer or failure.
 */
export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again (previous in-flight load is aborted). */
  reload: () => void;
  /** Replaces the data locally (e.g. with a run from the event stream). */
  setData: (update: T | ((previous: T | undefined) => T)) => void;
}

/**
 * Loads `load(signal)` on mount and whenever `key` changes; aborts the previous load when a new
 * one starts or the component goes away, so a late answer never overwrites a newer one. `merge`
 * decides what a finished load leaves in place of data set meanwhile by `setData` (e.g. a newer
 * version from the event stream); by default the loaded value wins.
 */
export function useResource<T>(
  key: string,
  load: (signal: AbortSignal) => Promise<T>,
  merge?: (current: T | undefined, loaded: T) => T,
): Resource<T> {
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const mergeRef = useRef(merge);
  mergeRef.current = merge;
  const keyRef = useRef(key);

  useEffect(() => {
    if (keyRef.current !== key) {
      keyRef.current = key;
      setDataState(undefined);
      setLoading(true);
    }
    const controller = new AbortController();
    loadRef
      .current(controller.signal)
      .then((value) => {
        if (controller.signal.aborted) return;
        const combine = mergeRef.current;
        setDataState((current) => (combine ? combine(current, value) : value));
        setError(undefined);
        setLoading(false);
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted || isAbort(err)) return;
        setError(err);
        setLoading(false);
      });
    return () => controller.abort();
  }, [key, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const setData = useCallback((update: T | ((previous: T | undefined) => T)) => {
    setDataState((prev) =>
      typeof update === 'function' ? (update as (p: T | undefined) => T)(prev) : update,
    );
  }, []);
  return { data, error, loading, reload, setData };
}
