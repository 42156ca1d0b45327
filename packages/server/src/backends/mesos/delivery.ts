import type { TaskStatus } from '@galley/mesos';
import type { Logger } from 'pino';
import type { BackendEvent } from '../backend.js';

/**
 * Delivers backend events to the engine in batches and acknowledges the status updates they came
 * from only once the engine has stored them (spec §4.2: ack after durably recording). Updates
 * that arrive while a batch is being stored form the next batch, so a burst of updates costs a
 * few store transactions, not one each. If a batch is not stored, its updates are not
 * acknowledged and the agent sends them again.
 */
export class EventDelivery {
  private listener: (events: BackendEvent[]) => void | Promise<void> = () => {};
  private events: BackendEvent[] = [];
  private acks: TaskStatus[] = [];
  private flushing = false;
  private closed = false;

  constructor(
    private readonly acknowledge: (status: TaskStatus) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  /** Sets the engine's listener. */
  setListener(listener: (events: BackendEvent[]) => void | Promise<void>): void {
    this.listener = listener;
  }

  /** Queues events, and the updates to acknowledge once they are stored. */
  push(events: readonly BackendEvent[], acks: readonly TaskStatus[] = []): void {
    if (this.closed) return;
    this.events.push(...events);
    this.acks.push(...acks);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Stops delivering; queued events are dropped (their updates stay unacknowledged). */
  close(): void {
    this.closed = true;
    this.events = [];
    this.acks = [];
  }

  private async flush(): Promise<void> {
    try {
      while (!this.closed && (this.events.length > 0 || this.acks.length > 0)) {
        const events = this.events;
        const acks = this.acks;
        this.events = [];
        this.acks = [];
        try {
          if (events.length > 0) await this.listener(events);
        } catch (err) {
          this.logger.warn(
            { err, events: events.length },
            'mesos: status updates were not stored; they stay unacknowledged and Mesos sends them again',
          );
          continue;
        }
        for (const status of acks) {
          this.acknowledge(status).catch((err: unknown) =>
            this.logger.debug(
              { err, taskId: status.task_id.value },
              'mesos: acknowledgement failed; Mesos sends the update again',
            ),
          );
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
