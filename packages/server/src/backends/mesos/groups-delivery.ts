import type { TaskStatus } from '@galley/mesos';
import type { Logger } from 'pino';
import type { GroupEvent } from '../group-runner.js';

/**
 * Delivers pipeline group events to the controller in batches, and acknowledges the status updates
 * they came from only once the controller has stored them (spec §4.2). Events wait until a
 * listener is set; updates whose batch was not stored stay unacknowledged, so Mesos sends them
 * again. The same scheme as runs' EventDelivery, for group events.
 */
export class GroupDelivery {
  private listener: ((events: GroupEvent[]) => Promise<void>) | null = null;
  private events: GroupEvent[] = [];
  private acks: TaskStatus[] = [];
  private flushing = false;
  private closed = false;

  constructor(
    private readonly acknowledge: (status: TaskStatus) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  setListener(listener: (events: GroupEvent[]) => Promise<void>): void {
    this.listener = listener;
    this.schedule();
  }

  /** Queues events, and the updates to acknowledge once they are stored. */
  push(events: readonly GroupEvent[], acks: readonly TaskStatus[] = []): void {
    if (this.closed || (events.length === 0 && acks.length === 0)) return;
    this.events.push(...events);
    this.acks.push(...acks);
    this.schedule();
  }

  /** Stops delivering; queued events are dropped (their updates stay unacknowledged). */
  close(): void {
    this.closed = true;
    this.events = [];
    this.acks = [];
  }

  private schedule(): void {
    if (this.flushing || this.listener === null || this.events.length + this.acks.length === 0) return;
    this.flushing = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    try {
      while (!this.closed && this.listener && (this.events.length > 0 || this.acks.length > 0)) {
        const events = this.events;
        const acks = this.acks;
        this.events = [];
        this.acks = [];
        try {
          if (events.length > 0) await this.listener(events);
        } catch (err) {
          this.logger.warn(
            { err, events: events.length },
            'mesos: pipeline updates were not stored; they stay unacknowledged and Mesos sends them again',
          );
          continue;
        }
        for (const status of acks) void this.acknowledge(status);
      }
    } finally {
      this.flushing = false;
    }
  }
}
