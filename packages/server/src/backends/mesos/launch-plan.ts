import { AcceptPlan, type Offer } from '@galley/mesos';
import type { BackendEvent, LaunchSpec, ReconcileItem } from '../backend.js';
import { agentOfAttempt, handleOf, type TrackedTask } from './attempts.js';
import type { ImageKind } from './images.js';
import { SHARED_EXECUTOR_NEEDS, type SharedExecutor } from './shared-executor.js';
import { containerOf, needsOf, taskInfoOf, type TaskShape } from './task-info.js';

/**
 * One ACCEPT's worth of launches on the offers of one agent and role (spec §6.3): each spec's
 * resources and placed ports are cut from the offers, its TaskInfo joins the one LAUNCH
 * operation, and it becomes a tracked task. A spec that no longer fits (the offers changed since
 * placement) ends at once as a host failure. Pure but for the random port start of AcceptPlan.
 */
export interface LaunchPlan {
  plan: AcceptPlan;
  /** Tasks in the ACCEPT, to track before it is sent. */
  tracked: TrackedTask[];
  /** Specs that did not fit: their attempts end as host failures. */
  failed: BackendEvent[];
}

/** A launch that failed before Mesos saw it: a host failure the retry policy relaunches. */
export function launchFailed(attemptId: string, at: number, why: string): BackendEvent {
  return {
    type: 'ended',
    attemptId,
    at,
    outcome: { kind: 'host-failure', reason: 'launch failed', message: why },
  };
}

/** A tracked task in its first moments. */
function newTask(
  attemptId: string,
  agentId: string | null,
  hostname: string | null,
  cpus: number,
  memMb: number,
  now: number,
  container: ImageKind | null = null,
  executorId: string | null = null,
): TrackedTask {
  return {
    container,
    executorId,
    attemptId,
    agentId,
    hostname,
    phase: 'launching',
    cpus,
    memMb,
    since: now,
    lastUpdateAt: now,
    unreachableSince: null,
    reconciledAt: null,
    killGraceMs: null,
  };
}

/**
 * Plans the launches of `specs` on `offers` (all of one agent and role). `shape` is this agent's:
 * its containerizer is `mesos`, `docker` or `none` for it (auto resolved by the caller). With
 * `shared` (`--mesos-executor galley`), a task without a container runs under that shared
 * galley-executor, whose resources are cut with the first task that starts it (where they do not
 * fit beside the task, it keeps its own command executor); a task with a container keeps its own
 * command executor (the container is the executor's).
 */
export function planLaunches(
  offers: readonly Offer[],
  agentId: string,
  specs: readonly LaunchSpec[],
  shape: TaskShape,
  now: number,
  random?: () => number,
  shared?: SharedExecutor,
): LaunchPlan {
  const plan = new AcceptPlan(offers, random ? { random } : {});
  const tracked: TrackedTask[] = [];
  const failed: BackendEvent[] = [];
  for (const spec of specs) {
    let under = containerOf(spec.image, shape, []) === undefined ? shared : undefined;
    let fit = under
      ? plan.fit(needsOf(spec), { executorId: under.executorId, needs: SHARED_EXECUTOR_NEEDS })
      : plan.fit(needsOf(spec));
    if (!fit.ok && under) {
      // Placement counted the run, not the executor it would start: where there is no room for
      // both, the run goes under its own command executor (whose overhead Mesos adds on top).
      const alone = plan.fit(needsOf(spec));
      if (alone.ok) [fit, under] = [alone, undefined];
    }
    if (!fit.ok) {
      failed.push(launchFailed(spec.attemptId, now, fit.reason));
      continue;
    }
    const executor = under?.infoFor(fit.executorResources);
    const info = taskInfoOf(spec, agentId, fit.resources, shape, executor);
    plan.launch([info]);
    const container = info.container?.type === 'DOCKER' ? 'docker' : info.container ? 'mesos' : null;
    const hostname = offers[0]?.hostname ?? null;
    const executorId = under?.executorId ?? null;
    tracked.push(
      newTask(spec.attemptId, agentId, hostname, spec.cpus, spec.memMb, now, container, executorId),
    );
  }
  return { plan, tracked, failed };
}

/** A stored in-flight attempt as a tracked task (at start, or when the run controller reconciles it). */
export function adoptedTask(item: ReconcileItem, now: number): TrackedTask {
  const a = item.attempt;
  const t = newTask(
    a.attemptId,
    agentOfAttempt(a),
    handleOf(a.handle)?.hostname ?? null,
    item.cpus,
    item.memMb,
    now,
    null,
    handleOf(a.handle)?.executorId ?? null,
  );
  if (a.state === 'running') t.phase = 'running';
  return t;
}
