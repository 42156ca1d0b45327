import { useEffect, useState } from 'react';

/**
 * The current time in ms, refreshed every `intervalMs` while `active` (for live durations).
 * When not active it is the time of the last render that had it active, or of mount.
 */
export function useNow(active: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs]);
  return now;
}
