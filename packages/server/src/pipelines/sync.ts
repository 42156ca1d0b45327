import {
  computePipeline,
  hasHealthChecks,
  type InstanceState,
  instanceTransition,
  isUpdateFinished,
  newInstanceState,
  type PipelineSpec,
  type PipelineUpdate,
  type RestartBackoffPolicy,
} from '@galley/core';
import { type GroupLaunch, taskIdOf } from '../backends/group-runner.js';
import { launchIdOf } from './ids.js';
import { unservableReason, unservableVersionReason, unservableVersions } from './servable.js';
import {
  type InstanceRecord,
  isLaunchOver,
  type LaunchRecord,
  type PipelineChange,
  type PipelineRecord,
} from '../model/pipeline-records.js';

/**
 * One level-triggered pass over a pipeline (Kubernetes' `sync(key)`): from the stored pipeline,
 * its instances and spec versions, and `now`, what to store and then do. core `computePipeline`
 * decides launches, restarts, stops and the rolling update; this adds the server's part: launch
 * records written before the launch (write-ahead), kills of what a stopped or failed instance
 * still runs, stopped instances removed, a deleted pipeline wound down, and a pipeline (or spec
 * version) whose stored spec cannot be served (core `servingProblems`) never launched: its
 * instances are stopped and nothing is planned for it. Pure.
 */
export interface SyncInput {
  pipeline: PipelineRecord;
  instances: InstanceRecord[];
  versions: Map<number, PipelineSpec>;
  now: number;
  /** Fencing epoch written into each new launch. */
  epoch: number;
  backoff: RestartBackoffPolicy;
  /** Instances a scale-down stops first (the autoscaler's idle ones); see core `PipelineDesired.stopFirst`. */
  stopFirst?: readonly string[];
}

/** What to store (`change`, null = nothing), then the launches and kills to carry out. */
export interface SyncPlan {
  change: PipelineChange | null;
  /** Delete the pipeline row (a deleted pipeline whose instances all stopped). */
  deletePipeline: boolean;
  launch: GroupLaunch[];
  kill: string[];
  /** Sync again at this time (ms) even if nothing happens; null = only on change. */
  followUpAt: number | null;
}

/** A new launch record of an instance (its processes staged). */
export function newLaunch(
  pipeline: PipelineRecord,
  state: InstanceState,
  spec: PipelineSpec,
  seq: number,
  epoch: number,
  now: number,
): LaunchRecord {
  const launchId = launchIdOf(pipeline.pipelineId, state.number, seq, pipeline.uid);
  const processes: LaunchRecord['processes'] = {};
  for (const p of Object.values(spec.processes)) {
    processes[p.id] = {
      taskId: taskIdOf(launchId, p.id),
      state: 'TASK_STAGING',
      agentId: null,
      ports: [],
      handle: null,
      health: null,
      exit: null,
      updatedAt: now,
    };
  }
  return {
    launchId,
    seq,
    epoch,
    phase: 'launching',
    nodeId: null,
    hostname: null,
    waitingReason: null,
    killRequestedAt: null,
    processes,
    createdAt: now,
  };
}

/** The GroupLaunch a backend gets for an instance's current launch. */
export function groupLaunchOf(record: InstanceRecord, spec: PipelineSpec): GroupLaunch {
  const launch = record.launch!;
  return {
    launchId: launch.launchId,
    pipelineId: record.pipelineId,
    instanceId: record.state.instanceId,
    spec,
    queuedAt: launch.createdAt,
  };
}

/** The update history entry for `next` (a new entry when the last one had finished). */
function historyOf(
  pipeline: PipelineRecord,
  next: PipelineUpdate | null,
): PipelineChange['history'] | undefined {
  if (next === null || JSON.stringify(next) === JSON.stringify(pipeline.update)) return undefined;
  const last = pipeline.update;
  const fresh = last === null || (isUpdateFinished(last) && last.startedAt !== next.startedAt);
  return { seq: fresh ? pipeline.updateSeq + 1 : Math.max(1, pipeline.updateSeq), update: next };
}

/** Mutable working state of one sync. */
interface Work {
  input: SyncInput;
  byId: Map<string, InstanceRecord>;
  changed: Set<string>;
  removed: Set<string>;
  launch: GroupLaunch[];
  kill: string[];
}

function put(w: Work, record: InstanceRecord): void {
  w.byId.set(record.state.instanceId, record);
  w.changed.add(record.state.instanceId);
}

/** Asks the instance's launch to stop (once); stopped instances whose launch is over are removed. */
function windDown(w: Work, record: InstanceRecord): void {
  const { now } = w.input;
  let r = record;
  if (r.launch && !isLaunchOver(r.launch) && r.launch.killRequestedAt === null) {
    r = { ...r, launch: { ...r.launch, killRequestedAt: now }, updatedAt: now };
    w.kill.push(r.launch!.launchId);
    put(w, r);
  }
  if (r.state.phase === 'stopping' && isLaunchOver(r.launch)) {
    w.removed.add(r.state.instanceId);
    w.byId.delete(r.state.instanceId);
    w.changed.delete(r.state.instanceId);
  }
}

function stopInstance(w: Work, record: InstanceRecord, reason: string): void {
  const { now, backoff } = w.input;
  const state = instanceTransition(record.state, { type: 'stop-requested', at: now, reason }, backoff);
  const r = state === record.state ? record : { ...record, state, updatedAt: now };
  if (r !== record) put(w, r);
  windDown(w, r);
}

function restartInstance(w: Work, record: InstanceRecord): void {
  const { now, backoff, epoch, pipeline, versions } = w.input;
  if (!isLaunchOver(record.launch)) return windDown(w, record); // the old group must be gone first
  const spec = versions.get(record.state.version);
  if (!spec || unservableVersionReason(spec) !== null) return;
  const state = instanceTransition(record.state, { type: 'restarting', at: now }, backoff);
  const launch = newLaunch(pipeline, state, spec, (record.launch?.seq ?? 0) + 1, epoch, now);
  const r: InstanceRecord = { ...record, state, launch, updatedAt: now };
  put(w, r);
  w.launch.push(groupLaunchOf(r, spec));
}

/**
 * A pipeline whose stored spec cannot be served: nothing is computed for it (a billion instances
 * would exhaust memory), every instance is stopped; the pipeline stays, shown failed, until deleted.
 */
function planFailed(w: Work, reason: string): SyncPlan {
  for (const record of [...w.byId.values()]) stopInstance(w, record, reason);
  return {
    change: changeOf(w, w.input.pipeline, undefined),
    deletePipeline: false,
    launch: [],
    kill: w.kill,
    followUpAt: null,
  };
}

/** A pipeline being deleted: every instance stopped, then the pipeline removed. */
function planDelete(w: Work): SyncPlan {
  for (const record of [...w.byId.values()]) stopInstance(w, record, 'the pipeline is being deleted');
  const p = w.input.pipeline;
  const done = w.byId.size === 0;
  return {
    change: done ? null : changeOf(w, p, undefined),
    deletePipeline: done,
    launch: [],
    kill: w.kill,
    followUpAt: null,
  };
}

function changeOf(
  w: Work,
  pipeline: PipelineRecord,
  history: PipelineChange['history'],
): PipelineChange | null {
  const instances = [...w.changed].map((id) => w.byId.get(id)!).filter(Boolean);
  const removeInstances = [...w.removed];
  const rowChanged = JSON.stringify(pipeline) !== JSON.stringify(w.input.pipeline);
  if (!rowChanged && instances.length === 0 && removeInstances.length === 0 && !history) return null;
  return {
    pipeline: rowChanged ? { ...pipeline, updatedAt: w.input.now } : pipeline,
    instances,
    removeInstances,
    ...(history ? { history } : {}),
  };
}

/** Plans one sync of a pipeline (see the module comment). */
export function planSync(input: SyncInput): SyncPlan {
  const { pipeline, versions, now, epoch, backoff } = input;
  const w: Work = {
    input,
    byId: new Map(input.instances.map((i) => [i.state.instanceId, i])),
    changed: new Set(),
    removed: new Set(),
    launch: [],
    kill: [],
  };
  if (pipeline.deletingAt !== null) return planDelete(w);
  const failed = unservableReason(pipeline.spec);
  if (failed !== null) return planFailed(w, `the pipeline's stored spec cannot be served: ${failed}`);
  // Instances of a version that cannot be served are stopped, never restarted or launched.
  const bad = unservableVersions(versions);
  for (const record of [...w.byId.values()]) {
    const why = bad.get(record.state.version);
    if (why !== undefined)
      stopInstance(w, record, `version ${record.state.version} cannot be served: ${why}`);
  }

  const plan = computePipeline(
    {
      pipelineId: pipeline.pipelineId,
      version: pipeline.version,
      instances: pipeline.spec.instances,
      strategy: pipeline.spec.update_strategy,
      instanceSeq: pipeline.instanceSeq,
      restartBackoff: backoff,
      ...(input.stopFirst ? { stopFirst: input.stopFirst } : {}),
    },
    [...w.byId.values()].map((i) => i.state),
    pipeline.update,
    now,
  );
  let next: PipelineRecord = { ...pipeline, instanceSeq: plan.instanceSeq };
  if (plan.revertToVersion !== null && versions.has(plan.revertToVersion) && !bad.has(plan.revertToVersion)) {
    const old = versions.get(plan.revertToVersion)!;
    next = {
      ...next,
      version: plan.revertToVersion,
      spec: {
        ...old,
        instances: pipeline.spec.instances,
        update_strategy: pipeline.spec.update_strategy,
        ...(pipeline.spec.autoscaling ? { autoscaling: pipeline.spec.autoscaling } : {}),
      },
    };
  }
  const history = historyOf(pipeline, plan.updateProgress);
  if (history) next = { ...next, update: history.update, updateSeq: history.seq };

  for (const s of plan.stop) {
    const record = w.byId.get(s.instanceId);
    if (record) stopInstance(w, record, s.reason);
  }
  for (const r of plan.restart) {
    const record = w.byId.get(r.instanceId);
    if (record) restartInstance(w, record);
  }
  for (const l of plan.launch) {
    const spec = versions.get(l.version);
    if (!spec || bad.has(l.version)) continue;
    const state = newInstanceState(l, now, hasHealthChecks(spec));
    const record: InstanceRecord = {
      pipelineId: pipeline.pipelineId,
      state,
      launch: newLaunch(pipeline, state, spec, 1, epoch, now),
      updatedAt: now,
    };
    put(w, record);
    w.launch.push(groupLaunchOf(record, spec));
  }
  // Level-triggered clean-up: stopping instances whose processes are gone, failed ones with leftovers.
  for (const record of [...w.byId.values()]) {
    if (
      record.state.phase === 'stopping' ||
      record.state.phase === 'stopped' ||
      record.state.phase === 'failed'
    )
      windDown(
        w,
        record.state.phase === 'stopped'
          ? { ...record, state: { ...record.state, phase: 'stopping' } }
          : record,
      );
  }
  return {
    change: changeOf(w, next, history),
    deletePipeline: false,
    launch: w.launch,
    kill: w.kill,
    followUpAt: plan.followUpAt,
  };
}
