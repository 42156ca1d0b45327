/**
 * Every timer the fake starts, so `stop()` can cancel them all. Timers are unref'd: a forgotten
 * fake never keeps a test process alive by its timers alone.
 */
export class Timers {
  private readonly active = new Set<ReturnType<typeof setTimeout>>();
  private readonly intervals = new Set<ReturnType<typeof setInterval>>();
  private stopped = false;

  /** Runs `fn` once after `ms` milliseconds; returns a handle for `cancel`. Ignored after `clearAll`. */
  after(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
    const handle = setTimeout(() => {
      this.active.delete(handle);
      if (!this.stopped) fn();
    }, ms);
    handle.unref();
    this.active.add(handle);
    return handle;
  }

  /** Runs `fn` every `ms` milliseconds until cancelled. */
  every(ms: number, fn: () => void): ReturnType<typeof setInterval> {
    const handle = setInterval(() => {
      if (!this.stopped) fn();
    }, ms);
    handle.unref();
    this.intervals.add(handle);
    return handle;
  }

  /** Cancels a timer or interval; undefined is ignored. */
  cancel(handle: ReturnType<typeof setTimeout> | undefined): void {
    if (handle === undefined) return;
    clearTimeout(handle);
    clearInterval(handle);
    this.active.delete(handle);
    this.intervals.delete(handle);
  }

  /** Cancels everything and refuses new work. */
  clearAll(): void {
    this.stopped = true;
    for (const handle of this.active) clearTimeout(handle);
    for (const handle of this.intervals) clearInterval(handle);
    this.active.clear();
    this.intervals.clear();
  }
}
