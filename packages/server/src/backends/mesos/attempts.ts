import { MinHeap } from '@galley/core';
import type { ReconcileTaskRef } from '@galley/mesos';
import type { ImageKind } from './images.js';
import type { AttemptRecord } from '../../model/records.js';
import { parseNodeId } from './nodes.js';

/**
 * The attempts this backend is responsible for (one Mesos task each, task id = attempt id):
 * where they run and what Mesos last said of them. Filled from the store at start and by each
 * launch; an attempt leaves when its end was reported. Anything of this framework that is not
 * here is unknown to Galley.
 */

/** Where a tracked task is in its life, as far as this backend knows. */
export type TaskPhase = 'launching' | 'running' | 'unreachable';

/** One tracked attempt. Times are ms since the epoch. */
export interface TrackedTask {
  attemptId: string;
  agentId: string | null;
  hostname: string | null;
  phase: TaskPhase;
  cpus: number;
  memMb: number;
  /** When it was launched (or adopted after a restart). */
  since: number;
  /** The last status update (or launch) seen for it. */
  lastUpdateAt: number;
  /** When its agent became unreachable; null while reachable. */
  unreachableSince: number | null;
  /** The last time an explicit RECONCILE was sent for it; null = never. */
  reconciledAt: number | null;
  /** The grace period of a requested kill (ms); null = no kill requested. */
  killGraceMs: number | null;
  /** How its image was sent (MESOS or DOCKER container); null = a plain command task, or unknown. */
  container: ImageKind | null;
  /** The shared galley-executor it runs under; null = its own command executor (id = task id). */
  executorId: string | null;
}

/** Where an attempt's task ran, kept in the attempt's `handle` so logs are found after a restart. */
export interface TaskHandle {
  agentId: string;
  hostname: string;
  /** `http://host:port` of the agent (its files API), when known. */
  agentUrl: string | null;
  frameworkId: string | null;
  /** The shared galley-executor it ran under (its output is in `tasks/<task id>/` there); absent = its own. */
  executorId?: string;
}

/** Reads a TaskHandle out of a stored attempt handle; null when it is not one. */
export function handleOf(handle: Record<string, unknown> | null | undefined): TaskHandle | null {
  if (!handle || typeof handle['agentId'] !== 'string') return null;
  const text = (key: string) => (typeof handle[key] === 'string' ? (handle[key] as string) : null);
  return {
    agentId: handle['agentId'],
    hostname: text('hostname') ?? '',
    agentUrl: text('agentUrl'),
    frameworkId: text('frameworkId'),
    ...(text('executorId') ? { executorId: text('executorId')! } : {}),
  };
}

/** The agent an attempt was placed on: from its handle, else from its node id. */
export function agentOfAttempt(attempt: Pick<AttemptRecord, 'handle' | 'nodeId'>): string | null {
  return (
    handleOf(attempt.handle)?.agentId ??
    (attempt.nodeId ? (parseNodeId(attempt.nodeId)?.agentId ?? null) : null)
  );
}

/** A launching task to look at from `at` + the launch timeout on (its last update or reconcile). */
interface LaunchCheck {
  task: TrackedTask;
  at: number;
}

/** When a launching task was last heard of or reconciled. */
const lastTouched = (t: TrackedTask) => Math.max(t.lastUpdateAt, t.reconciledAt ?? -Infinity);

/**
 * The table of tracked attempts, with what the offer sweeper's tick looks at indexed so a tick
 * costs what is due, not every task in flight (at 100,000 in flight, walking them all twice a
 * tick slowed dispatch): launching tasks by when they were last touched, and the tasks that
 * became unreachable. Both indexes are lazy: an entry whose task moved on is dropped when met.
 */
export class AttemptTable {
  private readonly tasks = new Map<string, TrackedTask>();
  private readonly launchChecks = new MinHeap<LaunchCheck>((a, b) => a.at < b.at);
  /** Tasks marked unreachable (some may be reachable again or gone: dropped when met). */
  private readonly unreachable = new Set<TrackedTask>();

  get size(): number {
    return this.tasks.size;
  }

  get(attemptId: string): TrackedTask | undefined {
    return this.tasks.get(attemptId);
  }

  /** Starts tracking (or replaces) an attempt. */
  add(task: TrackedTask): void {
    this.tasks.set(task.attemptId, task);
    if (task.phase === 'launching') this.launchChecks.push({ task, at: lastTouched(task) });
    if (task.unreachableSince !== null) this.unreachable.add(task);
  }

  /** Its agent became unreachable (since `now`, unless it already was). */
  markUnreachable(task: TrackedTask, now: number): void {
    if (task.unreachableSince === null) task.unreachableSince = now;
    task.phase = 'unreachable';
    this.unreachable.add(task);
  }

  /**
   * Launching tasks with neither an update nor a reconcile for `timeoutMs`: marked reconciled
   * now (the caller RECONCILEs them), so they come again only after another `timeoutMs`.
   */
  staleLaunches(now: number, timeoutMs: number): TrackedTask[] {
    const stale: TrackedTask[] = [];
    for (let c = this.launchChecks.peek(); c && now - c.at >= timeoutMs; c = this.launchChecks.peek()) {
      this.launchChecks.pop();
      const t = c.task;
      if (this.tasks.get(t.attemptId) !== t || t.phase !== 'launching') continue;
      const at = lastTouched(t);
      if (now - at < timeoutMs) {
        this.launchChecks.push({ task: t, at });
        continue;
      }
      t.reconciledAt = now;
      stale.push(t);
    }
    for (const t of stale) this.launchChecks.push({ task: t, at: now });
    return stale;
  }

  /** Tracked tasks unreachable for at least `timeoutMs` (still tracked). */
  unreachableFor(now: number, timeoutMs: number): TrackedTask[] {
    const out: TrackedTask[] = [];
    for (const t of this.unreachable) {
      if (this.tasks.get(t.attemptId) !== t || t.unreachableSince === null) this.unreachable.delete(t);
      else if (now - t.unreachableSince >= timeoutMs) out.push(t);
    }
    return out;
  }

  /** Stops tracking an attempt whose end was reported; answers whether it was tracked. */
  remove(attemptId: string): boolean {
    return this.tasks.delete(attemptId);
  }

  values(): IterableIterator<TrackedTask> {
    return this.tasks.values();
  }

  /** The tasks to reconcile explicitly (every tracked one), with their agents when known. */
  refs(): ReconcileTaskRef[] {
    return [...this.tasks.values()].map((t) => ({
      task_id: { value: t.attemptId },
      ...(t.agentId ? { agent_id: { value: t.agentId } } : {}),
    }));
  }

  /** Resources held by tracked tasks. */
  used(): { cpus: number; memMb: number; count: number } {
    let cpus = 0;
    let memMb = 0;
    for (const t of this.tasks.values()) {
      cpus += t.cpus;
      memMb += t.memMb;
    }
    return { cpus, memMb, count: this.tasks.size };
  }
}
