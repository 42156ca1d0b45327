/**
 * The executor's reliability bookkeeping (spec §3.4): every UPDATE it sends is kept until the
 * agent answers ACKNOWLEDGED for its uuid, and every launched task until any of its updates is
 * acknowledged. Both lists go into the next SUBSCRIBE, so an agent that restarted replays what
 * it never took over and drops tasks the executor never received.
 */
import type { ExecutorCallUpdate, TaskInfo, TaskStatus } from '../types/index.js';

/** Updates and tasks the agent has not acknowledged yet. */
export class Unacknowledged {
  private readonly updates = new Map<string, ExecutorCallUpdate>();
  private readonly tasks = new Map<string, TaskInfo>();
  private readonly waiters = new Set<() => void>();

  /** Remembers a launched task (LAUNCH / LAUNCH_GROUP). */
  addTask(task: TaskInfo): void {
    this.tasks.set(task.task_id.value, task);
  }

  /** Remembers a sent update by its uuid. */
  addUpdate(status: TaskStatus): void {
    if (status.uuid === undefined) throw new Error('an executor update needs a uuid');
    this.updates.set(status.uuid, { status });
  }

  /** Forgets an update that the agent refused (it will never be acknowledged). */
  dropUpdate(uuid: string): void {
    this.updates.delete(uuid);
    this.wake();
  }

  /** ACKNOWLEDGED {task_id, uuid}: the update is done, and so is the task's "unacknowledged" mark. */
  acknowledge(taskId: string, uuid: string): void {
    this.updates.delete(uuid);
    this.tasks.delete(taskId);
    this.wake();
  }

  /** The SUBSCRIBE payload: `{}` when nothing is pending. */
  subscribePayload(): { unacknowledged_tasks?: TaskInfo[]; unacknowledged_updates?: ExecutorCallUpdate[] } {
    const payload: { unacknowledged_tasks?: TaskInfo[]; unacknowledged_updates?: ExecutorCallUpdate[] } = {};
    if (this.tasks.size > 0) payload.unacknowledged_tasks = [...this.tasks.values()];
    if (this.updates.size > 0) payload.unacknowledged_updates = [...this.updates.values()];
    return payload;
  }

  /** Updates still waiting for ACKNOWLEDGED, oldest first. */
  pendingUpdates(): TaskStatus[] {
    return [...this.updates.values()].map((update) => update.status);
  }

  /** Tasks none of whose updates was acknowledged yet. */
  pendingTasks(): TaskInfo[] {
    return [...this.tasks.values()];
  }

  /** Resolves once no update waits for ACKNOWLEDGED (at once when none does). */
  drained(): Promise<void> {
    if (this.updates.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.updates.size > 0) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
