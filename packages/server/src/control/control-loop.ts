import type { Clock } from '../clock.js';

/** The longest delay Node's timers take (about 24.8 days); later deadlines are re-armed on firing. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a control loop runs. */
export interface ControlLoopOptions {
  clock: Clock;
  /** One step of the controller (a dispatch round, a pass over dirty keys); runs serially. */
  step: () => Promise<void>;
  /** A step that threw; the loop goes on (state is in the store: a later step picks up). */
  onStepError: (err: unknown) => void;
  /** Called when the deadline timer fires, just before the step it wakes. */
  onDeadline?: () => void;
  /** The error `serial` rejects with once the loop is closed. */
  closedError: () => Error;
}

/**
 * The machinery both controllers share (Kubernetes-style, level-triggered): one serial chain, so
 * decisions never interleave; a coalesced `wake()` (many wakes before the step starts make one
 * step); and one timer at the earliest deadline asked for, which wakes the loop when it fires.
 */
export class ControlLoop {
  private chain: Promise<unknown> = Promise.resolve();
  private wakeQueued = false;
  private timer: NodeJS.Timeout | null = null;
  private deadline: number | null = null;
  private closed = false;

  constructor(private readonly o: ControlLoopOptions) {}

  /** Runs `fn` after everything queued before it; rejects with `closedError` once closed. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(() => {
      if (this.closed) throw this.o.closedError();
      return fn();
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Asks for a step soon. */
  wake(): void {
    if (this.closed || this.wakeQueued) return;
    this.wakeQueued = true;
    this.serial(async () => {
      this.wakeQueued = false;
      await this.o.step();
    }).catch((err: unknown) => {
      if (!this.closed) this.o.onStepError(err);
    });
  }

  /** Wakes the loop at `at` (ms since the epoch), unless an earlier deadline is armed already. */
  wakeAt(at: number): void {
    if (this.closed || (this.deadline !== null && this.deadline <= at)) return;
    if (this.timer) clearTimeout(this.timer);
    this.deadline = at;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.deadline = null;
        this.o.onDeadline?.();
        this.wake();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, at - this.o.clock.now())),
    );
    this.timer.unref();
  }

  /** The armed deadline, null when none. */
  get nextDeadline(): number | null {
    return this.deadline;
  }

  /** Forgets the armed deadline (the step handles everything due and arms the next one). */
  clearDeadline(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.deadline = null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Stops waking and timers, and waits for the current step. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearDeadline();
    await this.chain.catch(() => undefined);
  }
}
