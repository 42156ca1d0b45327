/**
 * `computePipeline(desired, actual, activeUpdate, now)`: the pipeline reconciler, in the style of
 * Nomad's `reconciler.Compute()` — desired state + actual instances + the update record + now →
 * buckets (launch, restart, stop), the update record to store, and when to look again. No I/O.
 *
 * Level-triggered: call it after any change and at `followUpAt`; it recomputes from the snapshot,
 * so a missed or repeated call does no harm.
 */
import { DEFAULT_RESTART_BACKOFF } from './backoff.js';
import type { RestartBackoffPolicy } from './backoff.js';
import type { InstanceState } from './instance.js';
import { isAvailable, isCrashLooping, isFailingToLaunch, readySince } from './instance.js';
import type { PipelineUpdate, RollingBounds } from './rolling.js';
import { byYoungest, isUpdateFinished, rollingBounds, rollingStep } from './rolling.js';
import type { UpdateStrategy } from './spec.js';

/** What the pipeline should be. */
export interface PipelineDesired {
  pipelineId: string;
  /** The current spec version; instances of other versions are moved to it by a rolling update. */
  version: number;
  /** How many instances to keep. */
  instances: number;
  strategy: UpdateStrategy;
  /** The highest instance number issued so far (0 for a new pipeline); new ids continue after it. */
  instanceSeq: number;
  /** undefined = DEFAULT_RESTART_BACKOFF. */
  restartBackoff?: RestartBackoffPolicy;
  /**
   * Instances a scale-down stops first, in this order (the drain-safe scale-in's idle ones); the
   * others after them, youngest first. undefined = youngest first.
   */
  stopFirst?: readonly string[];
}

/** A new instance to launch: id `<pipelineId>.<number>`, never reused. */
export interface InstancePlan {
  instanceId: string;
  number: number;
  version: number;
}

/** An instance to act on, with the reason shown to people. */
export interface InstanceAction {
  instanceId: string;
  reason: string;
}

/** The reconciler's answer. */
export interface PipelinePlan {
  /** New instances to create and launch (record them before launching). */
  launch: InstancePlan[];
  /** Failed instances whose backoff has passed: relaunch the same instance. */
  restart: InstanceAction[];
  /** Instances to stop (each process gets its kill_grace_period). */
  stop: InstanceAction[];
  /** The update record to store (new, progressed or just finished); null when there is none. */
  updateProgress: PipelineUpdate | null;
  /**
   * Set while a rollback runs and the pipeline's current version is still the failed one: the
   * server must make this version current again (the failed version stays in the history).
   */
  revertToVersion: number | null;
  /** The highest instance number issued, launches included: store it as `instanceSeq`. */
  instanceSeq: number;
  /** Call again at this time (ms since epoch) even if nothing happens; null = only on change. */
  followUpAt: number | null;
}

function describeExit(instance: InstanceState): string {
  const exit = instance.lastExit;
  if (!exit) return 'it failed';
  if (exit.launchFailed)
    return `its launch failed${exit.process === null ? '' : ` (process ${exit.process})`}: ${exit.message}`;
  if (exit.process === null) return `it was lost: ${exit.message}`;
  const code = exit.exitCode === null ? 'without an exit code' : `with code ${exit.exitCode}`;
  return `process ${exit.process} exited ${code}${exit.message ? ` (${exit.message})` : ''}`;
}

/** The version a new update would roll back to: the last finished update's, else the most common old version. */
function stableVersion(live: InstanceState[], target: number, last: PipelineUpdate | null): number {
  if (last && isUpdateFinished(last)) return last.toVersion;
  const counts = new Map<number, number>();
  for (const i of live) if (i.version !== target) counts.set(i.version, (counts.get(i.version) ?? 0) + 1);
  const [best] = [...counts].sort((a, b) => b[1] - a[1] || b[0] - a[0]);
  return best ? best[0] : target;
}

/** Why the rolling update toward `target` has failed at `now`, or null. */
function failureOf(
  update: PipelineUpdate,
  live: InstanceState[],
  bounds: RollingBounds,
  now: number,
  backoff: RestartBackoffPolicy,
): string | null {
  const looping = live.find((i) => i.version === update.toVersion && isCrashLooping(i, now, backoff));
  if (looping) {
    return `instance ${looping.instanceId} of version ${update.toVersion} is crash-looping: ${describeExit(looping)}`;
  }
  if (now >= update.lastProgressAt + bounds.progressDeadlineMs) {
    const seconds = Math.round(bounds.progressDeadlineMs / 1000);
    return `no progress for ${seconds} s: ${update.availableNew} of ${bounds.instances} instances of version ${update.toVersion} available`;
  }
  return null;
}

/** The update in force after looking at the versions of `live` (started, retargeted or unchanged). */
function currentUpdate(
  desired: PipelineDesired,
  live: InstanceState[],
  given: PipelineUpdate | null,
  now: number,
): PipelineUpdate | null {
  const active = given && !isUpdateFinished(given) ? given : null;
  // A rollback the server has not applied yet still targets the stable version.
  if (active?.phase === 'rolling-back' && desired.version === active.failedVersion) return active;
  if (active && active.toVersion === desired.version) return active;
  if (!active && !live.some((i) => i.version !== desired.version)) return null;
  return {
    fromVersion: active ? active.fromVersion : stableVersion(live, desired.version, given),
    toVersion: desired.version,
    failedVersion: null,
    phase: 'rolling',
    startedAt: active ? active.startedAt : now,
    lastProgressAt: now,
    availableNew: 0,
    batches: active ? active.batches : 0,
    reason: null,
    stalledAt: null,
    finishedAt: null,
  };
}

/** The update with `availableNew` counted now; progress (more available than before) resets the deadline. */
function withProgress(
  update: PipelineUpdate,
  live: InstanceState[],
  bounds: RollingBounds,
  now: number,
): PipelineUpdate {
  const available = live.filter(
    (i) => i.version === update.toVersion && isAvailable(i, now, bounds.minHealthyMs),
  ).length;
  if (available === update.availableNew) return update;
  return {
    ...update,
    availableNew: available,
    lastProgressAt: available > update.availableNew ? now : update.lastProgressAt,
  };
}

/** Rolls back, or marks the update stalled, when it failed. */
function judge(
  update: PipelineUpdate,
  live: InstanceState[],
  desired: PipelineDesired,
  bounds: RollingBounds,
  now: number,
  backoff: RestartBackoffPolicy,
): PipelineUpdate {
  if (update.stalledAt !== null) return update;
  const failure = failureOf(update, live, bounds, now, backoff);
  if (failure === null) return update;
  const canRollBack =
    update.phase === 'rolling' && desired.strategy.auto_rollback && update.fromVersion !== update.toVersion;
  if (!canRollBack) return { ...update, stalledAt: now, reason: failure };
  return {
    ...update,
    phase: 'rolling-back',
    failedVersion: update.toVersion,
    toVersion: update.fromVersion,
    lastProgressAt: now,
    availableNew: 0,
    reason: `rolled back to version ${update.fromVersion}: ${failure}`,
  };
}

/** The plan being built, and the instances it already stops. */
interface Draft {
  plan: PipelinePlan;
  stopped: Set<string>;
}

function stopInstance(draft: Draft, instance: InstanceState, reason: string): void {
  draft.plan.stop.push({ instanceId: instance.instanceId, reason });
  draft.stopped.add(instance.instanceId);
}

/** Makes `followUpAt` the earliest of itself and `at`. */
function wakeAt(plan: PipelinePlan, at: number | null): void {
  if (at !== null && (plan.followUpAt === null || at < plan.followUpAt)) plan.followUpAt = at;
}

/** One rolling step: stops into the draft; returns the launches and the update after this step. */
function rollingPart(
  draft: Draft,
  update: PipelineUpdate,
  remaining: InstanceState[],
  bounds: RollingBounds,
  now: number,
): { launch: number; update: PipelineUpdate } {
  const step = rollingStep(remaining, update.toVersion, bounds, now);
  for (const s of step.stop) stopInstance(draft, s.instance, s.reason);
  let next = { ...update, batches: update.batches + (step.launch > 0 ? 1 : 0) };
  if (step.complete) {
    next = { ...next, phase: next.phase === 'rolling' ? 'succeeded' : 'rolled-back', finishedAt: now };
  } else {
    wakeAt(draft.plan, step.nextAvailableAt);
    if (next.stalledAt === null) wakeAt(draft.plan, next.lastProgressAt + bounds.progressDeadlineMs);
  }
  return { launch: step.launch, update: next };
}

/**
 * Steady state (every instance on the target version): scale up, or stop `stopFirst`'s instances
 * (in its order), then the youngest. Returns launches.
 */
function steadyPart(
  draft: Draft,
  remaining: InstanceState[],
  instances: number,
  stopFirst: readonly string[] = [],
): number {
  const excess = remaining.length - instances;
  const rank = (i: InstanceState): number => {
    const k = stopFirst.indexOf(i.instanceId);
    return k === -1 ? stopFirst.length : k;
  };
  const order = [...remaining].sort((a, b) => rank(a) - rank(b) || byYoungest(a, b));
  for (const i of order.slice(0, Math.max(0, excess))) {
    stopInstance(draft, i, `scaled down to ${instances} instances`);
  }
  return Math.max(0, -excess);
}

/** Failed instances not being stopped: restart those whose backoff has passed, wake for the others. */
function restartPart(draft: Draft, live: InstanceState[], now: number, backoff: RestartBackoffPolicy): void {
  for (const i of live) {
    if (i.phase !== 'failed' || draft.stopped.has(i.instanceId) || i.restartAt === null) continue;
    if (i.restartAt > now) {
      wakeAt(draft.plan, i.restartAt);
      continue;
    }
    const looping = isCrashLooping(i, now, backoff) ? ' (crash-looping)' : '';
    draft.plan.restart.push({
      instanceId: i.instanceId,
      reason: `restart ${i.restarts + 1}${looping}: ${describeExit(i)}`,
    });
  }
}

/**
 * Decides what to do with a pipeline now. `actual` holds its instances (any phase; stopping and
 * stopped ones count for nothing); `activeUpdate` is the update record last returned (finished or
 * not) or null.
 *
 * Order: unhealthy instances that still run are stopped (and so replaced); the update is started, retargeted,
 * judged (rollback on a crash loop or a missed deadline) and stepped — or, with no update, the count
 * is scaled; new instances are numbered after `instanceSeq`; failed instances are restarted once
 * their backoff has passed.
 */
export function computePipeline(
  desired: PipelineDesired,
  actual: InstanceState[],
  activeUpdate: PipelineUpdate | null,
  now: number,
): PipelinePlan {
  const backoff = desired.restartBackoff ?? DEFAULT_RESTART_BACKOFF;
  const bounds = rollingBounds(desired.strategy, desired.instances);
  const draft: Draft = {
    plan: {
      launch: [],
      restart: [],
      stop: [],
      updateProgress: null,
      revertToVersion: null,
      instanceSeq: desired.instanceSeq,
      followUpAt: null,
    },
    stopped: new Set(),
  };
  const { plan } = draft;
  const live = actual.filter((i) => i.phase !== 'stopping' && i.phase !== 'stopped');
  // An unhealthy instance that still runs is replaced; one that failed meanwhile (a Mesos agent
  // kills a group whose process fails its checks) is restarted in place, as any failure is.
  for (const i of live)
    if (i.unhealthyReason !== null && i.phase !== 'failed')
      stopInstance(draft, i, `unhealthy: ${i.unhealthyReason}`);

  let update = currentUpdate(desired, live, activeUpdate, now);
  if (update && !isUpdateFinished(update)) {
    update = withProgress(
      judge(withProgress(update, live, bounds, now), live, desired, bounds, now, backoff),
      live,
      bounds,
      now,
    );
  }
  const rolling = update !== null && !isUpdateFinished(update);
  const target = rolling ? (update as PipelineUpdate).toVersion : desired.version;
  if (update?.phase === 'rolling-back' && desired.version !== target) plan.revertToVersion = target;
  const remaining = live.filter((i) => !draft.stopped.has(i.instanceId));

  let launchCount: number;
  if (rolling) {
    const step = rollingPart(draft, update as PipelineUpdate, remaining, bounds, now);
    launchCount = step.launch;
    update = step.update;
  } else {
    launchCount = steadyPart(draft, remaining, desired.instances, desired.stopFirst);
  }
  for (let k = 0; k < launchCount; k++) {
    plan.instanceSeq += 1;
    plan.launch.push({
      instanceId: `${desired.pipelineId}.${plan.instanceSeq}`,
      number: plan.instanceSeq,
      version: target,
    });
  }
  restartPart(draft, live, now, backoff);
  plan.updateProgress = update;
  return plan;
}

/** How an instance looks to people (Faustian's `tasks[]`): a word and a sentence. */
export function describeInstance(
  instance: InstanceState,
  now: number,
  backoff: RestartBackoffPolicy = DEFAULT_RESTART_BACKOFF,
): {
  status:
    | 'starting'
    | 'running'
    | 'healthy'
    | 'unhealthy'
    | 'backing-off'
    | 'crash-looping'
    | 'stopping'
    | 'stopped';
  message: string;
} {
  const looping = isCrashLooping(instance, now, backoff);
  if (instance.phase === 'stopping' || instance.phase === 'stopped') {
    return { status: instance.phase, message: instance.stopReason ?? '' };
  }
  if (instance.unhealthyReason !== null) return { status: 'unhealthy', message: instance.unhealthyReason };
  if (instance.phase === 'failed') {
    const when =
      instance.restartAt === null
        ? ''
        : `; restarting in ${Math.max(0, Math.ceil((instance.restartAt - now) / 1000))} s`;
    return { status: looping ? 'crash-looping' : 'backing-off', message: `${describeExit(instance)}${when}` };
  }
  if (looping)
    return {
      status: 'crash-looping',
      message: `${instance.restarts} restarts; last: ${describeExit(instance)}`,
    };
  if (instance.phase === 'starting')
    return {
      status: 'starting',
      message: isFailingToLaunch(instance) ? `retrying: ${describeExit(instance)}` : '',
    };
  if (!instance.healthChecked) return { status: 'running', message: '' };
  return instance.healthySince !== null
    ? { status: 'healthy', message: '' }
    : { status: 'running', message: 'waiting for health checks to pass' };
}

/**
 * Why a pipeline is failing, or null: an instance whose launches fail (first), else one that is
 * crash-looping and not ready now — with how it fails, in `describeInstance`'s words. (A
 * crash-looping instance that runs again still shows its crash loop itself until it stayed up for
 * the reset time; the pipeline is not failing meanwhile.) Instances being stopped count for nothing.
 */
export function pipelineFailure(
  instances: readonly InstanceState[],
  now: number,
  backoff: RestartBackoffPolicy = DEFAULT_RESTART_BACKOFF,
): string | null {
  const live = instances.filter((i) => i.phase !== 'stopping' && i.phase !== 'stopped');
  const launching = live.filter(isFailingToLaunch);
  if (launching.length > 0) {
    const first = launching[0] as InstanceState;
    const others = launching.length > 1 ? ` (and ${launching.length - 1} more)` : '';
    return `instance ${first.instanceId}${others} cannot be launched: ${describeExit(first)}`;
  }
  const looping = live.filter((i) => isCrashLooping(i, now, backoff) && readySince(i) === null);
  if (looping.length > 0) {
    const first = looping[0] as InstanceState;
    const others = looping.length > 1 ? ` (and ${looping.length - 1} more)` : '';
    return `instance ${first.instanceId}${others} is crash-looping: ${describeExit(first)}`;
  }
  return null;
}
