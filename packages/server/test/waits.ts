import { vi } from 'vitest';

/**
 * How the end-to-end suites wait: for a condition, never for a fixed time (the suite runs on loaded
 * machines). One definition for the Mesos and high-availability harnesses, which each had a copy.
 */

/** How long a wait may take: generous, so a loaded machine passes; a real failure still ends it. */
export const PATIENCE_MS = 60_000;

/** Waits (vi.waitFor, every 50 ms) until `check` answers something other than undefined. */
export function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = PATIENCE_MS,
): Promise<T> {
  return vi.waitFor(
    async () => {
      const value = await check();
      if (value === undefined) throw new Error(`still waiting for ${what}`);
      return value;
    },
    { timeout: timeoutMs, interval: 50 },
  );
}
