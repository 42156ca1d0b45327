/** Waiting for a condition with a deadline, instead of sleeping (robust on a loaded machine). */

/**
 * Polls `probe` every 10 ms until it returns a value other than undefined/false. `what` may be a
 * function, called on timeout, to describe what was seen.
 */
export async function waitFor<T>(
  what: string | (() => string),
  probe: () => T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
