import type { ReconcileTaskRef } from '@galley/mesos';
import type { GroupEvent, GroupLaunch } from '../group-runner.js';

/**
 * What the Mesos group runner tracks of each pipeline launch (one task per process) until all its
 * tasks ended, and what the passing of time does to them: tasks unreachable past the timeout are
 * given up (host failures, to be killed should their agent return), and launches with no update
 * since they were accepted are reconciled explicitly. Pure but for the records it updates.
 */

/** One task of a tracked launch. Times in ms since the epoch. */
export interface GroupTask {
  taskId: string;
  agentId: string | null;
  phase: 'launching' | 'running' | 'unreachable';
  lastUpdateAt: number;
  unreachableSince: number | null;
  /** The last explicit RECONCILE sent for it; null = never. */
  reconciledAt: number | null;
  ended: boolean;
}

/** A launch the runner is responsible for until every task of it ended. */
export interface TrackedLaunch {
  launch: GroupLaunch;
  killRequested: boolean;
  /** By process. */
  tasks: Map<string, GroupTask>;
}

/** What a sweep found: ends to report (and tasks to kill), and tasks to reconcile. */
export interface Sweep {
  ended: { launch: TrackedLaunch; task: GroupTask; event: GroupEvent }[];
  reconcile: ReconcileTaskRef[];
}

/** Looks at every live task at `now` (marks given-up tasks ended and reconciled ones as sent). */
export function sweepTasks(
  launches: Iterable<TrackedLaunch>,
  now: number,
  unreachableTimeoutMs: number,
  launchTimeoutMs: number,
): Sweep {
  const sweep: Sweep = { ended: [], reconcile: [] };
  for (const t of launches) {
    for (const [name, task] of t.tasks) {
      if (task.ended) continue;
      if (task.unreachableSince !== null && now - task.unreachableSince >= unreachableTimeoutMs) {
        const seconds = Math.round((now - task.unreachableSince) / 100) / 10;
        task.ended = true;
        sweep.ended.push({
          launch: t,
          task,
          event: {
            type: 'process-ended',
            launchId: t.launch.launchId,
            process: name,
            at: now,
            end: {
              state: 'TASK_LOST',
              exitCode: null,
              message: `agent ${task.agentId ?? '?'} unreachable for ${seconds} s`,
              hostFailure: true,
            },
          },
        });
        continue;
      }
      const stale =
        task.phase === 'launching' &&
        now - task.lastUpdateAt >= launchTimeoutMs &&
        (task.reconciledAt === null || now - task.reconciledAt >= launchTimeoutMs);
      if (!stale) continue;
      task.reconciledAt = now;
      sweep.reconcile.push({
        task_id: { value: task.taskId },
        ...(task.agentId ? { agent_id: { value: task.agentId } } : {}),
      });
    }
  }
  return sweep;
}
