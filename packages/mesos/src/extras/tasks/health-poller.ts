import type { ResolvedSpec } from './spec.js';

/** The poller settings of one spec (`ResolvedSpec.poller`). */
export type PollerSettings = NonNullable<ResolvedSpec['poller']>;

/** A task to poll. */
export interface PolledTask {
  taskId: string;
  /** Mesos task name `<spec>-<serial>`. */
  name: string;
  serial: number;
  /** Host or IP to connect to. */
  address: string;
  port: number;
  settings: PollerSettings;
}

/** Callbacks of the poller; they run on timers, so they should only enqueue work. */
export interface HealthPollerHandlers {
  /** `graceCount` consecutive polls failed (called once per healthy → unhealthy transition). */
  onUnhealthy(taskId: string, failures: number): void;
  /** A poll passed after the task had been reported unhealthy. */
  onHealthy(taskId: string): void;
}

interface Tracked {
  task: PolledTask;
  failures: number;
  reported: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  abort: AbortController | undefined;
}

/**
 * Framework-side HTTP health polling (what mesos-framework's taskHealthHelper did): every
 * `interval` ms, GET `http://<address>:<port><path>` of each tracked task; a response whose status
 * is in `statusCodes` (and whose body passes `checkBody`, if given) is healthy, anything else
 * (error, timeout, other status) is a failure. After `graceCount` consecutive failures
 * `onUnhealthy` is called once; a later pass calls `onHealthy`. `untrack` and `stop` cancel
 * timers and requests in flight.
 */
export class HealthPoller {
  private readonly tracked = new Map<string, Tracked>();
  private stopped = false;

  constructor(private readonly handlers: HealthPollerHandlers) {}

  /** Starts polling a task (first poll after one interval). Tracking a task again restarts it. */
  track(task: PolledTask): void {
    if (this.stopped) return;
    this.untrack(task.taskId);
    const t: Tracked = { task, failures: 0, reported: false, timer: undefined, abort: undefined };
    this.tracked.set(task.taskId, t);
    this.schedule(t);
  }

  /** Stops polling a task. */
  untrack(taskId: string): void {
    const t = this.tracked.get(taskId);
    if (t === undefined) return;
    this.tracked.delete(taskId);
    if (t.timer !== undefined) clearTimeout(t.timer);
    t.abort?.abort();
  }

  /** True when the task is being polled. */
  has(taskId: string): boolean {
    return this.tracked.has(taskId);
  }

  /** Stops everything; later `track` calls are ignored. */
  stop(): void {
    this.stopped = true;
    for (const id of [...this.tracked.keys()]) this.untrack(id);
  }

  private schedule(t: Tracked): void {
    t.timer = setTimeout(() => {
      t.timer = undefined;
      void this.poll(t);
    }, t.task.settings.interval);
    t.timer.unref?.();
  }

  private async poll(t: Tracked): Promise<void> {
    const ok = await this.check(t);
    if (this.tracked.get(t.task.taskId) !== t) return;
    if (ok) {
      t.failures = 0;
      if (t.reported) {
        t.reported = false;
        this.handlers.onHealthy(t.task.taskId);
      }
    } else {
      t.failures += 1;
      if (!t.reported && t.failures >= t.task.settings.graceCount) {
        t.reported = true;
        this.handlers.onUnhealthy(t.task.taskId, t.failures);
      }
    }
    if (this.tracked.get(t.task.taskId) === t) this.schedule(t);
  }

  private async check(t: Tracked): Promise<boolean> {
    const { address, port, settings } = t.task;
    const abort = new AbortController();
    t.abort = abort;
    const timer = setTimeout(() => abort.abort(), settings.timeout);
    try {
      const host = address.includes(':') ? `[${address}]` : address;
      const response = await fetch(`http://${host}:${port}${settings.path}`, { signal: abort.signal });
      const body = await response.text();
      if (!settings.statusCodes.includes(response.status)) return false;
      if (settings.checkBody === undefined) return true;
      return settings.checkBody(body, { taskId: t.task.taskId, name: t.task.name, serial: t.task.serial });
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
      if (t.abort === abort) t.abort = undefined;
    }
  }
}
