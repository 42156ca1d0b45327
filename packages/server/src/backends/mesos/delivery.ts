import type { TaskStatus } from '@galley/mesos';
import type { Logger } from 'pino';

/**
 * Delivers events to their controller in batches and acknowledges the status updates they came
 * from only once the controller has stored them (spec §4.2: ack after durably recording). One
 * instance carries run events, another pipeline group events. Updates that arrive while a batch
 * is being stored form the next batch, so a burst of updates costs a few store transactions, not
 * one each. Events wait until a listener is set; if a batch is not stored, its updates are not
 * acknowledged and the agent sends them again.
 */
export class AckAfterStore<E> {
  private listener: ((events: E[]) => void | Promise<void>) | null = null;
  private events: E[] = [];
  private acks: TaskStatus[] = [];
  private flushing = false;
  private closed = false;

  constructor(
    private readonly acknowledge: (status: TaskStatus) => Promise<void>,
    private readonly logger: Logger,
    /** What the events are, for the log (`status updates`, `pipeline updates`). */
    private readonly what: string,
  ) {}

  /** Sets the controller's listener; its promise settles once the batch is stored. */
  setListener(listener: (events: E[]) => void | Promise<void>): void {
    this.listener = listener;
    this.schedule();
  }

  /** Queues events, and the updates to acknowledge once they are stored. */
  push(events: readonly E[], acks: readonly TaskStatus[] = []): void {
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
            `mesos: ${this.what} were not stored; they stay unacknowledged and Mesos sends them again`,
          );
          continue;
        }
        for (const status of acks)
          this.acknowledge(status).catch((err: unknown) =>
            this.logger.debug(
              { err, taskId: status.task_id.value },
              'mesos: acknowledgement failed; Mesos sends the update again',
            ),
          );
      }
    } finally {
      this.flushing = false;
    }
  }
}
