import { useCallback, useState } from 'react';

function read(key: string, fallback: string): string {
  try {
    return localStorage.getItem(key) ?? fallback;
  } catch {
    return fallback;
  }
}

/**
 * A string remembered in localStorage under `key` (e.g. the owner id of runs). Storage that is
 * unavailable (private mode, quota) degrades to plain state.
 */
export function useLocalStorage(key: string, fallback = ''): [string, (value: string) => void] {
  const [value, setValue] = useState(() => read(key, fallback));
  const set = useCallback(
    (next: string) => {
      setValue(next);
      try {
        localStorage.setItem(key, next);
      } catch {
        // Not remembered; the value still applies to this page.
      }
    },
    [key],
  );
  return [value, set];
}
