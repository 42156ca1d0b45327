import type { TaskStatus } from '@galley/mesos';
import type { BackendEvent } from '../backend.js';
import type { Containerizer } from '../../config/mesos-settings.js';
import type { AttemptTable, TaskHandle, TrackedTask } from './attempts.js';
import { containerFailureOf } from './container-failures.js';
import { executorStartFailureOf } from './executor-failures.js';
import { isTerminalState, meaningOf } from './status.js';

/**
 * What one status update (or reconciliation answer) does: the events for the run controller, and a task
 * to kill when the update speaks of a task Galley does not know (or gave up on) that still lives.
 * It updates the attempt table as it goes. Pure but for the table.
 */
export interface UpdateEffect {
  events: BackendEvent[];
  /** Kill this task: it is not (or no longer) one of Galley's attempts, yet Mesos runs it. */
  kill?: { taskId: string; agentId: string | undefined };
  /** The agent could not launch the task's image: it is sent no more images (`images.ts`). */
  noImages?: { agentId: string; hostname: string | null; why: string };
  /** The agent could not start galley-executor: its runs go to the command executor (`executor-failures.ts`). */
  executorFallback?: { agentId: string; hostname: string | null; why: string };
}

/** What the update handler needs besides the status. */
export interface UpdateContext {
  table: AttemptTable;
  now: number;
  /** Where the agent is, for the attempt's handle. */
  agentUrl(agentId: string): string | null;
  frameworkId: string | null;
  /** `--mesos-containerizer`, for the fix a container launch failure names. */
  containerizer: Containerizer;
  /** True once an update came from this shared executor (it started); absent = none is shared. */
  executorHeardFrom?(executorId: string): boolean;
}

/** A task's handle from its update and what is known of its agent. */
function handleFor(t: TrackedTask, status: TaskStatus, ctx: UpdateContext): TaskHandle {
  const agentId = status.agent_id?.value ?? t.agentId ?? '';
  return {
    agentId,
    hostname: t.hostname ?? '',
    agentUrl: agentId ? ctx.agentUrl(agentId) : null,
    frameworkId: ctx.frameworkId,
    ...(t.executorId ? { executorId: t.executorId } : {}),
  };
}

/** Applies one status to the table and answers its effect. */
export function applyUpdate(status: TaskStatus, ctx: UpdateContext): UpdateEffect {
  const taskId = status.task_id.value;
  const t = ctx.table.get(taskId);
  if (t === undefined) {
    // Not one of ours (unknown to the store, or an attempt already given up): it must not run.
    if (isTerminalState(status.state) || status.state === 'TASK_UNKNOWN') return { events: [] };
    return { events: [], kill: { taskId, agentId: status.agent_id?.value } };
  }
  t.lastUpdateAt = ctx.now;
  // The same agent keeps the string it was launched with: each update's is a fresh copy, and at
  // 100,000 tasks in flight those copies were 6 MB of the heap.
  const agentId = status.agent_id?.value;
  if (agentId && agentId !== t.agentId) t.agentId = agentId;
  const executorFailure = executorStartFailureOf(status, {
    executorId: t.executorId,
    started: t.phase !== 'launching',
    executorHeardFrom: t.executorId !== null && (ctx.executorHeardFrom?.(t.executorId) ?? false),
    agentId: t.agentId,
    hostname: t.hostname,
  });
  if (executorFailure) {
    ctx.table.remove(taskId);
    const ended: BackendEvent = {
      type: 'ended',
      attemptId: taskId,
      at: ctx.now,
      outcome: executorFailure.outcome,
    };
    if (!t.agentId) return { events: [ended] };
    return {
      events: [ended],
      executorFallback: { agentId: t.agentId, hostname: t.hostname, why: executorFailure.why },
    };
  }
  const failure = containerFailureOf(
    status,
    { container: t.container, started: t.phase !== 'launching', agentId: t.agentId, hostname: t.hostname },
    ctx.containerizer,
  );
  if (failure) {
    ctx.table.remove(taskId);
    const ended: BackendEvent = { type: 'ended', attemptId: taskId, at: ctx.now, outcome: failure.outcome };
    if (!failure.agentRunsNoImages || !t.agentId) return { events: [ended] };
    const why = failure.outcome.kind === 'host-failure' ? (failure.outcome.message ?? '') : '';
    return {
      events: [ended],
      noImages: { agentId: t.agentId, hostname: t.hostname, why: status.message ?? why },
    };
  }
  const meaning = meaningOf(status);
  switch (meaning.kind) {
    case 'progress':
      return { events: [] };
    case 'unreachable':
      ctx.table.markUnreachable(t, ctx.now);
      return { events: [] };
    case 'running': {
      const wasRunning = t.phase === 'running';
      t.phase = 'running';
      t.unreachableSince = null;
      if (wasRunning) return { events: [] };
      const handle = handleFor(t, status, ctx);
      return {
        events: [
          {
            type: 'running',
            attemptId: taskId,
            at: ctx.now,
            handle: { ...handle },
            host: { hostId: handle.agentId, dnsName: handle.hostname },
          },
        ],
      };
    }
    case 'ended':
      ctx.table.remove(taskId);
      return { events: [{ type: 'ended', attemptId: taskId, at: ctx.now, outcome: meaning.outcome }] };
  }
}

/**
 * Attempts unreachable for at least `timeoutMs`: they are given up (a host failure the retry
 * policy relaunches elsewhere) and left out of the table, so if their agent comes back the task
 * is killed as unknown. Answers the events and the tasks to kill now.
 */
export function expireUnreachable(
  table: AttemptTable,
  now: number,
  timeoutMs: number,
): { events: BackendEvent[]; kills: { taskId: string; agentId: string | undefined }[] } {
  const events: BackendEvent[] = [];
  const kills: { taskId: string; agentId: string | undefined }[] = [];
  for (const t of table.unreachableFor(now, timeoutMs)) {
    table.remove(t.attemptId);
    const seconds = Math.round((now - t.unreachableSince!) / 100) / 10;
    events.push({
      type: 'ended',
      attemptId: t.attemptId,
      at: now,
      outcome: {
        kind: 'host-failure',
        reason: 'agent unreachable',
        message: `agent ${t.agentId ?? '?'} (${t.hostname ?? '?'}) unreachable for ${seconds} s`,
      },
    });
    kills.push({ taskId: t.attemptId, agentId: t.agentId ?? undefined });
  }
  return { events, kills };
}
