/**
 * The heartbeat watchdog (spec §1.6): reset on every event; when nothing arrives for the limit
 * it fires once. It is paused while the scheduler deliberately stops reading (backpressure),
 * because silence then is ours, not the master's.
 */
import type { Clock } from '../clock.js';

/** Fires `onTimeout` once after `limitMs` without `feed()`, unless paused or stopped. */
export class Watchdog {
  private handle: unknown;
  private stopped = false;
  private paused = false;

  constructor(
    private readonly clock: Clock,
    private limitMs: number,
    private readonly onTimeout: () => void,
  ) {
    this.arm();
  }

  /** Something arrived: start counting again. */
  feed(): void {
    if (!this.paused) this.arm();
  }

  /** Changes the limit (e.g. after SUBSCRIBED told the interval) and restarts counting. */
  setLimit(limitMs: number): void {
    this.limitMs = limitMs;
    this.feed();
  }

  /** Stops counting until `resume()`. */
  pause(): void {
    this.paused = true;
    this.clear();
  }

  /** Counts again from zero. */
  resume(): void {
    this.paused = false;
    this.arm();
  }

  /** Stops for good. */
  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private arm(): void {
    if (this.stopped) return;
    this.clear();
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined;
      if (!this.stopped && !this.paused) {
        this.stopped = true;
        this.onTimeout();
      }
    }, this.limitMs);
  }

  private clear(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }
}
