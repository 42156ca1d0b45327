/**
 * Handling one item of the ordered queue: call the handler of its type, then (in `auto` mode)
 * acknowledge the UPDATE or UPDATE_OPERATION_STATUS it carried. Acknowledgements are sent after
 * the handler completed without throwing, in the background so the queue is not held up; a
 * handler that throws leaves the update unacknowledged, so Mesos re-sends it (spec §4.2).
 */
import type { OperationStatus, SchedulerCallOf, SchedulerEvent, TaskStatus } from '../../types/index.js';
import * as calls from '../calls/builders.js';
import { BackgroundAcks } from '../calls/acknowledgements.js';
import type { QueueItem } from './items.js';
import type { Logger } from '../lifecycle.js';
import type { HandlerContext, SchedulerClient, SchedulerHandlers } from '../handlers.js';

/** What the dispatcher needs from its scheduler. */
export interface DispatcherDeps<M> {
  /** The scheduler handlers are given (and that acknowledges operation statuses). */
  scheduler: SchedulerClient<M>;
  /**
   * Sends an ACKNOWLEDGE built by `calls.acknowledgeStatus` unless its uuid is already
   * acknowledged or being acknowledged.
   */
  sendAcknowledge(call: SchedulerCallOf<'ACKNOWLEDGE'>): Promise<void>;
  handlers: SchedulerHandlers<M>;
  acknowledge: 'auto' | 'manual';
  logger: Logger;
  /** Records that an update for this task was handled (reconciliation bookkeeping). */
  noteUpdate(taskId: string): void;
}

/**
 * Background ACKNOWLEDGEs in flight at once: two per connection of the calls pool (32), so no
 * connection waits for the next one while the rest wait cheaply in `BackgroundAcks`.
 */
const ACKS_IN_FLIGHT = 64;

/** Runs the handlers of queue items. */
export class Dispatcher<M> {
  /** Waiting acknowledgements hold just the call (ids and uuid), not the whole status. */
  private readonly acks: BackgroundAcks<SchedulerCallOf<'ACKNOWLEDGE'>>;

  constructor(private readonly deps: DispatcherDeps<M>) {
    this.acks = new BackgroundAcks(ACKS_IN_FLIGHT, (call) => this.acknowledgeNow(call));
  }

  /** Handles `item`; rejects with what its handler threw (the queue reports it). */
  async dispatch(item: QueueItem<M>): Promise<void> {
    const { handlers } = this.deps;
    const context = this.contextFor(item);
    if (item.source === 'user') {
      await handlers.user?.(item.message, context);
      return;
    }
    const event = item.event;
    const handler = handlers[event.type] as
      ((e: SchedulerEvent, c: HandlerContext<M>) => unknown) | undefined;
    if (event.type === 'UPDATE') {
      try {
        await handler?.(event, context);
      } finally {
        this.deps.noteUpdate(event.update.status.task_id.value);
      }
      if (this.deps.acknowledge === 'auto') this.acknowledgeInBackground(event.update.status);
      return;
    }
    await handler?.(event, context);
    if (event.type === 'UPDATE_OPERATION_STATUS' && this.deps.acknowledge === 'auto') {
      this.acknowledgeOperationInBackground(event.update_operation_status.status);
    }
  }

  private contextFor(item: QueueItem<M>): HandlerContext<M> {
    const scheduler = this.deps.scheduler;
    return {
      scheduler,
      item,
      acknowledge: async () => {
        if (item.source !== 'mesos') return;
        if (item.event.type === 'UPDATE') await scheduler.acknowledge(item.event.update.status);
        if (item.event.type === 'UPDATE_OPERATION_STATUS') {
          await scheduler.acknowledgeOperationStatus(item.event.update_operation_status.status);
        }
      },
    };
  }

  /** Only updates with a uuid are queued; the scheduler skips uuids acknowledged meanwhile. */
  private acknowledgeInBackground(status: TaskStatus): void {
    const call = calls.acknowledgeStatus(status);
    if (call !== undefined) this.acks.push(call);
  }

  /** A failed ack needs no retry here: Mesos re-sends the update, which is acked then. */
  private acknowledgeNow(call: SchedulerCallOf<'ACKNOWLEDGE'>): Promise<void> {
    return this.deps
      .sendAcknowledge(call)
      .catch((error: unknown) =>
        this.deps.logger.debug(
          { err: error, task: call.acknowledge.task_id.value },
          'acknowledgement failed; Mesos will re-send the update',
        ),
      );
  }

  private acknowledgeOperationInBackground(status: OperationStatus): void {
    this.deps.scheduler
      .acknowledgeOperationStatus(status)
      .catch((error: unknown) =>
        this.deps.logger.debug({ err: error }, 'operation status acknowledgement failed'),
      );
  }
}
